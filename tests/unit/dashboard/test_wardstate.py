"""Ward state: latest values with age and staleness, NEWS2 from fresh values + spot observations,
alarms sorted by priority then time, cleared alarms removed, ADT changes reset a bed."""

from __future__ import annotations

from dashboard_api import WardState
from device_profiles import DeviceStatusMessage, News2Message

T = 1_763_805_600_000


def obs(t: int, bed: str = "07", patient: str = "p1", device: str = "mon-7", **values: float) -> dict[str, object]:
    return {"v": 1, "device": device, "seq": 1, "ward": "w1", "bed": bed, "patient": patient,
            "samples": [{"t": t, **values}]}


def alarm(aid: str, priority: str, t: int, state: str = "active", bed: str = "07") -> dict[str, object]:
    return {"v": 1, "id": aid, "ward": "w1", "bed": bed, "patient": "p1", "device": "mon-7", "kind": "limit",
            "signal": "spo2", "priority": priority, "event": "raised", "state": state, "t": t, "value": 84,
            "reason": "r", "by": None, "escalation_level": 0, "drill": ""}


def test_latest_value_age_and_staleness() -> None:
    s = WardState()
    s.observe(obs(T, heart_rate=72, spo2=97))
    s.observe(obs(T - 5000, heart_rate=60))  # older sample arriving late does not replace the newer one
    tile = s.bed("w1", "07").tile(T + 10_000)
    hr = tile["vitals"]["heart_rate"]
    assert (hr["value"], hr["age_s"], hr["stale"], hr["unit"]) == (72, 10.0, False, "/min")
    assert s.bed("w1", "07").tile(T + 31_000)["vitals"]["heart_rate"]["stale"] is True  # 30 s horizon


def test_profile_expire_after_overrides_catalogue_staleness() -> None:
    s = WardState()
    s.observe(obs(T, heart_rate=72))
    s.status(DeviceStatusMessage.from_json({"device": "mon-7", "ward": "w1", "bed": "07", "online": True, "battery": 40,
                                            "t": T, "expire_after": {"heart_rate": 600}}, T))
    tile = s.bed("w1", "07").tile(T + 120_000)
    assert tile["vitals"]["heart_rate"]["stale"] is False and tile["battery"] == 40 and tile["online"] is True


def test_news2_is_alerting_s_alone_on_the_tile_and_in_the_census() -> None:
    """One owner of NEWS2 (issue 15): fresh values and spot observations never make a score here; a bed
    alerting has not scored shows none (the tile "NEWS2 —", the census an unknown risk)."""
    from dashboard_api.twin_census import census_from_state

    s = WardState()
    s.set_assignments({"mon-7": ("w1", "07")}, {("w1", "07"): "p1"})
    s.observe(obs(T, heart_rate=95, spo2=95, resp_rate=22, nibp_sys=115, temperature=38.2))
    s.spot("w1", {"patient": "p1", "bed": "07", "t": T, "by": "nina", "consciousness": "A", "supplemental_o2": False})
    b = s.bed("w1", "07")
    assert b.tile(T + 1000)["news2"] is None
    assert [(c.news2_risk, c.news2_total) for c in census_from_state(s, "w1", T + 1000, include_patients=False).beds] \
        == [(None, None)]
    s.news2(News2Message.from_json({"ward": "w1", "bed": "07", "patient": "p1", "total": 5, "risk": "medium",
                                    "complete": True}, T))
    assert b.tile(T + 1000)["news2"] == {"total": 5, "risk": "medium", "complete": True, "missing": []}
    assert [(c.news2_risk, c.news2_total) for c in census_from_state(s, "w1", T + 1000, include_patients=False).beds] \
        == [("medium", 5)]


def test_alarms_sorted_by_priority_then_unacknowledged_then_newest_and_cleared_removed() -> None:
    s = WardState()
    s.alarm(alarm("a-low", "low", T + 50))
    s.alarm(alarm("a-med-old", "medium", T))
    s.alarm(alarm("a-high-ack", "high", T + 30, state="acknowledged"))
    s.alarm(alarm("a-high", "high", T + 10))
    s.alarm(alarm("a-med-new", "medium", T + 40))
    assert [a["id"] for a in s.ward_alarms("w1")] == ["a-high", "a-high-ack", "a-med-new", "a-med-old", "a-low"]
    s.alarm(alarm("a-high", "high", T + 60, state="cleared"))
    assert "a-high" not in {a["id"] for a in s.ward_alarms("w1")}
    assert "a-high" not in s.bed("w1", "07").alarms


def test_acknowledging_keeps_the_reason_the_alarm_is_on() -> None:
    s = WardState()
    s.alarm(alarm("a1", "medium", T) | {"reason": "SpO2 84 % below 90 for 15 s"})
    ack = s.keep_condition(alarm("a1", "medium", T + 5, state="acknowledged")
                           | {"event": "acknowledged", "by": "cn", "reason": "acknowledged by cn"})
    assert ack["reason"] == "SpO2 84 % below 90 for 15 s" and ack["action"] == "acknowledged by cn"
    s.alarm(ack)
    assert s.ward_alarms("w1")[0]["reason"] == "SpO2 84 % below 90 for 15 s"
    # other events carry their own (condition) reason; an unknown alarm's event is kept as it is
    upd = alarm("a1", "high", T + 9) | {"event": "escalated", "reason": "SpO2 80 % below critical 85"}
    assert s.keep_condition(upd) is upd
    other = alarm("a2", "low", T) | {"event": "silenced", "reason": "silenced for 2 min by cn"}
    assert s.keep_condition(other)["reason"] == "silenced for 2 min by cn"


def test_unassigned_and_drill_data_do_not_reach_the_ward() -> None:
    s = WardState()
    assert s.observe({**obs(T, heart_rate=70), "ward": "", "bed": ""}) is None
    assert s.observe({**obs(T, heart_rate=70), "drill": "d1"}) is None
    assert s.wards == {}


def test_new_patient_in_a_bed_starts_with_no_old_values() -> None:
    s = WardState()
    s.observe(obs(T, heart_rate=72))
    changed = s.set_assignments({"mon-7": ("w1", "07")}, {("w1", "07"): "p2"})
    assert changed == {("w1", "07")}
    b = s.bed("w1", "07")
    assert b.patient == "p2" and b.values == {}


def test_snapshot_orders_beds_naturally() -> None:
    s = WardState()
    for bed in ("10", "2", "01", "9"):
        s.observe(obs(T, bed=bed, heart_rate=70))
    assert [b["bed"] for b in s.snapshot("w1", T)["beds"]] == ["2", "9", "01", "10"]


def test_alertings_published_news2_wins_and_is_dropped_for_a_new_patient() -> None:
    s = WardState()
    s.observe(obs(T, heart_rate=95))
    published = {"ward": "w1", "bed": "07", "patient": "p1", "total": 6, "risk": "medium", "complete": True,
                 "missing": [], "t": T}
    assert s.news2(News2Message.from_json(published, T)) is not None
    assert s.bed("w1", "07").tile(T)["news2"] == {"total": 6, "risk": "medium", "complete": True, "missing": []}
    assert s.news2(News2Message.from_json({**published, "patient": "someone-else"}, T)) is None
    s.set_assignments({"mon-7": ("w1", "07")}, {("w1", "07"): "p2"})
    assert s.bed("w1", "07").news2_published is None
