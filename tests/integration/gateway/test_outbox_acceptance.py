"""Issue 2 acceptance: the broker is down 60 s while 24 simulated beds publish at 1 Hz through the
durable outbox; afterwards every sample the simulator produced is in InfluxDB (via ``smartward serve``
with real Mosquitto and InfluxDB, all separate processes).

Mosquitto 2.0.11 does not restore SHARED subscriptions from its persistence file after a restart
(see ``test_shared_subscription_survives_broker_restart``): whatever is published after the restart
and before the ingest workers re-subscribe matches no subscription and is dropped by the broker. So
that this test measures the outbox and not that broker defect, the simulator is paused (SIGSTOP)
from the end of the outage until ingest has re-subscribed; its ticks catch up on SIGCONT with their
exact sample times, so the production count is unaffected."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from devservers import InfluxDB, Mosquitto
from tests.integration.ingest.conftest import REPO, Serve, serve_factory, wait_for

pytestmark = pytest.mark.integration
__all__ = ["serve_factory"]  # the fixture, imported for this module
BEDS = 24
OUTAGE_S = int(os.environ.get("SMARTWARD_TEST_OUTAGE_S", "60"))  # shorter only when debugging


def counts(influx: InfluxDB, db: str) -> dict[str, int]:
    """Stored samples per device (every simulated sample carries resp_rate)."""
    try:
        rows = influx.query('SELECT count("resp_rate") FROM "raw"."vitals" GROUP BY "device"', db)
    except Exception:  # noqa: BLE001 - database not created yet
        return {}
    return {str(r["device"]): int(r["count"]) for r in rows}  # type: ignore[call-overload]


def test_broker_down_60s_every_sample_reaches_influxdb(restartable_mosquitto: Mosquitto, influxdb: InfluxDB,
                                                       influx_db: str, topic_root: str, tmp_path: Path,
                                                       serve_factory: Callable[..., Serve]) -> None:
    broker = restartable_mosquitto
    serve = serve_factory(broker.url, influxdb.store_url(influx_db), topic_root, 2)
    sim = subprocess.Popen(
        [sys.executable, "-m", "smartward", "simulate", "--broker", broker.url, "--beds", str(BEDS), "--rate", "1",
         "--scenario", "mixed", "--duration", str(OUTAGE_S + 15), "--topic-root", topic_root,
         "--outbox", str(tmp_path / "outbox"), "--backoff-max", "4"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: sum(counts(influxdb, influx_db).values()) >= BEDS * 5, 30, "first samples in InfluxDB")
        broker.stop()
        down = time.monotonic()
        time.sleep(OUTAGE_S)  # the outage itself (not a synchronisation): the ward keeps producing
        assert sim.poll() is None
        os.kill(sim.pid, signal.SIGSTOP)
        broker.start()
        wait_for(serve.ready, 30, "ingest re-subscribed after the broker restart")
        os.kill(sim.pid, signal.SIGCONT)
        out, _ = sim.communicate(timeout=90)
        assert sim.returncode == 0, out
        assert time.monotonic() - down >= OUTAGE_S
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait()
    m = re.search(r"produced (\d+) samples .* delivered (\d+), pending (\d+) .*refused (\d+)", out)
    assert m, out
    produced, _delivered, pending, refused = map(int, m.groups())
    assert pending == 0 and refused == 0, out
    assert produced >= BEDS * (OUTAGE_S + 5)  # about 24 beds x 75 s, minus the offline bed's pause
    try:
        wait_for(lambda: sum(counts(influxdb, influx_db).values()) == produced, 60,
                 f"all {produced} samples in InfluxDB")
    except AssertionError:
        print(out, counts(influxdb, influx_db), {k: v for k, v in serve.metrics().items() if "ingest" in k})
        raise
    per_device = counts(influxdb, influx_db)
    assert len(per_device) == BEDS
    stable = [d for d, n in per_device.items() if n == max(per_device.values())]
    assert len(stable) >= BEDS - 4  # every bed but the offline one produced at every tick


@pytest.mark.xfail(strict=True, reason="Mosquitto 2.0.11 drops shared subscriptions on restart (persistence)")
async def test_shared_subscription_survives_broker_restart(restartable_mosquitto: Mosquitto, uid: str) -> None:
    """A persistent session's SHARED subscription should survive a broker restart like a plain one does."""
    import aiomqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    m = restartable_mosquitto
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600

    def ingest() -> aiomqtt.Client:
        return aiomqtt.Client("127.0.0.1", m.port, identifier=f"ing-{uid}", protocol=aiomqtt.ProtocolVersion.V5,
                              clean_start=False, properties=props)

    async with ingest() as c:
        await c.subscribe(f"$share/ingest/t{uid}/#", qos=1)
    await asyncio.to_thread(m.stop)
    await asyncio.to_thread(m.start)
    async with aiomqtt.Client("127.0.0.1", m.port, identifier=f"pub-{uid}") as p:
        await p.publish(f"t{uid}/x", b"after restart", qos=1)
    async with ingest() as c:
        async with asyncio.timeout(3):
            async for msg in c.messages:
                assert msg.payload == b"after restart"
                break
