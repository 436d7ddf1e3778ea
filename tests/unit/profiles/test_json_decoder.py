"""Decoding vendor JSON by profile: paths, batches, time formats, units, quality, ranges, alarms."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from device_profiles import PayloadError, ProfileValidationError, compile_profile
from device_profiles.json_decoder import JsonDecoder
from device_profiles.topic_pattern import TopicPattern
from device_profiles.units import conversion

NOW = 1_763_805_900_000  # 2025-11-22T10:05:00Z


def decoder(body: str, topic: str = "v/{serial}/d") -> JsonDecoder:
    text = f"""schema_version: 2
id: test-vendor
vendor: T
model: M
transport: mqtt-json
mqtt: {{topic: "{topic}"}}
{body}"""
    d = compile_profile(text).decoder
    assert d is not None
    return d


def decode(d: JsonDecoder, payload: Any, received: int = NOW) -> dict[str, Any]:
    return d.decode("dev1", orjson.dumps(payload), received).to_json()  # type: ignore[no-any-return]


def samples(out: dict[str, Any]) -> list[dict[str, Any]]:
    return out["observation"]["samples"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("fmt", "raw", "t"), [
    ("epoch_s", 1763805600, 1763805600000),
    ("epoch_s", 1763805600.25, 1763805600250),
    ("epoch_ms", 1763805600123, 1763805600123),
    ("epoch_ms", "1763805600123", 1763805600123),
    ("epoch_us", 1763805600123456, 1763805600123),
    ("epoch_ns", 1763805600123456789, 1763805600123),
    ("iso8601", "2025-11-22T10:00:00.5Z", 1763805600500),
    ("iso8601", "2025-11-22T11:00:00+01:00", 1763805600000),
])
def test_time_formats(fmt: str, raw: Any, t: int) -> None:
    d = decoder(f"time: {{path: ts, format: {fmt}}}\nfields: [{{signal: heart_rate, path: hr}}]")
    assert samples(decode(d, {"ts": raw, "hr": 70}))[0]["t"] == t


def test_iso_without_zone_is_refused_unless_the_profile_names_one() -> None:
    d = decoder("time: {path: ts, format: iso8601}\nfields: [{signal: heart_rate, path: hr}]")
    with pytest.raises(PayloadError, match="no time zone"):
        decode(d, {"ts": "2025-11-22T10:00:00", "hr": 70})
    d = decoder("time: {path: ts, format: iso8601, naive_zone: Europe/Berlin}\nfields: [{signal: heart_rate, path: hr}]")
    assert samples(decode(d, {"ts": "2025-11-22T11:00:00", "hr": 70}))[0]["t"] == 1763805600000


def test_receive_time_and_time_checks() -> None:
    d = decoder("time: {source: receive}\nfields: [{signal: heart_rate, path: hr}]")
    assert samples(decode(d, {"hr": 70}))[0]["t"] == NOW
    d = decoder("time: {path: ts}\nfields: [{signal: heart_rate, path: hr}]")
    with pytest.raises(PayloadError, match=r"\$\.ts: .*future"):
        decode(d, {"ts": NOW + 3_600_000, "hr": 70})
    with pytest.raises(PayloadError, match=r"\$\.ts: time missing"):
        decode(d, {"hr": 70})


def test_nested_batch_with_relative_offsets_and_root_time() -> None:
    d = decoder("""samples: {path: "data.rec[0].items"}
time: {path: $.meta.t0, format: epoch_s, offset_path: dt, offset_unit: ms}
fields: [{signal: spo2, path: "v.\\"sp.o2\\"", unit: "1"}]""")
    out = decode(d, {"meta": {"t0": 1763805600}, "data": {"rec": [{"items": [
        {"dt": 0, "v": {"sp.o2": 0.97}}, {"dt": 250, "v": {"sp.o2": 0.965}}]}]}})
    assert samples(out) == [{"t": 1763805600000, "spo2": 97.0}, {"t": 1763805600250, "spo2": 96.5}]
    assert out["observation"]["seq"] == 1763805600250


def test_step_ms_spaces_batched_samples() -> None:
    d = decoder("samples: {path: hr}\ntime: {path: $.t, step_ms: 40}\nfields: [{signal: heart_rate, path: $.x}]")
    d = decoder("samples: {path: s}\ntime: {path: $.t, step_ms: 500}\nfields: [{signal: heart_rate, path: v}]")
    out = decode(d, {"t": 1763805600000, "s": [{"v": 60}, {"v": 61}, {"v": 62}]})
    assert [s["t"] for s in samples(out)] == [1763805600000, 1763805600500, 1763805601000]


def test_unit_conversions_and_scale() -> None:
    d = decoder("""time: {source: receive}
fields:
  - {signal: temperature, path: f, unit: "°F"}
  - {signal: nibp_sys, path: k, unit: kPa}
  - {signal: spo2, path: s, unit: fraction}
  - {signal: heart_rate, path: h, scale: 0.1}
  - {signal: resp_rate, path: r, unit: Hz}
  - {signal: etco2, path: c, unit: kPa}""")
    [s] = samples(decode(d, {"f": 98.6, "k": 16, "s": 0.5, "h": 725, "r": 0.25, "c": 5.1}))
    assert s == {"t": NOW, "temperature": 37.0, "nibp_sys": 120.01, "spo2": 50.0, "heart_rate": 72.5,
                 "resp_rate": 15.0, "etco2": 38.25}
    assert conversion("K", "Cel").apply(310.15) == pytest.approx(37.0)


def test_quality_flags_plausible_ranges_and_sentinels() -> None:
    d = decoder("""time: {source: receive}
fields:
  - signal: spo2
    path: s
    quality: {path: q, map: {0: valid, 1: artifact}}
    plausible: [60, 100]
    ignore_values: [127]
  - {signal: heart_rate, path: h, plausible: [20, 250], out_of_range: drop}
  - {signal: resp_rate, path: r, plausible: [4, 60], out_of_range: questionable}""")
    assert samples(decode(d, {"s": 97, "q": 1, "h": 70}))[0]["q"] == {"spo2": "artifact"}
    assert samples(decode(d, {"s": 97, "q": 9}))[0]["q"] == {"spo2": "questionable"}  # unknown flag
    assert samples(decode(d, {"s": 40, "q": 0}))[0] == {"t": NOW, "spo2": 40, "q": {"spo2": "invalid"}}
    out = decode(d, {"s": 127, "h": 300, "r": 70})
    assert samples(out) == [{"t": NOW, "resp_rate": 70, "q": {"resp_rate": "questionable"}}]
    assert out["dropped"] == ["$.h: 300 outside the plausible range 20..250"]


def test_values_the_profile_cannot_explain_are_refused_naming_the_field() -> None:
    d = decoder("samples: {path: b}\ntime: {path: t}\nfields: [{signal: spo2, path: v.s}]")
    with pytest.raises(PayloadError) as ei:
        decode(d, {"b": [{"t": 1763805600000, "v": {"s": 97}}, {"t": 1763805601000, "v": {"s": "n/a"}}]})
    assert ei.value.field == "sample[1].v.s" and "'n/a' is not a number" in str(ei.value)
    with pytest.raises(PayloadError, match=r"sample\[0\]\.v\.s: .*physical range"):
        decode(d, {"b": [{"t": 1763805600000, "v": {"s": 255}}]})
    with pytest.raises(PayloadError, match="nothing in the payload matches"):
        decode(d, {"b": [{"t": 1763805600000, "x": 1}]})
    with pytest.raises(PayloadError, match="not valid JSON"):
        d.decode("dev1", b"{nope", NOW)
    with pytest.raises(PayloadError, match="samples must be a list"):
        decode(d, {"b": 5})
    with pytest.raises(PayloadError, match=r"b\[0\]: a sample must be an object"):
        decode(d, {"b": [5]})


def test_technical_alarms_and_status() -> None:
    d = decoder("""time: {source: receive}
fields: [{signal: heart_rate, path: hr}]
technical_alarms:
  - {code: battery_low, path: bat, when: {below: 20}, text: low battery, status: battery}
  - {code: lead_off, path: lo, when: {equals: [true, "LO"]}, priority: medium, text: lead off, signal: heart_rate}""")
    out = decode(d, {"hr": 70, "bat": 10, "lo": "LO"})
    assert [(a["code"], a["priority"], a["kind"], a["t"]) for a in out["alarms"]] == [
        ("battery_low", "low", "technical", NOW), ("lead_off", "medium", "technical", NOW)]
    assert out["status"] == {"online": True, "battery": 10, "technical": {"battery_low": True, "lead_off": True}}
    out = decode(d, {"bat": 90, "lo": False})  # a status-only message is fine
    assert out["observation"] is None and "alarms" not in out
    assert out["status"]["technical"] == {"battery_low": False, "lead_off": False}


def test_device_alarm_mapping_refuses_unmapped_priorities() -> None:
    d = decoder("""time: {source: receive}
fields: [{signal: heart_rate, path: hr}]
device_alarms:
  path: al
  code: c
  priority: {path: p, map: {"3": high, "2": medium, "1": low}}
  state: {path: "on", map: {"true": active, "false": cleared}}""")
    out = decode(d, {"al": {"c": "HR_HI", "p": 3, "on": True}})
    assert out["alarms"][0] | {"v": 1} == {
        "v": 1, "device": "dev1", "t": NOW, "kind": "device", "code": "HR_HI", "priority": "high",
        "state": "active", "text": "HR_HI", "signal": None, "value": None, "id": None, "source": "test-vendor"}
    with pytest.raises(PayloadError, match=r"al\[0\]\.p: priority 7 has no mapping"):
        decode(d, {"al": [{"c": "X", "p": 7}]})


def test_yaml_boolean_gotcha_gets_a_hint() -> None:
    with pytest.raises(ProfileValidationError, match=r":8: fields\[0\]\.path: .*quote it"):
        decoder("time: {source: receive}\nfields: [{signal: heart_rate, path: on}]")


def test_topic_patterns() -> None:
    p = TopicPattern.parse("acme/{site}/+/{serial}/#")
    assert p.subscription == "acme/+/+/+/#"
    assert p.match("acme/s1/x/SN9/vitals/more") == {"site": "s1", "serial": "SN9"}
    assert p.match("acme/s1/x") is None and p.match("other/s1/x/SN9") is None
    assert TopicPattern.parse("{root}/devices/{d}/obs", "t1/sw").subscription == "t1/sw/devices/+/obs"
    assert TopicPattern.parse("a/{x}/b").overlaps(TopicPattern.parse("a/+/b"))
    assert TopicPattern.parse("a/#").overlaps(TopicPattern.parse("a/{x}/b"))
    assert not TopicPattern.parse("a/{x}/b").overlaps(TopicPattern.parse("a/{x}/c"))
    assert not TopicPattern.parse("a/{x}").overlaps(TopicPattern.parse("a/{x}/c"))


def test_device_id_template_refuses_ids_outside_the_alphabet() -> None:
    d = decoder("time: {source: receive}\nfields: [{signal: heart_rate, path: hr}]", topic="v/{serial}/d")
    assert d.device_for("v/AB-1/d") == "AB-1"
    assert d.device_for("v/x/other") is None
    with pytest.raises(Exception, match="not"):
        d.device_for("v/a b/d")


def test_columnar_batches_with_payload_step() -> None:
    d = decoder("""samples: {path: data, columnar: true}
time: {path: $.start, format: epoch_s, step_path: $.every, step_unit: s}
fields:
  - {signal: heart_rate, path: hr}
  - {signal: temperature, path: temp.f, unit: degF}""")
    out = decode(d, {"start": 1763805600, "every": 2, "data": {"hr": [70, 71, 72], "temp": {"f": [98.6, 98.8]}}})
    assert samples(out) == [{"t": 1763805600000, "heart_rate": 70, "temperature": 37.0},
                            {"t": 1763805602000, "heart_rate": 71, "temperature": 37.111},
                            {"t": 1763805604000, "heart_rate": 72}]


def test_positional_sample_arrays() -> None:
    d = decoder("samples: {path: rows}\ntime: {path: '[0]', format: epoch_ms}\n"
                "fields: [{signal: heart_rate, path: '[1]'}, {signal: spo2, path: '[2]'}]")
    out = decode(d, {"rows": [[1763805600000, 70, 97], [1763805601000, 71, None]]})
    assert samples(out) == [{"t": 1763805600000, "heart_rate": 70, "spo2": 97}, {"t": 1763805601000, "heart_rate": 71}]


def test_code_tagged_readings_merge_by_time() -> None:
    d = decoder("""samples: {path: readings}
time: {path: time, format: iso8601}
fields:
  - {signal: heart_rate, path: value, where: {path: type, equals: [HR, PULSE_ECG]}}
  - {signal: spo2, path: value, where: {path: type, equals: [SPO2]}}
  - {signal: resp_rate, path: "$.extra[?name=rr].v"}""")
    out = decode(d, {"readings": [{"type": "HR", "value": 70, "time": "2025-11-22T10:00:00Z"},
                                  {"type": "SPO2", "value": 97, "time": "2025-11-22T10:00:00Z"},
                                  {"type": "NIBP", "value": 120, "time": "2025-11-22T10:00:00Z"},
                                  {"type": "HR", "value": 71, "time": "2025-11-22T10:00:01Z"}],
                     "extra": [{"name": "x", "v": 1}, {"name": "rr", "v": 14}]})
    assert samples(out) == [{"t": 1763805600000, "heart_rate": 70, "spo2": 97, "resp_rate": 14},
                            {"t": 1763805601000, "heart_rate": 71, "resp_rate": 14}]


def test_device_serial_from_the_payload() -> None:
    text = """schema_version: 2
id: hub
vendor: T
model: M
transport: mqtt-json
mqtt: {topic: "hub/{site}/telemetry", device_id: "{site}-{payload}", device_id_path: $.dev.sn}
time: {source: receive}
fields: [{signal: heart_rate, path: hr}]
"""
    hub = compile_profile(text).decoder
    assert hub is not None and hub.device_for("hub/ward3/telemetry") == ""
    out = hub.decode("", b'{"dev": {"sn": "A17"}, "hr": 70}', NOW, "hub/ward3/telemetry").to_json()
    assert out["device"] == "ward3-A17" and out["observation"]["device"] == "ward3-A17"
    with pytest.raises(PayloadError, match=r"\$\.dev\.sn: device serial missing"):
        hub.decode("", b'{"hr": 70}', NOW, "hub/ward3/telemetry")
    with pytest.raises(PayloadError, match="is not"):
        hub.decode("", b'{"dev": {"sn": "a/b"}, "hr": 70}', NOW, "hub/ward3/telemetry")


def test_payload_that_is_itself_the_batch() -> None:
    d = decoder("samples: {path: $}\ntime: {path: ts, format: iso8601}\n"
                "fields: [{signal: temperature, path: temp_f, unit: degF}]")
    out = decode(d, [{"ts": "2025-11-22T10:00:00Z", "temp_f": 99.5}, {"ts": "2025-11-22T10:01:00Z", "temp_f": "100.1"}])
    assert samples(out) == [{"t": 1763805600000, "temperature": 37.5}, {"t": 1763805660000, "temperature": 37.833}]


def test_per_signal_series() -> None:
    d = decoder("""time: {path: ts, format: epoch_ms}
fields:
  - {signal: heart_rate, series: $.metrics.hr, path: v}
  - {signal: temperature, series: "$.metrics[?name=skin].data", path: f, time: at, unit: degF}
  - {signal: spo2, path: $.spot.spo2}""")
    out = decode(d, {"spot": {"spo2": 97, "ts": 0}, "ts": 1763805602000,
                     "metrics": {"hr": [{"ts": 1763805600000, "v": 70}, {"ts": 1763805601000, "v": 72}],
                                 "x": 1, "skin": None}})
    # spo2 is a top-level field: it takes the profile's time path (ts) at the message level
    assert samples(out) == [{"t": 1763805600000, "heart_rate": 70}, {"t": 1763805601000, "heart_rate": 72},
                            {"t": 1763805602000, "spo2": 97}]
    d2 = decoder("""time: {path: ts, format: epoch_ms}
fields:
  - {signal: temperature, series: "$.metrics[?name=skin].data", path: f, time: at, unit: degF}""")
    out = decode(d2, {"metrics": [{"name": "skin", "data": [{"at": 1763805600000, "f": 98.6}]}]})
    assert samples(out) == [{"t": 1763805600000, "temperature": 37.0}]
    with pytest.raises(PayloadError, match=r"\$\.metrics\[\?name=skin\]\.data\[0\]\.f: 'hot' is not a number"):
        decode(d2, {"metrics": [{"name": "skin", "data": [{"at": 1763805600000, "f": "hot"}]}]})


WRISTBAND = """samples: {path: samples}
time: {source: receive}
fields: [{signal: heart_rate, path: hr}]
technical_alarms:
  - {code: battery_low, path: $.meta.batt, when: {below: 15}, text: low battery, status: battery}"""


def test_a_missing_samples_path_is_an_error_naming_it_not_battery_status() -> None:
    """Issue 14: ``sampels`` (misspelled) made the vitals vanish while the battery said online."""
    d = decoder(WRISTBAND)
    with pytest.raises(PayloadError) as err:
        decode(d, {"meta": {"batt": 50}, "sampels": [{"hr": 70}, {"hr": 71}]})
    assert err.value.field == "$.samples" and "samples path is not in the payload" in str(err.value)
    nested = decoder(WRISTBAND.replace("{path: samples}", "{path: data.items}"))
    with pytest.raises(PayloadError) as err:
        decode(nested, {"meta": {"batt": 50}, "data": {"itmes": []}})
    assert err.value.field == "$.data.items"


def test_an_empty_batch_is_status_only_and_marked() -> None:
    d = decoder(WRISTBAND)
    out = d.decode("dev1", orjson.dumps({"meta": {"batt": 50}, "samples": []}), NOW)
    assert out.empty_batch and out.observation is None and out.status is not None
    assert out.status["battery"] == 50
    bare = d.decode("dev1", orjson.dumps({"samples": []}), NOW)  # a heartbeat with nothing else: accepted
    assert bare.empty_batch and bare.observation is None
    full = d.decode("dev1", orjson.dumps({"meta": {"batt": 50}, "samples": [{"hr": 70}]}), NOW)
    assert not full.empty_batch and full.observation is not None
