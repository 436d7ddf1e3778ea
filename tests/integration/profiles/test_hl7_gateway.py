"""`smartward gateway --hl7-mllp` against a real Mosquitto, fed by python-hl7's own `mllp_send`:
the IHE PCD-01 example is acknowledged MSA|AA and its vitals are published as canonical
observations through the durable outbox; malformed HL7 gets AR/AE and the listener keeps serving."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiomqtt
import httpx
import pytest

from device_profiles import decode_observation, now_ms
from devservers import InfluxDB, Mosquitto, free_port

from .polling import until

pytestmark = pytest.mark.integration

MLLP_SEND = Path(sys.executable).parent / "mllp_send"
DEVICE = "e86c094f-f751-4acf-92b2-38f11c1f6f57-Device"


def recent(ihe: Path, tmp_path: Path) -> Path:
    """The IHE example (2015) moved to yesterday: the gateway refuses observations older than the
    7-day raw retention (issue 14), which InfluxDB would drop."""
    day = time.strftime("%Y%m%d", time.gmtime(time.time() - 86_400))
    out = tmp_path / "ihe-recent.hl7"
    out.write_bytes(ihe.read_bytes().replace(b"20150122", day.encode()))
    return out


async def mllp_send(port: int, file: Path) -> str:
    proc = await asyncio.create_subprocess_exec(str(MLLP_SEND), "--loose", "-f", str(file), "-p", str(port), "127.0.0.1",
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return out.decode("latin-1")


async def test_ihe_example_through_gateway_to_mosquitto(mosquitto: Mosquitto, topic_root: str, uid: str,
                                                         tmp_path: Path, testdata: Path) -> None:
    ihe = testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7"
    port, metrics_port = free_port(), free_port()
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"sub-{uid}") as sub:
        await sub.subscribe(f"{topic_root}/devices/+/obs", qos=1)
        gw = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smartward", "gateway", "--broker", mosquitto.url, "--hl7-mllp", f"127.0.0.1:{port}",
            "--outbox", str(tmp_path / "outbox"), "--topic-root", topic_root, "--metrics", f"127.0.0.1:{metrics_port}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            assert gw.stdout is not None
            line = await asyncio.wait_for(gw.stdout.readline(), 30)
            assert b"MLLP listening" in line, line
            bad = tmp_path / "bad.hl7"
            bad.write_text("MSH|^~\\&|X|Y|||20250101000000||ORU^R01|BAD1|P|2.6\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC"
                           "|1.3.1.1|lots|262688^MDC_DIM_PERCENT^MDC|||||F\r")
            out = await mllp_send(port, bad)
            assert "MSA|AE|BAD1|OBX[1]-5: MDC_PULS_OXIM_SAT_O2: 'lots' is not a number" in out
            garbage = tmp_path / "garbage.hl7"
            garbage.write_bytes(b"MSH|^~\\&|\x00\x01\x02||||20250101000000||ADT^A01|G1|P|2.5\r")
            assert "MSA|AR|G1|" in await mllp_send(port, garbage)
            out = await mllp_send(port, ihe)  # as published, from 2015: refused, not dropped later by the store
            assert "MSA|AE|HP0122182658686QQ000CND119C0WS61|" in out and "older than the 7-day raw retention" in out
            out = await mllp_send(port, recent(ihe, tmp_path))
            assert "MSA|AA|HP0122182658686QQ000CND119C0WS61" in out
            # the QT codes of the example are not in the catalogue: counted per code, not silently dropped
            async with httpx.AsyncClient() as http:
                text = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)).text
            for code in ("147232^MDC_ECG_TIME_PD_QT_GL", "147236^MDC_ECG_TIME_PD_QTc"):
                # the 2015 original counted too: its codes were read before its times were refused
                assert f'smartward_gateway_hl7_unmapped_total{{code="{code}"}} 2.0' in text, text[-2000:]
            got: dict[str, float] = {}
            async with asyncio.timeout(30):
                async for msg in sub.messages:
                    assert str(msg.topic) == f"{topic_root}/devices/{DEVICE}/obs"
                    assert isinstance(msg.payload, bytes)
                    obs = decode_observation(msg.payload, DEVICE, now=now_ms())
                    for s in obs.samples:
                        got.update(s.values)
                    if {"heart_rate", "nibp_sys"} <= set(got):
                        break
            assert {k: got[k] for k in ("heart_rate", "spo2", "resp_rate", "nibp_sys", "nibp_dia", "nibp_mean")} == {
                "heart_rate": 80, "spo2": 99, "resp_rate": 30, "nibp_sys": 117, "nibp_dia": 82, "nibp_mean": 90}
        finally:
            gw.terminate()
            await asyncio.wait_for(gw.wait(), 30)


async def start_gateway(broker: Mosquitto, port: int, outbox: Path, root: str) -> asyncio.subprocess.Process:
    gw = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smartward", "gateway", "--broker", broker.url, "--hl7-mllp", f"127.0.0.1:{port}",
        "--outbox", str(outbox), "--topic-root", root, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert gw.stdout is not None
    assert b"MLLP listening" in await asyncio.wait_for(gw.stdout.readline(), 30)
    return gw


async def test_aa_means_on_disk_across_broker_outage_and_gateway_kill(
        private_mosquitto: Mosquitto, topic_root: str, uid: str, tmp_path: Path, testdata: Path) -> None:
    """A message acknowledged while the broker is down, by a gateway then killed, is published by the
    next gateway process on the same outbox once the broker is back."""
    ihe = testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7"
    broker, outbox = private_mosquitto, tmp_path / "outbox"
    port = free_port()
    broker.stop()
    gw = await start_gateway(broker, port, outbox, topic_root)
    try:
        assert "MSA|AA|HP0122182658686QQ000CND119C0WS61" in await mllp_send(port, recent(ihe, tmp_path))
    finally:
        gw.kill()  # no clean shutdown: only what is on disk survives
        await asyncio.wait_for(gw.wait(), 30)
    broker.start()
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier=f"sub-{uid}") as sub:
        await sub.subscribe(f"{topic_root}/devices/+/obs", qos=1)
        gw = await start_gateway(broker, free_port(), outbox, topic_root)
        try:
            got: dict[str, float] = {}
            async with asyncio.timeout(30):
                async for msg in sub.messages:
                    assert isinstance(msg.payload, bytes)
                    for s in decode_observation(msg.payload, DEVICE, now=now_ms()).samples:
                        got.update(s.values)
                    if {"heart_rate", "nibp_sys"} <= set(got):
                        break
            assert (got["heart_rate"], got["spo2"], got["resp_rate"], got["nibp_sys"]) == (80, 99, 30, 117)
        finally:
            gw.terminate()
            await asyncio.wait_for(gw.wait(), 30)


async def test_hl7_monitor_to_influxdb(mosquitto: Mosquitto, influxdb: InfluxDB, influx_db: str, topic_root: str,
                                       uid: str, tmp_path: Path) -> None:
    """The whole chain: a (simulated) HL7 monitor -> MLLP gateway -> outbox -> Mosquitto -> ingest -> InfluxDB."""
    from ingest import IngestConfig, IngestWorker

    cfg = IngestConfig(broker=mosquitto.url, store=influxdb.store_url(influx_db), state=f"sqlite:///{tmp_path}/state.db",
                       data_dir=str(tmp_path / "data"), topic_root=topic_root, client_prefix=f"t{uid}")
    worker = IngestWorker(cfg)
    task = asyncio.create_task(worker.run())
    port = free_port()
    gw = await start_gateway(mosquitto, port, tmp_path / "outbox", topic_root)
    device = f"HL7-{uid}"
    try:
        await until(worker.ready, "ingest ready")
        sim = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smartward", "profile", "simulate", "device_profiles/profiles/ihe-pcd-hl7-monitor.yaml",
            "--mllp", f"127.0.0.1:{port}", "--device", device, "--rate", "20", "--count", "3",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(sim.communicate(), 60)
        assert sim.returncode == 0 and err == b"", err.decode()

        def stored() -> list[dict[str, object]]:
            try:
                found = influxdb.query(
                    f"SELECT heart_rate, spo2, nibp_sys, temperature FROM vitals WHERE device = '{device}'", influx_db)
            except RuntimeError:  # database not created yet
                return []
            return found if len(found) == 3 else []

        rows = await until(stored, "three HL7 observations in InfluxDB")
        for r in rows:
            assert 40 < float(r["heart_rate"]) < 120 and 90 < float(r["spo2"]) <= 100  # type: ignore[arg-type]
            assert 34 < float(r["temperature"]) < 40 and 80 < float(r["nibp_sys"]) < 180  # type: ignore[arg-type]
    finally:
        gw.terminate()
        await asyncio.wait_for(gw.wait(), 30)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
