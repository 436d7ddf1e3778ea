"""The shift report's NEWS2 trajectory, recomputed from minute means and spot observations with alerting's
scorer: a complete set scores as alerting scores it; a parameter nobody measured (or measured too long
ago) is missing, never normal; no physiological value at all is "no data", not a score of 0; spot values
count while their hold lasts; the chart's times."""

from __future__ import annotations

from typing import Any

from alerting import News2Input, SpotObservation, score_news2
from dashboard_api.shift_report import News2Trajectory, alarm_counts, bed_order, point_times, step_for
from ingest import VitalsRow

T0 = 1_767_000_000_000
MIN = 60_000
HOUR = 60 * MIN


def minutes(start: int, n: int, **values: float) -> list[VitalsRow]:
    return [VitalsRow(start + k * MIN, "mon-1", dict(values)) for k in range(n)]


def spot(t: int, **values: Any) -> SpotObservation:
    return SpotObservation(patient="P1", ward="w1", bed="01", t=t, by="nina", **values)


def test_a_complete_set_scores_as_alerting_scores_it() -> None:
    rows = minutes(T0 - 10 * MIN, 10, heart_rate=112, spo2=93, resp_rate=22)
    rows += [VitalsRow(T0 - 30 * MIN, "mon-1", {"nibp_sys": 98})]
    traj = News2Trajectory(rows, [spot(T0 - HOUR, consciousness="A", supplemental_o2=True, temperature=38.4)])
    p = traj.at(T0)
    expected = score_news2(News2Input(resp_rate=22, spo2=93, supplemental_o2=True, sbp=98, heart_rate=112,
                                      consciousness="A", temperature=38.4))
    assert (p["total"], p["risk"], p["complete"], p["missing"]) == (expected.total, str(expected.risk), True, [])
    assert p["total"] == 2 + 2 + 2 + 2 + 2 + 0 + 1  # RR 22, SpO2 93, O2, SBP 98, HR 112, A, 38.4
    assert p["values"]["sbp"] == 98 and p["values"]["consciousness"] == "A"


def test_what_nobody_measured_is_missing_never_normal() -> None:
    traj = News2Trajectory(minutes(T0 - 5 * MIN, 5, heart_rate=80, spo2=97, resp_rate=16), [])
    p = traj.at(T0)
    assert p["complete"] is False
    assert set(p["missing"]) == {"supplemental_o2", "sbp", "consciousness", "temperature"}
    assert p["values"]["temperature"] is None
    # before any value at all: no score, not a 0
    assert traj.at(T0 - 20 * MIN)["total"] is None


def test_stale_values_drop_out_and_spot_values_count_while_they_hold() -> None:
    rows = [*minutes(T0, 5, heart_rate=80, spo2=97, resp_rate=16), VitalsRow(T0, "mon-1", {"nibp_sys": 120})]
    spots = [spot(T0, consciousness="A", supplemental_o2=False, temperature=37.0)]
    traj = News2Trajectory(rows, spots)
    assert traj.at(T0 + 5 * MIN)["complete"] is True
    later = traj.at(T0 + 3 * HOUR)  # HR, SpO2 and RR stopped 3 h ago; NIBP (4 h), temperature (6 h) still count
    assert later["values"]["heart_rate"] is None and later["values"]["spo2"] is None
    assert later["values"]["sbp"] == 120 and later["values"]["temperature"] == 37.0
    assert later["values"]["consciousness"] == "A"
    after = traj.at(T0 + 7 * HOUR)
    assert after["values"]["temperature"] is None and after["values"]["sbp"] is None
    assert after["total"] is None  # no physiological value left: no data
    assert traj.at(T0 + 13 * HOUR)["values"]["consciousness"] is None  # ACVPU counts 12 h


def test_the_median_of_the_window_not_one_outlying_minute() -> None:
    rows = [*minutes(T0, 4, heart_rate=80), VitalsRow(T0 + 4 * MIN, "mon-1", {"heart_rate": 140})]
    assert News2Trajectory(rows, []).at(T0 + 5 * MIN)["values"]["heart_rate"] == 80


def test_confusion_known_to_be_the_baseline_scores_as_alert() -> None:
    rows = minutes(T0, 5, heart_rate=80, spo2=97, resp_rate=16)
    new = News2Trajectory(rows, [spot(T0, consciousness="C")]).at(T0 + 5 * MIN)
    baseline = News2Trajectory(rows, [spot(T0, consciousness="C", new_confusion=False)]).at(T0 + 5 * MIN)
    assert new["values"]["consciousness"] == "C" and baseline["values"]["consciousness"] == "A"
    assert new["total"] == baseline["total"] + 3


def test_a_manual_value_newer_than_the_monitor_counts() -> None:
    rows = minutes(T0, 5, resp_rate=16)
    traj = News2Trajectory(rows, [spot(T0 + 4 * MIN, resp_rate=26)])
    assert traj.at(T0 + 5 * MIN)["values"]["resp_rate"] == 26


def test_chart_times_and_helpers() -> None:
    assert step_for(12 * HOUR) == 30 * MIN and step_for(HOUR) == 5 * MIN and step_for(24 * HOUR) == HOUR
    assert step_for(8 * HOUR) == 20 * MIN
    times = point_times(T0 + 7 * MIN, T0 + 61 * MIN, 30 * MIN)
    assert all(t % (30 * MIN) == 0 for t in times[:-1]) and times[-1] == T0 + 61 * MIN
    assert len(point_times(0, 12 * HOUR, 30 * MIN)) == 24  # ends on a step: no extra column
    assert point_times(T0, T0 + 30_000, 5 * MIN) == [T0 + 30_000]
    # the end of the period is always a column, also just after a step (a spot entered in the
    # last minute must show: a report opened at 08:00:40 charted up to 08:00:00 before)
    step = T0 - T0 % (30 * MIN) + 60 * MIN
    assert point_times(T0, step + 40_000, 30 * MIN)[-2:] == [step - 30 * MIN, step + 40_000]
    assert bed_order(["03", "01"], ["10", "2", "01", "9"]) == ["03", "01", "2", "9", "10"]
    assert alarm_counts([{"priority": "high"}, {"priority": "low"}, {"priority": "high"}]) == \
        {"high": 2, "medium": 0, "low": 1}
