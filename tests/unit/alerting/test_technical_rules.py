"""Technical rules docs/alarm-configuration.md states ("Contradicted values are technical", "Missing data
is never normal"), pinned through the engine: which zero is a lead-off, which a probe-off and which
needs the nurse to check the patient, and when a stream that stops is "no data".

Added for issue 11's mutation check of ``alerting/technical.py``: each test failed under at least one
surviving one-line change (the oximeter's own pulse of 0 judged as bradycardia, an ECG and an
oximeter sending separately never confirming a lead-off, an unconfirmed zero that never ends, ...).
"""

from __future__ import annotations

from alerting import AlarmCommand, AlarmEvent

from .conftest import T0, Feed, make_engine


def _codes(events: list[AlarmEvent]) -> list[tuple[str, str | None, str, str]]:
    return [(e.kind, e.signal, e.to_json()["code"], e.priority) for e in events]


# -- HR 0: lead-off or "check the patient" ---------------------------------------------------------


def test_hr_zero_beside_a_pulse_flagged_invalid_is_not_called_a_lead_off() -> None:
    """Bug found by the mutation check: the oximeter's pulse flagged invalid (motion) counted as the
    valid pulse that makes HR 0 a harmless lead-off (low, "not asystole"). It confirms nothing."""
    f = Feed(make_engine())
    for s in range(0, 15):
        f.at(s, quality={"pulse_rate": "invalid"}, heart_rate=0, pulse_rate=72, spo2=97)
    hr = [e for e in f.raised() if e.signal == "heart_rate"]
    assert _codes(hr) == [("technical", "heart_rate", "unconfirmed_zero", "medium")]
    assert "check the patient" in hr[0].reason and "lead off" not in hr[0].reason


def test_hr_zero_beside_an_implausible_pulse_is_not_called_a_lead_off() -> None:
    f = Feed(make_engine())
    for s in range(0, 15):
        f.at(s, heart_rate=0, pulse_rate=277, spo2=97)  # 277 /min: an artefact (plausible_high 250)
    hr = [e for e in f.raised() if e.signal == "heart_rate"]
    assert _codes(hr) == [("technical", "heart_rate", "unconfirmed_zero", "medium")]


def test_hr_zero_says_which_pulse_makes_it_a_lead_off() -> None:
    f = Feed(make_engine())
    for s in range(0, 15):
        f.at(s, heart_rate=0, pulse_rate=72, spo2=97)
    [e] = f.raised()
    assert e.reason == "HR 0 while the pulse rate 72/min is valid: ECG lead off (not asystole)"


def test_an_ecg_and_an_oximeter_sending_separately_still_confirm_a_lead_off() -> None:
    """The pulse that confirms HR 0 may come in the oximeter's own message, just before the ECG's."""
    f = Feed(make_engine())
    for s in range(0, 20):
        f.at(s, pulse_rate=72, spo2=97)
        f.at(s + 0.5, heart_rate=0)
    assert _codes(f.raised()) == [("technical", "heart_rate", "lead_off", "low")]


def test_a_pulse_confirms_hr_zero_while_it_is_current_and_not_after() -> None:
    """Telemetry every 30 s: the ECG's HR 0 arrives just before the oximeter's pulse of the same
    moment, so the pulse it is checked against is 30 s old, as old as a pulse may be (expire_after
    30 s): still current, a lead-off. Once the oximeter stops, HR 0 has no pulse: check the patient."""
    f = Feed(make_engine())
    f.at(0, pulse_rate=72, spo2=97)
    for s in range(30, 121, 30):
        f.at(s, heart_rate=0)
        f.at(s, pulse_rate=72, spo2=97)
    assert _codes(f.raised()) == [("technical", "heart_rate", "lead_off", "low")]
    g = Feed(make_engine())
    g.at(0, pulse_rate=72, spo2=97)
    for s in range(31, 60):  # the pulse is 31 s old and more
        g.at(s, heart_rate=0)
    assert _codes(g.raised()) == [("technical", "heart_rate", "unconfirmed_zero", "medium")]


def test_hr_zero_with_no_pulse_is_an_unconfirmed_zero_on_the_heart_rate_that_ends_with_the_hr() -> None:
    f = Feed(make_engine())
    for s in range(0, 12):
        f.at(s, heart_rate=0)
    assert _codes(f.raised()) == [("technical", "heart_rate", "unconfirmed_zero", "medium")]
    back = f.at(12, heart_rate=72)
    assert [(e.event, e.to_json()["code"]) for e in back] == [("cleared", "unconfirmed_zero")]
    assert f.engine.lifecycle.by_key == {}


def test_a_valid_pulse_turns_the_unconfirmed_zero_into_a_lead_off() -> None:
    """One cause, one alarm: once the oximeter shows a pulse, HR 0 is a lead-off; the "check the
    patient" alarm ends instead of staying beside the lead-off."""
    f = Feed(make_engine())
    for s in range(0, 12):
        f.at(s, heart_rate=0)
    [unconfirmed] = f.raised()
    for s in range(12, 30):
        f.at(s, heart_rate=0, pulse_rate=72, spo2=97)
    assert [e.event for e in f.events if e.id == unconfirmed.id] == ["raised", "cleared"]
    assert _codes(f.raised())[1:] == [("technical", "heart_rate", "lead_off", "low")]
    assert [a.code for a in f.engine.lifecycle.by_key.values()] == ["lead_off"]


def test_an_interrupted_lead_off_waits_its_full_delay_again() -> None:
    """technical.delay_s (10 s): a lead-off seen 5 s, then HR 0 with the oximeter off too, then a
    lead-off again has held only since it came back."""
    f = Feed(make_engine())
    for s in range(0, 5):
        f.at(s, heart_rate=0, pulse_rate=72, spo2=97)
    for s in range(5, 7):
        f.at(s, heart_rate=0, pulse_rate=0, spo2=0)
    for s in range(7, 30):
        f.at(s, heart_rate=0, pulse_rate=72, spo2=97)
    [lead_off] = [e for e in f.raised() if e.to_json()["code"] == "lead_off"]
    assert lead_off.t == T0 + 17_000


def test_a_lead_off_stays_a_lead_off_when_the_oximeter_drops_out_too() -> None:
    """The known lead-off is not turned into an unconfirmed zero by the oximeter's dropout; the probe-off
    says the heart is not monitored at all (medium), and the lead-off's reason says why it holds."""
    f = Feed(make_engine())
    for s in range(0, 12):
        f.at(s, heart_rate=0, pulse_rate=72, spo2=97)
    [lead_off] = f.raised()
    for s in range(12, 40):
        f.at(s, heart_rate=0, pulse_rate=0, spo2=0)
    assert _codes(f.raised()) == [("technical", "heart_rate", "lead_off", "low"),
                                  ("technical", "spo2", "probe_off", "medium")]
    [ack] = f.engine.command(AlarmCommand(id=lead_off.id, action="acknowledge", by="rn", t=T0 + 40_000), T0)
    assert ack.condition_reason == "HR 0 while the ECG leads were off: ECG lead off (not asystole)"


# -- SpO2 0 and pulse 0: the probe ----------------------------------------------------------------


def test_a_pulse_of_zero_from_the_oximeter_is_a_probe_off_never_a_bradycardia() -> None:
    f = Feed(make_engine())
    for s in range(0, 20):
        f.at(s, heart_rate=80, pulse_rate=0)
    [e] = f.raised()
    assert _codes([e]) == [("technical", "spo2", "probe_off", "low")]
    assert e.reason.startswith("pulse rate 0 /min: SpO2 probe off")
    g = Feed(make_engine())
    for s in range(0, 20):
        g.at(s, heart_rate=80, pulse_rate=0, spo2=97)
    assert [e.reason.split(":")[0] for e in g.raised()] == ["pulse rate 0 /min"]


def test_spo2_zero_says_so_in_the_probe_off_reason() -> None:
    f = Feed(make_engine())
    for s in range(0, 20):
        f.at(s, heart_rate=80, pulse_rate=0, spo2=0)
    assert [e.reason.split(":")[0] for e in f.raised()] == ["SpO2 0 %"]


def test_hr_spo2_and_pulse_all_zero_is_heart_not_monitored_and_check_the_patient() -> None:
    f = Feed(make_engine())
    for s in range(0, 20):
        f.at(s, heart_rate=0, pulse_rate=0, spo2=0)
    assert sorted(_codes(f.raised())) == [("technical", "heart_rate", "unconfirmed_zero", "medium"),
                                          ("technical", "spo2", "probe_off", "medium")]


def test_heart_not_monitored_ends_when_the_signals_come_back() -> None:
    f = Feed(make_engine())
    for s in range(0, 20):
        f.at(s, heart_rate=0, spo2=0)
    assert sorted(_codes(f.raised())) == [("technical", "heart_rate", "unconfirmed_zero", "medium"),
                                          ("technical", "spo2", "probe_off", "medium")]
    back = f.at(20, heart_rate=72, spo2=97)
    assert sorted((e.event, e.to_json()["code"]) for e in back) == [("cleared", "probe_off"),
                                                                     ("cleared", "unconfirmed_zero")]
    assert f.engine.lifecycle.by_key == {}


def test_a_probe_off_ends_when_an_oximeter_without_pulse_rate_reads_again() -> None:
    f = Feed(make_engine())
    for s in range(0, 20):
        f.at(s, heart_rate=80, spo2=0)
    [probe] = f.raised()
    assert [(e.event, e.id) for e in f.at(20, heart_rate=80, spo2=97)] == [("cleared", probe.id)]


def test_the_ecg_sending_apart_from_the_oximeter_does_not_end_a_probe_off() -> None:
    f = Feed(make_engine())
    for s in range(0, 20):
        f.at(s, spo2=0)
        f.at(s + 0.5, heart_rate=80)  # the ECG knows nothing about the probe
    assert _codes(f.raised()) == [("technical", "spo2", "probe_off", "low")]


# -- "no data": the horizon follows the sampling interval -------------------------------------------


def _stale(f: Feed, signal: str) -> list[int]:
    return [(e.t - T0) // 1000 for e in f.raised("technical") if e.signal == signal and e.to_json()["code"] == "stale"]


def test_a_single_value_counts_for_two_and_a_half_expiries() -> None:
    """Before a second sample shows the interval, the base horizon (SpO2 30 s) counts as the interval:
    one spot reading of a monitor, then nothing, is "no data" after 75 s, not sooner and not later."""
    f = Feed(make_engine())
    f.at(0, spo2=97)
    for s in range(1, 120):
        f.tick(s)
    assert _stale(f, "spo2") == [76]


def test_one_missed_sample_does_not_stretch_the_horizon_of_a_once_a_minute_stream() -> None:
    """The interval is the shorter of the last two gaps: a once-a-minute stream that misses one sample
    (a 2-minute gap) and then stops is "no data" 2.5 minutes after its last value, not 5 minutes."""
    f = Feed(make_engine())
    for m in (*range(0, 10), 11):  # minute 10 missing
        f.at(60 * m, spo2=97)
        for s in range(60 * m + 1, 60 * m + 60):
            f.tick(s)
    for s in range(720, 1200):
        f.tick(s)
    assert _stale(f, "spo2") == [660 + 151]
