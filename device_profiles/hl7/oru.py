"""IHE PCD HL7 v2 messages -> canonical observations (PCD-01 ``ORU^R01``) and device alarms (PCD-04
``ORU^R40``), driven by an ``hl7v2-mllp`` profile.

Parsing is python-hl7's; this module maps what it finds. Real-world quirks handled:
- MDC codes by number or by name, synonyms (MDC_ECG_CARD_BEAT_RATE is heart rate), short term codes
  without their partition (16770 for 147842), and arterial SaO2 (150324) kept apart from SpO2;
- OBX-4 device hierarchy (MDS.VMD.CHAN.METRIC): the device id is the OBX-18 instance id of the MDS
  the metric belongs to, so one gateway message may carry several monitors;
- a missing OBX-14 falls back to OBR-7, then MSH-7; times without offset take MSH-7's offset,
  else the profile's zone;
- units by MDC code, MDC name or UCUM (MDC_DIM_MMHG, kPa converted to mmHg); a perfusion index
  sent as MDC_DIM_DIMLESS is the displayed value, not a fraction.
Problems are collected per OBX (HL7 error codes of table 0357) so the ACK can name each one; the
good observations of a message are kept. An ``ORU^R01`` without any OBX is refused (AR). An
observation older than the 7-day raw retention is refused (AE naming the OBX) rather than dropped by
the store later. Two OBX giving one signal at one time with different values: the more abnormal
(farther outside :data:`~device_profiles.catalogue.REFERENCE_RANGES`) is kept and the ACK carries a
warning ERR (205, severity W) naming both; the message is still ``AA``. Codes not in the catalogue
are listed in ``Hl7Result.unmapped`` (the gateway counts them per code).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

import hl7

from ..canonical import FUTURE_TOLERANCE_MS, RAW_RETENTION_MS, RETENTION_REASON, T_MIN_MS, Observation, Sample
from ..catalogue import MDC_NAME_SYNONYMS, MDC_SYNONYMS, NUMERIC_SIGNALS, SIGNALS, abnormality
from ..compiler import CompiledProfile, parse_zone
from ..device_alarm import Decoded
from ..units import ALIASES, UnitError, conversion
from .alarms import decode_alarms
from .fields import DtmError, parse_dtm, too_old, when, zone_of
from .fields import field as fld
from .lazy import LazyMessage, ObxFields
from .result import (
    APPLICATION_ERROR,
    DATA_TYPE_ERROR,
    DUPLICATE_KEY,
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE_ERROR,
    TABLE_VALUE_NOT_FOUND,
    UNSUPPORTED_EVENT_CODE,
    UNSUPPORTED_MESSAGE_TYPE,
    UNSUPPORTED_VERSION,
    Hl7Issue,
    Hl7Result,
)

__all__ = ["APPLICATION_ERROR", "Hl7Decoder", "Hl7Issue", "Hl7Result", "device_id", "normalise"]

SCADA_PARTITION = 2 << 16  # MDC partition 2: physiological measurements
_DIMLESS_AS_IS = frozenset({"perfusion_index"})
_BAD_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


def normalise(raw: str) -> str:
    """Segment separators to CR (files and some senders use LF or CRLF); empty segments dropped."""
    text = raw.strip("\r\n\x0b\x1c \t").replace("\r\n", "\r").replace("\n", "\r")
    return "\r".join(seg for seg in text.split("\r") if seg.strip())


def device_id(text: str, prefix: str) -> str:
    """The device id for an identifier; ``""`` when nothing of it is usable (e.g. only ``é``)."""
    clean = _BAD_ID_CHARS.sub("-", text).strip("-")
    return (prefix + clean)[:64] if clean else ""


class Hl7Decoder:
    """Decodes HL7 v2 text with one ``hl7v2-mllp`` profile."""

    def __init__(self, compiled: CompiledProfile, max_age_ms: int | None = RAW_RETENTION_MS) -> None:
        """``max_age_ms``: observations and alarms older than this (relative to the receive time)
        are refused, AE (the raw retention; ``None``: no limit, e.g. the conformance kit's old samples)."""
        spec = compiled.profile.hl7
        if spec is None:
            raise ValueError(f"profile {compiled.id!r} is not an hl7v2-mllp profile")
        self.profile_id = compiled.id
        self.spec = spec
        self.codes = compiled.hl7_codes
        self.units = {**ALIASES, **compiled.hl7_units}
        self.zone = parse_zone(spec.default_zone)
        self.types = frozenset(spec.messages)
        self.max_age_ms = max_age_ms

    # -- entry point -------------------------------------------------------------------------
    def decode(self, raw: str, received_ms: int) -> Hl7Result:
        """Decode one message; never raises: problems are in ``issues`` (``rejected`` for AR)."""
        try:
            return self._decode(raw, received_ms)
        except (hl7.exceptions.HL7Exception, IndexError, KeyError, ValueError, TypeError, AssertionError) as exc:
            # python-hl7 raises these (its parser even asserts) on structurally broken messages
            res = Hl7Result()
            return res.reject("MSH", 1, None, SEGMENT_SEQUENCE_ERROR, f"malformed message ({type(exc).__name__}: {exc})")

    def _decode(self, raw: str, received_ms: int) -> Hl7Result:
        res = Hl7Result()
        text = normalise(raw)
        if not text.startswith("MSH"):
            return res.reject("MSH", 1, None, SEGMENT_SEQUENCE_ERROR, "message does not start with an MSH segment")
        if len(text) < 8 or text[3] != "|":
            return res.reject("MSH", 1, 1, REQUIRED_FIELD_MISSING, "MSH-1/MSH-2: field separator must be '|' followed by encoding characters")
        enc = text[4:8]
        if len(set(enc + "|")) != 5 or any(ch.isalnum() or ch.isspace() for ch in enc):
            return res.reject("MSH", 1, 2, DATA_TYPE_ERROR, f"MSH-2 encoding characters {enc!r} are not four distinct delimiters")
        try:
            msg = LazyMessage(text)  # segments parsed one at a time: bounded memory for big messages
        except (hl7.exceptions.HL7Exception, IndexError, KeyError, ValueError, TypeError) as exc:
            return res.reject("MSH", 1, None, SEGMENT_SEQUENCE_ERROR, f"cannot parse the message ({exc})")
        res.message = msg
        msh = msg.segment("MSH")
        res.control_id = fld(msh, 10)
        code, event = fld(msh, 9, 1), fld(msh, 9, 2)
        res.message_type = f"{code}^{event}"
        if not res.control_id:
            res.issues.append(Hl7Issue("MSH", 1, 10, REQUIRED_FIELD_MISSING, "MSH-10 message control id is empty"))
        if code != "ORU":
            return res.reject("MSH", 1, 9, UNSUPPORTED_MESSAGE_TYPE, f"message type {res.message_type!r} is not supported (ORU^R01, ORU^R40)")
        if res.message_type not in self.types:
            return res.reject("MSH", 1, 9, UNSUPPORTED_EVENT_CODE,
                              f"event {event!r} is not supported by profile {self.profile_id} ({', '.join(sorted(self.types))})")
        version = fld(msh, 12)
        if version and not version.startswith("2."):
            return res.reject("MSH", 1, 12, UNSUPPORTED_VERSION, f"HL7 version {version!r} is not 2.x")
        try:
            zone = zone_of(fld(msh, 7)) or self.zone
        except DtmError as exc:
            return res.reject("MSH", 1, 7, DATA_TYPE_ERROR, str(exc))
        msh_t = self.parse_time(fld(msh, 7), zone, received_ms, res, ("MSH", 1, 7), required=False)
        if res.message_type == "ORU^R01":
            self._observations(msg, zone, msh_t, received_ms, res)
        else:
            decode_alarms(self, msg, zone, msh_t, received_ms, res)
        return res

    # -- helpers -------------------------------------------------------------------------------
    def parse_time(self, text: str, zone: tzinfo, received_ms: int, res: Hl7Result, where: tuple[str, int, int],
              required: bool = True) -> int | None:
        if not text:
            return None
        try:
            t = parse_dtm(text, zone)
        except DtmError as exc:
            res.issues.append(Hl7Issue(where[0], where[1], where[2], DATA_TYPE_ERROR, str(exc)))
            return None
        if t < T_MIN_MS or t > received_ms + FUTURE_TOLERANCE_MS:
            res.issues.append(Hl7Issue(where[0], where[1], where[2], DATA_TYPE_ERROR,
                                       f"{text!r} is before 2000 or more than 5 minutes in the future"))
            return None
        return t

    def signal_for(self, code: str, name: str) -> str | None:
        for key in (code, name):
            if key and key in self.codes:
                return self.codes[key]
        if code.isdigit():
            n = int(code)
            if n in MDC_SYNONYMS:
                return MDC_SYNONYMS[n]
        if name in MDC_NAME_SYNONYMS:
            return MDC_NAME_SYNONYMS[name]
        if code.isdigit() and int(code) < 1 << 16:
            return MDC_SYNONYMS.get(SCADA_PARTITION | int(code))
        return None

    def _unit(self, sig: str, obx: Any) -> str | None:
        """The UCUM unit of OBX-6 (by name, code or UCUM text); ``None`` when unknown."""
        for text in (fld(obx, 6, 2), fld(obx, 6, 1)):
            if text:
                if text in self.units:
                    return self.units[text]
                if text in ("mm[Hg]", "kPa", "Cel", "[degF]", "/min", "%", "1"):
                    return text
        return None if (fld(obx, 6, 1) or fld(obx, 6, 2)) else SIGNALS[sig].unit

    def device_ids(self, msg: LazyMessage, obxs: Iterable[Any] | None = None) -> tuple[str, dict[str, str]]:
        """(default device id, MDS number -> device id from that MDS's OBX-18); ``obxs``: the OBX
        already read (else the message's OBX segments are read)."""
        per_mds: dict[str, str] = {}
        first_obx18 = ""
        for obx in obxs if obxs is not None else msg.segments("OBX"):
            inst = fld(obx, 18)
            if not device_id(inst, ""):  # empty, or no usable character (an MDS without an id)
                continue
            first_obx18 = first_obx18 or inst
            parts = fld(obx, 4).split(".")
            if len(parts) >= 2 and all(p == "0" for p in parts[1:]) and parts[0] not in per_mds:
                per_mds[parts[0]] = device_id(inst, self.spec.device_id_prefix)
        msh = msg.segment("MSH")
        for source in self.spec.device_id:
            value = ""
            if source == "obx18":
                value = next(iter(per_mds.values()), "") or (device_id(first_obx18, self.spec.device_id_prefix) if first_obx18 else "")
                if value:
                    return value, per_mds
                continue
            if source == "msh3":
                value = fld(msh, 3, 1) or fld(msh, 3, 2)
            elif source == "msh4":
                value = fld(msh, 4, 1) or fld(msh, 4, 2)
            elif source == "pv1_3" and msg.has("PV1"):
                pv1 = msg.segment("PV1")
                value = "-".join(x for x in (fld(pv1, 3, 1), fld(pv1, 3, 2), fld(pv1, 3, 3)) if x)
            if value:
                return device_id(value, self.spec.device_id_prefix), per_mds
        return "", per_mds

    def _observations(self, msg: LazyMessage, zone: tzinfo, msh_t: int | None, received_ms: int,
                      res: Hl7Result) -> None:
        if not msg.has("OBX"):  # e.g. a bare MSH: nothing to acknowledge as accepted
            res.reject("OBX", 1, None, SEGMENT_SEQUENCE_ERROR, "ORU^R01 without any OBX segment: no observation")
            return
        # one pass over the segments, keeping only the fields read later (not the segments' trees)
        items: list[tuple[str, int, Any]] = []
        obx_n = obr_n = 0
        for seg in msg:
            name = str(seg[0])
            if name == "OBR":
                obr_n += 1
                items.append(("OBR", obr_n, fld(seg, 7)))
            elif name == "OBX":
                obx_n += 1
                items.append(("OBX", obx_n, ObxFields(seg)))
        default_dev, per_mds = self.device_ids(msg, [x for kind, _, x in items if kind == "OBX"])
        if not default_dev:
            res.issues.append(Hl7Issue("OBX", 1, 18, REQUIRED_FIELD_MISSING,
                                       f"no device identity (tried {', '.join(self.spec.device_id)})"))
            return
        samples: dict[str, dict[int, Sample]] = {}
        first: dict[tuple[str, int, str], int] = {}  # (device, t, signal) -> the OBX that gave it first
        obr_t: int | None = None
        for kind, n, x in items:
            if kind == "OBR":
                obr_t = self.parse_time(x, zone, received_ms, res, ("OBR", n, 7))
                continue
            self._one_obx(x, n, default_dev, per_mds, obr_t if obr_t is not None else msh_t, zone,
                          received_ms, samples, first, res)
        for dev, by_t in samples.items():
            # seq: the newest sample time; monotonic per device and unchanged when the sender resends
            obs = Observation(dev, max(by_t), [by_t[t] for t in sorted(by_t)])
            res.decoded.append(Decoded(self.profile_id, dev, obs))

    def _one_obx(self, obx: Any, n: int, default_dev: str, per_mds: dict[str, str], fallback_t: int | None,
                 zone: tzinfo, received_ms: int, samples: dict[str, dict[int, Sample]],
                 first: dict[tuple[str, int, str], int], res: Hl7Result) -> None:
        value_type, value = fld(obx, 2), fld(obx, 5)
        code, name = fld(obx, 3, 1), fld(obx, 3, 2)
        if not value or value_type not in ("NM", "SN", ""):
            return
        sig = self.signal_for(code, name)
        if sig is None or sig not in NUMERIC_SIGNALS:  # a waveform code (pleth, ECG II) is no numeric value
            res.unmapped.append(f"OBX[{n}] {code}^{name}")
            return
        status = fld(obx, 11)
        quality = self.spec.result_status.get(status, "questionable")
        if quality == "skip":
            return
        if value_type == "SN":  # structured numeric: comparator^num1 — only plain numbers are observations
            value = fld(obx, 5, 2) if not fld(obx, 5, 1) or fld(obx, 5, 1) == "=" else ""
        try:
            v = float(value)
        except ValueError:
            res.issues.append(Hl7Issue("OBX", n, 5, DATA_TYPE_ERROR, f"{name or code}: {value!r} is not a number"))
            return
        unit = self._unit(sig, obx)
        s = SIGNALS[sig]
        if unit is None:
            res.issues.append(Hl7Issue("OBX", n, 6, TABLE_VALUE_NOT_FOUND,
                                       f"{name or code}: unknown unit {fld(obx, 6, 2) or fld(obx, 6, 1)!r}"))
            return
        if unit == "1" and sig in _DIMLESS_AS_IS:
            v = int(v) if v.is_integer() and "." not in value else v
        else:
            try:
                conv = conversion(unit, s.unit)
            except UnitError:
                res.issues.append(Hl7Issue("OBX", n, 6, TABLE_VALUE_NOT_FOUND,
                                           f"{name or code}: unit {unit!r} cannot be converted into {s.unit}"))
                return
            if not conv.identity:
                v = round(conv.apply(v), s.precision + 2)
            elif v.is_integer() and "." not in value:
                v = int(v)
        if not s.low <= v <= s.high:
            res.issues.append(Hl7Issue("OBX", n, 5, DATA_TYPE_ERROR,
                                       f"{name or code}: {v:g} {s.unit} is outside the physical range {s.low:g}..{s.high:g}"))
            return
        t = self.parse_time(fld(obx, 14), zone, received_ms, res, ("OBX", n, 14)) if fld(obx, 14) else fallback_t
        if t is None:
            if not fld(obx, 14):
                res.issues.append(Hl7Issue("OBX", n, 14, REQUIRED_FIELD_MISSING,
                                           f"{name or code}: no observation time (OBX-14, OBR-7 and MSH-7 all empty)"))
            return
        if too_old(t, received_ms, self.max_age_ms):
            res.issues.append(Hl7Issue("OBX", n, 14, APPLICATION_ERROR,
                                       f"{name or code}: observed {when(t)}, {RETENTION_REASON}: not stored"))
            return
        mds = fld(obx, 4).split(".")[0]
        dev = per_mds.get(mds, default_dev)
        sample = samples.setdefault(dev, {}).setdefault(t, Sample(t, {}))
        prev = sample.values.get(sig)
        if prev is not None:  # two OBX, one signal, one time: keep the more abnormal, say so in the ACK
            other = first[(dev, t, sig)]
            if prev == v:
                return
            keep_new = abnormality(sig, v) > abnormality(sig, prev)
            kept, dropped = (v, prev) if keep_new else (prev, v)
            res.issues.append(Hl7Issue(
                "OBX", n, 5, DUPLICATE_KEY,
                f"{name or code}: OBX[{other}] and OBX[{n}] give {sig} at {when(t)} as {prev:g} and {v:g}; "
                f"kept {kept:g} (the more abnormal), not {dropped:g}", severity="W"))
            if not keep_new:
                return
        else:
            first[(dev, t, sig)] = n
        sample.values[sig] = v
        if quality != "valid":
            sample.quality[sig] = quality
        else:
            sample.quality.pop(sig, None)
