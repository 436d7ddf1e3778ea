"""``serve`` runs alerting in a process of its own (``smartward.compose.AlertingProcess``): an alarm
still goes device -> ingest -> alerting -> broker, ``/readyz`` names alerting's readiness, and a
killed alerting process is restarted while serve stays up (it restores its open alarms from the state
DB as after any restart: tests/unit/alerting)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from devservers import InfluxDB, Mosquitto
from ingest import Attributions, make_engine

from .conftest import Serve, wait_for

pytestmark = pytest.mark.integration


def alerting_pids(serve_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(serve_pid), "-f", "alerting.service_main"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_alerting_runs_apart_raises_alarms_and_comes_back_after_a_kill(
        mosquitto: Mosquitto, influxdb: InfluxDB, topic_root: str, influx_db: str, tmp_path: Path,
        serve_factory: Callable[..., Serve]) -> None:
    state = f"sqlite:///{tmp_path}/state.sqlite3"
    adt = Attributions(make_engine(state))
    now = int(time.time() * 1000)
    adt.assign_device("mon-1", "w1", "01", at_ms=now - 60_000)
    adt.admit("p-1", "w1", "01", at_ms=now - 60_000)
    adt.engine.dispose()
    alarms: list[dict[str, object]] = []
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(mosquitto.port), "-q", "1", "-t", f"{topic_root}/alarms/#"],
                           stdout=subprocess.PIPE)
    try:
        serve = serve_factory(mosquitto.url, influxdb.store_url(influx_db), topic_root, 1, "--state", state)
        assert serve.proc is not None
        (first,) = wait_for(lambda: alerting_pids(serve.proc.pid), 10, "the alerting process")  # type: ignore[union-attr]
        assert first != serve.proc.pid
        ready = httpx.get(f"http://127.0.0.1:{serve.port}/readyz", timeout=5).json()
        assert ready["checks"]["alerting"] is True, ready

        alarm = {"v": 1, "device": "mon-1", "t": now, "kind": "technical", "code": "lead_off", "priority": "medium",
                 "state": "active", "text": "ECG lead off"}
        subprocess.run(["mosquitto_pub", "-p", str(mosquitto.port), "-q", "1", "-t", f"{topic_root}/devices/mon-1/alarm",
                        "-m", orjson.dumps(alarm).decode()], check=True)
        assert sub.stdout is not None
        os.set_blocking(sub.stdout.fileno(), False)

        def raised() -> bool:
            for line in (sub.stdout.read() or b"").splitlines():  # type: ignore[union-attr]
                alarms.append(orjson.loads(line))
            return any(a.get("patient") == "p-1" and a.get("event") == "raised" for a in alarms)

        wait_for(raised, 15, "the device's alarm raised by alerting (in its own process)")

        os.kill(first, signal.SIGKILL)
        wait_for(lambda: [p for p in alerting_pids(serve.proc.pid) if p != first], 15,  # type: ignore[union-attr]
                 "alerting restarted")
        wait_for(serve.ready, 20, "/readyz ready again with the new alerting process")
        assert serve.proc.poll() is None  # serve itself never went down
    finally:
        sub.kill()
        sub.wait()
