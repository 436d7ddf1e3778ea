"""Scripted bedside scenarios: a scenario maps scenario time (seconds) to an :class:`Effect`.

Times are scenario seconds; the simulator's ``speed`` compresses them (``speed=10``: a 30-minute
sepsis onset takes 3 wall-clock minutes). Episodic scenarios repeat every ``period`` seconds so a
long demo keeps showing them.

| name | what happens |
|---|---|
| ``stable`` | baseline with physiological noise |
| ``sepsis`` | from 60 s, over 30 min: temp +2.0 °C, HR up (fever + baroreflex + 18), RR +10, SBP -35, DBP -22, SpO2 -3, PI x0.4 |
| ``desaturation`` | episodes: SpO2 -14 over 2 min, held 5 min, recovers over 2 min; RR +6, HR +12; every 15 min |
| ``bradycardia`` | episodes: HR falls to 38 /min over 1 min, held 5 min; SBP -15, PI x0.7; every 15 min |
| ``sensor-off`` | SpO2 probe off 2 min (SpO2 0 with quality invalid, no pulse rate / PI / pleth), then ECG leads off 2 min (no HR, quality invalid; pulse rate still valid); every 10 min |
| ``device-offline`` | stops publishing for 3 min (status ``online: false``), then comes back; every 15 min |
| ``replay[:FILE]`` | a recording with noise: PhysioNet 2019 ICU patient ``.psv`` (default p000011, sepsis label from hour 26), one recorded hour per scenario minute; or a WFDB numerics record (``.hea``, e.g. MIMIC-III), one recorded minute per minute |
| ``mixed`` (ward only) | most beds stable; beds 2, 5, 8, 11, 14, 17, 20, … cycle through the scripted scenarios |
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .errors import ScenarioError
from .physiology import Effect
from .physionet import Recording, read_recording

Scenario = Callable[[float], Effect]
NAMES = ("stable", "sepsis", "desaturation", "bradycardia", "sensor-off", "device-offline", "replay")
MIXED_SCRIPT = ("sepsis", "desaturation", "bradycardia", "sensor-off", "device-offline", "replay")
DEFAULT_RECORDING = "physionet2019/p000011.psv"
REPLAY_HOUR_S = 60.0


def smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


def ramp(t: float, start: float, duration: float) -> float:
    """0 before ``start``, 1 after ``start + duration``, smooth in between."""
    return smoothstep((t - start) / duration) if duration > 0 else float(t >= start)


def episode(t: float, start: float, up: float, hold: float, down: float, period: float) -> float:
    """0..1 envelope of a repeating episode (rise ``up``, plateau ``hold``, fall ``down``)."""
    if t < start:
        return 0.0
    u = (t - start) % period
    if u < up:
        return smoothstep(u / up)
    if u < up + hold:
        return 1.0
    return 1.0 - smoothstep((u - up - hold) / down) if down > 0 else 0.0


def stable(t: float) -> Effect:
    return Effect()


def sepsis(t: float, start: float = 60.0, duration: float = 1800.0) -> Effect:
    k = ramp(t, start, duration)
    return Effect(hr=18 * k, rr=10 * k, temp=2.0 * k, sbp=-35 * k, dbp=-22 * k, spo2=-3 * k, pi_factor=1 - 0.6 * k)


def desaturation(t: float) -> Effect:
    k = episode(t, 60, 120, 300, 120, 900)
    return Effect(spo2=-14 * k, rr=6 * k, hr=12 * k)


def bradycardia(t: float, target_hr: float = 38.0) -> Effect:
    k = episode(t, 60, 60, 300, 60, 900)
    return Effect(hr_pull=k, hr_target=target_hr, sbp=-15 * k, dbp=-8 * k, pi_factor=1 - 0.3 * k)


def sensor_off(t: float) -> Effect:
    u = (t - 60) % 600 if t >= 60 else -1
    return Effect(spo2_probe_off=0 <= u < 120, leads_off=180 <= u < 300)


def device_offline(t: float) -> Effect:
    u = (t - 60) % 900 if t >= 60 else -1
    return Effect(offline=0 <= u < 180)


def find_recording(spec: str = "") -> Path:
    """``FILE`` or the default recording in the shared test data (SMARTWARD_TESTDATA or ../shared/testdata)."""
    if spec:
        return Path(spec)
    roots = [os.environ.get("SMARTWARD_TESTDATA", ""), str(Path.cwd().parent / "shared" / "testdata"),
             str(Path(__file__).resolve().parents[2] / "shared" / "testdata")]
    for r in roots:
        if r and (Path(r) / DEFAULT_RECORDING).is_file():
            return Path(r) / DEFAULT_RECORDING
    raise ScenarioError(f"replay: no FILE given and {DEFAULT_RECORDING} not found under SMARTWARD_TESTDATA or "
                        "../shared/testdata; use replay:PATH/TO/pNNNNNN.psv")


def replay(rec: Recording, hour_s: float = REPLAY_HOUR_S) -> Scenario:
    def effect(t: float) -> Effect:
        return Effect(base=rec.at(t / hour_s))
    return effect


def get(name: str) -> Scenario:
    """The scenario called ``name`` (``replay:FILE`` for a given recording)."""
    base, _, arg = name.partition(":")
    table: dict[str, Scenario] = {"stable": stable, "sepsis": sepsis, "desaturation": desaturation,
                                  "bradycardia": bradycardia, "sensor-off": sensor_off,
                                  "device-offline": device_offline}
    if base == "replay":
        return replay(read_recording(find_recording(arg)))
    if base not in table or arg:
        raise ScenarioError(f"unknown scenario {name!r}; known: {', '.join(NAMES)}, mixed, replay:FILE")
    return table[base]


def replay_available() -> bool:
    try:
        find_recording()
    except ScenarioError:
        return False
    return True


def ward_plan(scenario: str, beds: int) -> list[str]:
    """Scenario name per bed (index 0 = bed 01). ``mixed``: most stable, every third bed from bed 02 scripted."""
    if scenario != "mixed":
        get(scenario)  # validate early
        return [scenario] * beds
    script = [s for s in MIXED_SCRIPT if s != "replay" or replay_available()]
    plan = ["stable"] * beds
    for k, i in enumerate(range(1, beds, 3)):
        plan[i] = script[k % len(script)]
    return plan
