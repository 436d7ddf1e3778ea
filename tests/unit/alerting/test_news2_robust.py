"""NEWS2 from robust windows, not from one sample (issue 11): per-minute monitor numerics.

A streamed signal counts as the median of its valid samples in the last ``news2.window_s`` (default
5 min, at least ``min_samples`` 3); an NIBP cycle or a charted value counts alone. Each test builds a
once-a-minute stream like a monitor's numerics export; the control runs score every sample (a 1 s
window of one sample, no delay) to show the stream would have alarmed without the window.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from alerting import Engine, load_config, parse_spot, read_recording
from alerting.replay import Replayer

from .conftest import T0, WHO, Feed, make_engine

MIN = 60
NORMAL = {"resp_rate": 16.0, "spo2": 97.0, "heart_rate": 75.0, "pulse_rate": 74.0}
EVERY_SAMPLE = {"window_s": 1, "min_samples": 1, "delay_s": 0}  # the control: each sample is an observation
WFDB = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "wfdb" / "s25047-2704-05-04-10-44n"


def _engine(**news2: Any) -> Feed:
    f = Feed(make_engine(news2={"enabled": True, **news2}))
    f.engine.spot(parse_spot({"patient": "p1", "ward": "w1", "bed": "07", "t": T0, "by": "rn", "consciousness": "A",
                              "supplemental_o2": False}))
    return f


def _stream(f: Feed, minutes: range, special: dict[int, dict[str, float]] | None = None,
            quality: dict[int, dict[str, str]] | None = None, seed: int = 7, **level: float) -> None:
    """Once-a-minute numerics with a little noise; NIBP every 15 min and temperature hourly (intermittent);
    ``special`` replaces the values of single minutes, ``level`` the normal level."""
    rng = random.Random(seed)
    for m in minutes:
        v = {k: round(x + rng.uniform(-1.5, 1.5), 1) for k, x in {**NORMAL, **level}.items()}
        v["spo2"] = min(100.0, v["spo2"])
        if m % 15 == 0:
            v["nibp_sys"] = round(125 + rng.uniform(-5, 5))
        if m % 60 == 0:
            v["temperature"] = 37.0
        v.update((special or {}).get(m, {}))
        f.events += f.engine.observe_sample(WHO, "mon-1", T0 + m * MIN * 1000, v, (quality or {}).get(m))
        f.tick(m * MIN + 30)


def _news2(f: Feed) -> list[tuple[float, str, str]]:
    return [((e.t - T0) / 60_000, e.event, e.priority) for e in f.events if e.kind == "news2"]


@pytest.mark.parametrize("delay_s", [60, 0])
def test_one_outlying_minute_of_rr_8_among_9_to_12_raises_no_news2_alarm(delay_s: float) -> None:
    special = {60: {"resp_rate": 8.1}}
    f = _engine(delay_s=delay_s)
    _stream(f, range(0, 120), special, resp_rate=10.5)  # RR 9-12: NEWS2 0-1
    assert _news2(f) == []
    p = f.engine.patients["p1"]
    assert p.news2 is not None and p.news2.complete and p.news2.total <= 1
    control = _engine(**EVERY_SAMPLE)
    _stream(control, range(0, 120), special, resp_rate=10.5)
    assert next(e for e in _news2(control) if e[1] == "raised")[:2] == (60.0, "raised")  # RR 8 scores 3


def test_a_probe_off_minute_never_reaches_news2() -> None:
    special = {60: {"heart_rate": 11.5, "resp_rate": 0.0, "spo2": 0.0, "pulse_rate": 0.0}}  # a partial minute
    f = _engine(delay_s=0)
    _stream(f, range(0, 59))
    before = f.engine.patients["p1"].news2
    _stream(f, range(59, 120), special)
    assert _news2(f) == [] and [e for e in f.raised() if e.kind != "technical"] == []
    after = f.engine.patients["p1"].news2
    assert before is not None and after is not None and after.scores == before.scores
    control = _engine(**EVERY_SAMPLE)
    _stream(control, range(0, 120), special)
    assert [e for e in _news2(control) if e[1] == "raised"] == [(60.0, "raised", "medium")]  # HR 11.5, RR 0: 3 + 3


def test_a_sustained_deterioration_from_minute_90_alarms_within_15_minutes() -> None:
    f = _engine()
    _stream(f, range(0, 90))
    assert _news2(f) == []
    _stream(f, range(90, 130), resp_rate=27, spo2=91, heart_rate=118, pulse_rate=117)
    raised = [e for e in _news2(f) if e[1] == "raised"]
    assert raised and raised[0][2] in ("medium", "high") and 90 <= raised[0][0] <= 105, raised
    assert raised[0][2] == "high"  # RR 3 + SpO2 3 + HR 2 = 8


def test_a_steady_once_a_minute_stream_raises_no_alarm_in_3_hours() -> None:
    f = _engine()
    _stream(f, range(0, 180))
    assert _news2(f) == []
    assert [(e.kind, e.signal, e.reason) for e in f.raised()] == []


def test_values_flagged_invalid_never_enter_the_score() -> None:
    minutes = {m: {"resp_rate": 30.0} for m in range(60, 70)}
    invalid = {m: {"resp_rate": "invalid"} for m in minutes}
    f = _engine(delay_s=0)
    _stream(f, range(0, 80), minutes, invalid)
    assert _news2(f) == []
    assert f.engine.patients["p1"].news2.scores["resp_rate"] == 0  # type: ignore[union-attr]
    valid = _engine(delay_s=0)
    _stream(valid, range(0, 80), minutes)  # ten minutes of RR 30, valid: that is a deterioration
    assert next(e for e in _news2(valid) if e[1] == "raised")[0] == 62  # the third minute makes the majority


def test_ecg_lead_off_heart_rate_falls_back_to_the_pulse_and_its_rr_0_is_not_scored() -> None:
    lead_off = {m: {"heart_rate": 0.0, "resp_rate": 0.0} for m in range(60, 75)}
    f = _engine(delay_s=0)
    _stream(f, range(0, 80), lead_off)
    assert _news2(f) == []
    f2 = _engine(delay_s=0)
    _stream(f2, range(0, 70), lead_off)
    r = f2.engine.patients["p1"].news2
    assert r is not None and "heart_rate" in r.scores and r.scores["heart_rate"] == 0  # from the pulse rate
    assert "resp_rate" in r.missing  # RR 0 during lead-off is not apnoea: no fresh valid RR, not scored 3


def test_an_nibp_cycle_counts_alone() -> None:
    f = _engine(delay_s=0)
    _stream(f, range(0, 31), {15: {"nibp_sys": 88.0}, 30: {"nibp_sys": 86.0}})
    r = f.engine.patients["p1"].news2
    assert r is not None and r.scores["sbp"] == 3
    assert [e[1:] for e in _news2(f)][:1] == [("raised", "medium")]  # low-medium: a single 3, at once


def test_median_between_two_samples_takes_the_worse() -> None:
    f = _engine()
    for i, rr in enumerate([16, 16, 26, 26]):  # even count: 16 scores 0, 26 scores 3
        f.at(i * MIN, resp_rate=rr)
    assert f.engine.news2.windows["p1"]["resp_rate"].robust(T0 + 3 * MIN * 1000, 300_000, 3, 150_000) == 26


@pytest.mark.skipif(not WFDB.with_suffix(".hea").exists(), reason="shared WFDB record not present")
def test_real_per_minute_numerics_artefact_minutes_do_not_reach_the_score() -> None:
    """MIMIC-III numerics (72 min): minute 6 HR 0 + RR 0 (leads off), minute 14 SpO2 0 (probe off), minute
    15 SpO2 89.5 alone among 96-100, minutes 63-64 pulse 277/273 (implausible)."""
    rec = read_recording(WFDB)
    rp = Replayer(load_config(None, rec.format, rec.interval_s))
    engine: Engine = rp.engine
    scores: dict[int, dict[str, int]] = {}
    for r in rec.records:
        list(rp.run([r]))
        p = engine.patients[r.patient]
        assert p.news2 is not None
        scores[r.t // 60_000] = dict(p.news2.scores)
    assert scores[6]["resp_rate"] == scores[5]["resp_rate"]  # RR 0 with HR 0: not apnoea
    assert scores[14]["spo2"] == scores[15]["spo2"] == 0  # SpO2 0 is a probe off; 89.5 one minute only
    assert all(s.get("heart_rate", 0) < 3 for m, s in scores.items() if 62 <= m <= 66)  # pulse 277 refused
    assert scores[33]["sbp"] == 3  # NIBP 45 mmHg is a measurement: it counts at once
