"""Limit rules and their texts, exactly (mutation testing of alerting/limits.py found these unpinned:
the critical flag of a critical-high hit, the plausibility bounds and the units and wording of
reasons). The nurse reads these texts; each word is part of the rule."""

from __future__ import annotations

import pytest

from alerting import AlarmConfig
from alerting.limits import describe, describe_end, evaluate, implausible

from .conftest import Feed, make_engine

CONFIG = AlarmConfig()


@pytest.mark.parametrize(("signal", "value", "open_sides", "held_s", "worst", "text"), [
    ("spo2", 88, (False, False), 15, None, "SpO2 88 % below 90 % for 15 s"),
    ("spo2", 91, (True, False), 40, 84.0,
     "SpO2 91 % (lowest 84 %): back above the 90 % limit, not yet clear of it (hysteresis) for 40 s"),
    ("temperature", 34.2, (False, False), 0, None, "Temp 34.2 °C below critical limit 35.0 °C"),
    ("heart_rate", 160, (False, False), 10.4, None, "HR 160 /min above critical limit 150 /min for 10 s"),
    ("heart_rate", 118, (False, True), 30, 131.0,
     "HR 118 /min (highest 131 /min): back below the 120 /min limit, not yet clear of it (hysteresis) for 30 s"),
    ("nibp_sys", 60, (False, False), 0, 55.0, "NIBP sys 60 mmHg below critical limit 70 mmHg (lowest 55 mmHg)"),
    ("resp_rate", 4, (False, False), 0.5, None, "RR 4 /min below critical limit 5 /min"),  # under 1 s: no "for"
    # exactly at the limit while the alarm is open: inside the hysteresis band, not beyond the limit
    ("heart_rate", 120, (False, True), 1, None,
     "HR 120 /min: back below the 120 /min limit, not yet clear of it (hysteresis) for 1 s"),
    ("spo2", 90, (True, False), 1.5, None, "SpO2 90 %: back above the 90 % limit, not yet clear of it (hysteresis) for 2 s"),
])
def test_limit_reasons_word_for_word(signal: str, value: float, open_sides: tuple[bool, bool], held_s: float,
                                     worst: float | None, text: str) -> None:
    rule = CONFIG.limit(signal)
    assert rule is not None
    hit = evaluate(rule, value, open_sides)
    assert hit is not None
    assert describe(signal, value, hit, held_s, worst) == text


def test_end_reasons_word_for_word() -> None:
    assert describe_end("spo2", 97, "low", 84.0) == "SpO2 97 % back within limits (lowest 84 %)"
    assert describe_end("temperature", 36.8, "low", 36.8) == "Temp 36.8 °C back within limits"
    assert describe_end("heart_rate", 80, "high", None) == "HR 80 /min back within limits"


def test_critical_high_is_critical_and_plain_high_is_not() -> None:
    hr = CONFIG.limit("heart_rate")
    assert hr is not None
    crit, high, low = evaluate(hr, 151), evaluate(hr, 121), evaluate(hr, 44)
    assert crit is not None and crit.critical is True and crit.code == "high:critical" and crit.priority == "high"
    assert high is not None and high.critical is False and high.code == "high" and high.priority == "medium"
    assert low is not None and low.critical is False and low.code == "low"


def test_a_critical_high_charted_value_alarms_at_once_a_plain_high_one_waits() -> None:
    f = Feed(make_engine(limits={"heart_rate": {"delay_s": 0, "confirm_samples": 2}}))
    f.at(0, heart_rate=80)
    assert f.at(60, heart_rate=130) == []  # above 120: waits for the next value
    f.at(120, heart_rate=80)
    [e] = f.at(180, heart_rate=160)  # above the critical 150: at once
    assert (e.event, e.priority) == ("raised", "high") and "above critical limit 150 /min" in e.reason


def test_plausibility_bounds_are_strict() -> None:
    hr, sbp = CONFIG.limit("heart_rate"), CONFIG.limit("nibp_sys")
    assert hr is not None and sbp is not None
    assert not implausible(hr, 250) and implausible(hr, 250.5)  # plausible_high 250: 250 is a heart rate
    assert not implausible(sbp, 1) and implausible(sbp, 0)  # plausible_low 1: only 0 is no measurement
