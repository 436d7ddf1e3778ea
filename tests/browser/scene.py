"""A realistic ward for browser tests and screenshots: patients admitted to N beds, simulated
monitors (gateway_agent's ward simulator) publishing canonical observations at 1 Hz over real MQTT,
optional history backfilled as batched samples, and a few home patients on wearables.

``python -m tests.browser.scene`` runs it standalone (own Mosquitto, SQLite store) for a look.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiomqtt
import orjson

from gateway_agent.ward import SimulatedWard, WardOptions
from tests.integration.dashboard.conftest import Running, until


def patient_id(ward: str, bed: int) -> str:
    """A pseudonymous id (never a name): short enough for a tile."""
    return f"P{(4000 + 173 * bed + 7 * len(ward)) % 9000 + 1000}"


async def monitored_beds(run: Running, beds: Sequence[tuple[str, str, str]], since_ms: int,
                         ward: str = "w1") -> None:
    """Each (bed, device, patient) of ``ward``: the device at the bed and the patient admitted since
    ``since_ms``; returns once ingest attributes the devices."""
    attr = run.platform.attributions
    for bed, device, patient in beds:
        attr.assign_device(device, ward, bed, since_ms)
        attr.admit(patient, ward, bed, since_ms)
    await notify_adt(run, [device for _, device, _ in beds])


async def home_patient_with_history(run: Running, patient: str, samples: list[dict[str, Any]]) -> None:
    """Patient user ``pat`` for ``patient`` at home on wearable ``wear-{patient}``, whose ``samples``
    are published and stored (not only shown live) before this returns."""
    run.add_user("pat", "patient", patient=patient)
    await notify_adt(run, admit_home(run, [patient]))
    await run.publish(f"devices/wear-{patient}/obs", {"v": 1, "device": f"wear-{patient}", "seq": 1, "samples": samples})
    await run.stored(patient, len(samples))


async def one_bed_with_an_hour_of_trend(run: Running, spo2_base: int = 93) -> None:
    """Nurse ``nina`` on w1; bed 01 with monitor ``mon-1`` and patient P1001 for an hour; 50 minutes of
    per-minute vitals (heart rate ending on 92, NIBP and temperature for every chart row)."""
    run.add_user("nina", "nurse", ("w1",))
    now = int(time.time() * 1000)
    await monitored_beds(run, [("01", "mon-1", "P1001")], now - 3_600_000)
    samples = [{"t": now - 3_000_000 + 60_000 * k, "heart_rate": 88 + k % 9, "spo2": spo2_base + k % 5,
                "resp_rate": 18 + k % 4, "nibp_sys": 118 + k % 6, "nibp_dia": 70, "temperature": 38.1 + (k % 3) / 10}
               for k in range(50)]
    await run.publish("devices/mon-1/obs", {"v": 1, "device": "mon-1", "seq": 1, "samples": samples})
    await run.stored("P1001", len(samples))


def admit_ward(run: Running, ward: str, beds: int, device_pattern: str = "sim-{ward}-{bed:02d}",
               since_ms: int | None = None) -> list[str]:
    at = since_ms or int(time.time() * 1000) - 3_600_000
    attr = run.platform.attributions
    devices = []
    for i in range(1, beds + 1):
        bed = f"{i:02d}"
        devices.append(device_pattern.format(ward=ward, bed=i))
        attr.assign_device(devices[-1], ward, bed, at)
        if i % 11 != 0:  # a few beds have a monitor but no patient yet
            attr.admit(patient_id(ward, i), ward, bed, at)
    return devices


def admit_home(run: Running, patients: list[str], since_ms: int | None = None) -> list[str]:
    at = since_ms or int(time.time() * 1000) - 3_600_000
    attr = run.platform.attributions
    for p in patients:
        attr.admit(p, "home", p, at)
        attr.assign_device(f"wear-{p}", "home", p, at)
    return [f"wear-{p}" for p in patients]


async def notify_adt(run: Running, devices: Sequence[str] = ()) -> None:
    """Tell ingest (and the hub) about ADT changes written straight to the tables; with ingest in
    process, wait until it attributes ``devices`` (samples sent earlier would be stored unassigned)."""
    await run.publish("control/assignments", {"changed": int(time.time() * 1000)})
    worker = next((c for c in run.platform.components if c.name == "ingest"), None)
    attr = getattr(worker, "attributions", None)
    if attr is not None:
        await until(lambda: all(attr.lookup(d, int(time.time() * 1000)).ward for d in devices),
                    "ingest attributing the assigned devices")


async def backfill(run: Running, ward: SimulatedWard, minutes: int, step_s: float = 5.0) -> None:
    """Publish ``minutes`` of history (one sample per ``step_s``), 60 samples per message."""
    now = int(time.time() * 1000)
    start = now - minutes * 60_000
    per: dict[str, list[dict[str, Any]]] = {}
    t = start
    while t < now - 2000:
        for m in ward.tick(t, step_s).messages:
            if m.kind == "obs":
                per.setdefault(m.device, []).extend(m.body["samples"])
        t += int(step_s * 1000)
    async with aiomqtt.Client("127.0.0.1", run.broker_port) as c:
        for device, samples in per.items():
            for k in range(0, len(samples), 60):
                body = {"v": 1, "device": device, "seq": k + 1, "samples": samples[k:k + 60]}
                await c.publish(f"{run.root}/devices/{device}/obs", orjson.dumps(body), qos=1)


@contextlib.asynccontextmanager
async def live_feed(run: Running, wards: list[SimulatedWard], hz: float = 1.0) -> AsyncIterator[None]:
    """Publish every simulated device at ``hz`` (and its status) until the block exits."""
    seq: dict[str, int] = {}
    stop = asyncio.Event()

    async def loop() -> None:
        async with aiomqtt.Client("127.0.0.1", run.broker_port) as c:
            for w in wards:
                for b in w.beds:
                    st = {"online": True, "battery": round(b.battery)}
                    await c.publish(f"{run.root}/devices/{b.device}/status", orjson.dumps(st), qos=1, retain=True)
            last = time.monotonic()
            while not stop.is_set():
                now = time.monotonic()
                t_ms = int(time.time() * 1000)
                for w in wards:
                    tick = w.tick(t_ms, now - last)
                    for m in tick.messages:
                        seq[m.device] = seq.get(m.device, 1000) + 1
                        await c.publish(m.topic, orjson.dumps({**m.body, "seq": seq[m.device]}), qos=m.qos)
                    for device, fields in tick.status:
                        body = {"online": True, **fields}
                        await c.publish(f"{run.root}/devices/{device}/status", orjson.dumps(body), qos=1, retain=True)
                last = now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1 / hz)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        # Stop by a flag, not only by cancelling: on Python 3.11 ``asyncio.wait_for`` (inside every
        # aiomqtt publish) can swallow a cancellation that races its result, and a ``while True`` loop
        # then publishes forever (a browser test once hung 300 s here).
        stop.set()
        done, _ = await asyncio.wait([task], timeout=15)
        if done:
            task.result()  # a feed that failed (e.g. lost its broker) fails the test
        else:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def make_ward(root: str, ward: str = "w1", beds: int = 32, scenario: str = "mixed", waves: int = 0,
              seed: int = 3) -> SimulatedWard:
    return SimulatedWard(WardOptions(beds=beds, ward=ward, scenario=scenario, seed=seed, root=root, waves=waves))


async def _main() -> None:  # pragma: no cover - manual look
    import os
    import tempfile
    from pathlib import Path

    from devservers import Mosquitto
    from tests.integration.dashboard.conftest import PASSWORD, running_platform

    os.environ.setdefault("SMARTWARD_ENVIRONMENT", "development")  # a look/screenshot run: throw-away keys
    os.environ.setdefault("SMARTWARD_SECRET_KEY", secrets.token_urlsafe(32))
    m = Mosquitto().start()
    tmp = Path(tempfile.mkdtemp())
    root = "look/smartward/v1"
    try:
        async with running_platform(m.url, m.port, f"sqlite:///{tmp}/v.sqlite3", root, tmp) as run:
            run.add_user("nina", "charge_nurse", ("w1", "home"))
            run.add_user("pat", "patient", patient="p-home-1")
            admit_ward(run, "w1", 32)
            admit_home(run, ["p-home-1", "p-home-2", "p-home-3"])
            await notify_adt(run)
            w = make_ward(root, waves=2)
            await backfill(run, w, 30)
            print(f"{run.base}  nina / pat : {PASSWORD}", flush=True)
            async with live_feed(run, [w]):
                await asyncio.sleep(float(os.environ.get("SCENE_SECONDS", "3600")))
    finally:
        m.close()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_main())
