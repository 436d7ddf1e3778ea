"""The typed websocket frames (device_profiles/ws_frames.py) describe what the server really sends: frames
built by WardState from real alerting events, a drill's retained state and a waveform chunk validate
against them, and frames that break the contract do not."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from alerting.events import Alarm, AlarmKey
from alerting.reasons import verbatim
from dashboard_api import WardState
from dashboard_api.drills import Drill, DrillBed
from device_profiles import DeviceStatusMessage, DrillStateMessage, News2Message
from device_profiles.ws_frames import FRAME

T = 1_763_805_600_000


def _event(event: str = "raised", **over: Any) -> dict[str, Any]:
    a = Alarm(id="a1", ward="w1", bed="07", patient="p1", device="mon-7", kind="limit", signal="spo2", code="low",
              priority="high", raised_t=T, reason="SpO2 84 % below 90 for 15 s", value=84.0)
    for k, v in over.items():
        setattr(a, k, v)
    # through JSON as on the broker
    by, why = ("cn", "acknowledged by cn") if event == "acknowledged" else (None, None)
    out: dict[str, Any] = orjson.loads(a.event(event, T + 1000, by=by, reason=why).encode())
    return out


def _validate(frame: dict[str, Any]) -> None:
    FRAME.validate_python(orjson.loads(orjson.dumps(frame)), strict=False)


def test_snapshot_tile_and_alarm_frames_from_wardstate_validate() -> None:
    s = WardState()
    s.observe({"v": 1, "device": "mon-7", "seq": 1, "ward": "w1", "bed": "07", "patient": "p1",
               "samples": [{"t": T, "heart_rate": 72, "spo2": 84, "q": {"spo2": "questionable"}}]})
    s.status(DeviceStatusMessage.from_json({"device": "mon-7", "ward": "w1", "bed": "07", "online": True, "battery": 40,
                                          "t": T}, T))
    s.spot("w1", {"patient": "p1", "bed": "07", "t": T, "consciousness": "A", "supplemental_o2": False})
    raised = _event()
    s.alarm(raised)
    acked = s.keep_condition(_event("acknowledged", state="acknowledged"))
    s.alarm(acked)
    s.news2(News2Message.from_json({"ward": "w1", "bed": "07", "patient": "p1", "total": 3, "risk": "low-medium",
                                    "complete": False, "missing": ["resp_rate"]}, T))
    for frame in ({"type": "alarm", "alarm": raised}, {"type": "alarm", "alarm": acked},
                  {"type": "tile", "tile": s.bed("w1", "07").tile(T + 2000)}, s.snapshot("w1", T + 2000)):
        _validate(frame)
    assert acked["action"] == "acknowledged by cn"


def test_grouped_escalated_and_latched_alarms_validate() -> None:
    a = Alarm(id="a2", ward="w1", bed="07", patient="p1", device="mon-7", kind="news2", signal=None, code="news2",
              priority="medium", raised_t=T, reason="NEWS2 5", band="medium", role="doctor", escalation_level=1)
    a.grouped[AlarmKey("p1", "limit", "resp_rate", "high")] = verbatim("RR 31 above 30")
    a.condition, a.ended_t = False, T + 500
    _validate({"type": "alarm", "alarm": orjson.loads(a.event("updated", T + 500).encode())})


def test_drill_wave_resync_and_heartbeat_frames_validate() -> None:
    d = Drill(id="drill-1", ward="w1", beds=(DrillBed("DRILL-01", "drill-mon-1", "sepsis"),), speed=1.0, seed=1,
              started=T, ends=T + 60_000, stopped=None, started_by="fm")
    s = WardState()
    state = s.set_drill("w1", DrillStateMessage.from_json(orjson.loads(orjson.dumps(d.topic_state(T)))))
    _validate({"type": "drill", "drill": state})
    _validate({"type": "drill", "drill": None})
    _validate({"type": "wave", "bed": "07", "signal": "ecg_ii", "fs": 250, "t0": T, "samples": [0.1, 0.2]})
    _validate({"type": "resync"})
    _validate({"type": "heartbeat", "now": T, "feed": True})


@pytest.mark.parametrize("frame", [
    {"type": "tile"},  # no tile
    {"type": "alarm", "alarm": {"id": "a1"}},  # an alarm without ward, bed, priority...
    {"type": "heartbeat"},  # no time
    {"type": "unknown"},
    {"type": "drill", "drill": {"drill": "d", "active": True, "started": T, "ends": T, "beds": [],
                                "scenarios": {"DRILL-01": "sepsis"}}},  # scenarios is a list of names
])
def test_frames_outside_the_contract_are_refused(frame: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _validate(frame)
