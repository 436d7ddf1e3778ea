"""The demo's simulated nurse rounds (``smartward.nurse_rounds.RoundsPlan``): what is recorded for which
bed and when, in scenario time (pure, no clock)."""

from __future__ import annotations

import pytest

from gateway_agent import SimulatedWard, WardOptions
from smartward.nurse_rounds import RoundsOptions, RoundsPlan

HOUR = 3600.0


def plan(beds: int = 6, **kw: object) -> RoundsPlan:
    return RoundsPlan(SimulatedWard(WardOptions(beds=beds, scenario="mixed", seed=1)), RoundsOptions(**kw))  # type: ignore[arg-type]


def test_first_round_records_every_bed_but_the_new_admission() -> None:
    p = plan()
    first = p.due(0.0)
    assert [d.device for d in first] == [f"sim-w1-{i:02d}" for i in range(1, 6)]  # bed 06: no observations yet
    assert all(d.values["consciousness"] == "A" for d in first)
    # the desaturation patient (bed 05 of a mixed ward) is on oxygen, everybody else on air
    o2 = {d.device for d in first if d.values["supplemental_o2"]}
    assert o2 == {b.device for b in p.ward.beds if b.scenario_name == "desaturation"} == {"sim-w1-05"}
    assert p.due(1.0) == []  # nothing twice


def test_rounds_repeat_bed_after_bed_every_interval() -> None:
    p = plan(interval_s=4 * HOUR, bed_step_s=120.0)
    p.due(0.0)
    assert p.due(4 * HOUR - 1) == []
    assert [d.device for d in p.due(4 * HOUR)] == ["sim-w1-01"]
    assert [d.device for d in p.due(4 * HOUR + 120)] == ["sim-w1-02"]
    assert [d.device for d in p.due(4 * HOUR + 480)] == ["sim-w1-03", "sim-w1-04", "sim-w1-05"]
    assert [d.device for d in p.due(8 * HOUR + 1)] == ["sim-w1-01"]


def test_wall_clock_wait_follows_the_scenario_speed() -> None:
    p = plan(interval_s=4 * HOUR, speed=5.0)
    p.due(0.0)
    assert p.seconds_to_next(0.0) == pytest.approx(4 * HOUR / 5)  # 48 min at --speed 5


def test_a_single_bed_is_recorded_and_options_are_checked() -> None:
    assert [d.device for d in plan(beds=1).due(0.0)] == ["sim-w1-01"]
    assert plan(beds=3, leave_last_bed=False).due(0.0)[-1].device == "sim-w1-03"
    with pytest.raises(ValueError, match="positive"):
        plan(interval_s=0)
