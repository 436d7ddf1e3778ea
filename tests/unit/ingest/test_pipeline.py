"""Per-message rules of issue 2 item 5: each rejection names the field; accepted data is attributed."""

from __future__ import annotations

import orjson
import pytest

from device_profiles import Attribution, PayloadError
from device_profiles.canonical import T_MIN_MS
from ingest import Batch, Pipeline

ROOT = "t/smartward/v1"
NOW = 1_763_805_600_000


class Table:
    """A tiny in-memory attributor (the real one is tested in test_attribution.py)."""

    def __init__(self) -> None:
        self.bound: dict[str, list[tuple[int, Attribution]]] = {}
        self.auto: list[str] = []

    def lookup(self, device: str, t_ms: int) -> Attribution:
        best = Attribution()
        for start, who in self.bound.get(device, []):
            if start <= t_ms:
                best = who
        return best

    def ended_drill(self, device: str, t_ms: int) -> str:
        return ""

    def known(self, device: str) -> bool:
        return device in self.bound

    def auto_assign(self, device: str, ward: str) -> Attribution:
        self.auto.append(device)
        who = Attribution(ward, f"{len(self.auto):02d}")
        self.bound[device] = [(0, who)]
        return who


def payload(**over: object) -> bytes:
    msg: dict[str, object] = {"v": 1, "device": "mon-1", "seq": 1, "samples": [{"t": NOW, "heart_rate": 72}]}
    msg.update(over)
    return orjson.dumps(msg)


def obs_topic(device: str = "mon-1") -> str:
    return f"{ROOT}/devices/{device}/obs"


@pytest.fixture
def published() -> list[tuple[str, bytes]]:
    return []


@pytest.fixture
def pipe(published: list[tuple[str, bytes]]) -> Pipeline:
    return Pipeline(ROOT, Table(), publish=lambda t, p: published.append((t, p)))


HOSTILE = [
    (b"{not json", "$"),
    (payload(v=2), "v"),
    (payload(v="1"), "v"),
    (payload(device="mon-2"), "device"),
    (payload(seq=-1), "seq"),
    (payload(samples=[{"t": "2025-01-01", "heart_rate": 72}]), "samples[0].t"),
    (payload(samples=[{"t": 1.5e12, "heart_rate": 72}]), "samples[0].t"),
    (payload(samples=[{"t": T_MIN_MS - 1, "heart_rate": 72}]), "samples[0].t"),
    (payload(samples=[{"t": NOW + 5 * 60_000 + 1, "heart_rate": 72}]), "samples[0].t"),
    (payload(samples=[{"t": NOW, "blood_sugar": 5}]), "samples[0].blood_sugar"),
    (payload(samples=[{"t": NOW, "heart_rate": "72"}]), "samples[0].heart_rate"),
    (payload(samples=[{"t": NOW, "heart_rate": True}]), "samples[0].heart_rate"),
    (b'{"v":1,"device":"mon-1","seq":1,"samples":[{"t":1763805600000,"heart_rate":NaN}]}', "$"),
    (b'{"v":1,"device":"mon-1","seq":1,"samples":[{"t":1763805600000,"heart_rate":Infinity}]}', "$"),
    (b'{"v":1,"device":"mon-1","seq":1,"samples":[{"t":1763805600000,"heart_rate":1e999}]}', "$"),
    (payload(samples=[{"t": NOW, "spo2": 101}]), "samples[0].spo2"),
    (payload(samples=[{"t": NOW, "heart_rate": 72}, {"t": NOW, "temperature": 90}]), "samples[1].temperature"),
    (payload(samples=[]), "samples"),
    (payload(pad="x" * (64 * 1024)), "$"),
]


@pytest.mark.parametrize(("raw", "field"), HOSTILE)
def test_rejections_name_the_field_and_add_nothing(pipe: Pipeline, published: list[object], raw: bytes, field: str) -> None:
    b = Batch()
    with pytest.raises(PayloadError) as info:
        pipe.handle(obs_topic(), raw, NOW, b)
    assert info.value.field == field
    assert not b and not published


@pytest.mark.parametrize(("device", "field"), [("a,b=c", "device"), ("a b", "device"), ("x" * 65, "device"),
                                               ("ä", "device"), ("a+b", "device"), ("a/b", "topic")])
def test_device_ids_outside_the_alphabet_are_rejected(pipe: Pipeline, device: str, field: str) -> None:
    with pytest.raises(PayloadError) as info:
        pipe.handle(obs_topic(device), payload(device=device), NOW, Batch())
    assert info.value.field == field


def test_unknown_topic_is_rejected(pipe: Pipeline) -> None:
    with pytest.raises(PayloadError) as info:
        pipe.handle("elsewhere/x", payload(), NOW, Batch())
    assert info.value.field == "topic"


def test_accepted_observation_is_batched_attributed_and_republished(published: list[tuple[str, bytes]]) -> None:
    table = Table()
    table.bound["mon-1"] = [(0, Attribution("w1", "07", "p-1"))]
    pipe = Pipeline(ROOT, table, publish=lambda t, p: published.append((t, p)))
    b = Batch()
    assert pipe.handle(obs_topic(), payload(), NOW, b) == "stored"
    assert pipe.handle(obs_topic(), payload(), NOW, b) == "duplicate"  # same (device, seq)
    assert b.lines == 2  # still written: storage is idempotent
    topic, body = published[0]
    assert topic == f"{ROOT}/wards/w1/obs"
    assert orjson.loads(body) == {"v": 1, "device": "mon-1", "seq": 1, "samples": [{"t": NOW, "heart_rate": 72}],
                                  "ward": "w1", "bed": "07", "patient": "p-1"}


def test_samples_are_attributed_by_sample_time(published: list[tuple[str, bytes]]) -> None:
    table = Table()
    table.bound["mon-1"] = [(0, Attribution("w1", "07", "p-1")), (NOW + 1000, Attribution("w2", "01", "p-1"))]
    pipe = Pipeline(ROOT, table, publish=lambda t, p: published.append((t, p)))
    b = Batch()
    pipe.handle(obs_topic(), payload(samples=[{"t": NOW, "heart_rate": 72}, {"t": NOW + 1000, "heart_rate": 73}]), NOW, b)
    assert [(a.who.ward, [s.t for s in a.obs.samples]) for a in b.obs] == [("w1", [NOW]), ("w2", [NOW + 1000])]
    assert [t for t, _ in published] == [f"{ROOT}/wards/w1/obs", f"{ROOT}/wards/w2/obs"]


def test_auto_assign_binds_unknown_devices_in_order_of_appearance() -> None:
    table = Table()
    pipe = Pipeline(ROOT, table, auto_assign="demo")
    b = Batch()
    for dev in ("z", "a", "z"):
        pipe.handle(obs_topic(dev), payload(device=dev), NOW, b)
    assert [(a.obs.device, a.who.bed) for a in b.obs] == [("z", "01"), ("a", "02"), ("z", "01")]


def test_status_and_waveform_and_alarm_topics(pipe: Pipeline, published: list[tuple[str, bytes]]) -> None:
    b = Batch()
    pipe.handle(f"{ROOT}/devices/mon-1/status", b'{"online": false, "battery": 12}', NOW, b)
    assert published[-1][0] == f"{ROOT}/wards/_unassigned/status"
    assert orjson.loads(published[-1][1]) == {"online": False, "battery": 12, "device": "mon-1", "ward": "",
                                              "bed": "", "patient": "", "t": NOW}
    wave = {"v": 1, "device": "mon-1", "seq": 3, "signal": "ecg_ii", "fs": 250, "t0": NOW, "samples": [0.1] * 250}
    pipe.handle(f"{ROOT}/devices/mon-1/wave", orjson.dumps(wave), NOW, b)
    alarm = {"v": 1, "id": "a1", "ward": "w1", "kind": "limit", "event": "raised", "state": "active", "t": NOW,
             "priority": "high"}
    pipe.handle(f"{ROOT}/alarms/w1/a1", orjson.dumps(alarm), NOW, b)
    assert b.lines == 2 and len(b.waves) == 1 and b.alarms[0].tags["priority"] == "high"
    with pytest.raises(PayloadError) as info:
        pipe.handle(f"{ROOT}/alarms/w1/a1", orjson.dumps({**alarm, "ward": "w1,x=1"}), NOW, b)
    assert info.value.field == "ward"
    with pytest.raises(PayloadError):
        pipe.handle(f"{ROOT}/devices/mon-1/status", b'{"online": "yes"}', NOW, b)
    # an empty status is a retained status being cleared (a drill's virtual device gone): no error, nothing sent
    n = len(published)
    assert pipe.handle(f"{ROOT}/devices/drill-x-01/status", b"", NOW, b) == "stored" and len(published) == n


def test_a_device_cannot_choose_its_own_ward_in_the_republished_stream() -> None:
    from device_profiles import decode_attributed

    table = Table()
    table.bound["mon-1"] = [(0, Attribution("w1", "07", "p-1"))]
    published: list[tuple[str, bytes]] = []
    pipe = Pipeline(ROOT, table, publish=lambda t, p: published.append((t, p)))
    pipe.handle(obs_topic(), payload(ward="icu", patient="p-999") + b"  \n", NOW, Batch())
    (topic, body), = published
    assert topic == f"{ROOT}/wards/w1/obs"
    who = decode_attributed(body).who
    assert (who.ward, who.bed, who.patient) == ("w1", "07", "p-1")


def test_a_sample_older_than_the_raw_retention_is_refused_naming_why(pipe: Pipeline,
                                                                     published: list[tuple[str, bytes]]) -> None:
    """Issue 14: InfluxDB dropped such points with a log line only; now the message is a dead letter."""
    week = 7 * 86_400_000
    old = payload(samples=[{"t": NOW - 60_000, "heart_rate": 72}, {"t": NOW - week - 1, "heart_rate": 73}])
    with pytest.raises(PayloadError) as err:
        pipe.handle(obs_topic(), old, NOW, Batch())
    assert err.value.field == "samples[1].t" and "older than the 7-day raw retention" in str(err.value)
    assert published == []
    b = Batch()
    assert pipe.handle(obs_topic(), payload(samples=[{"t": NOW - week + 1000, "heart_rate": 73}]), NOW, b) == "stored"
    assert b.lines == 1
