"""What counts as a timely alarm, shared by ``alarms replay`` and ``alarms evaluate``.

* An alarm's **peak priority** is the highest priority it reached while open: at raise, by a worse
  condition, or by escalation while nobody acknowledged it.
* An alarm **became urgent** when its *condition* first was medium or high: raised at medium/high,
  or worsened to it (an ``escalated`` event at the same escalation level). Stepping up a priority
  because nobody acknowledged it is the ward's delay, not the patient's signal: it does not count.
  Technical alarms never count (a probe off says nothing about the patient).
* A labelled onset (e.g. ``SepsisLabel``) is **alarmed in time** when an alarm became urgent in its
  lead window: from ``LEAD_MAX`` (12 h) to ``LEAD_MIN`` (1 h) before the onset, both ends included.
  An alarm 242 h before the label is not in time, nor is one 30 minutes before it.

>>> in_lead_window([0, 20 * HOUR], 24 * HOUR) == 20 * HOUR
True
>>> in_lead_window([23 * HOUR + 1], 24 * HOUR) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from device_profiles import priority_rank

HOUR = 3_600_000
LEAD_MIN = 1 * HOUR
LEAD_MAX = 12 * HOUR
URGENT = frozenset({"medium", "high"})
NOT_PATIENT_SIGNAL = frozenset({"technical"})


def peak(a: str, b: str) -> str:
    """The higher of two priorities."""
    return b if priority_rank(b) > priority_rank(a) else a


def is_urgent_condition(kind: str) -> bool:
    """Whether a medium/high alarm of this kind tells something about the patient."""
    return kind not in NOT_PATIENT_SIGNAL


def in_lead_window(urgent_times: Iterable[int], onset: int) -> int | None:
    """The earliest time in ``urgent_times`` within [onset - 12 h, onset - 1 h], else None."""
    hits = [t for t in urgent_times if onset - LEAD_MAX <= t <= onset - LEAD_MIN]
    return min(hits) if hits else None


@dataclass(slots=True)
class AlarmTrace:
    """One alarm followed through its events: kind, when raised, its peak priority and when (if ever)
    its condition became medium/high."""

    kind: str
    raised_t: int
    peak: str
    level: int = 0
    urgent_t: int | None = None

    def see(self, event: str, t: int, priority: str, level: int = 0) -> int | None:
        """Take the alarm's next event; returns ``t`` if its condition just became medium/high."""
        self.peak = peak(self.peak, priority)
        became = None
        if self.urgent_t is None and priority in URGENT and (
                event == "raised" or (event == "escalated" and level == self.level)):
            self.urgent_t = became = t
        self.level = level
        return became
