"""Line protocol: escaping makes tag values inert; numbers stay floats; bad text is refused."""

from __future__ import annotations

import math

import pytest

from device_profiles import AttributedObservation, Attribution, Observation, Sample
from ingest import Batch, StoreRejected
from ingest.line_protocol import escape_key, escape_string, line
from ingest.stores.influx_lines import LineEncoder


def test_tag_value_special_characters_are_escaped() -> None:
    assert escape_key("a b,c=d") == "a\\ b\\,c\\=d"
    assert line("vitals", {"device": "x,ward=evil y=1"}, {"heart_rate": 72}, 5) == \
        "vitals,device=x\\,ward\\=evil\\ y\\=1 heart_rate=72 5"


@pytest.mark.parametrize("bad", ["a\nvitals heart_rate=1 1", "tab\there", "x\\"])
def test_newlines_control_characters_and_trailing_backslash_are_refused(bad: str) -> None:
    with pytest.raises(StoreRejected):
        line("vitals", {"device": bad}, {"heart_rate": 1}, 1)


def test_string_fields_are_quoted_and_escaped() -> None:
    assert escape_string('say "hi"\\ now\n') == '"say \\"hi\\"\\\\ now\\n"'


def test_empty_tags_are_left_out_and_tags_sorted() -> None:
    assert line("m", {"ward": "w1", "bed": "", "device": "d"}, {"x": 1.5}, 7) == "m,device=d,ward=w1 x=1.5 7"


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(StoreRejected):
        line("m", {}, {"x": math.nan}, 1)


def test_vitals_encoding_one_line_per_sample_fields_per_signal() -> None:
    b = Batch()
    b.add_obs(AttributedObservation(Observation("mon-1", 1, [
        Sample(1000, {"heart_rate": 72, "spo2": 97.5}, {"spo2": "artifact", "heart_rate": "valid"}),
        Sample(2000, {"heart_rate": 73})]), Attribution("w1", "07", "", "")))
    assert b.lines == 2
    assert LineEncoder().encode(b).decode().splitlines() == [
        'vitals,bed=07,device=mon-1,ward=w1 heart_rate=72,spo2=97.5,spo2_q="artifact" 1000',
        "vitals,bed=07,device=mon-1,ward=w1 heart_rate=73 2000",
    ]


def test_a_value_flagged_invalid_goes_to_its_own_field() -> None:
    """Issue 11: aggregates over ``spo2`` (downsample, last(), Grafana) never see an invalid value."""
    b = Batch()
    b.add_obs(AttributedObservation(Observation("mon-1", 1, [
        Sample(1000, {"heart_rate": 72, "spo2": 41}, {"spo2": "invalid"})]), Attribution("w1", "07", "", "")))
    assert LineEncoder().encode(b).decode().splitlines() == [
        'vitals,bed=07,device=mon-1,ward=w1 heart_rate=72,spo2_invalid=41,spo2_q="invalid" 1000']


def test_every_sample_of_a_batched_message_becomes_a_line() -> None:
    """A gateway's backlog or a wearable's batch: many plain samples in one message, none skipped."""
    b = Batch()
    b.add_obs(AttributedObservation(Observation("band-1", 1, [Sample(1000 * k, {"heart_rate": 70 + k}) for k in range(4)]),
                                    Attribution("w1", "07", "p1")))
    assert LineEncoder().encode(b).decode().splitlines() == [
        f"vitals,bed=07,device=band-1,patient=p1,ward=w1 heart_rate={70 + k} {1000 * k}" for k in range(4)]


def test_a_sample_with_only_a_flag_is_stored_as_the_flag() -> None:
    b = Batch()
    b.add_obs(AttributedObservation(Observation("mon-1", 1, [Sample(1000, {}, {"spo2": "artifact"}),
                                                             Sample(2000, {"heart_rate": 71}, {"spo2": "artifact"})]),
                                    Attribution("w1", "07")))
    assert LineEncoder().encode(b).decode().splitlines() == [
        'vitals,bed=07,device=mon-1,ward=w1 spo2_q="artifact" 1000',
        'vitals,bed=07,device=mon-1,ward=w1 heart_rate=71,spo2_q="artifact" 2000']


def test_drill_waveforms_go_after_the_drill_marker_and_clinical_ones_before() -> None:
    from device_profiles import WaveformChunk
    from ingest.stores.influx_lines import split_drill

    b = Batch()
    b.add_wave(WaveformChunk("mon-1", 1, "ecg_ii", 250.0, 1000, [0.1, 0.2]), Attribution("w1", "07", "p1"))
    b.add_wave(WaveformChunk("drill-1-01", 1, "ecg_ii", 250.0, 1000, [0.3]), Attribution("w1", "DRILL-01", "", "drill-1"))
    clinical, drill = split_drill(LineEncoder().encode(b))
    assert clinical.decode().splitlines() == [
        'waveform,bed=07,device=mon-1,patient=p1,signal=ecg_ii,ward=w1 fs=250.0,n=2,samples="[0.1,0.2]" 1000']
    assert drill.decode().splitlines() == [
        'waveform,bed=DRILL-01,device=drill-1-01,drill=drill-1,signal=ecg_ii,ward=w1 fs=250.0,n=1,samples="[0.3]" 1000']


def test_an_alarm_carries_its_value_only_when_it_has_one() -> None:
    from device_profiles import AlarmEventType, AlarmKind, AlarmState, Priority
    from ingest.records import AlarmEvent

    def event(value: float | None) -> AlarmEvent:
        return AlarmEvent(id="a1", ward="w1", bed="07", patient="p1", device="mon-1", kind=AlarmKind.LIMIT,
                          signal="spo2", priority=Priority.HIGH, event=AlarmEventType.RAISED, state=AlarmState.ACTIVE,
                          t=5000, value=value, reason="SpO2 84 %")

    b = Batch()
    b.add_alarm(event(84.0))
    b.add_alarm(event(None))
    with_value, without = LineEncoder().encode(b).decode().splitlines()
    assert ",value=84.0 5000" in with_value and "value=" not in without
