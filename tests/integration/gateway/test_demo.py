"""``smartward demo`` alone (embedded amqtt broker + SQLite, nothing else installed) gets ready, keeps
storing observations from its simulated ward, scores complete NEWS2 from monitor data plus the
simulated nurse rounds' spot observations (sent over MQTT), leaves its last bed incomplete, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from devservers import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


SCRAPE = secrets.token_urlsafe(32)  # the demo's Prometheus scrape token (/metrics needs one)


def metrics(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5, headers={"Authorization": f"Bearer {SCRAPE}"}).text


def stored(port: int) -> int:
    text = metrics(port)
    m = re.search(r'^smartward_ingest_messages_total\{result="stored"\} ([0-9.e+]+)$', text, re.M)
    return int(float(m.group(1))) if m else 0


def wait(cond: object, timeout: float, what: str) -> None:
    assert callable(cond)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_demo_alone_serves_and_keeps_storing(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "smartward", "demo", "--http", f"127.0.0.1:{port}", "--beds", "4",
                                 "--data-dir", str(tmp_path / "demo")], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", "SMARTWARD_METRICS_TOKEN": SCRAPE},
                                start_new_session=True)
    try:
        wait(lambda: httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200, 60, "demo /readyz")
        # the logins are printed last, once alerting and the live hub are up too (after /readyz)
        wait(lambda: "(their own data only)" in log.read_text(), 30, "demo logins printed")
        assert f"open http://127.0.0.1:{port}/" in log.read_text()
        # the printed patient login sees that demo patient's own data, and nobody else's
        m = re.search(r"patient (DEMO-w1-\S+) \(their own data only\): \S+/portal  as (\S+) / (\S+)", log.read_text())
        assert m, log.read_text()[-2000:]
        token = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token", timeout=5,
                           data={"username": m.group(2), "password": m.group(3)}).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/patients/{m.group(1)}/summary", headers=h,
                         timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/patients/DEMO-w1-02/summary", headers=h,
                         timeout=5).status_code == 403
        # the 8 h trend starts filled: the demo wrote hours of simulated history on first start
        now = int(time.time() * 1000)
        trend = httpx.get(f"http://127.0.0.1:{port}/api/v1/patients/{m.group(1)}/vitals", headers=h, timeout=10,
                          params={"from": now - 8 * 3_600_000, "to": now, "signal": ["heart_rate", "spo2"]}).json()
        assert trend["every"] == "1m" and len(trend["rows"]) >= 5 * 60, len(trend["rows"])
        assert min(r["t"] for r in trend["rows"]) <= now - 5 * 3_600_000
        assert "of simulated history" in log.read_text()
        # NEWS2: beds 01-03 complete (monitor + nurse rounds: alert, on air); bed 04, a new admission
        # without nurse observations yet, incomplete and naming what is missing
        m = re.search(r"open http://\S+  and log in as (\S+) / (\S+)", log.read_text())
        assert m, log.read_text()[-2000:]
        token = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token", timeout=5,
                           data={"username": m.group(1), "password": m.group(2)}).json()["access_token"]
        nurse = {"Authorization": f"Bearer {token}"}

        def news2() -> dict[str, Any]:
            beds = httpx.get(f"http://127.0.0.1:{port}/api/v1/wards/w1/beds", headers=nurse, timeout=5).json()["beds"]
            return {b["bed"]: b for b in beds}

        wait(lambda: all((news2().get(b, {}).get("news2") or {}).get("complete") for b in ("01", "02", "03")), 45,
             "complete NEWS2 on beds 01-03")
        beds = news2()
        for b in ("01", "02", "03"):
            assert beds[b]["spot"]["consciousness"] == "A" and beds[b]["spot"]["supplemental_o2"] is False, beds[b]
            assert beds[b]["news2"]["missing"] == []
        last = beds["04"]["news2"]
        assert last is not None and last["complete"] is False, last
        assert {"consciousness", "supplemental_o2"} <= set(last["missing"]), last
        assert not beds["04"]["spot"]
        wait(lambda: stored(port) >= 4, 30, "first stored observations")
        first = stored(port)
        wait(lambda: stored(port) >= first + 8, 30, "the stored counter to keep rising")
        assert re.search(r"^smartward_gateway_delivered [1-9]", metrics(port), re.M)  # the simulator's outbox drains
        assert (tmp_path / "demo" / "vitals.sqlite3").exists()
        assert (tmp_path / "demo" / "outbox" / "outbox.sqlite3").exists()
        # a second demo on the same data, or the same port, is refused before it touches anything (it
        # used to reset the running demo's logins and then crash on the busy port)
        for data_dir, message in ((tmp_path / "demo", "a demo is already running with its data in"),
                                  (tmp_path / "other", f"cannot serve http on 127.0.0.1:{port}")):
            second = subprocess.run([sys.executable, "-m", "smartward", "demo", "--http", f"127.0.0.1:{port}",
                                     "--data-dir", str(data_dir)], cwd=REPO, capture_output=True, text=True, timeout=60)
            assert second.returncode == 1 and message in second.stderr, second.stderr
            assert "Traceback" not in second.stderr
        assert httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token", timeout=5,
                          data={"username": m.group(1), "password": m.group(2)}).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
