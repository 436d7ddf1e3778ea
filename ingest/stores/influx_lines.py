"""Batch -> InfluxDB line protocol per the storage contract (DESIGN.md).

``vitals``: one point per sample, one field per signal (plus ``{signal}_q`` string fields for
non-valid quality), tags device, ward, bed, patient (+ drill). A value its device flagged ``invalid``
is stored flagged in ``{signal}_invalid`` (with ``{signal}_q="invalid"``), never in the signal's own
field: the 1-minute downsample, ``last()`` and any aggregate over ``{signal}`` (ours, or an operator's
own InfluxQL / Grafana panel) never see it (issue 11). ``waveform``: one point per chunk.
``alarms``: one point per alarm event, tagged with the alarm id and event so events never merge.

Drill points (``drill`` tag set) come after a ``#drill`` line (:data:`DRILL_MARKER`): the store
writes them to the drill retention policy, never among clinical data.
"""

from __future__ import annotations

import orjson

from device_profiles import Attribution, Quality

from ..line_protocol import escape_key, escape_string, line
from ..records import Batch

DRILL_MARKER = b"#drill\n"
INVALID = Quality.INVALID.value
INVALID_SUFFIX = "_invalid"  # field of a value flagged invalid: kept out of every aggregate


def split_drill(data: bytes) -> tuple[bytes, bytes]:
    """Encoded lines -> (clinical lines, drill lines)."""
    if data.startswith(DRILL_MARKER):
        return b"", data[len(DRILL_MARKER):]
    clinical, sep, drill = data.partition(b"\n" + DRILL_MARKER)
    return (clinical + b"\n", drill) if sep else (data, b"")


class LineEncoder:
    """Encodes batches; caches each (device, attribution) tag set, which repeats for every sample."""

    def __init__(self) -> None:
        self._tags: dict[tuple[str, str, str, str, str], str] = {}
        # (tag set, signal names...) -> "%"-format of the whole line: one formatting per sample
        self._lines: dict[tuple[str, ...], str] = {}

    def _tagset(self, device: str, who: Attribution) -> str:
        key = (device, who.ward, who.bed, who.patient, who.drill)
        s = self._tags.get(key)
        if s is None:
            if len(self._tags) > 100_000:
                self._tags.clear()
            parts = [("bed", who.bed), ("device", device), ("drill", who.drill), ("patient", who.patient),
                     ("ward", who.ward)]
            s = "vitals" + "".join(f",{k}={escape_key(v)}" for k, v in parts if v)
            self._tags[key] = s
        return s

    def _line_format(self, key: tuple[str, ...]) -> str:
        if len(self._lines) > 100_000:
            self._lines.clear()
        f = self._lines[key] = key[0].replace("%", "%%") + " " + ",".join(f"{k}=%s" for k in key[1:]) + " %s"
        return f

    def encode(self, batch: Batch) -> bytes:
        out: list[str] = []
        drill: list[str] = []
        lines = self._lines
        tagsets = self._tags
        for a in batch.obs:
            who, obs = a.who, a.obs
            append = drill.append if who.drill else out.append
            prefix = (tagsets.get((obs.device, who.ward, who.bed, who.patient, who.drill))
                      or self._tagset(obs.device, who))
            for s in obs.samples:
                # values were checked finite and in range at decode; signal names are catalogue
                # names (no escaping needed); ints render as floats (no "i" suffix); "%s" of an int
                # or a float is its f-string
                if not s.quality:
                    v = s.values
                    if v:  # the usual sample: one cached format for its tag set and signals
                        f = lines.get((prefix, *v))
                        if f is None:
                            f = self._line_format((prefix, *v))
                        append(f % (*v.values(), s.t))
                    continue
                if INVALID in s.quality.values():
                    fields = ",".join([f"{k}{INVALID_SUFFIX}={v}" if s.quality.get(k) == INVALID else f"{k}={v}"
                                       for k, v in s.values.items()])
                else:
                    fields = ",".join([f"{k}={v}" for k, v in s.values.items()])
                if s.quality:
                    q = ",".join(f"{k}_q={escape_string(v)}" for k, v in s.quality.items() if v != "valid")
                    fields = f"{fields},{q}" if fields and q else (fields or q)
                if fields:
                    append(f"{prefix} {fields} {s.t}")
        for chunk, who in batch.waves:
            tags = {"device": chunk.device, "signal": chunk.signal, "ward": who.ward, "bed": who.bed,
                    "patient": who.patient, "drill": who.drill}
            (drill if who.drill else out).append(line("waveform", tags, {"fs": chunk.fs, "n": len(chunk.samples),
                                           "samples": orjson.dumps(chunk.samples).decode()}, chunk.t0))
        for ev in batch.alarms:
            afields: dict[str, float | str | int | bool] = {"state": ev.state.value, "reason": ev.reason,
                                                           "by": ev.by or "", "escalation_level": ev.escalation_level}
            if ev.value is not None:
                afields["value"] = ev.value
            (drill if ev.tags.get("drill") else out).append(line("alarms", {**ev.tags, "id": ev.id}, afields, ev.t))
        if drill:
            out += ["#drill", *drill]
        if not out:
            return b""
        out.append("")
        return "\n".join(out).encode()
