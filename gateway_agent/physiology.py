"""A patient's vital signs as coupled stochastic processes (deterministic for a given ``random.Random``).

Each signal is its baseline plus a scenario offset plus an Ornstein-Uhlenbeck deviation (mean
reverting noise with a realistic time constant), and the couplings clinicians expect:
- heart rate rises ~8.5 /min per °C of fever (Liebermeister's rule) and with falling blood pressure
  (baroreflex, ~0.3 /min per mmHg systolic);
- respiratory sinus arrhythmia: HR swings ±1.5 /min with each breath;
- breathing rate rises as SpO2 falls (hypoxic drive);
- perfusion index falls with vasoconstriction (low systolic pressure, fever);
- pulse rate (oximeter) follows the ECG heart rate within ±1 /min;
- NIBP mean = diastolic + (systolic - diastolic) / 3.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class Baseline:
    hr: float = 75.0
    sbp: float = 120.0
    dbp: float = 75.0
    rr: float = 15.0
    spo2: float = 97.5
    temp: float = 36.8
    pi: float = 3.0

    @classmethod
    def random(cls, rng: random.Random) -> Baseline:
        """An adult ward patient: values drawn around normal ranges."""
        sbp = min(150.0, max(100.0, rng.gauss(122, 10)))
        return cls(hr=min(95.0, max(58.0, rng.gauss(76, 8))), sbp=sbp, dbp=min(92.0, max(58.0, sbp * 0.62 + rng.gauss(0, 4))),
                   rr=min(19.0, max(11.0, rng.gauss(15, 2))), spo2=min(99.5, max(95.0, rng.gauss(97.3, 1.0))),
                   temp=min(37.4, max(36.3, rng.gauss(36.8, 0.25))), pi=min(8.0, max(0.8, rng.lognormvariate(1.0, 0.4))))


@dataclass(frozen=True, slots=True)
class Effect:
    """A scenario's offsets at one instant (added to the baseline), and sensor/device conditions."""

    hr: float = 0.0
    sbp: float = 0.0
    dbp: float = 0.0
    rr: float = 0.0
    spo2: float = 0.0
    temp: float = 0.0
    pi_factor: float = 1.0
    hr_pull: float = 0.0  # 0..1: how far heart rate is pulled to ``hr_target`` (bradycardia)
    hr_target: float = 0.0
    spo2_probe_off: bool = False
    leads_off: bool = False
    offline: bool = False
    base: Baseline | None = None  # replaces the patient's baseline (replay of a recording)


@dataclass(slots=True)
class _OU:
    """Ornstein-Uhlenbeck deviation: mean 0, stationary s.d. ``sd``, time constant ``tau`` seconds."""

    sd: float
    tau: float
    x: float = 0.0

    def step(self, dt: float, rng: random.Random) -> float:
        a = math.exp(-dt / self.tau)
        self.x = self.x * a + self.sd * math.sqrt(1 - a * a) * rng.gauss(0, 1)
        return self.x


@dataclass(slots=True)
class Vitals:
    """True (continuous) values at one instant; rounding to what a monitor displays is done by the caller."""

    hr: float
    pulse: float
    spo2: float
    rr: float
    sbp: float
    dbp: float
    temp: float
    pi: float

    @property
    def mean_bp(self) -> float:
        return self.dbp + (self.sbp - self.dbp) / 3


@dataclass
class Patient:
    base: Baseline
    rng: random.Random
    t: float = 0.0
    _noise: dict[str, _OU] = field(default_factory=lambda: {
        "hr": _OU(2.5, 60), "bp": _OU(4.0, 300), "rr": _OU(1.0, 90), "spo2": _OU(0.6, 30),
        "temp": _OU(0.08, 1800), "pi": _OU(0.12, 120), "pulse": _OU(0.5, 5),
    })

    def step(self, dt: float, eff: Effect) -> Vitals:
        """Advance ``dt`` seconds (scenario time) under ``eff``; return the true values."""
        self.t += dt
        n = {k: ou.step(dt, self.rng) for k, ou in self._noise.items()}
        b = eff.base or self.base
        temp = b.temp + eff.temp + n["temp"]
        sbp = b.sbp + eff.sbp + n["bp"]
        dbp = b.dbp + eff.dbp + 0.6 * n["bp"]
        spo2 = min(100.0, b.spo2 + eff.spo2 + n["spo2"])
        rr = b.rr + eff.rr + n["rr"] + 0.4 * max(0.0, 94.0 - spo2)
        rsa = 1.5 * math.sin(2 * math.pi * self.t * rr / 60.0)
        hr = b.hr + eff.hr + 8.5 * max(0.0, temp - b.temp) + 0.3 * max(0.0, b.sbp - sbp) + n["hr"] + rsa
        hr = hr + eff.hr_pull * (eff.hr_target + 0.3 * n["hr"] - hr)
        vaso = math.exp(min(0.0, sbp - b.sbp) / 40.0) * math.exp(-0.25 * max(0.0, temp - 37.5))
        pi = max(0.02, (b.pi * eff.pi_factor * vaso) * math.exp(n["pi"]))
        return Vitals(hr=max(20.0, hr), pulse=max(20.0, hr + n["pulse"]), spo2=max(50.0, spo2), rr=max(4.0, rr),
                      sbp=max(50.0, sbp), dbp=max(25.0, min(dbp, sbp - 15)), temp=temp, pi=pi)

    def with_base(self, base: Baseline) -> Patient:
        return replace(self, base=base)
