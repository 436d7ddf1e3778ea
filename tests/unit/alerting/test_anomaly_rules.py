"""Anomaly advisories through the engine: what enters the patient's windows, when an advisory is
raised, what it says and when it clears (docs/alarm-configuration.md, "Anomaly advisories are about
deteriorations" and the ``anomaly:`` settings; the advisory lifecycle in ``alerting/anomaly_watch.py``).

Added for issue 11's mutation check of ``alerting/anomaly_watch.py``: each test failed under at least
one surviving one-line change (a window closed at every sample, a questionable or implausible value
learnt, an oximeter's own message dropped, an advisory that never clears or clears a window early).
"""

from __future__ import annotations

from alerting.anomaly import Deviation, Verdict
from alerting.anomaly_watch import worsening

from .conftest import T0, Feed, make_engine

# 10 s windows at 1 Hz, 10 windows of warm-up: the defaults (60 s, 30) scaled down to keep tests short
ANOMALY = {"enabled": True, "window_s": 10, "warmup": 10, "threshold": 6.0}


def _steady(f: Feed, start: int, end: int, **values: float) -> None:
    for s in range(start, end):
        f.at(s, **values)


def _advisories(f: Feed) -> list[tuple[str, int]]:
    return [(e.event, (e.t - T0) // 1000) for e in f.events if e.kind == "anomaly"]


def test_a_sustained_change_raises_one_advisory_that_says_how_unusual_and_clears_after_three_normal_windows() -> None:
    f = Feed(make_engine(anomaly=ANOMALY))
    _steady(f, 0, 200, heart_rate=75)  # 20 windows: a steady baseline (spread: the 3 /min floor)
    _steady(f, 200, 230, heart_rate=110)  # inside the limits, far from this patient's 75
    _steady(f, 230, 300, heart_rate=75)
    # unusual windows close at 210 and 220 (two consecutive: raised), 230; normal ones at 240, 250, 260
    assert _advisories(f) == [("raised", 220), ("cleared", 260)]
    raised, cleared = (e for e in f.events if e.kind == "anomaly")
    assert (raised.priority, raised.signal) == ("low", None)
    assert raised.reason.startswith("unusual for this patient: heart_rate 110.0 is 11.7 SD above this patient's "
                                    "baseline 75.0"), raised.reason
    assert raised.value == 11.67  # the deviation the reason names, in SD of the baseline (2 decimals)
    assert cleared.reason == "back to this patient's baseline"


def test_a_few_seconds_of_spikes_inside_a_window_are_averaged_away() -> None:
    """window_s: samples are averaged per point, so two seconds at 140 /min among 75 /min move the
    window's mean by 13 /min (4.3 SD): no advisory, as two unusual points would have raised one."""
    f = Feed(make_engine(anomaly=ANOMALY))
    _steady(f, 0, 200, heart_rate=75)
    _steady(f, 200, 202, heart_rate=140)
    _steady(f, 202, 300, heart_rate=75)
    assert _advisories(f) == []


def test_one_unusual_window_raises_the_advisory_when_confirm_windows_is_1() -> None:
    f = Feed(make_engine(anomaly={**ANOMALY, "confirm_windows": 1}))
    _steady(f, 0, 200, heart_rate=75)
    _steady(f, 200, 211, heart_rate=110)
    assert _advisories(f) == [("raised", 210)]


def test_an_oximeter_sending_apart_from_the_ecg_is_watched_too() -> None:
    f = Feed(make_engine(anomaly=ANOMALY))
    for s in range(0, 260):
        f.at(s, heart_rate=75)  # the ECG's message
        f.at(s + 0.5, spo2=97 if s < 200 else 90, pulse_rate=75)  # the oximeter's (SpO2 90: not below 90)
    [raised] = [e for e in f.raised() if e.kind == "anomaly"]
    assert "spo2 90.0 is 7.0 SD below" in raised.reason, raised.reason


def test_a_questionable_value_never_enters_the_window_and_a_flag_on_another_signal_changes_nothing() -> None:
    def run(quality: dict[str, str]) -> list[tuple[str, int]]:
        f = Feed(make_engine(anomaly=ANOMALY))
        for s in range(0, 200):
            f.at(s, quality={"spo2": "questionable"}, heart_rate=75, spo2=97)
        for s in range(200, 260):
            f.at(s, quality=quality, heart_rate=110, spo2=97)
        return _advisories(f)

    assert run({"heart_rate": "questionable"}) == []
    assert run({"spo2": "questionable"}) == [("raised", 220)]


def test_implausible_values_never_reach_the_anomaly_detector() -> None:
    f = Feed(make_engine(anomaly=ANOMALY))
    _steady(f, 0, 200, heart_rate=75)
    _steady(f, 200, 260, heart_rate=260)  # above plausible_high 250: an artefact
    assert [(e.kind, e.to_json()["code"]) for e in f.raised()] == [("technical", "artefact")]


def test_a_deviation_of_exactly_the_threshold_is_unusual_and_a_mirror_image_is_no_deterioration() -> None:
    # temperature exactly 6 SD (1.5 / 0.25) towards normal decides, not heart rate 3 SD away from it
    at_threshold = Verdict(6.0, True, False, (Deviation("temperature", 37.0, 38.5, 0.25),
                                              Deviation("heart_rate", 94.0, 85.0, 3.0)))
    assert not worsening(at_threshold, 6.0)
    # heart rate 60 is as far from the middle of 51-90 as this patient's 81, and scores 0 as it does
    assert not worsening(Verdict(7.0, True, False, (Deviation("heart_rate", 60.0, 81.0, 3.0),)), 6.0)
