"""The MLLP listener with the HL7 gateway handler, driven by python-hl7's own ``mllp_send`` client
and by raw hostile sockets; it must answer every frame and keep serving."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from device_profiles import compile_profile_file, decode_observation
from device_profiles.hl7 import Hl7Decoder
from device_profiles.registry import BUILTIN_DIR
from gateway_agent.hl7_gateway import Hl7Gateway, Hl7GatewayError
from gateway_agent.mllp import END, START, MllpLimits, MllpServer

MLLP_SEND = Path(sys.executable).parent / "mllp_send"
NOW = 1_763_805_900_000
GOOD_ID = "HP0122182658686QQ000CND119C0WS61"


class ListSink:
    """Collects what the gateway hands to its outbox (the outbox itself is gateway_agent's, tested there)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes, int]] = []
        self.fail = False

    async def put(self, topic: str, payload: bytes, qos: int = 1) -> None:
        if self.fail:
            raise Hl7GatewayError("disk full")
        self.items.append((topic, payload, qos))


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
async def server(sink: ListSink) -> AsyncIterator[MllpServer]:
    # the IHE example is from 2015, the clock fixed in 2025: no retention limit here
    dec = Hl7Decoder(compile_profile_file(BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml"), max_age_ms=None)
    gw = Hl7Gateway(dec, sink, root="t1/smartward/v1", clock=lambda: NOW)
    async with MllpServer(gw.handle, gw.oversize, "127.0.0.1", 0, MllpLimits(max_message_bytes=64 * 1024,
                                                                            idle_timeout=5)) as srv:
        yield srv


async def mllp_send(port: int, file: Path) -> str:
    proc = await asyncio.create_subprocess_exec(str(MLLP_SEND), "--loose", "-f", str(file), "-p", str(port),
                                                "127.0.0.1", stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return out.decode("latin-1")


async def exchange(port: int, data: bytes, frames: int) -> list[str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    acks = []
    for _ in range(frames):
        block = await asyncio.wait_for(reader.readuntil(END), 10)
        assert block.startswith(START)
        acks.append(block[1:-2].decode("latin-1"))
    writer.close()
    await writer.wait_closed()
    return acks


def msa(ack: str) -> str:
    return next(seg for seg in ack.split("\r") if seg.startswith("MSA|"))


async def test_ihe_example_via_mllp_send_is_acked_and_published(server: MllpServer, sink: ListSink,
                                                                testdata: Path) -> None:
    out = await mllp_send(server.port, testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7")
    assert f"MSA|AA|{GOOD_ID}" in out
    [(topic, payload, qos)] = sink.items
    device = "e86c094f-f751-4acf-92b2-38f11c1f6f57-Device"
    assert (topic, qos) == (f"t1/smartward/v1/devices/{device}/obs", 1)
    obs = decode_observation(payload, device, now=NOW)  # it is valid canonical payload
    got = {k: v for s in obs.samples for k, v in s.values.items()}
    assert {k: got[k] for k in ("heart_rate", "spo2", "resp_rate", "nibp_sys", "nibp_dia", "nibp_mean")} == {
        "heart_rate": 80, "spo2": 99, "resp_rate": 30, "nibp_sys": 117, "nibp_dia": 82, "nibp_mean": 90}


async def test_malformed_hl7_gets_ar_ae_and_the_listener_keeps_serving(server: MllpServer, sink: ListSink,
                                                                      tmp_path: Path, testdata: Path) -> None:
    bad = tmp_path / "bad.hl7"
    bad.write_text("MSH|^~\\&|LAB|X|||20250101000000||ADT^A01|Q1|P|2.5\rPID|||1\r")
    out = await mllp_send(server.port, bad)
    assert "MSA|AR|Q1" in out and "ERR||MSH^1^9|200^Unsupported message type^HL70357|E" in out
    bad.write_text("MSH|^~\\&|GW|X|||20250101000000||ORU^R01|Q2|P|2.6\r"
                   "OBX|1|ST|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||M1\r"
                   "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.1|ninety|262688^MDC_DIM_PERCENT^MDC|||||F\r")
    out = await mllp_send(server.port, bad)
    assert "MSA|AE|Q2|OBX[2]-5: MDC_PULS_OXIM_SAT_O2: 'ninety' is not a number" in out
    assert "ERR||OBX^2^5|102^Data type error^HL70357|E" in out
    out = await mllp_send(server.port, testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7")
    assert f"MSA|AA|{GOOD_ID}" in out and len(sink.items) == 1


async def test_hostile_connections_do_not_stop_the_listener(server: MllpServer, sink: ListSink, testdata: Path) -> None:
    good = (testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7").read_bytes()
    # junk before the start block, a frame with no start block, binary garbage, pipelined frames
    acks = await exchange(server.port, b"\x00\xffjunk" + START + good + END + b"no start block" + END
                          + START + bytes(range(256)) + END + START + good + END, 4)
    assert [msa(a).split("|")[1] for a in acks] == ["AA", "AR", "AR", "AA"]
    # an oversized frame is refused, then that connection is closed (issue 13); the listener goes on
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(START + b"MSH|" + b"x" * 200_000 + END + START + good + END)
    replies = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert replies.count(END) == 1
    assert msa(replies.decode("latin-1")).startswith("MSA|AR||") and b"exceeds" in replies
    [ack] = await exchange(server.port, START + good + END, 1)
    assert msa(ack).startswith("MSA|AA")
    # a client that disconnects in the middle of a frame, and one that connects and says nothing
    _, w = await asyncio.open_connection("127.0.0.1", server.port)
    w.write(START + good[:100])
    await w.drain()
    w.close()
    _, idle = await asyncio.open_connection("127.0.0.1", server.port)
    out = await mllp_send(server.port, testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7")
    assert f"MSA|AA|{GOOD_ID}" in out
    idle.close()
    assert len(sink.items) == 4  # the four good messages, nothing from the rest


async def test_store_failure_answers_ae_so_the_sender_resends(server: MllpServer, sink: ListSink, testdata: Path) -> None:
    sink.fail = True
    out = await mllp_send(server.port, testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7")
    assert f"MSA|AE|{GOOD_ID}|" in out and "207^Application internal error" in out and "resend" in out
    sink.fail = False
    out = await mllp_send(server.port, testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7")
    assert f"MSA|AA|{GOOD_ID}" in out and len(sink.items) == 1


async def test_pcd04_alarm_is_published_on_the_alarm_topic(server: MllpServer, sink: ListSink) -> None:
    from tests.unit.profiles.test_hl7_oru import R40

    [ack] = await exchange(server.port, START + R40.encode() + END, 1)
    assert msa(ack) == "MSA|AA|AL0001|"
    [(topic, payload, _)] = sink.items
    assert topic == "t1/smartward/v1/devices/0012345678901234/alarm"
    assert orjson.loads(payload)["code"] == "MDC_EVT_LO_VAL_LT_LIM"


async def test_profile_simulate_over_mllp(sink: ListSink) -> None:
    dec = Hl7Decoder(compile_profile_file(BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml"))
    gw = Hl7Gateway(dec, sink, root="t1/smartward/v1")  # real clock: the simulator sends current times
    async with MllpServer(gw.handle, gw.oversize, "127.0.0.1", 0) as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smartward", "profile", "simulate", str(BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml"),
            "--mllp", f"127.0.0.1:{server.port}", "--device", "SIM-7", "--rate", "50", "--count", "3",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0 and b"sent 3 messages" in out, err.decode()
    assert err == b""  # every message was answered AA
    assert [t for t, _, _ in sink.items] == ["t1/smartward/v1/devices/SIM-7/obs"] * 3
    obs = orjson.loads(sink.items[0][1])
    assert set(obs["samples"][0]) == {"t", "heart_rate", "spo2", "resp_rate", "nibp_sys", "nibp_dia", "nibp_mean",
                                      "temperature"}


async def test_big_message_is_decoded_off_the_loop(server: MllpServer, sink: ListSink, testdata: Path) -> None:
    good = (testdata / "hl7" / "ihe_pcd01_E1_1_philips_physio_monitor.hl7").read_bytes().rstrip(b"\r")
    extra = b"".join(b"\rOBX|%d|NM|147232^MDC_ECG_TIME_PD_QT_GL^MDC|1.2.1.14|360|264338^MDC_DIM_MILLI_SEC^MDC|||||X" % (18 + i)
                     for i in range(500))
    assert len(good + extra) > 32 * 1024
    [ack] = await exchange(server.port, START + good + extra + END, 1)
    assert msa(ack) == f"MSA|AA|{GOOD_ID}|" and len(sink.items) == 1
