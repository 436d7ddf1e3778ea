"""Alarm reasons as message keys (issue 15): every key alerting can write is in both interface catalogues
with the same placeholders, and the English catalogue's text of each is alerting's own template, word for
word; real events of a real engine (limits, grouping, latching, technical conditions, device status and
device alarms, NEWS2 raised / held / fading / ended / suspended, anomaly advisories, every nurse action,
escalation, a silence running out, a drill ending, an ADT hand-over) carry a key, and the key and its
parameters written by the station's own code (``static/alarmtext.js`` under node) in English ARE the event's
English ``reason`` and ``condition_reason``; in Chinese every nested key is found and no English word is
left but clinical abbreviations, units, device and user names."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerting import AlarmCommand, AlarmEvent, Engine, SpotObservation, build_config
from alerting.reasons import TEXTS
from device_profiles import Attribution, DeviceAlarm, DeviceStatusMessage
from tests.alarmtext_node import run_alarmtext

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "dashboard_api" / "static"
T0 = 1_763_805_600_000
WHO = Attribution(ward="w1", bed="07", patient="p1")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# what may stay as it is in Chinese: abbreviations nurses read in both languages, units, names of devices,
# users and roles, a ward setting's name, a device's own code and text
KEPT = re.compile(r"NEWS2?|NIBP|SpO2|SpO₂|etCO2|etCO₂|HR|PR|RR|PI|SD|ADT|mmHg|min|mon-\d|nina|omar|rn\.kim|"
                  r"sensor_fault|MDC_[A-Z_]+|ASYSTOLE|news2\.suspend_sedated|[a-z]+_[a-z_]+")



def load(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def engine(**layers: Any) -> Engine:
    base: dict[str, Any] = {"anomaly": {"enabled": False}, "news2": {"enabled": False}}
    base.update(layers)
    return Engine(build_config(base))


def feed(e: Engine, start: int, stop: int, who: Attribution = WHO, device: str = "mon-1",
         quality: dict[str, str] | None = None, **values: float) -> list[AlarmEvent]:
    out: list[AlarmEvent] = []
    for s in range(start, stop):
        out += e.observe_sample(who, device, T0 + s * 1000, dict(values), quality)
    return out


def command(e: Engine, alarm_id: str, action: str, s: int, minutes: float | None = None,
            by: str = "rn.kim") -> list[AlarmEvent]:
    return e.command(AlarmCommand(id=alarm_id, action=action, by=by, minutes=minutes, t=T0 + s * 1000),  # type: ignore[arg-type]
                     T0 + s * 1000)


def spot(e: Engine, s: int, **values: Any) -> list[AlarmEvent]:
    return e.spot(SpotObservation(patient="p1", ward="w1", bed="07", t=T0 + s * 1000, by="nina", **values))


OK = {"heart_rate": 80.0, "pulse_rate": 80.0, "spo2": 97.0, "resp_rate": 16.0, "temperature": 37.0, "nibp_sys": 120.0}


def engine_events() -> list[AlarmEvent]:
    """The events of real engines driven through every kind of reason alerting writes."""
    ev: list[AlarmEvent] = []
    # SpO2 low, critical, back into the hysteresis band, back within limits: latched; then acknowledged
    e = engine()
    ev += feed(e, 0, 16, **{**OK, "spo2": 88.0}) + feed(e, 16, 17, **{**OK, "spo2": 84.0})
    ev += feed(e, 17, 25, **{**OK, "spo2": 90.0}) + feed(e, 25, 40, **{**OK, "spo2": 99.0})
    ev += command(e, ev[0].id, "acknowledge", 41)
    # heart and pulse rate high together (one cause, one alarm), NIBP high: silenced, the silence runs out,
    # escalated by a nurse, escalated by time, cleared by hand
    e = engine()
    high = {**OK, "heart_rate": 150.0, "pulse_rate": 150.0, "nibp_sys": 200.0, "nibp_mean": 140.0}
    mine = feed(e, 0, 40, **high)
    hr = next(x for x in mine if x.kind == "limit" and x.signal == "heart_rate" and x.event == "raised")
    mine += command(e, hr.id, "silence", 41, minutes=1) + feed(e, 41, 110, **high)
    mine += command(e, hr.id, "escalate", 111, by="omar") + feed(e, 112, 400, **high)
    ev += mine + command(e, hr.id, "clear", 401)
    # a limit alarm whose signal stops coming: it ends for want of data
    e = engine()
    ev += feed(e, 0, 90, **{**OK, "resp_rate": 35.0}) + e.tick(T0 + 600_000)
    # technical: probe off, lead off (a valid pulse, and leads known off), both off, nothing to confirm, HR invalid
    ev += feed(engine(), 0, 30, **{**OK, "spo2": 0.0, "pulse_rate": 0.0})
    e = engine()
    ev += feed(e, 0, 30, **{**OK, "heart_rate": 0.0}) + feed(e, 30, 60, **{**OK, "heart_rate": 80.0})
    ev += feed(engine(), 0, 30, **{**OK, "heart_rate": 0.0, "spo2": 0.0})
    e = engine()
    ev += feed(e, 0, 30, **{**OK, "heart_rate": 0.0, "pulse_rate": 80.0}) + feed(e, 30, 60, **{
        **OK, "heart_rate": 0.0, "pulse_rate": 0.0, "spo2": 0.0})
    ev += feed(engine(), 0, 30, heart_rate=0.0, spo2=97.0, resp_rate=16.0)
    ev += feed(engine(), 0, 30, quality={"heart_rate": "invalid"}, spo2=97.0, resp_rate=16.0)
    # a signal of artefact quality, then valid again; an implausible value, then plausible; then no data at all
    e = engine()
    ev += feed(e, 0, 30, quality={"resp_rate": "artifact"}, **OK) + feed(e, 30, 40, **OK)
    ev += feed(e, 40, 70, **{**OK, "heart_rate": 400.0}) + feed(e, 70, 80, **OK)
    ev += e.tick(T0 + 900_000)
    ev += feed(e, 901, 905, **OK)
    # device status: offline and online, low battery and charged, a device's own technical flag on and off
    # (ingest's status always says whether the device is online: the later ones say it is)
    for msg in ({"online": False}, {"online": True}, {"battery": 8}, {"battery": 80},
                {"technical": {"sensor_fault": True}}, {"technical": {"sensor_fault": False}}):
        ev += e.status(DeviceStatusMessage(**{"device": "mon-1", "ward": "w1", "bed": "07", "patient": "p1",
                                              "t": T0 + 1_000_000, "online": True, **msg}))
    # an alarm the device raised itself, and its end
    for state in ("active", "cleared"):
        ev += e.device_alarm(DeviceAlarm(device="mon-1", t=T0 + 1_001_000, code="MDC_EVT_ASYSTOLE", priority="high",
                                         text="ASYSTOLE", kind="device", state=state), WHO)
    # the device now feeds another patient (ADT): its old patient's open conditions end
    ev += feed(e, 1010, 1030, **{**OK, "spo2": 85.0})
    ev += feed(e, 1030, 1032, who=Attribution("w1", "08", "p2"), **OK)
    # NEWS2: incomplete (no spot values), complete and high, held by hysteresis, fading below its band, ended
    n = engine(news2={"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1, "clear_after_s": 30,
                      "hysteresis": 1},
               limits={"resp_rate": {"enabled": False}, "spo2": {"enabled": False}, "heart_rate": {"enabled": False},
                       "temperature": {"enabled": False}, "nibp_sys": {"enabled": False}})
    sick = {**OK, "resp_rate": 26.0, "spo2": 91.0, "heart_rate": 120.0}
    ev += feed(n, 0, 10, **sick) + spot(n, 10, consciousness="A", supplemental_o2=False)
    ev += feed(n, 11, 20, **sick) + feed(n, 20, 25, **{**OK, "resp_rate": 21.0, "heart_rate": 95.0})
    ev += feed(n, 25, 80, **OK)
    for o2, values in ((True, {**OK, "resp_rate": 22.0, "heart_rate": 95.0}),  # 2 + 1 + 2: medium
                       (False, {**OK, "resp_rate": 25.0})):  # a single parameter scoring 3: low-medium
        m = engine(news2={"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1})
        ev += spot(m, 0, consciousness="A", supplemental_o2=o2) + feed(m, 1, 5, **values)
    # an incomplete score of a patient whose confusion is not confirmed as new; a score of 0 missing values
    u = engine(news2={"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1, "unconfirmed_confusion": "missing"})
    ev += spot(u, 0, consciousness="C", supplemental_o2=True) + feed(u, 1, 10, resp_rate=25.0, spo2=97.0)
    # NEWS2 suspended for a sedated patient
    s = engine(news2={"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1, "suspend_sedated": ["w1"]})
    ev += spot(s, 0, consciousness="P", supplemental_o2=True) + feed(s, 1, 10, **OK)
    ev += spot(s, 11, sedated=True, ventilated=True)
    # an anomaly advisory (unusual for this patient, inside the limits), and back to the baseline
    a = engine(anomaly={"enabled": True, "window_s": 1, "warmup": 20, "threshold": 4.0, "clear_after": 3})
    rng = random.Random(7)
    for k in range(0, 400):
        hr = 70 if k < 60 or k >= 300 else 100
        ev += feed(a, k, k + 1, heart_rate=hr + rng.gauss(0, 1), spo2=97 + rng.gauss(0, 0.3))
    # a live drill's alarm, cleared because the drill ended
    d = engine()
    ev += feed(d, 0, 30, who=Attribution("w1", "DRILL-01", "", "drill-1"), device="drill-1-01", **{**OK, "spo2": 80.0})
    ev += d.end_drill("drill-1", T0 + 31_000)
    return ev


def messages(ev: AlarmEvent) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(English text, key, params) of an event's reason and condition reason."""
    j = ev.to_json()
    yield j["reason"], j.get("reason_key", ""), j.get("reason_params", {})
    yield j["condition_reason"], j.get("condition_key", ""), j.get("condition_params", {})


def keys_in(key: str, params: dict[str, Any]) -> Iterator[str]:
    yield key
    for v in params.values():
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, dict) and "key" in item:
                yield from keys_in(item["key"], item["params"])


def render(key: str, params: dict[str, Any], cat: dict[str, str]) -> str:
    """The English catalogue's text of a message (the Python twin of alarmtext.js ``message``)."""
    def param(v: Any) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, list):
            return cat["reason.listSep"].join(param(x) for x in v)
        if "term" in v:
            return str(v["text"])
        return render(v["key"], v["params"], cat)
    return PLACEHOLDER.sub(lambda m: param(params[m.group(1)]) if m.group(1) in params else m.group(0), cat[key])


def node_messages(lang: str, items: list[dict[str, Any]], tmp: Path) -> list[str | None]:
    return run_alarmtext(lang, items, "message(m.key, m.params)", tmp)


@pytest.fixture(scope="module")
def events() -> list[AlarmEvent]:
    return engine_events()


def test_every_key_alerting_writes_is_in_both_catalogues_and_english_is_alertings_own_text() -> None:
    en, zh = load("en"), load("zh-CN")
    assert sorted(k for k in TEXTS if k not in en) == [], "keys missing in en.json"
    assert sorted(k for k in TEXTS if k not in zh) == [], "keys missing in zh-CN.json"
    assert {k: (TEXTS[k], en[k]) for k in TEXTS if en[k] != TEXTS[k]} == {}, "en.json must be alerting's text"
    differ = {k: zh[k] for k in TEXTS if set(PLACEHOLDER.findall(zh[k])) != set(PLACEHOLDER.findall(TEXTS[k]))}
    assert differ == {}


def test_every_key_named_in_alerting_s_code_is_one_it_has_a_text_for() -> None:
    """A whole reason key written anywhere in alerting ("reason.…", also in a branch the engine run below may
    not reach) is a key of alerting.reasons.TEXTS, so of both catalogues."""
    named: set[str] = set()
    for path in sorted((ROOT / "alerting").glob("*.py")):
        named |= set(re.findall(r"""["'](reason\.[\w.-]*[\w-])["']""", path.read_text(encoding="utf-8")))
    assert len(named) > 60, named  # the scan sees the code (else it would pass on nothing)
    assert sorted(named - set(TEXTS)) == []


def test_real_events_carry_keys_whose_english_is_their_reason(events: list[AlarmEvent]) -> None:
    en = load("en")
    unkeyed = [(ev.event, text) for ev in events for text, key, _ in messages(ev) if not key]
    assert unkeyed == [], "every reason a live engine writes has a key"
    wrong = {(text, render(key, params, en)) for ev in events for text, key, params in messages(ev)
             if render(key, params, en) != text}
    assert wrong == set()
    seen = {k for ev in events for _, key, params in messages(ev) for k in keys_in(key, params)}
    assert sorted(seen - set(en)) == [] and sorted(seen - set(load("zh-CN"))) == []
    # the run reached the forms it is meant to (else this test would pass on nothing)
    must = {"reason.belowCritical", "reason.backAbove", "reason.backWithin", "reason.with", "reason.latched",
            "reason.probeOff", "reason.probeAndLeadsOff", "reason.leadOffPulse",
            "reason.unconfirmedZero", "reason.quality", "reason.qualityValid", "reason.implausible",
            "reason.plausible", "reason.noCurrent", "reason.stale", "reason.dataAgain", "reason.signalBack",
            "reason.offline", "reason.online", "reason.battery", "reason.batteryNow", "reason.reports",
            "reason.resolved", "reason.deviceSays", "reason.deviceCleared", "reason.handedOver",
            "reason.news2Floor", "reason.news2FloorNote", "reason.news2Total", "reason.news2Tail",
            "reason.holdsOne", "reason.belowBand", "reason.observations", "reason.obtain", "reason.news2Suspended",
            "reason.unusual", "reason.baseline", "reason.acknowledgedBy", "reason.ackAfterEnd", "reason.silencedBy",
            "reason.silenceExpired", "reason.escalated", "reason.escalatedBy", "reason.unacknowledged",
            "reason.clearedBy", "reason.drillEnded", "reason.response.medium", "reason.response.lowMedium"}
    assert sorted(must - seen) == []


def test_the_station_writes_the_keys_as_alerting_wrote_them_and_in_chinese(events: list[AlarmEvent],
                                                                            tmp_path: Path) -> None:
    pairs = {(text, json.dumps({"key": key, "params": params}, sort_keys=True))
             for ev in events for text, key, params in messages(ev)}
    texts, items = zip(*sorted(pairs), strict=True)
    en = node_messages("en", [json.loads(i) for i in items], tmp_path)
    assert [(t, got) for t, got in zip(texts, en, strict=True) if got != t] == []
    zh = node_messages("zh-CN", [json.loads(i) for i in items], tmp_path)
    assert None not in zh
    english_left = {t: z for t, z in zip(texts, zh, strict=True)
                    if z is not None and re.search(r"[A-Za-z]{3,}", KEPT.sub("", z))}
    assert english_left == {}
    assert any("低于危急下限" in z for z in zh if z) and any("报警保持至确认" in z for z in zh if z)


def test_a_key_no_catalogue_has_is_refused_so_the_station_reads_the_english(tmp_path: Path) -> None:
    got = node_messages("zh-CN", [{"key": "reason.offline", "params": {"device": "mon-1"}},
                                  {"key": "reason.noSuchKey", "params": {}},
                                  {"key": "reason.then", "params": {"a": {"key": "reason.signalBack", "params": {}},
                                                                    "b": {"key": "reason.nope", "params": {}}}}],
                         tmp_path)
    assert got == ["设备 mon-1 离线", None, None]
