"""A few hours of simulated history for the demo's beds, so the 1/8/24 h trends show data on the first
start instead of "no data".

Each bed's history is its simulated patient at baseline (the same seeded baseline the live simulator
uses, no scenario effect: the scripted deterioration starts when the demo does), one sample a minute
(HR, pulse rate, SpO2, RR), NIBP every 15 minutes and temperature every hour, written to the embedded
store with the bed's attribution exactly as ingest would store it (raw rows plus the 1-minute
downsample). It goes straight to the store, not through alerting: history raises no alarm. Written only
when the store holds nothing for the bed's device in that window (a restarted demo keeps its data).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from device_profiles.canonical import AttributedObservation, Attribution, Observation, Sample
from gateway_agent.physiology import Effect, Patient
from ingest.records import Batch
from ingest.stores import VitalsStore
from ingest.writer import backfill_ranges

STEP_S = 60
NIBP_EVERY_S = 15 * 60
TEMP_EVERY_S = 3600
BATCH_SAMPLES = 2_000


@dataclass(frozen=True, slots=True)
class HistoryBed:
    device: str
    ward: str
    bed: str
    patient: str
    baseline_of: Patient  # the live simulator's patient: its baseline is reused, its state untouched


def samples(p: Patient, start_ms: int, end_ms: int, rng: random.Random) -> list[Sample]:
    """One sample per minute from ``start_ms`` (inclusive) to ``end_ms`` (exclusive) of patient ``p``
    at baseline (``p`` advances)."""
    out: list[Sample] = []
    calm = Effect()
    for i, t in enumerate(range(start_ms, end_ms, STEP_S * 1000)):
        v = p.step(STEP_S, calm)
        values = {"heart_rate": float(round(v.hr)), "pulse_rate": float(round(v.pulse)),
                  "spo2": float(min(100, round(v.spo2))), "resp_rate": float(round(v.rr))}
        if i * STEP_S % NIBP_EVERY_S == 0:
            sys_, dia = round(v.sbp + rng.gauss(0, 2)), round(v.dbp + rng.gauss(0, 2))
            values.update(nibp_sys=float(sys_), nibp_dia=float(dia), nibp_mean=float(round(dia + (sys_ - dia) / 3)))
        if i * STEP_S % TEMP_EVERY_S == 0:
            values["temperature"] = round(v.temp, 1)
        out.append(Sample(t, values))
    return out


async def backfill(store: VitalsStore, beds: Iterable[HistoryBed], now_ms: int, hours: float, seed: int = 0) -> int:
    """Write ``hours`` of history ending at ``now_ms`` for each bed whose device has no data in that
    window; returns the samples written."""
    start = (now_ms - int(hours * 3_600_000)) // 60_000 * 60_000
    written = 0
    for b in beds:
        if await store.query_vitals(device=b.device, from_ms=start, to_ms=now_ms, limit=1):
            continue
        rng = random.Random(f"{seed}:{b.device}:history")
        p = Patient(b.baseline_of.base, rng)
        todo = samples(p, start, now_ms - 60_000, rng)
        for seq, i in enumerate(range(0, len(todo), BATCH_SAMPLES), 1):
            batch = Batch()
            batch.add_obs(AttributedObservation(Observation(b.device, seq, todo[i:i + BATCH_SAMPLES]),
                                                Attribution(b.ward, b.bed, b.patient)))
            await store.write(store.encode(batch))
        written += len(todo)
        await backfill_ranges(store, {b.device: (start, now_ms)})  # older than the downsample's own window
    return written
