"""Technical alarms end when the device is back, also at a bed with no admitted patient (a live-drill
bed, a monitor at an empty bed). Regression: an alarm's key named such a bed by the bare device id
while the engine looked it up as ``device:{id}``, so "device ... offline" and the probe-off alarm
stayed active for the rest of a drill while the device was online with valid SpO2."""

from __future__ import annotations

import pytest

from alerting import Engine
from device_profiles import Attribution, DeviceStatusMessage

from .conftest import T0, Feed, make_engine

ADMITTED = Attribution(ward="w1", bed="07", patient="p1")
DRILL_BED = Attribution(ward="w1", bed="DRILL-01", patient="", drill="drill-1")
EMPTY_BED = Attribution(ward="w1", bed="08", patient="")
VITALS = {"heart_rate": 71, "resp_rate": 14}


def _status(engine: Engine, who: Attribution, s: float, online: bool) -> list[str]:
    msg = DeviceStatusMessage(device="mon-1", ward=who.ward, bed=who.bed, patient=who.patient, drill=who.drill,
                              t=T0 + int(s * 1000), online=online)
    return [f"{e.event}:{e.reason}" for e in engine.status(msg)]


@pytest.mark.parametrize("who", [ADMITTED, DRILL_BED, EMPTY_BED], ids=["admitted", "drill-bed", "empty-bed"])
def test_offline_then_online_clears_the_offline_alarm(who: Attribution) -> None:
    engine = make_engine()
    assert _status(engine, who, 0, False) == ["raised:device mon-1 offline"]
    assert _status(engine, who, 18, True) == ["cleared:device mon-1 online"]
    assert engine.lifecycle.by_key == {}


@pytest.mark.parametrize("who", [ADMITTED, DRILL_BED, EMPTY_BED], ids=["admitted", "drill-bed", "empty-bed"])
def test_probe_off_then_valid_spo2_clears_the_technical_alarms(who: Attribution) -> None:
    f = Feed(make_engine())
    for s in range(0, 15):  # the simulator's probe-off: SpO2 0 flagged invalid, no pulse rate
        f.at(s, quality={"spo2": "invalid"}, who=who, spo2=0, **VITALS)
    # one cause, one alarm: the zero flagged invalid is the probe-off, not also "SpO2 quality invalid"
    assert [e.to_json()["code"] for e in f.raised()] == ["probe_off"]
    ended = f.at(16, quality={}, who=who, spo2=97, pulse_rate=71, perfusion_index=3.2, **VITALS)
    assert [(e.event, e.to_json()["code"]) for e in ended] == [("cleared", "probe_off")]
    assert f.engine.lifecycle.by_key == {}


def test_invalid_quality_of_a_real_value_is_still_its_own_alarm() -> None:
    f = Feed(make_engine())
    for s in range(0, 15):  # SpO2 93 flagged invalid (motion): not a probe-off, so "SpO2 quality invalid"
        f.at(s, quality={"spo2": "invalid"}, who=ADMITTED, spo2=93, pulse_rate=71, **VITALS)
    assert [e.to_json()["code"] for e in f.raised()] == ["quality"]


def test_a_limit_alarm_at_a_drill_bed_clears_when_the_value_is_back() -> None:
    f = Feed(make_engine())
    for s in range(0, 16):
        f.at(s, who=DRILL_BED, spo2=88)
    [raised] = f.raised()
    assert raised.drill == "drill-1"
    assert [e.event for e in f.at(17, who=DRILL_BED, spo2=97)] == ["cleared"]
