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
