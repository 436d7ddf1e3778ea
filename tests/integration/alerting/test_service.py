"""The alerting service against the real broker (Mosquitto) and the state DB (SQLite file):
alarms published and stored, acknowledgement, silence, escalation, and surviving a restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest

from alerting import AlarmStore, AlertingService, build_config, command_topic, spot_topic
from device_profiles import AttributedObservation, Attribution, Observation, Sample, now_ms, topics
from devservers import Mosquitto

pytestmark = pytest.mark.integration

POLICY = {"levels": [{"role": "primary_nurse", "after_s": 0}, {"role": "charge_nurse", "after_s": 1.5},
                     {"role": "rapid_response", "after_s": 3}]}
CONFIG = build_config({"limits": {"spo2": {"delay_s": 1}}, "anomaly": {"enabled": False},
                       "news2": {"enabled": False}, "escalation": POLICY})
SLOW = build_config({"limits": {"spo2": {"delay_s": 1}}, "anomaly": {"enabled": False},
                     "news2": {"enabled": False}})
WITH_NEWS2 = build_config({"limits": {"spo2": {"delay_s": 1}}, "anomaly": {"enabled": False},
                           "news2": {"delay_s": 600}})


async def until(cond: Callable[[], Any], within: float = 15.0, what: str = "condition") -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        v = cond()
        if v:
            return v
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(svc: AlertingService) -> AsyncIterator[AlertingService]:
    task = asyncio.create_task(svc.run())
    try:
        await until(lambda: svc.ready() or task.done(), what="service ready")
        assert not task.done(), task.exception()
        yield svc
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Bus:
    """A test client: publishes like ingest/dashboard, and collects alarm events."""

    def __init__(self, client: aiomqtt.Client, root: str) -> None:
        self.client, self.root = client, root
        self.events: list[dict[str, Any]] = []
        self.topics: list[str] = []
        self.news2: dict[str, dict[str, Any]] = {}

    async def collect(self) -> None:
        async for m in self.client.messages:
            body = orjson.loads(bytes(m.payload))  # type: ignore[arg-type]
            if "/news2/" in m.topic.value:
                self.news2[m.topic.value] = body
                continue
            self.topics.append(m.topic.value)
            self.events.append(body)

    async def obs(self, t: int, **values: float) -> None:
        a = AttributedObservation(Observation("mon-7", t, [Sample(t, dict(values))]),
                                  Attribution("w1", "07", "p-123"))
        await self.client.publish(topics.ward_obs("w1", self.root), a.encode(), qos=1)

    async def command(self, alarm_id: str, action: str, **extra: Any) -> None:
        body = {"id": alarm_id, "action": action, "by": "nurse.kim", **extra}
        await self.client.publish(command_topic("w1", self.root), orjson.dumps(body), qos=1)

    def find(self, event: str, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event and all(e.get(k) == v for k, v in match.items())]


@pytest.fixture
async def bus(mosquitto: Mosquitto, topic_root: str) -> AsyncIterator[Bus]:
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
        await client.subscribe(f"{topic_root}/alarms/#", qos=1)
        await client.subscribe(f"{topic_root}/news2/#", qos=1)
        b = Bus(client, topic_root)
        task = asyncio.create_task(b.collect())
        yield b
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def service(mosquitto: Mosquitto, tmp_path: Path, root: str, config: Any = CONFIG) -> AlertingService:
    return AlertingService(mosquitto.url, f"sqlite:///{tmp_path / 'state.db'}", root, config,
                           client_id=f"alerting-{root.split('/')[0]}", tick_s=0.1)


async def raise_spo2(bus: Bus, value: float = 80) -> dict[str, Any]:
    t = now_ms()
    await bus.obs(t, spo2=value)
    await bus.obs(t + 1200, spo2=value)
    [raised] = await until(lambda: bus.find("raised", kind="limit"), what="raised")
    return raised


async def test_limit_alarm_is_published_stored_and_acknowledged(mosquitto: Mosquitto, tmp_path: Path,
                                                                topic_root: str, bus: Bus) -> None:
    async with running(service(mosquitto, tmp_path, topic_root, SLOW)):
        raised = await raise_spo2(bus)
        assert (raised["signal"], raised["priority"], raised["state"], raised["ward"], raised["patient"]) == \
            ("spo2", "high", "active", "w1", "p-123")
        assert bus.topics[0] == topics.alarm("w1", raised["id"], topic_root)
        await bus.command(raised["id"], "acknowledge")
        [ack] = await until(lambda: bus.find("acknowledged"), what="acknowledged")
        assert (ack["by"], ack["state"], ack["id"]) == ("nurse.kim", "acknowledged", raised["id"])
    store = AlarmStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    rows = store.events(raised["id"])
    assert [(r["event"], r["by"]) for r in rows] == [("raised", None), ("acknowledged", "nurse.kim")]
    alarm = store.alarm(raised["id"])
    assert alarm is not None and alarm.acknowledged_by == "nurse.kim" and alarm.state == "acknowledged"


async def test_silence_expires_and_the_alarm_sounds_again(mosquitto: Mosquitto, tmp_path: Path, topic_root: str,
                                                          bus: Bus) -> None:
    async with running(service(mosquitto, tmp_path, topic_root, SLOW)):
        raised = await raise_spo2(bus, 88)
        assert raised["priority"] == "medium"
        await bus.command(raised["id"], "silence", minutes=0.03)
        [sil] = await until(lambda: bus.find("silenced"), what="silenced")
        assert sil["state"] == "silenced" and sil["by"] == "nurse.kim"
        await bus.obs(now_ms(), spo2=88)
        again = await until(lambda: [e for e in bus.find("raised") if e["id"] == raised["id"]
                                     and "silence expired" in e["reason"]], what="re-alarm")
        assert again[0]["state"] == "active"


async def test_unacknowledged_alarm_escalates_with_severity_stepping_up(mosquitto: Mosquitto, tmp_path: Path,
                                                                       topic_root: str, bus: Bus) -> None:
    async with running(service(mosquitto, tmp_path, topic_root)):
        raised = await raise_spo2(bus, 88)
        esc = await until(lambda: len(bus.find("escalated")) >= 2 and bus.find("escalated"), what="escalations")
        assert [(e["escalation_level"], e["priority"]) for e in esc] == [(1, "high"), (2, "high")]
        assert "charge_nurse" in esc[0]["reason"] and "rapid_response" in esc[1]["reason"]
        assert all(e["id"] == raised["id"] for e in esc)


async def test_open_alarms_survive_a_restart(mosquitto: Mosquitto, tmp_path: Path, topic_root: str,
                                             bus: Bus) -> None:
    async with running(service(mosquitto, tmp_path, topic_root, SLOW)):
        raised = await raise_spo2(bus, 80)
        await until(lambda: AlarmStore.open(f"sqlite:///{tmp_path / 'state.db'}").alarm(raised["id"]),
                    what="alarm stored")
    # a new process: the alarm is open again and commands on it work
    async with running(service(mosquitto, tmp_path, topic_root, SLOW)) as svc2:
        assert raised["id"] in svc2.engine.lifecycle.by_id
        await bus.obs(now_ms(), spo2=80)  # the same condition continues: no second alarm
        await bus.command(raised["id"], "acknowledge")
        [ack] = await until(lambda: bus.find("acknowledged"), what="acknowledged after restart")
        assert ack["id"] == raised["id"] and ack["by"] == "nurse.kim"
        assert len(bus.find("raised")) == 1


async def test_spot_values_are_stored_and_bad_commands_do_not_stop_the_service(
        mosquitto: Mosquitto, tmp_path: Path, topic_root: str, bus: Bus) -> None:
    async with running(service(mosquitto, tmp_path, topic_root, WITH_NEWS2)) as svc:
        spot = {"patient": "p-123", "bed": "07", "t": now_ms(), "by": "nurse.kim", "consciousness": "V"}
        await bus.client.publish(spot_topic("w1", topic_root), orjson.dumps(spot), qos=1)
        await bus.client.publish(command_topic("w1", topic_root), b'{"id": "x", "action": "dance", "by": "a"}', qos=1)
        await bus.client.publish(topics.ward_obs("w1", topic_root), b"not json", qos=1)
        await until(lambda: svc.counts["rejected"] >= 2 and svc.counts["spot"] == 1, what="messages handled")
        store = AlarmStore.open(f"sqlite:///{tmp_path / 'state.db'}")
        await until(lambda: store.latest_spots(0), what="spot stored")
        assert store.latest_spots(0)[0].consciousness == "V" and store.latest_spots(0)[0].ward == "w1"
        raised = await raise_spo2(bus, 80)  # still working
        assert raised["kind"] == "limit"
        for dt in (5000, 10_000):  # NEWS2 takes the median of >= 3 samples kept >= 5 s apart (issue 11)
            await bus.obs(now_ms() + dt, spo2=80)
        topic = f"{topic_root}/news2/w1/p-123"
        await until(lambda: "spo2" in bus.news2.get(topic, {}).get("scores", {}), what="NEWS2 published")
        n = bus.news2[topic]
        assert n["scores"]["consciousness"] == 3 and n["scores"]["spo2"] == 3 and n["complete"] is False
        assert n["risk"] == "medium" and n["frequency"] == "minimum 1-hourly" and n["bed"] == "07"


async def test_the_first_observation_after_start_publishes_its_news2(
        mosquitto: Mosquitto, tmp_path: Path, topic_root: str, bus: Bus) -> None:
    """It was dropped: changes were tracked only from the first publish on, so a stable patient's
    NEWS2 never appeared until it changed."""
    async with running(service(mosquitto, tmp_path, topic_root, WITH_NEWS2)):
        t = now_ms()
        for i in range(3):  # a monitor's stream: NEWS2 takes the median of >= 3 samples, 5 s apart (issue 11)
            await bus.obs(t + i * 5000, heart_rate=72, spo2=97, resp_rate=16, temperature=37.0, nibp_sys=120)
        topic = f"{topic_root}/news2/w1/p-123"
        await until(lambda: topic in bus.news2 and len(bus.news2[topic]["missing"]) == 2,
                    what="the first complete-but-spot NEWS2 published")
        assert bus.news2[topic]["total"] == 0 and bus.news2[topic]["missing"] == ["supplemental_o2", "consciousness"]


async def test_per_patient_override_from_the_state_db_applies_after_a_reload(
        mosquitto: Mosquitto, tmp_path: Path, topic_root: str, bus: Bus) -> None:
    from alerting import PatientOverride, control_alarms

    async with running(service(mosquitto, tmp_path, topic_root, SLOW)) as svc:
        store = AlarmStore.open(f"sqlite:///{tmp_path / 'state.db'}")
        await asyncio.to_thread(store.set_override, "p-123", "spo2", PatientOverride(low=80, critical_low=75),
                                "dr.lee", now_ms())
        await bus.client.publish(control_alarms(topic_root), b'{"changed": 1}', qos=1)
        await until(lambda: ("p-123", "spo2") in svc.engine.overrides, what="override reloaded")
        t = now_ms()
        await bus.obs(t, spo2=86)
        await bus.obs(t + 1200, spo2=86)
        await bus.obs(t + 1300, heart_rate=130)
        await bus.obs(t + 11_400, heart_rate=130)  # a marker alarm: spo2 86 must not have alarmed before it
        await until(lambda: bus.find("raised", signal="heart_rate"), what="marker alarm")
        assert bus.find("raised", signal="spo2") == []


async def test_alarm_events_made_while_the_broker_is_down_are_published_after_it_returns(
        private_mosquitto: Mosquitto, tmp_path: Path, topic_root: str) -> None:
    svc = service(private_mosquitto, tmp_path, topic_root)
    async with running(svc):
        async with aiomqtt.Client("127.0.0.1", private_mosquitto.port) as client:
            b = Bus(client, topic_root)
            await client.subscribe(f"{topic_root}/alarms/#", qos=1)
            task = asyncio.create_task(b.collect())
            raised = await raise_spo2(b, 88)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        private_mosquitto.stop()
        await until(lambda: not svc.ready(), what="service notices the broker is gone")
        # escalations (level 1 at 1.5 s, level 2 at 3 s) happen while the broker is down: stored first,
        # held for publishing
        store = AlarmStore.open(f"sqlite:///{tmp_path / 'state.db'}")
        await until(lambda: len([e for e in store.events(raised["id"]) if e["event"] == "escalated"]) == 2,
                    what="escalations stored while offline")
        assert svc.unpublished >= 1
        private_mosquitto.start()
        await until(svc.ready, within=40, what="service reconnected")
        await until(lambda: svc.unpublished == 0, within=20, what="held events acknowledged by the broker")


async def test_an_override_stored_while_the_broker_is_down_applies_once_alerting_reconnects(
        private_mosquitto: Mosquitto, tmp_path: Path, topic_root: str) -> None:
    """The bedside API stores a limit and then announces it on the control topic; with the broker down the
    announcement cannot be sent (the API says so), so alerting reloads overrides whenever it reconnects."""
    from alerting import PatientOverride

    svc = service(private_mosquitto, tmp_path, topic_root)
    async with running(svc):
        private_mosquitto.stop()
        await until(lambda: not svc.ready(), what="service notices the broker is gone")
        store = AlarmStore.open(f"sqlite:///{tmp_path / 'state.db'}")
        await asyncio.to_thread(store.set_override, "p-123", "spo2", PatientOverride(low=80, critical_low=75),
                                "dr.lee", now_ms())
        await asyncio.sleep(0.5)
        assert ("p-123", "spo2") not in svc.engine.overrides  # nobody told it yet
        private_mosquitto.start()
        await until(svc.ready, within=40, what="service reconnected")
        await until(lambda: ("p-123", "spo2") in svc.engine.overrides, what="override reloaded on reconnect")
