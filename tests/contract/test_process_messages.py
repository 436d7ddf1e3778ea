"""Producer and consumer of each message that crosses a process use the same type (issue 15): what the real
producer publishes goes through the real consumer, and reads back as the same typed message, byte for byte.

- NEWS2: alerting's ``AlertingService._publish_news2`` → the dashboard hub (``Hub.handle``) → the bed tile;
- device status: ingest's ``Pipeline`` (canonical ``{root}/devices/{id}/status``) → the hub → the tile, and →
  alerting (``AlertingService._handle`` → ``Engine.status``: offline, battery and device technical alarms);
- drill state: the drills API (``Drill.state_message``, ``end_drill``) → the hub (DRILL banner), alerting (ends
  the drill's alarms) and the live-drill driver (stops).
A message the consumer refuses is counted ``bad`` by the hub (``rejected`` by alerting) and changes nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from alerting import AlertingService, SpotObservation, build_config
from dashboard_api.drills import Drill, DrillBed, end_drill
from dashboard_api.hub import Hub
from device_profiles import (
    Attribution,
    DeviceStatusMessage,
    DrillStateMessage,
    News2Message,
    now_ms,
    topics,
)
from device_profiles.ws_frames import FRAME
from digital_twin.drill_report import AlarmLog
from digital_twin.live_drill import LiveDrill, LiveDrillOptions
from ingest.pipeline import Pipeline
from ingest.records import Batch

R = "contract/smartward/v1"
WHO = Attribution(ward="w1", bed="07", patient="p1")
DRILL = "drill-ab12cd34"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Hub:
    """The real hub, without a broker or a state DB (only ``handle`` is driven)."""
    monkeypatch.setattr("dashboard_api.hub.AlarmStore", lambda engine: None)
    platform = SimpleNamespace(config=SimpleNamespace(topic_root=R, broker="mqtt://127.0.0.1:1883"),
                               attributions=SimpleNamespace(engine=None))
    return Hub(platform)  # type: ignore[arg-type]


def alerting() -> AlertingService:
    config = build_config({"anomaly": {"enabled": False},
                           "news2": {"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1}})
    return AlertingService("mqtt://127.0.0.1:1883", "sqlite://", R, config)


def test_alertings_news2_reaches_the_tile_as_the_same_message(hub: Hub) -> None:
    svc = alerting()
    t = now_ms() - 60_000
    svc.engine.observe_sample(WHO, "mon-7", t, {"resp_rate": 22, "spo2": 95, "nibp_sys": 115, "heart_rate": 95,
                                               "temperature": 38.2})
    svc.engine.spot(SpotObservation(patient="p1", ward="w1", bed="07", t=t + 1000, by="rn.kim", consciousness="A",
                                    supplemental_o2=False))
    svc._publish_news2()  # not connected: the latest score per patient waits in ``_news2_pending``
    [(topic, payload)] = svc._news2_pending.items()
    assert topic == topics.news2("w1", "p1", R)
    result = svc.engine.patients["p1"].news2
    assert result is not None
    msg = News2Message.from_json(orjson.loads(payload), now_ms())
    assert msg.encode() == payload and (msg.total, msg.risk, msg.complete) == (result.total, result.risk, True)
    assert list(orjson.loads(payload)) == ["total", "scores", "risk", "complete", "missing", "frequency", "response",
                                           "t", "ward", "bed", "patient", "device"]  # docs/architecture.md

    hub.handle(topic, payload)
    assert hub.counts["news2"] == 1 and hub.counts["bad"] == 0
    tile = hub.state.bed("w1", "07").tile(now_ms())
    assert tile["news2"] == {"total": 5, "risk": "medium", "complete": True, "missing": []}
    FRAME.validate_python(orjson.loads(orjson.dumps({"type": "tile", "tile": tile})), strict=False)

    hub.handle(topic, orjson.dumps({**orjson.loads(payload), "risk": "amber", "total": 9}))  # refused, counted
    assert hub.counts["bad"] == 1 and hub.state.bed("w1", "07").tile(now_ms())["news2"]["total"] == 5  # type: ignore[index]


class Bound:
    """Ingest's attribution: every device sits at w1/07 with p1."""

    def lookup(self, device: str, t_ms: int) -> Attribution:
        return WHO

    def known(self, device: str) -> bool:
        return True

    def ended_drill(self, device: str, t_ms: int) -> str:
        return ""

    def auto_assign(self, device: str, ward: str) -> Attribution:
        return WHO


def test_ingests_attributed_status_reaches_the_tile_as_the_same_message(hub: Hub) -> None:
    published: list[tuple[str, bytes]] = []
    pipe = Pipeline(R, Bound(), publish=lambda topic, body: published.append((topic, body)))
    received = now_ms()
    device_says = {"online": True, "battery": 18, "technical": {"lead_off": False}, "firmware": "2.1"}
    pipe.handle(topics.device_status("mon-7", R), orjson.dumps(device_says), received, Batch())
    [(topic, payload)] = published
    assert topic == topics.ward_topic("w1", "status", R)
    assert orjson.loads(payload) == {**device_says, "device": "mon-7", "ward": "w1", "bed": "07", "patient": "p1",
                                     "t": received}
    assert DeviceStatusMessage.from_json(orjson.loads(payload), now_ms()).encode() == payload

    hub.handle(topic, payload)
    assert hub.counts["status"] == 1 and hub.counts["bad"] == 0
    tile = hub.state.bed("w1", "07").tile(now_ms())
    assert (tile["online"], tile["battery"], tile["status_t"]) == (True, 18, received)

    hub.handle(topic, orjson.dumps({**orjson.loads(payload), "online": "no"}))  # refused, counted, nothing changed
    assert hub.counts["bad"] == 1 and hub.state.bed("w1", "07").tile(now_ms())["online"] is True


def test_ingests_attributed_status_drives_alertings_technical_alarms() -> None:
    published: list[tuple[str, bytes]] = []
    pipe = Pipeline(R, Bound(), publish=lambda topic, body: published.append((topic, body)))
    device_says = {"online": False, "battery": 12, "technical": {"sensor_fault": True}}
    pipe.handle(topics.device_status("mon-7", R), orjson.dumps(device_says), now_ms(), Batch())
    [(topic, payload)] = published
    svc = alerting()
    svc._handle(topic, payload)
    _, events, _ = svc._queue.get_nowait()
    assert sorted((e.code, e.kind, e.priority, e.event) for e in events) == [
        ("battery", "technical", "low", "raised"), ("device-sensor_fault", "technical", "low", "raised"),
        ("offline", "technical", "medium", "raised")]
    assert {(e.device, e.ward, e.bed, e.patient) for e in events} == {("mon-7", "w1", "07", "p1")}
    assert (svc.counts["status"], svc.counts["rejected"]) == (1, 0)

    good = orjson.loads(payload)  # refused, each counted, and nothing changed
    for bad in ({**good, "online": "no"}, {**good, "battery": 140}, {k: v for k, v in good.items() if k != "t"},
                {**good, "t": now_ms() + 3_600_000}, [good]):
        svc._handle(topic, orjson.dumps(bad))
    assert (svc.counts["status"], svc.counts["rejected"]) == (6, 5) and svc._queue.empty()
    assert sorted(k.family for k in svc.engine.lifecycle.by_key) == ["battery", "device-sensor_fault", "offline"]


class FakeHub:
    """What ``end_drill`` uses of the hub: its root, its client's retained publishes, control messages."""

    def __init__(self) -> None:
        self.root = R
        self.retained: list[tuple[str, bytes]] = []
        self.client = self

    async def publish(self, topic: str, body: Any, qos: int = 1, retain: bool = False) -> None:
        if retain:
            self.retained.append((topic, body))

    async def refresh_assignments(self) -> None:
        return None


def test_the_drill_state_the_api_publishes_drives_the_hub_alerting_and_the_driver(hub: Hub) -> None:
    now = now_ms()
    drill = Drill(DRILL, "w1", (DrillBed("DRILL-01", f"{DRILL}-01", "sepsis"),), 1.0, 1, now, now + 600_000, None,
                  "fm")
    topic = topics.drill_state("w1", R)
    start = drill.state_message(now).encode()
    assert start == orjson.dumps(drill.topic_state(now))  # what POST /api/v1/drills publishes
    assert DrillStateMessage.from_json(orjson.loads(start)).encode() == start

    hub.handle(topic, start)
    banner = hub.state.snapshot("w1", now)["drill"]
    assert banner == {"drill": DRILL, "active": True, "started": now, "ends": now + 600_000, "beds": ["DRILL-01"],
                      "scenarios": ["sepsis"]}
    FRAME.validate_python({"type": "drill", "drill": banner})

    stopped = dataclasses.replace(drill, stopped=now + 1000, stopped_by="cn")
    fake = FakeHub()
    store = SimpleNamespace(stop=lambda *_a: stopped)
    attributions = SimpleNamespace(lookup=lambda device, t: Attribution())
    asyncio.run(end_drill(fake, attributions, store, DRILL, "cn"))  # type: ignore[arg-type]
    [end] = [body for t, body in fake.retained if t == topic]
    assert orjson.loads(end) == {**orjson.loads(start), "active": False, "stopped": now + 1000}
    assert DrillStateMessage.from_json(orjson.loads(end)).encode() == end

    hub.handle(topic, end)
    assert hub.state.snapshot("w1", now)["drill"] is None and hub.counts["bad"] == 0

    svc = alerting()
    svc._handle(topic, end)
    assert DRILL in svc.engine.ended_drills and svc.counts["rejected"] == 0

    driver = LiveDrill(LiveDrillOptions(base_url="http://127.0.0.1:9", broker="mqtt://127.0.0.1:1883", ward="w1",
                                        root=R))
    driver.log = AlarmLog(DRILL)
    driver._message(topic, start)
    assert not driver._stop.is_set()
    driver._message(topic, end)
    assert driver._stop.is_set() and driver._ended_elsewhere


def test_a_drill_state_the_consumers_refuse_changes_nothing(hub: Hub) -> None:
    topic = topics.drill_state("w1", R)
    now = now_ms()
    good = {"drill": DRILL, "ward": "w1", "active": True, "started": now, "ends": now + 60_000, "beds": ["DRILL-01"],
            "scenarios": ["sepsis"]}
    hub.handle(topic, orjson.dumps(good))
    hub.handle(topic, orjson.dumps({**good, "active": "false"}))
    assert hub.counts["bad"] == 1 and hub.state.snapshot("w1", now)["drill"] is not None
    svc = alerting()
    svc._handle(topic, orjson.dumps({"drill": DRILL, "active": 0}))
    assert svc.counts["rejected"] == 1 and DRILL not in svc.engine.ended_drills
