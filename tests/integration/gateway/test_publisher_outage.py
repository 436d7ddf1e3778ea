"""Simulator -> outbox -> publisher -> REAL Mosquitto, with the broker stopped and restarted mid-run:
every sample arrives, in order per device, with increasing seqs; status and last will are retained."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from pathlib import Path

import aiomqtt
import orjson
import pytest

from devservers import Mosquitto
from gateway_agent import PublisherOptions, Simulation, SimulationOptions, WardOptions

from .conftest import collecting, until

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("connection", ["device", "gateway"])
async def test_broker_restart_loses_nothing_and_keeps_order(restartable_mosquitto: Mosquitto, tmp_path: Path,
                                                            uid: str, connection: str) -> None:
    root = f"t{uid}/smartward/v1"
    opts = SimulationOptions(
        broker=restartable_mosquitto.url, outbox=str(tmp_path / "outbox"), rate=10.0, connection=connection,  # type: ignore[arg-type]
        ward=WardOptions(beds=4, scenario="stable", seed=1, root=root),
        publisher=PublisherOptions(broker="", client_id="", backoff_initial=0.1, backoff_max=0.5))
    sim = Simulation(opts)
    async with collecting(restartable_mosquitto.port, root, f"col-{uid}") as col:
        run = asyncio.create_task(sim.run(duration=6.0))
        await until(lambda: col.count() >= 20, 10, "first samples")
        await asyncio.to_thread(restartable_mosquitto.stop)  # broker down ~2 s while the ward keeps producing
        before = sim.samples
        await asyncio.sleep(2.0)
        assert sim.samples > before + 40  # production went on into the outbox
        assert sim.outbox.stats().pending > 40
        await asyncio.to_thread(restartable_mosquitto.start)
        summary = await asyncio.wait_for(run, 30)
        assert summary.pending == 0 and summary.refused == 0
        assert summary.samples == 4 * 60
        await until(lambda: sum(len(set(t)) for t in col.times.values()) >= summary.samples, 15,
                    "every sample at the subscriber")
    for device, times in col.times.items():
        assert len(times) - 60 <= 20, device  # QoS 1: a few redeliveries after the outage are allowed
        first_seen = list(dict.fromkeys(times))
        assert first_seen == sorted(first_seen), f"{device}: out of order"
        assert len(set(times)) == 60  # no gaps, the steps are exactly 100 ms
        assert sorted(set(times)) == [times[0] + 100 * k for k in range(60)]
        seqs = list(dict.fromkeys(col.seqs[device]))
        assert seqs == sorted(seqs)
    assert len(col.times) == 4
    # merged backlog messages: fewer messages than samples for at least the outage part
    assert sum(len(s) for s in col.seqs.values()) < summary.samples
    assert all(st["online"] is False for st in col.status.values())  # clean stop marks devices offline


async def test_last_will_marks_a_killed_device_offline(mosquitto: Mosquitto, tmp_path: Path, uid: str) -> None:
    root = f"t{uid}/smartward/v1"
    argv = [sys.executable, "-m", "smartward", "simulate", "--broker", mosquitto.url, "--beds", "2",
            "--scenario", "stable", "--topic-root", root, "--outbox", str(tmp_path / "ob")]
    sim = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: ASYNC220
    try:
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier=f"w-{uid}") as c:
            await c.subscribe(f"{root}/devices/+/status", qos=1)
            seen: dict[str, bool] = {}
            killed = False
            # generous: under a loaded CI machine the simulator's start-up alone can take seconds
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(60):
                    async for m in c.messages:
                        assert isinstance(m.payload, bytes)
                        seen[str(m.topic).split("/")[-2]] = orjson.loads(m.payload)["online"]
                        if not killed and seen == {"sim-w1-01": True, "sim-w1-02": True}:
                            sim.send_signal(signal.SIGKILL)  # no clean disconnect: the broker sends the wills
                            killed = True
                        # The kernel closes a killed process's sockets before the process can be
                        # reaped, so the wills may arrive while poll() still says "running": do not
                        # wait on poll() here (that race hung this test once in CI).
                        if killed and len(seen) == 2 and not any(seen.values()):
                            break
    finally:
        with contextlib.suppress(ProcessLookupError):
            sim.kill()
        sim.wait()
    assert killed, f"the simulator's devices never both came online: {seen}"
    assert sim.returncode == -signal.SIGKILL
    assert seen == {"sim-w1-01": False, "sim-w1-02": False}
