"""Entry point of the alerting process: ``python -m alerting.service_main`` with its settings as one JSON
line on stdin (the broker URL carries credentials: never in argv, which ``ps`` shows to every local user).

Started by :class:`smartward.compose.AlertingProcess` when ``serve`` runs ingest as worker processes:
alerting then has a process (and a core) of its own instead of sharing the HTTP app's event loop. It
talks to the rest of the platform only through MQTT and the state DB, as it does in-process. On stdout
it writes ``ready`` once it has loaded its state and subscribed, ``not-ready`` when that is lost (the
parent's ``/readyz`` reads them). SIGTERM/SIGINT, or EOF on stdin (the parent is gone, even by SIGKILL),
cancel it as the in-process component is cancelled (no more than that); the next start restores the
open alarms from the state DB, as after any restart.

The JSON: ``{"broker", "state", "data_dir", "topic_root", "client_prefix", "extra"}`` (the
:class:`device_profiles.platform_settings.PlatformSettings` fields; ``extra["alarm_config"]``: an
alarm configuration file).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import orjson

from device_profiles import topics
from device_profiles.child_process import stop_on_signal_or_parent_exit
from device_profiles.process_gc import quiet_gc

READY_POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class AlertingSettings:
    """What alerting reads of the composition (structurally a ``PlatformSettings``)."""

    broker: str
    state: str
    data_dir: str = ""
    topic_root: str = topics.ROOT
    client_prefix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: Any) -> AlertingSettings:
        if not isinstance(doc, dict) or not isinstance(doc.get("broker"), str) or not isinstance(doc.get("state"), str):
            raise ValueError("alerting.service_main: the settings line needs string 'broker' and 'state'")
        extra = doc.get("extra") or {}
        if not isinstance(extra, dict):
            raise ValueError("alerting.service_main: 'extra' must be an object")
        return cls(doc["broker"], doc["state"], str(doc.get("data_dir") or ""), str(doc.get("topic_root") or topics.ROOT),
                   str(doc.get("client_prefix") or ""), extra)

    def to_json(self) -> dict[str, Any]:
        return {"broker": self.broker, "state": self.state, "data_dir": self.data_dir,
                "topic_root": self.topic_root, "client_prefix": self.client_prefix, "extra": self.extra}


@dataclass(frozen=True, slots=True)
class _Host:
    config: AlertingSettings


async def _main(settings: AlertingSettings) -> int:
    from . import create_service

    service = create_service(_Host(settings))
    task = asyncio.current_task()
    assert task is not None
    stop_on_signal_or_parent_exit(task)

    async def report_readiness() -> None:
        said: bool | None = None
        while True:
            now = service.ready()
            if now != said:
                sys.stdout.write("ready\n" if now else "not-ready\n")
                sys.stdout.flush()
                said = now
            await asyncio.sleep(READY_POLL_S)

    reporter = asyncio.create_task(report_readiness())
    try:
        await service.run()
    except asyncio.CancelledError:
        return 0
    finally:
        reporter.cancel()
    return 0


def main() -> int:
    logging.basicConfig(level=os.environ.get("SMARTWARD_LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    line = sys.stdin.buffer.readline()
    try:
        settings = AlertingSettings.from_json(orjson.loads(line))
    except (orjson.JSONDecodeError, ValueError) as exc:
        sys.stderr.write(f"alerting.service_main: expected the settings JSON as the first line on stdin ({exc})\n")
        return 2
    quiet_gc()
    return asyncio.run(_main(settings))


if __name__ == "__main__":
    sys.exit(main())
