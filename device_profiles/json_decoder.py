"""The decoder a JSON profile compiles into: vendor MQTT payload -> canonical observation + alarms.

Built once per profile version by :mod:`device_profiles.compiler`; decoding then only walks
pre-parsed paths. Device payloads are read tolerantly in shape (numbers may arrive as numeric
strings, a batch may be one object) but every value is checked: a payload that does not fit the
profile raises :class:`PayloadError` naming the place (it becomes a dead letter that can be replayed
after the profile is fixed). Values outside the profile's plausible range are kept but flagged.
A declared ``samples.path`` that is absent from the payload is such an error (the vitals would
otherwise vanish while the device's status looks fine); an empty list (or ``null``) there is an
empty batch: status only, marked ``Decoded.empty_batch`` and counted by ingest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .canonical import FUTURE_TOLERANCE_MS, T_MIN_MS, Observation, Sample, _loads, check_time
from .device_alarm import Decoded, DeviceAlarm
from .errors import PayloadError, ProfileError
from .json_paths import MISSING, JsonPath, describe
from .json_readers import AlarmReader, FieldReader, TechnicalReader, TimeReader, number, text_of
from .topic_pattern import DeviceIdTemplate, TopicPattern

_NO_SAMPLES = ("the profile's samples path is not in the payload (a misspelled or missing key?); an empty "
               "batch is sent as an empty list")


@dataclass(frozen=True, slots=True)
class JsonDecoder:
    profile_id: str
    topic: TopicPattern
    device_id: DeviceIdTemplate
    canonical: bool
    samples_path: JsonPath | None
    max_samples: int
    time: TimeReader
    seq_path: JsonPath | None
    fields: tuple[FieldReader, ...]
    technical: tuple[TechnicalReader, ...]
    alarms: AlarmReader | None
    columns: tuple[tuple[str, JsonPath], ...] | None = None  # columnar batches: row key -> column path
    device_id_path: JsonPath | None = None  # the serial comes from the payload ({payload} in the template)
    expire_after: dict[str, float] | None = None  # per-signal staleness (s), reported in the device status
    series: tuple[FieldReader, ...] = ()  # fields with their own per-signal series of samples

    def device_for(self, topic: str) -> str | None:
        """The device id named by ``topic`` (``""`` when it comes from the payload; ``None``: not ours)."""
        captures = self.topic.match(topic)
        if captures is None:
            return None
        return "" if self.device_id_path is not None else self.device_id.render(captures)

    def decode(self, device: str, payload: bytes | str, received_ms: int, topic: str = "") -> Decoded:
        """Decode one payload published by ``device``; ``received_ms`` is the receive time.

        With ``mqtt.device_id_path`` the device id is built from the payload (and ``topic``'s captures).
        """
        msg = _loads(payload)
        if self.device_id_path is not None:
            device = self._payload_device(msg, topic)
        out = Decoded(self.profile_id, device)
        if self.samples_path is None:
            items: list[Any] = [msg]
        elif self.columns is not None:
            items = self._rows(msg)
        else:
            found = self.samples_path.get(msg, msg)
            if found is MISSING:  # a misspelled key must not make the vitals vanish as "status only"
                raise PayloadError(describe(self.samples_path, None), _NO_SAMPLES)
            if found is None:
                items = []
            elif type(found) is list:
                items = found
            elif type(found) is dict:
                items = [found]
            else:
                raise PayloadError(describe(self.samples_path, None), "samples must be a list of objects")
        if len(items) > self.max_samples:
            raise PayloadError(describe(self.samples_path or JsonPath.parse("$"), None),
                               f"{len(items)} samples, more than the profile's samples.max {self.max_samples}")
        out.empty_batch = self.samples_path is not None and not items
        samples: list[Sample] = []
        for i, item in enumerate(items):
            sample = self._sample(item, msg, i, received_ms, out.dropped)
            if sample is not None:
                samples.append(sample)
        if self.series:
            samples = _merge(samples + self._series(msg, received_ms, out.dropped))
        elif len(samples) > 1 and len({s.t for s in samples}) < len(samples):
            samples = _merge(samples)
        msg_t = samples[-1].t if samples else self._message_time(msg, received_ms)
        if samples:
            seq = max(s.t for s in samples)  # no counter: the newest sample time (monotonic, stable on redelivery)
            if self.seq_path is not None:
                raw = self.seq_path.get(msg, msg)
                if raw is not MISSING and raw is not None:
                    n = number(raw, describe(self.seq_path, None))
                    if n < 0 or not float(n).is_integer() or n >= 2**63:
                        raise PayloadError(describe(self.seq_path, None),
                                           f"{raw!r} is not a non-negative integer below 2**63")
                    seq = int(n)
            out.observation = Observation(device, seq, samples)
        self._technical(items, msg, msg_t, out)
        if self.expire_after and out.observation is not None:
            out.status = {"online": True, **(out.status or {}), "expire_after": self.expire_after}
        if self.alarms is not None:
            self._device_alarms(msg, msg_t, received_ms, out)
        if out.observation is None and not out.alarms and out.status is None and not out.empty_batch:
            raise PayloadError("$", "nothing in the payload matches the profile (no sample values, alarms or status)")
        return out

    def _message_time(self, msg: Any, received_ms: int) -> int:
        if self.time.source == "payload" and self.time.path is not None and self.time.path.absolute:
            raw = self.time.path.get(msg, msg)
            if raw is not MISSING and raw is not None:
                return check_time(self.time.parse(raw, self.time.path.text), self.time.path.text, received_ms)
        return received_ms

    def _payload_device(self, msg: Any, topic: str) -> str:
        assert self.device_id_path is not None
        raw = self.device_id_path.get(msg, msg)
        where = describe(self.device_id_path, None)
        if raw is MISSING or raw is None or type(raw) in (dict, list) or text_of(raw) == "":
            raise PayloadError(where, "device serial missing")
        captures = (self.topic.match(topic) or {}) if topic else {}
        try:
            return self.device_id.render({**captures, "payload": text_of(raw)})
        except ProfileError as exc:
            raise PayloadError(where, str(exc)) from None

    def _rows(self, msg: Any) -> list[dict[str, Any]]:
        assert self.samples_path is not None and self.columns is not None
        container = self.samples_path.get(msg, msg)
        if container is MISSING:
            raise PayloadError(describe(self.samples_path, None), _NO_SAMPLES)
        if container is None:
            return []
        if type(container) is not dict:
            raise PayloadError(describe(self.samples_path, None), "columnar samples must be an object of arrays")
        cols = [(key, path.get(container, msg)) for key, path in self.columns]
        n = max((len(col) for _, col in cols if type(col) is list), default=0)
        if n > self.max_samples:
            raise PayloadError(describe(self.samples_path, None),
                               f"{n} samples, more than the profile's samples.max {self.max_samples}")
        return [{key: col[i] for key, col in cols if type(col) is list and i < len(col)} for i in range(n)]

    def _sample(self, item: Any, msg: Any, i: int, received_ms: int, dropped: list[str],
                fields: tuple[FieldReader, ...] | None = None, time: TimeReader | None = None,
                series: JsonPath | None = None) -> Sample | None:
        """One sample from ``item``; ``series`` (with its own ``fields``/``time``) for per-signal series."""
        batched = self.samples_path is not None or series is not None
        container = series or self.samples_path
        if container is not None and type(item) is not dict and type(item) is not list:
            raise PayloadError(describe(container, None) + f"[{i}]", "a sample must be an object or a list")

        def loc(path: JsonPath) -> str:
            if series is not None and not path.absolute:
                return f"{describe(series, None)}[{i}].{path.text}"
            return describe(path, i if batched else None)

        values: dict[str, float] = {}
        quality: dict[str, str] = {}
        for f in (self.fields if fields is None else fields):
            if f.where_path is not None and text_of(f.where_path.get(item, msg)) not in f.where_equals:
                continue
            raw = f.path.get(item, msg)
            if raw is MISSING or raw is None:
                continue
            tv = type(raw)  # fast path for plain numbers; the error text is only built when needed
            v = raw if tv is int or (tv is float and math.isfinite(raw)) else number(raw, loc(f.path))
            if v in f.ignore:
                continue
            if not f.conv.identity:
                v = f.conv.apply(v)
                if f.decimals is not None:
                    v = round(v, f.decimals)
            if not f.low <= v <= f.high:
                raise PayloadError(loc(f.path),
                                   f"{raw!r} is {v:g} {f.signal}, outside the physical range {f.low:g}..{f.high:g}"
                                   " (declare sentinels in ignore_values)")
            q = "valid"
            if f.quality_path is not None:
                qraw = f.quality_path.get(item, msg)
                if qraw is not MISSING and qraw is not None:
                    q = f.quality_map.get(text_of(qraw), f.quality_default)
            if f.plausible is not None and not f.plausible[0] <= v <= f.plausible[1]:
                if f.out_of_range == "drop":
                    dropped.append(f"{loc(f.path)}: {v:g} outside the plausible range "
                                   f"{f.plausible[0]:g}..{f.plausible[1]:g}")
                    continue
                q = f.out_of_range if q == "valid" else q
            values[f.signal] = v
            if q != "valid":
                quality[f.signal] = q
        if not values:
            return None
        tr = self.time if time is None else time
        t = tr.read(item, msg, i if batched else -1, received_ms)
        if T_MIN_MS <= t <= received_ms + FUTURE_TOLERANCE_MS:
            return Sample(t, values, quality)
        return Sample(check_time(t, loc(tr.path) if tr.path else "t", received_ms), values, quality)

    def _series(self, msg: Any, received_ms: int, dropped: list[str]) -> list[Sample]:
        """Per-signal series: ``{"hr": [{"t": .., "v": ..}], "temp": [..]}``, one list per field."""
        out: list[Sample] = []
        for f in self.series:
            assert f.series is not None and f.series_time is not None
            found = f.series.get(msg, msg)
            if found is MISSING or found is None:
                continue
            entries = found if type(found) is list else [found]
            if len(entries) > self.max_samples:
                raise PayloadError(describe(f.series, None),
                                   f"{len(entries)} samples, more than the profile's samples.max {self.max_samples}")
            for j, el in enumerate(entries):
                sample = self._sample(el, msg, j, received_ms, dropped, (f,), f.series_time, f.series)
                if sample is not None:
                    out.append(sample)
        return out

    def _technical(self, items: list[Any], msg: Any, msg_t: int, out: Decoded) -> None:
        if not self.technical:
            return
        status: dict[str, Any] = {}
        states: dict[str, bool] = {}
        for tr in self.technical:
            raw: Any = MISSING
            if tr.path.absolute or not items:
                raw = tr.path.get(msg, msg)
            else:  # the latest sample that carries the field decides
                for item in reversed(items):
                    raw = tr.path.get(item, msg)
                    if raw is not MISSING and raw is not None:
                        break
            if raw is MISSING or raw is None:
                continue
            where = describe(tr.path, None)
            active = tr.active(raw, where)
            states[tr.code] = active
            if tr.status is not None:
                status[tr.status] = number(raw, where)
            if active:
                out.alarms.append(DeviceAlarm(out.device, msg_t, tr.code, tr.priority, tr.text, "technical", "active",
                                              tr.signal, float(raw) if type(raw) in (int, float) else None,
                                              None, self.profile_id))
        if states:
            status = {"online": True, **status, "technical": states}
            if "battery" in status and not 0 <= status["battery"] <= 100:
                raise PayloadError("battery", f"{status['battery']!r} is not a percentage 0..100")
            out.status = status

    def _device_alarms(self, msg: Any, msg_t: int, received_ms: int, out: Decoded) -> None:
        ar = self.alarms
        assert ar is not None
        found = ar.path.get(msg, msg)
        if found is MISSING or found is None:
            return
        entries = found if type(found) is list else [found]
        for i, a in enumerate(entries):
            where = f"{describe(ar.path, None)}[{i}]"
            if type(a) is not dict:
                raise PayloadError(where, "an alarm must be an object")
            code = ar.code.get(a, msg)
            if code is MISSING or code is None or text_of(code) == "":
                raise PayloadError(f"{where}.{ar.code.text}", "alarm code missing")
            text = ar.text.get(a, msg) if ar.text is not None else MISSING
            priority = ar.priority.read(a, msg, where, "priority")
            state = ar.state.read(a, msg, where, "state") if ar.state else "active"
            kind = ar.kind.read(a, msg, where, "kind") if ar.kind else "device"
            signal = ar.signal.read(a, msg, where, "signal") if ar.signal else None
            value: float | None = None
            if ar.value is not None:
                rv = ar.value.get(a, msg)
                if rv is not MISSING and rv is not None:
                    value = float(number(rv, f"{where}.{ar.value.text}"))
            t = msg_t
            if ar.time is not None:
                rt = ar.time.get(a, msg)
                if rt is not MISSING and rt is not None:
                    t = check_time(self.time.parse(rt, f"{where}.{ar.time.text}"), f"{where}.{ar.time.text}", received_ms)
            alarm_id = ar.id.get(a, msg) if ar.id is not None else MISSING
            out.alarms.append(DeviceAlarm(
                out.device, t, text_of(code)[:128], priority or "low", (text_of(text) if text is not MISSING else text_of(code))[:512],
                kind or "device", state or "active", signal, value,
                None if alarm_id is MISSING or alarm_id is None else text_of(alarm_id)[:128], self.profile_id))


def _merge(samples: list[Sample]) -> list[Sample]:
    """Samples of one message with the same time become one (readings sent one value per entry)."""
    by_t: dict[int, Sample] = {}
    for s in samples:
        cur = by_t.get(s.t)
        if cur is None:
            by_t[s.t] = Sample(s.t, dict(s.values), dict(s.quality))
        else:
            cur.values.update(s.values)
            cur.quality.update(s.quality)
    return [by_t[t] for t in sorted(by_t)]
