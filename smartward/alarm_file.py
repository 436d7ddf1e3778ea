"""The ``--alarms FILE`` option of ``smartward serve`` and ``smartward demo``: the alarm configuration
alerting loads (``alerting.create_service`` reads ``PlatformConfig.extra["alarm_config"]``), checked
before anything starts so a typo is one line, not a platform that never raises alarms."""

from __future__ import annotations


def check_alarm_file(path: str) -> str:
    """Why ``path`` cannot be used as the alarm configuration, or ``''``."""
    from alerting import ConfigError, load_config

    try:
        load_config(path)
    except ConfigError as exc:
        return f"--alarms: {exc}"
    except OSError as exc:
        return f"--alarms: cannot read {path}: {exc.strerror or exc}"
    return ""
