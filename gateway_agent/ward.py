"""A simulated ward: N bedside monitors, each a patient + scenario, producing canonical messages.

Pure and deterministic: :meth:`SimulatedWard.tick` takes the sample time and returns the messages to store
(and status changes); the same ``seed`` gives the same values. No I/O here (see ``simulator.py``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from device_profiles import check_id, topics
from device_profiles.errors import PayloadError

from .errors import ScenarioError
from .outbox import Message
from .physiology import Baseline, Patient, Vitals
from .scenarios import Scenario, get, ward_plan
from .waveforms import ECG_FS, PLETH_FS, WaveState, ecg_chunk, pleth_chunk


@dataclass(frozen=True, slots=True)
class WardOptions:
    beds: int = 8
    ward: str = "w1"
    scenario: str = "stable"  # a scenario name, or "mixed"
    seed: int = 0
    device_pattern: str = "sim-{ward}-{bed:02d}"
    root: str = topics.ROOT
    speed: float = 1.0  # scenario seconds per wall-clock second
    waves: int = 0  # the first N beds also send ecg_ii + pleth chunks
    nibp_interval_s: float = 300.0  # scenario seconds between cuff measurements
    temp_interval_s: float = 30.0
    artifact_rate: float = 0.002  # per sample: SpO2 motion artefact


@dataclass
class SimulatedBed:
    bed: str
    device: str
    scenario_name: str
    scenario: Scenario
    patient: Patient
    rng: random.Random
    battery: float
    online: bool = True
    next_nibp: float = 0.0
    next_temp: float = 0.0
    nibp: dict[str, float] = field(default_factory=dict)
    ecg: WaveState = field(default_factory=WaveState)
    pleth: WaveState = field(default_factory=WaveState)


@dataclass(frozen=True, slots=True)
class Tick:
    messages: list[Message]
    status: list[tuple[str, dict[str, Any]]]  # (device, fields) changes
    samples: int


class SimulatedWard:
    def __init__(self, options: WardOptions) -> None:
        if options.beds < 1:
            raise ScenarioError("beds must be at least 1")
        if options.speed <= 0:
            raise ScenarioError("speed must be positive")
        self.options = options
        plan = ward_plan(options.scenario, options.beds)
        self.beds: list[SimulatedBed] = []
        for i, name in enumerate(plan):
            rng = random.Random(f"{options.seed}:{i}")
            bed = f"{i + 1:02d}"
            device = options.device_pattern.format(ward=options.ward, bed=i + 1, index=i)
            try:
                check_id(device, "device")
            except PayloadError as exc:
                raise ScenarioError(f"device pattern {options.device_pattern!r} gives a bad id: {exc}") from exc
            self.beds.append(SimulatedBed(bed, device, name, get(name), Patient(Baseline.random(rng), rng), rng,
                                 battery=rng.uniform(60, 100), next_nibp=rng.uniform(0, 30)))
        self.elapsed = 0.0  # scenario seconds

    @property
    def devices(self) -> list[str]:
        return [b.device for b in self.beds]

    def tick(self, t_ms: int, dt_s: float) -> Tick:
        """One sample per online bed at ``t_ms``; ``dt_s`` wall seconds since the last tick."""
        dts = dt_s * self.options.speed
        self.elapsed += dts
        msgs: list[Message] = []
        status: list[tuple[str, dict[str, Any]]] = []
        samples = 0
        for b in self.beds:
            eff = b.scenario(self.elapsed)
            v = b.patient.step(dts, eff)
            old = round(b.battery)
            b.battery = max(5.0, b.battery - dts * 0.05 / 60)
            if eff.offline == b.online:
                b.online = not eff.offline
                status.append((b.device, {"online": b.online, "battery": round(b.battery)}))
            elif round(b.battery) != old:
                status.append((b.device, {"battery": round(b.battery)}))
            if not b.online:
                continue
            sample = self._sample(b, v, eff.spo2_probe_off, eff.leads_off, t_ms)
            msgs.append(Message(b.device, "obs", topics.device_obs(b.device, self.options.root),
                                {"v": 1, "device": b.device, "samples": [sample]}))
            samples += 1
            if self.beds.index(b) < self.options.waves:
                msgs.extend(self._waves(b, v, eff.spo2_probe_off, eff.leads_off, t_ms, dt_s))
        return Tick(msgs, status, samples)

    def _sample(self, b: SimulatedBed, v: Vitals, probe_off: bool, leads_off: bool, t_ms: int) -> dict[str, Any]:
        s: dict[str, Any] = {"t": t_ms}
        q: dict[str, str] = {}
        if leads_off:
            q["heart_rate"] = "invalid"
        else:
            s["heart_rate"] = round(v.hr)
        if probe_off:
            s["spo2"] = 0
            q["spo2"] = "invalid"
        else:
            s["spo2"] = min(100, round(v.spo2))
            s["pulse_rate"] = round(v.pulse)
            s["perfusion_index"] = round(v.pi, 2)
            if b.rng.random() < self.options.artifact_rate:
                s["spo2"] = max(0, s["spo2"] - b.rng.randint(5, 20))
                q["spo2"] = "artifact"
        s["resp_rate"] = round(v.rr)
        if self.elapsed >= b.next_temp:
            b.next_temp = self.elapsed + self.options.temp_interval_s
            s["temperature"] = round(v.temp, 1)
        if self.elapsed >= b.next_nibp:
            b.next_nibp = self.elapsed + self.options.nibp_interval_s
            sys_, dia = round(v.sbp + b.rng.gauss(0, 2)), round(v.dbp + b.rng.gauss(0, 2))
            s.update(nibp_sys=sys_, nibp_dia=dia, nibp_mean=round(dia + (sys_ - dia) / 3))
        if q:
            s["q"] = q
        return s

    def _waves(self, b: SimulatedBed, v: Vitals, probe_off: bool, leads_off: bool, t_ms: int, dt_s: float) -> list[Message]:
        out = []
        secs = max(dt_s, 0.04)
        t0 = t_ms - round(secs * 1000)  # the chunk covers the interval that ends at this sample
        topic = topics.device_wave(b.device, self.options.root)
        if not leads_off:
            data = ecg_chunk(b.ecg, v.hr, b.rng, secs)
            out.append(Message(b.device, "wave", topic, {"v": 1, "device": b.device, "signal": "ecg_ii", "fs": ECG_FS,
                                                         "t0": t0, "samples": data}))
        if not probe_off:
            data = pleth_chunk(b.pleth, v.pulse, v.pi, b.rng, secs)
            out.append(Message(b.device, "wave", topic, {"v": 1, "device": b.device, "signal": "pleth",
                                                         "fs": PLETH_FS, "t0": t0, "samples": data}))
        return out
