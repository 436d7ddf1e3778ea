"""Finding 12: ``smartward serve`` handed each ingest worker its config, broker and InfluxDB passwords
included, on the command line (readable by any local user in ``ps`` / ``/proc/PID/cmdline``), and printed
the InfluxDB password at start-up. Workers now read their config from stdin and every URL shown is
redacted. A real ``serve`` with one ingest worker, the shipped broker ACL (password account) and a real
InfluxDB given credentials in its URL."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from devservers import InfluxDB, free_port
from tests.integration.gateway.test_mosquitto_acl import DEPLOY, ProdMosquitto, add

pytestmark = pytest.mark.integration
INFLUX_PASSWORD = "influx-Secret-4711"


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def test_worker_argv_and_startup_output_hold_no_password(influxdb: InfluxDB, tmp_path: Path, uid: str) -> None:
    m = ProdMosquitto(port=free_port())
    (m.dir / "acl").write_text((DEPLOY / "acl").read_text())
    broker_pw = add(m.dir, "--service", "sw-platform")
    m.start()
    port = free_port()
    out = tmp_path / "serve.out"
    env = {**os.environ, "SMARTWARD_ENVIRONMENT": "development", "SMARTWARD_SECRET_KEY": secrets.token_urlsafe(32),
           "SMARTWARD_LOG_LEVEL": "DEBUG"}
    with open(out, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "smartward", "serve", "--broker",
             f"mqtt://sw-platform:{broker_pw}@127.0.0.1:{m.port}",
             "--store", f"influxdb://admin:{INFLUX_PASSWORD}@127.0.0.1:{influxdb.port}/sw_{uid}",
             "--data-dir", str(tmp_path / "data"), "--ingest-workers", "1", "--http", f"127.0.0.1:{port}"],
            stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        ready = False
        while time.monotonic() < deadline and not ready:
            assert proc.poll() is None, out.read_text()
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                ready = r.status_code == 200 and r.json()["checks"].get("ingest") is r.json()["checks"].get("alerting") is True
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert ready, out.read_text()[-3000:]
        kids = children(proc.pid)
        modules = []
        for pid in kids:  # the ingest worker and alerting: both get their URLs on stdin
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            assert broker_pw not in argv and INFLUX_PASSWORD not in argv, argv
            modules.append(argv.split(" -m ", 1)[-1].strip())
        assert sorted(modules) == ["alerting.service_main", "ingest.worker_main"], modules
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        m.close()
    text = out.read_text()
    assert "smartward serve: broker mqtt://sw-platform:***@127.0.0.1" in text, text[:500]
    assert broker_pw not in text and INFLUX_PASSWORD not in text, text
