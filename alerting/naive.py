"""A naive per-sample threshold monitor: the baseline the alarm-quality report compares against.

Every sample outside the default ``low``/``high`` limits of its signal raises an alarm at once and
every sample back inside clears it: no alarm-condition delay, no hysteresis, no cross-checks (HR 0
is 'asystole', SpO2 0 is 'desaturation'), no technical alarms, no NEWS2. Roughly what a monitor with
factory limits and no smart alarm management does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .config import AlarmConfig
from .recordings import Record

REPLAY_KEYS = ("t", "patient", "id", "kind", "signal", "priority", "level", "event", "reason")


def naive_events(records: Iterable[Record], config: AlarmConfig) -> Iterator[dict[str, object]]:
    active: dict[tuple[str, str], str] = {}  # (patient, signal) -> id of its open alarm
    n = 0
    for r in records:
        for name, v in r.values.items():
            rule = config.limit(name)
            if rule is None or not rule.enabled:
                continue
            crit = (rule.critical_low is not None and v < rule.critical_low) or (
                rule.critical_high is not None and v > rule.critical_high)
            out = crit or (rule.low is not None and v < rule.low) or (rule.high is not None and v > rule.high)
            key = (r.patient, name)
            if out and key not in active:
                n += 1
                active[key] = f"n{n:06d}"
                yield {"t": r.t, "patient": r.patient, "id": active[key], "kind": "limit", "signal": name,
                       "priority": (rule.critical_priority if crit else rule.priority).value, "level": 0,
                       "event": "raised", "reason": f"{name} {v:g} outside limits (naive per-sample threshold)"}
            elif not out and key in active:
                yield {"t": r.t, "patient": r.patient, "id": active.pop(key), "kind": "limit", "signal": name,
                       "priority": rule.priority.value, "level": 0, "event": "cleared", "reason": f"{name} {v:g} within limits"}
