"""The ``--alarms FILE`` option of ``smartward serve`` and ``smartward demo``: the alarm configuration
alerting loads (``alerting.create_service`` reads ``PlatformConfig.extra["alarm_config"]``), checked
before anything starts so a typo is one line, not a platform that never raises alarms."""

from __future__ import annotations

import os
from typing import Any

from smartward.cli_errors import fail


def add_alarms_option(parser: Any) -> None:
    parser.add_argument("--alarms", default=None, metavar="FILE",
                        help="alarm configuration (alarms.yaml: limits, delays, escalation; "
                             "docs/alarm-configuration.md); checked before anything starts. Try it first with "
                             "`smartward alarms replay --compare`")


def alarm_extra(command: str, path: str | None) -> dict[str, str] | None:
    """``PlatformConfig.extra`` for ``--alarms``: ``{"alarm_config": absolute path}``, ``{}`` without a
    file, or ``None`` once ``smartward <command>: error: --alarms: …`` is printed (the file is unusable)."""
    if not path:
        return {}
    from alerting import ConfigError, load_config

    try:
        load_config(path)
    except ConfigError as exc:
        fail(command, f"--alarms: {exc}")
        return None
    return {"alarm_config": os.path.abspath(path)}
