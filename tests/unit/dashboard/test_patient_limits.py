"""A patient's own alarm limits set at the bedside (dashboard_api.patient_limits): what may be set (bounds,
order with the ward's limits, the ward's hysteresis), each refusal naming its field; what the bed view
shows (ward, own, effective as alerting applies it); the tile's custom-limits marker in the ward state,
following the patient; and alerting going back to the alarm file's override when the DB's is reset."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from alerting import AlarmConfig, AlarmStore, AlertingService, PatientOverride, build_config
from alerting.limits import effective_rule, evaluate
from dashboard_api import WardState
from dashboard_api.patient_limits import BOUNDS, LimitsError, LimitsIn, check, settable, view
from device_profiles.ws_frames import FRAME

CONFIG = AlarmConfig()
T = 1_763_805_600_000


def refused(signal: str, **body: object) -> LimitsError:
    with pytest.raises(LimitsError) as info:
        check(CONFIG, signal, LimitsIn.model_validate({"reason": "post-op, surgeon's order", **body}))
    return info.value


def allowed(signal: str, **body: float) -> PatientOverride:
    return check(CONFIG, signal, LimitsIn.model_validate({"reason": "known baseline", **body}))


def test_tightening_is_allowed_and_only_the_given_fields_are_the_patients() -> None:
    assert allowed("spo2", low=92) == PatientOverride(low=92)
    assert allowed("heart_rate", low=50, high=110) == PatientOverride(low=50, high=110)
    assert allowed("temperature", high=38.0) == PatientOverride(high=38.0)
    # a limit the ward does not have (SpO2 high: hyperoxia on oxygen) may be added
    assert allowed("spo2", high=98) == PatientOverride(high=98)


@pytest.mark.parametrize(("signal", "body", "field", "words"), [
    # SpO2: low not below 84 % (NEWS2 scale 2's 3-point band starts at 83 %), critical low not below 80 %
    ("spo2", {"low": 83, "critical_low": 80}, "low", "may not be set below 84 %"),
    ("spo2", {"critical_low": 79}, "critical_low", "may not be set below 80 %"),
    ("heart_rate", {"high": 151}, "high", "may not be set above 150 /min"),
    ("heart_rate", {"critical_high": 190}, "critical_high", "may not be set above 180 /min"),
    ("heart_rate", {"low": 34, "critical_low": 30}, "low", "may not be set below 35 /min"),
    ("nibp_sys", {"low": 69, "critical_low": 60}, "low", "below 70 mmHg"),
    ("temperature", {"high": 39.1}, "high", "above 39.0 °C"),
    ("heart_rate", {"low": 500}, "low", "outside what HR limits can be (30 /min to 180 /min)"),
])
def test_widening_beyond_the_bounds_is_refused_naming_the_field(signal: str, body: dict[str, float], field: str,
                                                                  words: str) -> None:
    err = refused(signal, **body)
    assert err.field == field and words in str(err) and str(err).startswith(f"{field}: ")


def test_the_bounds_just_inside_are_allowed() -> None:
    assert allowed("spo2", low=84, critical_low=80) == PatientOverride(low=84, critical_low=80)
    assert allowed("heart_rate", high=150, critical_high=180) == PatientOverride(high=150, critical_high=180)
    assert BOUNDS["spo2"].low == 84 and BOUNDS["spo2"].critical_low == 80


def test_order_with_the_wards_own_limits_is_kept() -> None:
    # the ward's SpO2 critical low is 85: a low of 84 alone would leave it above the low limit
    err = refused("spo2", low=84)
    assert err.field == "low" and "must be at or above critical low 85 % (the ward's)" in str(err)
    err = refused("heart_rate", low=125)  # the ward's high is 120
    assert err.field == "low" and "must be below high 120 /min (the ward's)" in str(err)
    err = refused("heart_rate", low=60, high=55)
    assert err.field == "low" and "must be below high 55 /min" in str(err) and "the ward's" not in str(err)


def test_the_band_must_be_wider_than_twice_the_hysteresis() -> None:
    err = refused("heart_rate", low=100, high=106)  # hysteresis 3/min: 106 - 100 = 6 is not > 6
    assert err.field == "high" and "twice the hysteresis (3 /min)" in str(err)
    assert allowed("heart_rate", low=100, high=107) == PatientOverride(low=100, high=107)
    err = refused("heart_rate", low=116)  # with the ward's high of 120: 4 /min apart
    assert err.field == "low"
    # an allowed band works with the engine's hysteresis: 107 high alarm ends at 104, clear of the 100 low
    rule = effective_rule(CONFIG, "heart_rate", PatientOverride(low=100, high=107))
    assert rule is not None and evaluate(rule, 103.5, (False, True)) is None


def test_reason_decimals_signal_and_emptiness_are_named() -> None:
    assert refused("spo2", low=92, reason="  ").field == "reason"
    assert refused("temperature", high=38.05).field == "high"
    assert "1 decimal(s)" in str(refused("temperature", high=38.05))
    assert refused("spo2").field == "body"
    assert refused("perfusion_index", low=1).field == "signal"  # disabled in the ward's configuration
    err = refused("no_such_signal", low=1)
    assert err.field == "signal" and "unknown signal" in str(err)
    with pytest.raises(ValidationError):
        LimitsIn.model_validate({"low": float("nan"), "reason": "x"})
    with pytest.raises(ValidationError):
        LimitsIn.model_validate({"low": 90, "reason": "x", "enabled": False})  # limits only: never switched off


def test_view_shows_ward_own_and_effective_with_who_and_when() -> None:
    ward = view(CONFIG, "spo2", None, None, None, None, None)
    assert (ward.source, ward.override, ward.effective.low, ward.default.low) == ("ward", None, 90, 90)
    own = view(CONFIG, "spo2", PatientOverride(low=88, critical_low=82), "nina", T, None, None)
    assert own.source == "patient" and own.set_by == "nina" and own.set_t == T
    assert own.override is not None
    assert (own.override.low, own.override.high, own.effective.low, own.effective.critical_low, own.default.low) == (
        88, None, 88, 82, 90)
    assert (own.unit, own.hysteresis, own.bounds.low) == ("%", 2, 84)
    # SpO2 scale 2 moves the ward's limits down; a limit the patient's own override sets stays
    scaled = view(CONFIG, "spo2", PatientOverride(low=88), "nina", T, None, 2)
    assert (scaled.effective.low, scaled.effective.critical_low) == (88, 79)
    config = build_config({"patients": {"p-file": {"heart_rate": {"high": 130}}}})
    from_file = view(config, "heart_rate", None, None, None, config.patients["p-file"]["heart_rate"], None)
    assert (from_file.source, from_file.effective.high, from_file.set_by) == ("file", 130, None)
    assert "perfusion_index" not in settable(CONFIG) and settable(CONFIG)[:3] == ["heart_rate", "pulse_rate", "spo2"]


def _ward() -> WardState:
    s = WardState()
    s.set_assignments({"mon-1": ("w1", "01"), "mon-2": ("w1", "02")}, {("w1", "01"): "p1", ("w1", "02"): "p2"})
    return s


def test_the_tile_marks_own_limits_and_the_marker_follows_the_patient() -> None:
    s = _ward()
    assert s.bed("w1", "01").tile(T)["limits"] == {}
    changed = s.set_limits({"p1": {"spo2": {"low": 88}}})
    assert [(b.bed, b.patient) for b in changed] == [("01", "p1")]
    tile = s.bed("w1", "01").tile(T)
    assert tile["limits"] == {"spo2": {"low": 88}}
    FRAME.validate_python(orjson.loads(orjson.dumps({"type": "tile", "tile": tile})))
    assert s.set_limits({"p1": {"spo2": {"low": 88}}}) == []  # unchanged: no frame
    # p1 moves to bed 02 (p2 discharged): the marker goes with p1, bed 01 has none
    s.set_assignments({"mon-1": ("w1", "01"), "mon-2": ("w1", "02")}, {("w1", "02"): "p1"})
    assert s.bed("w1", "02").tile(T)["limits"] == {"spo2": {"low": 88}} and s.bed("w1", "01").tile(T)["limits"] == {}
    assert [b.bed for b in s.set_limits({})] == ["02"]  # reset: the marker goes
    assert s.snapshot("w1", T)["beds"][1]["limits"] == {}


def test_an_observation_naming_another_patient_takes_that_patients_marker() -> None:
    s = _ward()
    s.set_limits({"p3": {"heart_rate": {"high": 140}}})
    s.observe({"ward": "w1", "bed": "01", "device": "mon-1", "patient": "p3", "samples": [{"t": T, "heart_rate": 72}]})
    assert s.bed("w1", "01").tile(T)["limits"] == {"heart_rate": {"high": 140}}


async def test_alerting_goes_back_to_the_alarm_files_override_when_the_dbs_is_reset(tmp_path: Path) -> None:
    """A reload used to drop every override the DB did not hold, the alarm file's (``patients:``) too:
    a bedside reset of one patient's limits silently removed other patients' reviewed file limits."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    config = build_config({"patients": {"p-file": {"spo2": {"low": 86}}}})
    svc = AlertingService("mqtt://127.0.0.1:1", url, config=config)
    svc.store = store = AlarmStore.open(url)
    store.set_override("p-file", "spo2", PatientOverride(low=88), "nina", T)
    store.set_override("p-db", "spo2", PatientOverride(low=92), "nina", T)
    await svc._reload()
    assert svc.engine.overrides[("p-file", "spo2")] == PatientOverride(low=88)
    store.set_override("p-file", "spo2", None, "nina", T + 1)
    store.set_override("p-db", "spo2", None, "nina", T + 1)
    await svc._reload()
    assert svc.engine.overrides.get(("p-file", "spo2")) == PatientOverride(low=86)  # the file's again
    assert ("p-db", "spo2") not in svc.engine.overrides
    recs = store.override_records()
    assert recs == []
    store.set_override("p-db", "heart_rate", PatientOverride(high=130), "rn", T + 2)
    [rec] = store.override_records(["p-db", "p-other"])
    assert (rec.patient, rec.signal, rec.override, rec.by, rec.t) == ("p-db", "heart_rate", PatientOverride(high=130),
                                                                     "rn", T + 2)
    assert store.override_records(["p-other"]) == []
