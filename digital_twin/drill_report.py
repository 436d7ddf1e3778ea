"""The live-drill report: alarm events of one drill in, measured response times out.

Pure and synchronous. :class:`AlarmLog` takes alerting's alarm events (the payload published on
``{root}/alarms/{ward}/{id}`` and stored in the alarm log) and keeps those of ONE drill; per alarm it
records raised → acknowledged, raised → first silenced (and how often it was silenced), raised →
cleared (a clear caused by the drill ending is not a response) and escalations. :func:`build_report` gives the same ``report.json`` shape as the
simulated drills (``metrics`` {name: {mean, p50, p95, ci95, sd, n, missing, unit, label}}, one
"replication" per alarm) plus the alarm list; :func:`render_html` a self-contained page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from device_profiles import AlarmEvent, AlarmEventType, PayloadError, now_ms, priority_rank

from .scenario import Metric
from .stats import _r, summarize

DRILL_ENDED = "drill ended"  # alerting's reason when it clears a drill's alarms at the end (older events: no key)
DRILL_ENDED_KEY = "reason.drillEnded"  # the same reason as alerting's message key
METRICS: dict[str, Metric] = {
    "ack_s": Metric("s", "time to acknowledge (raised → acknowledged)", absent="it was not acknowledged"),
    "silence_s": Metric("s", "time to silence (raised → first silenced)", absent="it was not silenced"),
    "clear_s": Metric("s", "time to resolve (raised → cleared, before the drill ended)",
                      absent="it was not resolved before the drill ended"),
    "silences": Metric("", "silences per alarm"),
    "escalations": Metric("", "escalations per alarm"),
}
REFERENCES = (
    "IEC 60601-1-8: a high-priority alarm calls for an immediate response, a medium-priority one for a "
    "prompt response (the drill measures what 'immediate' and 'prompt' are on this ward).",
)


@dataclass(slots=True)
class AlarmTimeline:
    id: str
    bed: str
    device: str
    kind: str
    signal: str
    priority: str  # the highest priority it reached
    reason: str  # as raised
    raised_t: int
    acknowledged_t: int | None = None
    acknowledged_by: str = ""
    silenced_t: int | None = None  # the first silence
    silenced_by: str = ""
    silences: int = 0  # silence events (a nurse may silence it again when the silence expires)
    cleared_t: int | None = None
    cleared_reason: str = ""
    escalations: int = 0
    raised_priority: str = ""  # as raised (escalation steps ``priority`` up while nobody acknowledges)
    _silence_times: set[int] = field(default_factory=set, repr=False)  # redeliveries count once
    _drill_end: bool = field(default=False, repr=False)  # cleared because the drill ended: not a response

    @property
    def ack_s(self) -> float:
        return math.nan if self.acknowledged_t is None else (self.acknowledged_t - self.raised_t) / 1000

    @property
    def silence_s(self) -> float:
        return math.nan if self.silenced_t is None else (self.silenced_t - self.raised_t) / 1000

    @property
    def clear_s(self) -> float:
        if self.cleared_t is None or self._drill_end:
            return math.nan
        return (self.cleared_t - self.raised_t) / 1000


class AlarmLog:
    """The timelines of one drill's alarms, from events in any order (redeliveries are harmless)."""

    def __init__(self, drill: str) -> None:
        self.drill = drill
        self.alarms: dict[str, AlarmTimeline] = {}
        self.ignored = 0  # events of clinical alarms or other drills, and payloads that are no alarm event

    def add(self, ev: AlarmEvent | Mapping[str, Any]) -> bool:
        """Take one alarm event (as published or from the alarm log: validated here,
        :meth:`AlarmEvent.from_json`); ``False`` when it is not this drill's or not an alarm event."""
        if not isinstance(ev, AlarmEvent):
            try:
                ev = AlarmEvent.from_json(dict(ev), now_ms())
            except PayloadError:
                self.ignored += 1
                return False
        if ev.drill != self.drill:
            self.ignored += 1
            return False
        t = ev.t
        a = self.alarms.get(ev.id)
        if a is None:
            a = self.alarms[ev.id] = AlarmTimeline(ev.id, ev.bed, ev.device, ev.kind.value, ev.signal or "",
                                                   ev.priority.value, ev.reason, t)
        prio = ev.priority
        if ev.event is AlarmEventType.RAISED and (t < a.raised_t or not a.raised_priority):
            a.raised_t, a.reason, a.raised_priority = min(t, a.raised_t), ev.reason or a.reason, prio.value
        if prio.rank > priority_rank(a.priority):
            a.priority = prio.value
        if ev.event is AlarmEventType.ACKNOWLEDGED and (a.acknowledged_t is None or t < a.acknowledged_t):
            a.acknowledged_t, a.acknowledged_by = t, ev.by or ""
        elif ev.event is AlarmEventType.SILENCED:
            a._silence_times.add(t)
            a.silences = len(a._silence_times)
            if a.silenced_t is None or t < a.silenced_t:
                a.silenced_t, a.silenced_by = t, ev.by or ""
        elif ev.event is AlarmEventType.ESCALATED:
            a.escalations = max(a.escalations, ev.escalation_level)
        elif ev.event is AlarmEventType.CLEARED and a.cleared_t is None:
            a.cleared_t, a.cleared_reason = t, ev.reason
            a._drill_end = ev.reason_key == DRILL_ENDED_KEY if ev.reason_key else ev.reason == DRILL_ENDED
        return True

    def open_ids(self) -> list[str]:
        return [a.id for a in self.alarms.values() if a.cleared_t is None]

    def timelines(self) -> list[AlarmTimeline]:
        return sorted(self.alarms.values(), key=lambda a: (a.raised_t, a.id))


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else _r(x)


def build_report(log: AlarmLog, *, ward: str, seed: int, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``report.json`` of a live drill (the simulated drills' shape + ``alarms`` and ``drill``)."""
    alarms = log.timelines()
    samples = {"ack_s": [a.ack_s for a in alarms], "silence_s": [a.silence_s for a in alarms],
               "clear_s": [a.clear_s for a in alarms], "silences": [float(a.silences) for a in alarms],
               "escalations": [float(a.escalations) for a in alarms]}
    metrics: dict[str, Any] = {}
    for name, spec in METRICS.items():
        s = summarize(samples[name], spec.unit, spec.label)
        metrics[name] = {"mean": _num(s.mean), "p50": _num(s.p50), "p95": _num(s.p95),
                         "ci95": [_num(s.ci95[0]), _num(s.ci95[1])], "sd": _num(s.sd), "n": s.n,
                         "missing": s.missing, "unit": spec.unit, "label": spec.label,
                         "lower_is_better": spec.lower_is_better, "absent": spec.absent}
    return {
        "scenario": "live-drill", "title": "Live drill on the running platform", "ward": ward, "ward_name": ward,
        "drill": log.drill, "seed": seed, "replications": len(alarms), "parameters": dict(parameters),
        "metric_order": list(METRICS), "metrics": metrics, "summary": summary_sentences(alarms, metrics),
        "references": list(REFERENCES),
        "samples": {k: [_num(v) for v in vals] for k, vals in samples.items()},
        "alarms": [_alarm(a) for a in alarms],
    }


def _alarm(a: AlarmTimeline) -> dict[str, Any]:
    out = {k: v for k, v in asdict(a).items() if not k.startswith("_")}
    return out | {"ack_s": _num(a.ack_s), "silence_s": _num(a.silence_s), "clear_s": _num(a.clear_s)}


def summary_sentences(alarms: Sequence[AlarmTimeline], metrics: Mapping[str, Any]) -> list[str]:
    if not alarms:
        return ["The drill raised no alarm: check the scenario (e.g. desaturation) ran long enough "
                "for its alarm delay, and that alerting is running."]
    acked = [a for a in alarms if a.acknowledged_t is not None]
    out = [f"{len(alarms)} drill alarm(s) were raised; {len(acked)} ({len(acked) / len(alarms):.0%}) "
           "were acknowledged during the drill."]
    ack = metrics["ack_s"]
    if ack["n"]:
        out.append(f"Median time to acknowledge was {ack['p50']:.0f} s (95th percentile {ack['p95']:.0f} s, "
                   f"mean {ack['mean']:.0f} s).")
    silenced = [a for a in alarms if a.silenced_t is not None]
    if silenced:
        sil = metrics["silence_s"]
        total = sum(a.silences for a in alarms)
        out.append(f"{len(silenced)} alarm(s) were silenced ({total} silence(s) in all); median time to silence "
                   f"{sil['p50']:.0f} s. A silenced alarm still needs someone at the bedside: check each one was "
                   "followed by an acknowledgement.")
    # by the priority raised with: an alarm left waiting is escalated to high, which is the consequence
    high = [a for a in alarms if (a.raised_priority or a.priority) == "high"]
    slow = [a for a in high if a.acknowledged_t is None or a.ack_s > 120]
    if slow:
        out.append(f"{len(slow)} alarm(s) raised as high priority waited more than 2 minutes or were never "
                   "acknowledged: review who covers the central station and the escalation policy.")
    esc = sum(1 for a in alarms if a.escalations)
    if esc:
        out.append(f"{esc} alarm(s) escalated before anyone acknowledged them.")
    return out


def _fmt(x: Any) -> str:
    if x is None:
        return "—"
    return f"{x:.3g}" if isinstance(x, float) else html.escape(str(x))


def _missing(m: Mapping[str, Any]) -> str:
    """``"2 (it was not acknowledged)"``: how many alarms have no value, and why."""
    return f"{m['missing']} ({html.escape(m['absent'])})" if m["missing"] and m.get("absent") else str(m["missing"])


def _chart(report: Mapping[str, Any]) -> str:
    """Time to acknowledge per alarm as an embedded PNG (empty when nothing was acknowledged)."""
    acked = [(a["id"], a["ack_s"]) for a in report["alarms"] if a["ack_s"] is not None]
    if not acked:
        return ""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 2.6), dpi=100)
    ax = fig.subplots()
    ax.bar(range(len(acked)), [s for _i, s in acked], color="#c0392b")
    ax.set_xticks(range(len(acked)), [i for i, _s in acked], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("seconds to acknowledge")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return f'<img alt="time to acknowledge per alarm" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _param(key: str, value: Any) -> str:
    """A drill parameter as a facility manager reads it: times in UTC, lists joined, no JSON."""
    if key in ("started", "stopped", "ends") and isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value is None else str(value)


def _priority(a: dict[str, Any]) -> str:
    """"medium → high" for an alarm escalation stepped up; else its one priority."""
    raised = a.get("raised_priority") or a["priority"]
    return raised if raised == a["priority"] else f"{raised} → {a['priority']}"


def render_html(report: Mapping[str, Any]) -> str:
    """A self-contained page (no external links) for the drill report."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(m['label'])}</td><td>{_fmt(m['mean'])}</td><td>{_fmt(m['p50'])}</td><td>{_fmt(m['p95'])}</td>"
        f"<td>{_fmt(m['ci95'][0])} &ndash; {_fmt(m['ci95'][1])}</td><td>{m['n']}</td><td>{_missing(m)}</td>"
        f"<td>{e(m['unit'])}</td></tr>" for m in (report["metrics"][k] for k in report["metric_order"]))
    alarms = "".join(
        f"<tr><td>{e(a['id'])}</td><td>{e(a['bed'])}</td><td>{e(_priority(a))}</td><td>{e(a['kind'])}"
        f"{' · ' + e(a['signal']) if a['signal'] else ''}</td><td>{e(a['reason'])}</td><td>{_fmt(a['ack_s'])}</td>"
        f"<td>{e(a['acknowledged_by'])}</td><td>{_fmt(a['silence_s'])}</td><td>{a['silences']}</td>"
        f"<td>{_fmt(a['clear_s'])}</td><td>{a['escalations']}</td></tr>"
        for a in report["alarms"])
    params = "".join(f"<tr><th>{e(k.replace('_', ' '))}</th><td>{e(_param(k, v))}</td></tr>"
                     for k, v in sorted(report["parameters"].items()))
    summary = "".join(f"<li>{e(s)}</li>" for s in report["summary"])
    refs = "".join(f"<li>{e(s)}</li>" for s in report["references"])
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Live drill {e(report['drill'])}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}.drill{{background:#7b2cbf;color:#fff;padding:.2em .6em;
border-radius:3px;font-weight:bold}}</style></head><body>
<h1><span class="drill">DRILL</span> Live drill {e(report['drill'])} · ward {e(report['ward'])}</h1>
<table class="params">{params}</table><h2>What to do</h2><ul>{summary}</ul>
<h2>Measured response times</h2><table><tr><th>metric</th><th>mean</th><th>p50</th><th>p95</th><th>95 % CI of the mean</th>
<th>n</th><th>no value</th><th>unit</th></tr>{rows}</table>{_chart(report)}
<h2>Drill alarms ({len(report['alarms'])})</h2><table><tr><th>alarm</th><th>bed</th><th>priority</th><th>kind</th>
<th>reason</th><th>ack (s)</th><th>by</th><th>silenced (s)</th><th>silences</th><th>resolved (s)</th>
<th>escalations</th></tr>{alarms}</table>
<h2>References</h2><ul>{refs}</ul></body></html>"""
