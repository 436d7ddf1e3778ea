"""One contract, two stores: writes are idempotent, reads return what was written."""

from __future__ import annotations

import time

import pytest

from device_profiles import AttributedObservation, Attribution, Observation, Sample, WaveformChunk
from ingest import AlarmEvent, Batch, ConfigError, VitalsStore

pytestmark = pytest.mark.integration
NOW = (int(time.time() * 1000) // 60000) * 60000 - 10 * 60000  # ten minutes ago, on a minute boundary
W1 = Attribution("w1", "07", "p-1")


def obs(device: str, seq: int, who: Attribution, *samples: Sample) -> AttributedObservation:
    return AttributedObservation(Observation(device, seq, list(samples)), who)


def batch(*items: AttributedObservation) -> Batch:
    b = Batch()
    for a in items:
        b.add_obs(a)
    return b


async def write(store: VitalsStore, b: Batch) -> None:
    await store.write(store.encode(b))


async def test_raw_vitals_round_trip_by_device_and_patient(store: VitalsStore) -> None:
    await write(store, batch(
        obs("mon-1", 1, W1, Sample(NOW, {"heart_rate": 72, "spo2": 97.5}), Sample(NOW + 1000, {"heart_rate": 73})),
        obs("mon-2", 1, Attribution("w1", "08", "p-2"), Sample(NOW, {"heart_rate": 90})),
    ))
    rows = await store.query_vitals(device="mon-1", from_ms=NOW - 1, to_ms=NOW + 10_000)
    assert [(r.t, r.device, r.values) for r in rows] == [(NOW, "mon-1", {"heart_rate": 72.0, "spo2": 97.5}),
                                                         (NOW + 1000, "mon-1", {"heart_rate": 73.0})]
    assert (rows[0].ward, rows[0].bed, rows[0].patient) == ("w1", "07", "p-1")
    by_patient = await store.query_vitals(patient="p-2", signals=["heart_rate"], from_ms=NOW - 1, to_ms=NOW + 10_000)
    assert [(r.device, r.values) for r in by_patient] == [("mon-2", {"heart_rate": 90.0})]
    # the range is half-open: [from, to)
    assert await store.query_vitals(device="mon-1", from_ms=NOW + 1, to_ms=NOW + 1000) == []


async def test_same_device_signal_time_twice_is_one_point(store: VitalsStore) -> None:
    b = batch(obs("mon-1", 5, W1, Sample(NOW, {"heart_rate": 72}), Sample(NOW + 1000, {"heart_rate": 74})))
    await write(store, b)
    await write(store, b)  # redelivery
    await write(store, batch(obs("mon-1", 5, W1, Sample(NOW, {"heart_rate": 72}))))
    assert await store.count("vitals", "heart_rate") == 2
    rows = await store.query_vitals(device="mon-1", from_ms=NOW - 1, to_ms=NOW + 5000)
    assert [r.values["heart_rate"] for r in rows] == [72.0, 74.0]


async def test_quality_flags_round_trip(store: VitalsStore) -> None:
    await write(store, batch(obs("mon-1", 1, W1, Sample(NOW, {"spo2": 88, "heart_rate": 70}, {"spo2": "artifact"}))))
    (row,) = await store.query_vitals(device="mon-1", from_ms=NOW, to_ms=NOW + 1)
    assert row.values == {"spo2": 88.0, "heart_rate": 70.0}
    assert row.quality == {"spo2": "artifact"}


async def test_one_minute_min_mean_max(store: VitalsStore) -> None:
    samples = [Sample(NOW + i * 10_000, {"heart_rate": hr}) for i, hr in enumerate([60, 70, 80, 90, 100, 110])]
    samples.append(Sample(NOW + 60_000, {"heart_rate": 50}))
    await write(store, batch(obs("mon-1", 1, W1, *samples)))
    rows = await store.query_vitals(patient="p-1", signals=["heart_rate"], from_ms=NOW, to_ms=NOW + 120_000, every="1m")
    assert [(r.t, r.values["heart_rate"]) for r in rows] == [(NOW, 85.0), (NOW + 60_000, 50.0)]
    assert rows[0].minimum == {"heart_rate": 60.0} and rows[0].maximum == {"heart_rate": 110.0}


async def test_latest_value_per_device_and_signal(store: VitalsStore) -> None:
    await write(store, batch(
        obs("mon-1", 1, W1, Sample(NOW, {"heart_rate": 72, "spo2": 97}), Sample(NOW + 2000, {"heart_rate": 75})),
        obs("mon-3", 1, Attribution("w2", "01", ""), Sample(NOW, {"heart_rate": 50})),
    ))
    latest = await store.latest(ward="w1", signals=["heart_rate", "spo2"], since_ms=NOW - 60_000)
    assert [(v.device, v.signal, v.t, v.value, v.bed) for v in latest] == [
        ("mon-1", "heart_rate", NOW + 2000, 75.0, "07"), ("mon-1", "spo2", NOW, 97.0, "07")]


async def test_waveform_is_one_point_per_chunk(store: VitalsStore) -> None:
    b = Batch()
    b.add_wave(WaveformChunk("mon-1", 9, "ecg_ii", 250.0, NOW, [0.1 * i for i in range(250)]), W1)
    b.add_wave(WaveformChunk("mon-1", 10, "ecg_ii", 250.0, NOW + 1000, [0.0] * 250), W1)
    await write(store, b)
    await write(store, b)
    assert await store.count("waveform") == 2  # 500 samples -> 2 points (<= 0.01 per sample)
    chunks = await store.query_waveform(device="mon-1", signal="ecg_ii", from_ms=NOW, to_ms=NOW + 2000)
    assert [c.t0 for c in chunks] == [NOW, NOW + 1000]
    assert chunks[0].fs == 250.0 and chunks[0].samples[:3] == pytest.approx([0.0, 0.1, 0.2])


async def test_alarm_events_are_kept_apart(store: VitalsStore) -> None:
    base = {"v": 1, "id": "a1", "ward": "w1", "bed": "07", "patient": "p-1", "device": "mon-1", "kind": "limit",
            "signal": "spo2", "priority": "high", "state": "active", "t": NOW, "value": 85,
            "reason": 'SpO2 85 % below 90 %, "quoted", back\\slash', "escalation_level": 0}
    b = Batch()
    b.add_alarm(AlarmEvent.from_json({**base, "event": "raised"}, NOW))
    b.add_alarm(AlarmEvent.from_json({**base, "event": "escalated", "escalation_level": 1}, NOW))
    b.add_alarm(AlarmEvent.from_json({**base, "id": "a2", "ward": "w2", "event": "raised"}, NOW))
    await write(store, b)
    await write(store, b)
    alarms = await store.query_alarms(ward="w1", from_ms=NOW, to_ms=NOW + 1)
    assert [(a.id, a.event, a.priority, a.value) for a in alarms] == [("a1", "escalated", "high", 85.0),
                                                                      ("a1", "raised", "high", 85.0)]
    assert alarms[0].reason == base["reason"]


async def test_tag_values_cannot_inject_points(store: VitalsStore) -> None:
    # ids are validated before they reach a store; the store must still be safe if one slips through
    b = batch(obs("mon-1", 1, W1, Sample(NOW, {"heart_rate": 72})))
    b.add_obs(obs("dev x,ward=evil spo2=1", 2, W1, Sample(NOW + 1, {"heart_rate": 71})))
    await store.write(store.encode(b))
    assert await store.count("vitals", "heart_rate") == 2
    rows = await store.query_vitals(patient="p-1", from_ms=NOW, to_ms=NOW + 10)
    assert sorted(r.device for r in rows) == ["dev x,ward=evil spo2=1", "mon-1"]
    assert all(r.ward == "w1" and set(r.values) == {"heart_rate"} for r in rows)


async def test_query_needs_exactly_one_selector(store: VitalsStore) -> None:
    with pytest.raises(ConfigError):
        await store.query_vitals(from_ms=0, to_ms=1)
    with pytest.raises(ConfigError):
        await store.query_vitals(patient="p", device="d", from_ms=0, to_ms=1)
    with pytest.raises(ConfigError):
        await store.query_vitals(patient="p' OR 1=1", from_ms=0, to_ms=1)
    with pytest.raises(ConfigError):
        await store.query_vitals(patient="p", signals=["nope"], from_ms=0, to_ms=1)


async def test_limit_returns_the_first_rows_in_time_order(store: VitalsStore) -> None:
    """``limit`` caps the rows (instants of one device) the store returns: the first ``limit`` in
    (time, device) order, across devices; a page of a FHIR search reads no more than it serves."""
    await write(store, batch(
        obs("mon-1", 1, W1, *[Sample(NOW + i * 1000, {"heart_rate": 60 + i, "spo2": 95}) for i in range(6)]),
        obs("mon-2", 1, W1, Sample(NOW + 1000, {"heart_rate": 99}), Sample(NOW + 2500, {"heart_rate": 98})),
    ))
    rows = await store.query_vitals(patient="p-1", from_ms=NOW, to_ms=NOW + 60_000, limit=4)
    assert [(r.t, r.device) for r in rows] == [(NOW, "mon-1"), (NOW + 1000, "mon-1"), (NOW + 1000, "mon-2"),
                                               (NOW + 2000, "mon-1")]
    assert rows[0].values == {"heart_rate": 60.0, "spo2": 95.0}  # a row keeps all its signals
    rest = await store.query_vitals(patient="p-1", from_ms=NOW + 2001, to_ms=NOW + 60_000, limit=100)
    assert [(r.t, r.device) for r in rest] == [(NOW + 2500, "mon-2"), (NOW + 3000, "mon-1"), (NOW + 4000, "mon-1"),
                                               (NOW + 5000, "mon-1")]
    minutes = await store.query_vitals(patient="p-1", signals=["heart_rate"], from_ms=NOW, to_ms=NOW + 60_000,
                                       every="1m", limit=1)
    assert [(r.t, r.device) for r in minutes] == [(NOW, "mon-1")]
    with pytest.raises(ConfigError):
        await store.query_vitals(patient="p-1", from_ms=NOW, to_ms=NOW + 60_000, limit=0)


async def test_a_value_flagged_invalid_is_stored_flagged_but_never_aggregated(store: VitalsStore) -> None:
    """Issue 11: a quality-3 (invalid) SpO2 is neither the minute's minimum nor the latest value."""
    await write(store, batch(obs("mon-1", 1, W1,
                                 Sample(NOW, {"spo2": 97, "heart_rate": 70}),
                                 Sample(NOW + 10_000, {"spo2": 95}),
                                 Sample(NOW + 20_000, {"spo2": 41, "heart_rate": 71}, {"spo2": "invalid"}))))
    raw = await store.query_vitals(device="mon-1", signals=["spo2"], from_ms=NOW, to_ms=NOW + 60_000)
    assert [(r.t, r.values, r.quality) for r in raw] == [
        (NOW, {"spo2": 97.0}, {}), (NOW + 10_000, {"spo2": 95.0}, {}),
        (NOW + 20_000, {"spo2": 41.0}, {"spo2": "invalid"})]  # kept, flagged
    (minute,) = await store.query_vitals(patient="p-1", signals=["spo2"], from_ms=NOW, to_ms=NOW + 60_000,
                                         every="1m")
    assert (minute.minimum, minute.values, minute.maximum) == ({"spo2": 95.0}, {"spo2": 96.0}, {"spo2": 97.0})
    latest = await store.latest(device="mon-1", signals=["spo2", "heart_rate"], since_ms=NOW - 60_000)
    assert [(v.signal, v.t, v.value) for v in latest] == [("heart_rate", NOW + 20_000, 71.0),
                                                          ("spo2", NOW + 10_000, 95.0)]


async def test_a_minute_of_only_invalid_values_has_no_aggregate(store: VitalsStore) -> None:
    await write(store, batch(obs("mon-1", 1, W1, Sample(NOW, {"spo2": 40}, {"spo2": "invalid"}),
                                 Sample(NOW + 1000, {"heart_rate": 80}))))
    rows = await store.query_vitals(device="mon-1", signals=["spo2"], from_ms=NOW, to_ms=NOW + 60_000, every="1m")
    assert rows == []
    assert await store.latest(device="mon-1", signals=["spo2"], since_ms=NOW - 60_000) == []
