"""A device described only by a new profile file is onboarded end to end through the real ingest:
Mosquitto -> ingest (decode by profile) -> InfluxDB, in canonical units with the device's times.

The vendor format is invented here (not a built-in): its own topic layout, nested batches,
temperature in °F, SpO2 as a fraction, millisecond epochs. The first version of the profile has a
realistic mistake (epoch seconds instead of milliseconds): its messages become dead letters naming
the problem; the corrected file takes effect without a restart, and `smartward deadletter replay`
stores the letters.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiomqtt
import orjson
import pytest

from device_profiles import now_ms
from devservers import InfluxDB, Mosquitto
from ingest import DeadLetterStore, IngestConfig, IngestWorker

from .polling import until

pytestmark = pytest.mark.integration

PROFILE = """\
schema_version: 2
id: zephyr-zx9
vendor: Zephyr Labs
model: ZX-9 chest patch
transport: mqtt-json
mqtt:
  topic: "zx/{site}/patch/{patch_id}/readings"
  device_id: "zx-{patch_id}"
samples:
  path: payload.series
time:
  path: epochMs
  format: FMT
fields:
  - {signal: heart_rate, path: m.pulse}
  - {signal: spo2, path: m.oxy, unit: "1"}
  - {signal: temperature, path: m.skinTempF, unit: degF}
  - {signal: resp_rate, path: m.breaths}
technical_alarms:
  - {code: battery_low, path: $.pwr.pct, when: {below: 10}, text: patch battery low, status: battery}
"""


def payload(t0: int) -> bytes:
    return orjson.dumps({
        "hdr": {"fw": "9.1.0", "pid": "ZX9-0042"},
        "payload": {"series": [
            {"epochMs": t0, "m": {"pulse": 88, "oxy": 0.961, "skinTempF": 100.4, "breaths": 18}},
            {"epochMs": t0 + 1000, "m": {"pulse": 91, "oxy": 0.955, "skinTempF": 100.6, "breaths": 19}}]},
        "pwr": {"pct": 55}})


def rows(influxdb: InfluxDB, db: str, device: str) -> dict[int, dict[str, object]]:
    try:
        found = influxdb.query(f"SELECT heart_rate, spo2, temperature, resp_rate FROM vitals WHERE device = '{device}'", db)
    except RuntimeError:
        return {}
    return {int(r["time"]): {k: v for k, v in r.items() if k != "time"} for r in found}  # type: ignore[call-overload]


async def test_new_vendor_profile_onboards_without_code_or_restart(
        mosquitto: Mosquitto, influxdb: InfluxDB, influx_db: str, topic_root: str, uid: str, tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    data = tmp_path / "data"
    cfg = IngestConfig(broker=mosquitto.url, store=influxdb.store_url(influx_db), state=f"sqlite:///{tmp_path}/state.db",
                       data_dir=str(data), topic_root=topic_root, profiles=(str(profiles),), client_prefix=f"t{uid}")
    worker = IngestWorker(cfg)
    task = asyncio.create_task(worker.run())
    topic = "zx/north-wing/patch/ZX9-0042/readings"
    device = "zx-ZX9-0042"
    t_a = (now_ms() // 1000) * 1000 - 120_000
    t_b = t_a + 60_000
    try:
        await until(worker.ready, "ingest ready")
        (profiles / "zephyr-zx9.yaml").write_text(PROFILE.replace("FMT", "epoch_s"))  # the vendor's mistake
        await until(lambda: worker.registry.get("zephyr-zx9") is not None, "profile loaded")
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"zx-{uid}") as dev:
            async def send_a() -> None:
                await dev.publish(topic, payload(t_a), qos=1)

            letters = DeadLetterStore(data / "deadletters.sqlite3")
            dead = await until(lambda: [d for d in letters.list() if d.topic == topic], "dead letter", every=send_a)
            assert "more than 5 minutes in the future" in dead[0].reason and dead[0].field == "sample[0].epochMs"
            assert rows(influxdb, influx_db, device) == {}

            # the vendor fixes the file; ingest picks it up without a restart
            (profiles / "zephyr-zx9.yaml").write_text(PROFILE.replace("FMT", "epoch_ms"))
            await until(lambda: worker.registry.get("zephyr-zx9").profile.time.format == "epoch_ms",  # type: ignore[union-attr]
                        "profile reloaded")

            async def send_b() -> None:
                await dev.publish(topic, payload(t_b), qos=1)

            await until(lambda: t_b in rows(influxdb, influx_db, device), "live samples stored", every=send_b)

        # the earlier messages are not lost: replay them through the fixed profile
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smartward", "deadletter", "replay", "--data-dir", str(data),
            "--store", cfg.store, "--state", cfg.state, "--topic-root", topic_root, "--profiles", str(profiles),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, (out + err).decode()
        got = await until(lambda: (r := rows(influxdb, influx_db, device)) and t_a in r and r, "replayed samples stored")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # canonical units, the device's own sample times (ms), one point per (device, t)
    assert got[t_a] == {"heart_rate": 88, "spo2": 96.1, "temperature": 38.0, "resp_rate": 18}
    assert got[t_a + 1000] == {"heart_rate": 91, "spo2": 95.5, "temperature": 38.111, "resp_rate": 19}
    assert got[t_b] == got[t_a] and got[t_b + 1000] == got[t_a + 1000]
    assert set(got) == {t_a, t_a + 1000, t_b, t_b + 1000}


async def test_uploaded_profile_version_takes_effect_on_control_message(
        mosquitto: Mosquitto, influxdb: InfluxDB, influx_db: str, topic_root: str, uid: str, tmp_path: Path) -> None:
    """The upload path: a version stored and activated in the state DB (what the API does), then
    `{root}/control/profiles`; running ingest reloads and decodes the new vendor's topic."""
    import sqlalchemy as sa

    from device_profiles import profile_store, topics

    state = f"sqlite:///{tmp_path}/state.db"
    cfg = IngestConfig(broker=mosquitto.url, store=influxdb.store_url(influx_db), state=state,
                       data_dir=str(tmp_path / "data"), topic_root=topic_root, client_prefix=f"t{uid}")
    worker = IngestWorker(cfg)
    task = asyncio.create_task(worker.run())
    topic = "zx/south/patch/ZX9-0077/readings"
    t0 = (now_ms() // 1000) * 1000 - 30_000
    try:
        await until(worker.ready, "ingest ready")
        engine = sa.create_engine(state)
        v = profile_store.store_version(engine, PROFILE.replace("FMT", "epoch_ms"), "vendor@zephyr")
        profile_store.activate(engine, v.profile_id, v.version)
        engine.dispose()
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"zx-{uid}") as client:
            await client.publish(topics.control_profiles(topic_root), orjson.dumps({"changed": now_ms()}), qos=1)
            await until(lambda: worker.registry.get("zephyr-zx9") is not None, "stored profile loaded")

            async def send() -> None:
                await client.publish(topic, payload(t0), qos=1)

            got = await until(lambda: rows(influxdb, influx_db, "zx-ZX9-0077"), "samples stored", every=send)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert got[t0] == {"heart_rate": 88, "spo2": 96.1, "temperature": 38.0, "resp_rate": 18}
