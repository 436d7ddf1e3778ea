"""ADT moves a device's data, it does not stop it. Found in a newcomer run of the demo: after a discharge,
an admission or moving the monitor, the bed filled with "no HR/SpO2/RR data" alarms for the patient (or
device-only bed) the monitor no longer fed, while the tile showed the same monitor's live values; they never
ended, so an acknowledged one stayed in the list. Each alarm here is the engine's own, fed sample by sample."""

from __future__ import annotations

from alerting import AlarmEvent
from device_profiles import Attribution

from .conftest import Feed, make_engine

P1 = Attribution(ward="w1", bed="09", patient="p1")
EMPTY = Attribution(ward="w1", bed="09", patient="")  # the monitor stays at the bed, nobody admitted
P2 = Attribution(ward="w1", bed="09", patient="p2")
OK = {"heart_rate": 76.0, "spo2": 98.0, "resp_rate": 15.0}


def stale(events: list[AlarmEvent]) -> list[tuple[str, str | None]]:
    return [(e.to_json()["patient"] or e.to_json()["device"], e.signal) for e in events
            if e.event == "raised" and e.to_json()["code"] == "stale"]


def test_discharge_then_admission_raise_no_no_data_alarm_for_who_the_monitor_fed_before() -> None:
    f = Feed(make_engine())
    for s in range(0, 60):
        f.at(s, who=P1, **OK)
    for s in range(60, 300):  # discharged at 60 s: the same monitor, no patient
        f.at(s, who=EMPTY, **OK)
    for s in range(300, 600):  # a new patient admitted at 300 s
        f.at(s, who=P2, **OK)
    f.tick(900)  # long past every horizon
    assert stale(f.events) == [("p2", "heart_rate"), ("p2", "spo2"), ("p2", "resp_rate")]  # only the real gap at the end
    assert not [e for e in f.events if e.to_json()["patient"] == "p1" and e.event == "raised"]


def test_a_monitor_that_really_stops_still_raises_no_data() -> None:
    f = Feed(make_engine())
    for s in range(0, 60):
        f.at(s, who=P1, **OK)
    f.tick(200)
    assert sorted(stale(f.events)) == [("p1", "heart_rate"), ("p1", "resp_rate"), ("p1", "spo2")]


def test_open_alarms_of_the_previous_attribution_end_when_the_monitor_moves() -> None:
    f = Feed(make_engine())
    for s in range(0, 60):
        f.at(s, who=P1, **{**OK, "spo2": 80.0})  # a real SpO2 alarm for p1
    assert [e.signal for e in f.raised("limit")] == ["spo2"]
    moved = f.at(60, who=P2, **OK)  # the monitor is now p2's (a transfer of the device)
    ended = [e for e in moved if e.to_json()["patient"] == "p1" and not e.to_json()["condition"]]
    assert [e.signal for e in ended] == ["spo2"] and "now attributed elsewhere" in ended[0].reason
    assert ended[0].state == "active"  # latched until acknowledged, as any ended high alarm
    f.tick(300)
    assert not [e for e in f.events if e.to_json()["patient"] == "p1" and e.to_json()["code"] == "stale"]


def test_a_patient_with_a_second_device_keeps_being_judged_on_it() -> None:
    f = Feed(make_engine())
    engine = f.engine
    for s in range(0, 60):  # p1 has a monitor (mon-1) and a wristband (wb-1) giving SpO2
        f.at(s, who=P1, heart_rate=76.0, resp_rate=15.0)
        f.events += engine.observe_sample(P1, "wb-1", 1_763_805_600_000 + s * 1000 + 500, {"spo2": 97.0})
    for s in range(60, 300):  # the wristband goes to p2; p1's SpO2 source is gone: that is a real gap
        f.events += engine.observe_sample(P2, "wb-1", 1_763_805_600_000 + s * 1000 + 500, {"spo2": 97.0})
        f.at(s, who=P1, heart_rate=76.0, resp_rate=15.0)
    assert ("p1", "spo2") in stale(f.events)
