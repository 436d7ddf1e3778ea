"""The real servers the suite relies on start, answer, and survive a restart with their data."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from devservers import InfluxDB, Mosquitto

pytestmark = pytest.mark.integration


def test_influxdb_keeps_points_across_restart(private_influxdb: InfluxDB) -> None:
    private_influxdb.create_db("svc")
    r = httpx.post(f"{private_influxdb.url}/write", params={"db": "svc", "precision": "ms"},
                   content=b"vitals,device=d1 heart_rate=72 1763805600000\n")
    assert r.status_code == 204
    private_influxdb.stop()
    private_influxdb.start()
    rows = private_influxdb.query('SELECT "heart_rate" FROM "vitals"', "svc")
    assert [r["heart_rate"] for r in rows] == [72]


def test_mosquitto_round_trip(mosquitto: Mosquitto, topic_root: str) -> None:
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(mosquitto.port), "-t", f"{topic_root}/x", "-C", "1", "-W", "10"],
                           stdout=subprocess.PIPE)
    import time

    time.sleep(0.3)
    subprocess.run(["mosquitto_pub", "-p", str(mosquitto.port), "-t", f"{topic_root}/x", "-m", "hello", "-q", "1"], check=True)
    out, _ = sub.communicate(timeout=10)
    assert out.strip() == b"hello"
