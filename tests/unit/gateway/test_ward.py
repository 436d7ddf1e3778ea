"""The simulated ward: deterministic with a seed, valid canonical payloads, scenarios do what they say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from device_profiles import decode_observation, decode_waveform
from gateway_agent import ScenarioError, SimulatedWard, WardOptions
from gateway_agent.physionet import read_psv

T0 = 1_763_805_600_000


def run(opts: WardOptions, seconds: int, rate: float = 1.0) -> list[tuple[int, Any]]:
    """Tick the ward; return (t, tick) per tick."""
    ward = SimulatedWard(opts)
    out = []
    for k in range(int(seconds * rate)):
        t = T0 + round(k * 1000 / rate)
        out.append((t, ward.tick(t, 1 / rate)))
    return out


def samples(ticks: list[tuple[int, Any]], device: str) -> list[dict[str, Any]]:
    res = []
    for t, tick in ticks:
        for m in tick.messages:
            if m.device == device and m.kind == "obs":
                payload = orjson.dumps({**m.body, "seq": 0})
                obs = decode_observation(payload, device, now=t)  # the ingest's own validation
                res.append({"t": obs.samples[0].t, **obs.samples[0].values, "q": obs.samples[0].quality})
    return res


def test_same_seed_same_data_other_seed_differs() -> None:
    opts = WardOptions(beds=4, scenario="mixed", seed=7, waves=1)
    a = [[m.body for m in tick.messages] for _, tick in run(opts, 30)]
    b = [[m.body for m in tick.messages] for _, tick in run(opts, 30)]
    c = [[m.body for m in tick.messages] for _, tick in run(WardOptions(beds=4, scenario="mixed", seed=8), 30)]
    assert a == b
    assert a != c


def test_stable_ward_is_plausible_and_valid() -> None:
    ticks = run(WardOptions(beds=6, scenario="stable", seed=1, nibp_interval_s=60), 600)
    for bed in range(1, 7):
        s = samples(ticks, f"sim-w1-{bed:02d}")
        assert len(s) == 600
        hr = [x["heart_rate"] for x in s]
        assert min(hr) > 45 and max(hr) < 115
        assert all(abs(x["heart_rate"] - x["pulse_rate"]) <= 4 for x in s)
        assert all(90 <= x["spo2"] <= 100 or x["q"].get("spo2") == "artifact" for x in s)
        assert all(8 <= x["resp_rate"] <= 24 for x in s)
        bp = [x for x in s if "nibp_sys" in x]
        assert 9 <= len(bp) <= 11  # every 60 s
        assert all(x["nibp_dia"] < x["nibp_mean"] < x["nibp_sys"] for x in bp)
        temps = [x["temperature"] for x in s if "temperature" in x]
        assert max(temps) - min(temps) < 1.0 and 20 <= len(temps) <= 21


def window(s: list[dict[str, Any]], key: str, start: int, end: int) -> float:
    vals = [x[key] for x in s[start:end] if key in x]
    return sum(vals) / len(vals)


def test_sepsis_raises_hr_rr_temp_and_lowers_bp_over_time() -> None:
    # speed 10: the 30-minute onset is compressed into 3 minutes of samples
    s = samples(run(WardOptions(beds=1, scenario="sepsis", seed=3, speed=10, nibp_interval_s=60), 300), "sim-w1-01")
    early, late = (0, 6), (240, 300)
    assert window(s, "heart_rate", *late) - window(s, "heart_rate", *early) > 25
    assert window(s, "resp_rate", *late) - window(s, "resp_rate", *early) > 7
    assert window(s, "temperature", *late) - window(s, "temperature", *early) > 1.5
    assert window(s, "nibp_sys", 0, 12) - window(s, "nibp_sys", *late) > 25
    assert window(s, "perfusion_index", *late) < 0.6 * window(s, "perfusion_index", *early)


def test_desaturation_and_bradycardia_episodes() -> None:
    ticks = run(WardOptions(beds=1, scenario="desaturation", seed=2), 420)
    s = samples(ticks, "sim-w1-01")
    assert window(s, "spo2", 0, 50) >= 94 and window(s, "spo2", 200, 400) <= 86
    assert window(s, "resp_rate", 200, 400) > window(s, "resp_rate", 0, 50) + 3
    s = samples(run(WardOptions(beds=1, scenario="bradycardia", seed=2), 300), "sim-w1-01")
    assert window(s, "heart_rate", 0, 50) > 55 and window(s, "heart_rate", 150, 300) < 45
    assert all(abs(x["heart_rate"] - x["pulse_rate"]) <= 4 for x in s)


def test_sensor_off_spo2_probe_then_ecg_leads() -> None:
    s = samples(run(WardOptions(beds=1, scenario="sensor-off", seed=4, waves=1), 400), "sim-w1-01")
    probe = s[100]  # 60..180 s: probe off
    assert probe["spo2"] == 0 and probe["q"]["spo2"] == "invalid"
    assert "pulse_rate" not in probe and "perfusion_index" not in probe and "heart_rate" in probe
    leads = s[250]  # 240..360 s: leads off
    assert "heart_rate" not in leads and leads["q"] == {"heart_rate": "invalid"} and leads["pulse_rate"] > 40
    assert "heart_rate" in s[380] and s[380]["spo2"] > 80


def test_sensor_off_stops_the_matching_waveform() -> None:
    ticks = run(WardOptions(beds=1, scenario="sensor-off", seed=4, waves=1), 300)
    def signals(k: int) -> set[str]:
        t, tick = ticks[k]
        out = set()
        for m in tick.messages:
            if m.kind == "wave":
                chunk = decode_waveform(orjson.dumps({**m.body, "seq": 1}), "sim-w1-01", now=t)
                assert len(chunk.samples) == {"ecg_ii": 250, "pleth": 125}[chunk.signal]
                out.add(chunk.signal)
        return out
    assert signals(10) == {"ecg_ii", "pleth"}
    assert signals(100) == {"ecg_ii"}
    assert signals(250) == {"pleth"}


def test_device_offline_stops_and_returns_with_status() -> None:
    ticks = run(WardOptions(beds=1, scenario="device-offline", seed=5), 300)
    sent = [any(m.kind == "obs" for m in tick.messages) for _, tick in ticks]
    assert all(sent[:59]) and not any(sent[61:239]) and all(sent[242:])
    status = [(k, f) for k, (_, tick) in enumerate(ticks) for _d, f in tick.status if "online" in f]
    assert [f["online"] for _, f in status] == [False, True]


def test_mixed_ward_mostly_stable() -> None:
    ward = SimulatedWard(WardOptions(beds=24, scenario="mixed"))
    names = [b.scenario_name for b in ward.beds]
    assert names.count("stable") == 16
    assert {"sepsis", "desaturation", "bradycardia", "sensor-off", "device-offline"} <= set(names)
    assert ward.devices[0] == "sim-w1-01" and ward.devices[23] == "sim-w1-24"


def test_bad_options_are_refused() -> None:
    with pytest.raises(ScenarioError, match="unknown scenario 'septic'"):
        SimulatedWard(WardOptions(scenario="septic"))
    with pytest.raises(ScenarioError, match="bad id"):
        SimulatedWard(WardOptions(device_pattern="bed {bed}"))


def test_replay_follows_the_physionet_recording(testdata: Path) -> None:
    path = testdata / "physionet2019" / "p000011.psv"
    rec = read_psv(path)
    assert rec.sepsis_hour == 24  # row 24 = ICULOS 26 (the file starts at ICULOS 2), as the data README says
    # one recorded hour per scenario minute; speed 60 -> one recorded hour per wall second
    s = samples(run(WardOptions(beds=1, scenario=f"replay:{path}", seed=1, speed=60), 30), "sim-w1-01")
    for hour in (5, 20, 28):
        hr = window(s, "heart_rate", hour - 1, hour + 2)
        assert abs(hr - rec.at(hour).hr) < 12, (hour, hr, rec.at(hour).hr)


def test_replay_of_a_mimic_wfdb_numerics_record(testdata: Path) -> None:
    from gateway_agent.physionet import read_recording

    path = testdata / "wfdb" / "s25047-2704-05-04-10-44n.hea"
    rec = read_recording(path)
    assert len(rec.hours) == 72  # 72 per-minute rows
    assert rec.hours[0].spo2 > 90  # the leading SpO2 dropouts (0) were filled, not replayed as values
    s = samples(run(WardOptions(beds=1, scenario=f"replay:{path}", seed=1, speed=60), 60), "sim-w1-01")
    for minute in (10, 31, 50):
        hr = window(s, "heart_rate", minute - 1, minute + 2)
        assert abs(hr - rec.at(minute).hr) < 12, (minute, hr, rec.at(minute).hr)
