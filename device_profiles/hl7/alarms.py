"""IHE PCD-04 alarms (``ORU^R40``) -> :class:`DeviceAlarm` s.

Per OBR group: the event OBX (OBX-3 ``MDC_EVT_…`` or a partition-3 code; OBX-8 carries the
priority ``PH``/``PM``/``PL``/``PN`` and the kind ``SP``/``ST``/``SA``), the source parameter OBX
(signal and value), and phase / state OBX (``end``, ``inactive`` … mean the alarm cleared).
The alarm id is OBR-3 (the device's alert id), the time OBX-14, else OBR-7, else MSH-7. When the
event OBX-5 is a coded element (``CWE``: ``196940^MDC_EVT_FLUID_LINE_OCCL^MDC^^^^^^Occlusion``), the
alarm's code is its identifier (CWE-2, else CWE-1) and its text the original text (CWE-9), else the
alternate text (CWE-5), else CWE-2; otherwise the code is OBX-3 and the text OBX-5. An alarm older
than the 7-day raw retention is refused (AE).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from ..canonical import RETENTION_REASON
from ..device_alarm import Decoded, DeviceAlarm
from .fields import field as fld
from .fields import repetitions, too_old, when
from .result import APPLICATION_ERROR, REQUIRED_FIELD_MISSING, SEGMENT_SEQUENCE_ERROR, Hl7Issue, Hl7Result

if TYPE_CHECKING:
    from .oru import Hl7Decoder

EVT_PARTITION = range(3 << 16, 4 << 16)  # MDC partition 3: events (alarms)
_PRIORITY = {"PH": "high", "PM": "medium", "PL": "low", "PN": "low"}
_CODED = frozenset({"CWE", "CE", "CNE", "CF"})  # OBX-2 value types whose OBX-5 is a coded element
_ENDED = frozenset({"end", "stop", "reset", "inactivate", "inactive", "cleared"})


def decode_alarms(dec: Hl7Decoder, msg: Any, zone: tzinfo, msh_t: int | None, received_ms: int,
                  res: Hl7Result) -> None:
    """PCD-04 ``ORU^R40``: one alarm per OBR group (event OBX, source parameter, phase and state)."""
    default_dev, per_mds = dec.device_ids(msg)
    if not default_dev:
        res.issues.append(Hl7Issue("OBX", 1, 18, REQUIRED_FIELD_MISSING,
                                   f"no device identity (tried {', '.join(dec.spec.device_id)})"))
        return
    groups: list[tuple[Any, int, list[tuple[int, Any]]]] = []
    obx_n = obr_n = 0
    for seg in msg:
        name = str(seg[0])
        if name == "OBR":
            obr_n += 1
            groups.append((seg, obr_n, []))
        elif name == "OBX":
            obx_n += 1
            if not groups:
                res.issues.append(Hl7Issue("OBX", obx_n, None, SEGMENT_SEQUENCE_ERROR, "OBX before any OBR"))
                continue
            groups[-1][2].append((obx_n, seg))
    if not groups:
        res.issues.append(Hl7Issue("OBR", 1, None, SEGMENT_SEQUENCE_ERROR, "ORU^R40 without an OBR alarm group"))
    by_dev: dict[str, Decoded] = {}
    for obr, obr_seq, obxs in groups:
        alarm = _one_alarm(dec, obr, obr_seq, obxs, default_dev, per_mds, zone, msh_t, received_ms, res)
        if alarm is not None:
            by_dev.setdefault(alarm.device, Decoded(dec.profile_id, alarm.device)).alarms.append(alarm)
    res.decoded.extend(by_dev.values())

def _one_alarm(dec: Hl7Decoder, obr: Any, obr_seq: int, obxs: list[tuple[int, Any]], default_dev: str,
           per_mds: dict[str, str], zone: tzinfo, msh_t: int | None, received_ms: int,
           res: Hl7Result) -> DeviceAlarm | None:
    event: tuple[int, Any] | None = None
    sig: str | None = None
    value: float | None = None
    state = "active"
    for n, obx in obxs:
        code, name = fld(obx, 3, 1), fld(obx, 3, 2)
        if name.startswith("MDC_EVT_") or (code.isdigit() and int(code) in EVT_PARTITION):
            event = event or (n, obx)
        elif name in ("MDC_ATTR_EVENT_PHASE", "MDC_ATTR_ALARM_STATE"):
            if fld(obx, 5).lower() in _ENDED:
                state = "cleared"
        elif sig is None and (found := dec.signal_for(code, name)) is not None:
            sig = found
            try:
                value = float(fld(obx, 5))
            except ValueError:
                value = None
    if event is None:
        res.issues.append(Hl7Issue("OBR", obr_seq, None, REQUIRED_FIELD_MISSING,
                                   "alarm group has no event OBX (OBX-3 MDC_EVT_…)"))
        return None
    n, obx = event
    flags = repetitions(obx, 8)
    priority = next((_PRIORITY[f] for f in flags if f in _PRIORITY), None)
    if priority is None:
        res.issues.append(Hl7Issue("OBX", n, 8, REQUIRED_FIELD_MISSING,
                                   "no alarm priority in OBX-8 (PH, PM, PL or PN); reported as low"))
        priority = "low"
    kind = "technical" if "ST" in flags else "device"
    obr_t = dec.parse_time(fld(obr, 7), zone, received_ms, res, ("OBR", obr_seq, 7))
    t = dec.parse_time(fld(obx, 14), zone, received_ms, res, ("OBX", n, 14)) if fld(obx, 14) else None
    t = t if t is not None else obr_t if obr_t is not None else msh_t
    if t is None:
        t = received_ms
    if too_old(t, received_ms, dec.max_age_ms):
        res.issues.append(Hl7Issue("OBX", n, 14, APPLICATION_ERROR,
                                   f"alarm at {when(t)}, {RETENTION_REASON}: not stored"))
        return None
    mds = fld(obx, 4).split(".")[0]
    code, name = fld(obx, 3, 1), fld(obx, 3, 2)
    if fld(obx, 2) in _CODED or fld(obx, 5, 2) or fld(obx, 5, 9):
        # OBX-5 names the event as a CWE (OBX-3 is then often the generic MDC_EVT_ALARM):
        # 196940^MDC_EVT_FLUID_LINE_OCCL^MDC^^^^^^Occlusion -> code CWE-2 (else -1), text CWE-9 (original
        # text), else CWE-5 (alternate text), else CWE-2
        ev_id, ev_name = fld(obx, 5, 1), fld(obx, 5, 2)
        if ev_id or ev_name:
            code, name = ev_id, ev_name
        text = fld(obx, 5, 9) or fld(obx, 5, 5) or name or code
    else:
        text = fld(obx, 5) or name or code
    alarm_id = fld(obr, 3) or res.control_id or None
    return DeviceAlarm(per_mds.get(mds, default_dev), t, (name or code)[:128], priority, text[:512], kind, state,
                       sig, value, alarm_id[:128] if alarm_id else None, dec.profile_id)
