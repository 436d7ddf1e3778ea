"""The central station writes an alarm's reason in the reader's language (``static/alarmtext.js``), from
the English texts alerting writes. Run under node on the texts alerting itself produces (a real engine
fed limit breaches, grouped conditions, latched ends, probe off / lead off, quality, artefacts, stale
data, device status, NEWS2 scores; plus every NEWS2 chart phrase): in English the catalogue writes each
text back word for word (so the reading of it lost nothing), and in Chinese every clause is written
anew, no English word left but the clinical abbreviations, units and device names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alerting import AlarmEvent, Engine, SpotObservation, build_config
from alerting.limits import LimitHit, describe, describe_end
from alerting.news2 import OBSERVATION_FREQUENCY, RESPONSE
from device_profiles import Attribution, DeviceStatusMessage
from tests.alarmtext_node import run_alarmtext

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "dashboard_api" / "static"
T0 = 1_763_805_600_000
WHO = Attribution(ward="w1", bed="07", patient="p1")
# what may stay as it is in Chinese: abbreviations nurses read in both languages, units, names of devices and users
KEPT = re.compile(r"NEWS2?|NIBP|SpO2|SpO₂|etCO2|etCO₂|HR|PR|RR|PI|mmHg|min|mon-1|nina|sensor_fault|[a-z]+_[a-z_]+")



def engine(**layers: Any) -> Engine:
    base: dict[str, Any] = {"anomaly": {"enabled": False}, "news2": {"enabled": False}}
    base.update(layers)
    return Engine(build_config(base))


def run(e: Engine, steps: Sequence[tuple[float, dict[str, float], dict[str, str] | None]]) -> list[AlarmEvent]:
    out: list[AlarmEvent] = []
    for s, values, quality in steps:
        out += e.observe_sample(WHO, "mon-1", T0 + int(s * 1000), values, quality)
    return out


def engine_reasons() -> set[str]:
    """The condition texts of the alarms a real engine raises, updates, latches and ends."""
    events: list[AlarmEvent] = []
    ok = {"heart_rate": 80.0, "spo2": 97.0, "resp_rate": 16.0, "temperature": 37.0, "nibp_sys": 120.0}
    # SpO2 low, then critical, back into the hysteresis band, back within limits: latched (high)
    spo2 = [(s, {**ok, "spo2": 88.0}, None) for s in range(0, 16)] + [(16.0, {**ok, "spo2": 84.0}, None)]
    spo2 += [(s, {**ok, "spo2": 90.0}, None) for s in range(17, 25)] + [(s, {**ok, "spo2": 99.0}, None) for s in range(25, 60)]
    events += run(engine(), spo2)
    # heart and pulse rate high together (one cause, one alarm: "; with …"); NIBP and temperature high
    both = {**ok, "heart_rate": 150.0, "pulse_rate": 150.0, "nibp_sys": 200.0, "nibp_mean": 140.0, "temperature": 39.6}
    events += run(engine(), [(s, both, None) for s in range(0, 40)])
    # probe off (SpO2 0 with a valid HR), lead off (HR 0 with a valid pulse), both off, no pulse to confirm
    events += run(engine(), [(s, {**ok, "spo2": 0.0, "pulse_rate": 0.0}, None) for s in range(0, 30)])
    events += run(engine(), [(s, {**ok, "heart_rate": 0.0, "pulse_rate": 80.0}, None) for s in range(0, 30)])
    events += run(engine(), [(s, {**ok, "heart_rate": 0.0, "spo2": 0.0}, None) for s in range(0, 30)])
    events += run(engine(), [(s, {**ok, "heart_rate": 0.0}, None) for s in range(0, 30)])
    events += run(engine(), [(s, {**ok, "spo2": 97.0}, {"heart_rate": "invalid"}) for s in range(0, 30)])
    # a signal of artefact quality, an implausible value, then nothing at all (stale)
    e = engine()
    events += run(e, [(s, {**ok, "resp_rate": 16.0}, {"resp_rate": "artifact"}) for s in range(0, 30)])
    events += run(e, [(s, {**ok, "heart_rate": 400.0}, None) for s in range(30, 60)])
    events += e.tick(T0 + 900_000)
    # device status: offline, low battery, a device's own technical flag
    for msg in ({"online": False}, {"online": True, "battery": 8}, {"technical": {"sensor_fault": True}}):
        events += e.status(DeviceStatusMessage(**{"device": "mon-1", "ward": "w1", "bed": "07", "patient": "p1",
                                                  "t": T0 + 1_000_000, "online": True, **msg}))
    # NEWS2: incomplete (no spot observations), then complete and high, then falling below the band
    n = engine(news2={"enabled": True, "delay_s": 0, "window_s": 1, "min_samples": 1},
               limits={"resp_rate": {"enabled": False}, "spo2": {"enabled": False}, "heart_rate": {"enabled": False}})
    sick = {**ok, "resp_rate": 26.0, "spo2": 91.0, "heart_rate": 120.0}
    events += run(n, [(s, sick, None) for s in range(0, 10)])
    events += n.spot(SpotObservation(patient="p1", ward="w1", bed="07", t=T0 + 10_000, by="kim", consciousness="A",
                                     supplemental_o2=False))
    events += run(n, [(s, sick, None) for s in range(11, 20)] + [(s, ok, None) for s in range(20, 40)])
    return {str(ev.to_json()["condition_reason"]) for ev in events if ev.to_json().get("condition_reason")}


def written_reasons() -> set[str]:
    """Forms an engine run does not reach every time: the limit texts' variants and every NEWS2 phrase."""
    texts = {describe("spo2", 88, LimitHit("low", False, "medium", 90), 12, 84),
             describe("temperature", 39.2, LimitHit("high", True, "high", 39.0), 0),
             describe("spo2", 91, LimitHit("low", False, "medium", 90), 30, 86),  # back in the hysteresis band
             describe("heart_rate", 128, LimitHit("high", True, "high", 130), 5),
             describe_end("nibp_sys", 120, "high", 210), "no current SpO2 data", "device mon-1 reports sensor_fault"}
    # an escalation wraps the reason (alerting.lifecycle._escalate), "; " inside it included
    texts |= {f"unacknowledged for 120 s: escalated to charge_nurse ({describe('spo2', 88, LimitHit('low', False, 'medium', 90), 12, 84)})",
              "escalated by nina: escalated to physician (NEWS2 7: high risk, urgent or emergency response; "
              "observations continuous monitoring of vital signs)"}
    for risk, response in RESPONSE.items():
        texts.add(f"NEWS2 6: {risk if risk != 'zero' else 'low'} risk, {response}")
    for freq in OBSERVATION_FREQUENCY.values():
        texts.add(f"NEWS2 7: high risk, urgent or emergency response; observations {freq}")
    texts |= {"NEWS2 at least 5 (incomplete, missing consciousness (confusion not confirmed as new)): medium risk",
              "NEWS2 4: low risk, below the alarm band (clears after 120 s and 2 observations below it)",
              "NEWS2 4: low risk, below the alarm band (clears after 2 observations below it)",
              "NEWS2 6: medium risk, within 1 point of the alarm band: the alarm holds (hysteresis)",
              "NEWS2 6: medium risk, within 2 points of the alarm band: the alarm holds (hysteresis)"}
    return texts


def node_translate(lang: str, texts: list[str], tmp: Path) -> list[dict[str, Any]]:
    return run_alarmtext(lang, texts, "translated(m)", tmp)


def test_every_reason_alerting_writes_is_read_whole_and_written_in_chinese(tmp_path: Path) -> None:
    from_engine = engine_reasons()
    # the run reached the forms it is meant to (else this test would pass on nothing)
    for part in ("below critical limit", "not yet clear of it", "back within limits", "; with ", "latched until",
                 "probe off or no pulse", "ECG lead off", "no valid pulse", "RR quality artifact", "implausible",
                 "data for", "offline", "battery", "NEWS2 at least", "risk, "):
        assert any(part in t for t in from_engine), (part, sorted(from_engine))
    texts = sorted(from_engine | written_reasons())
    en = node_translate("en", texts, tmp_path)
    unread = [t for t, r in zip(texts, en, strict=True) if not r["whole"]]
    assert unread == [], "a form alarmtext.js does not recognise"
    changed = [(t, r["text"]) for t, r in zip(texts, en, strict=True) if r["text"] != t]
    assert changed == [], "the English catalogue must write alerting's text back word for word"
    zh = node_translate("zh-CN", texts, tmp_path)
    english_left = {t: r["text"] for t, r in zip(texts, zh, strict=True)
                    if not r["whole"] or re.search(r"[A-Za-z]{3,}", KEPT.sub("", r["text"]))}
    assert english_left == {}
    assert any("低于危急下限" in r["text"] for r in zh) and any("报警保持至确认" in r["text"] for r in zh)


def test_another_form_stays_english_and_says_so(tmp_path: Path) -> None:
    """A device's own text or an anomaly's explanation is not guessed at: left as it is, marked English."""
    texts = ["device mon-1: ASYSTOLE", "unusual for this patient: HR 40 % above its baseline",
             "SpO2 84 % below critical limit 85 % for 15 s; device mon-1: LEADS OFF"]
    zh = node_translate("zh-CN", texts, tmp_path)
    assert [(r["text"], r["whole"], r["english"]) for r in zh[:2]] == [(texts[0], False, True), (texts[1], False, True)]
    assert zh[2]["text"] == "SpO₂ 84 % 低于危急下限 85 %，持续 15 秒；device mon-1: LEADS OFF"  # noqa: RUF001
    assert (zh[2]["whole"], zh[2]["english"]) == (False, False)
