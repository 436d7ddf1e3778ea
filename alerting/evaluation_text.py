"""The ``alarms evaluate`` table: engine and naive monitor side by side, each figure with its 95 % CI."""

from __future__ import annotations

from typing import Any

LABEL = 44
COL = 36


def _fmt(e: dict[str, Any] | None, unit: str = "", scale: float = 1.0, digits: int = 2) -> str:
    if e is None or e.get("value") is None:
        return "n/a"
    lo, hi = e["ci95"]
    ci = "" if lo is None or hi is None else f" [{lo * scale:.{digits}f}, {hi * scale:.{digits}f}]"
    return f"{e['value'] * scale:.{digits}f}{unit}{ci}"


def evaluation_text(report: dict[str, Any], ack_after_min: float | None) -> str:
    c = report["cohort"]
    mons = report["monitors"]
    names = list(mons)
    lines = [f"cohort: {c['patients']} patients, {c['patient_days']:.1f} patient-days"]
    if c["outcome"]:
        window = report["method"]["lead_window_h"]
        when = (f"a new medium/high alarm {window[0]:g}-{window[1]:g} h before the onset"
                if isinstance(window, list) else "a medium/high alarm any time during the stay")
        lines.append(f"outcome: {c['outcome']}, {c['events']} of {c['with_outcome']} patients with a known outcome"
                     + (f" ({c['events_not_evaluable']} onsets < 1 h into the recording not evaluable)"
                        if c["events_not_evaluable"] else "") + f"; alarmed in time = {when}")
        gone = c.get("outcomes_without_recording")
        if gone and gone["patients"]:
            lines.append(f"({gone['patients']} stays of the outcomes file, {gone['events']} with an event, have no vital "
                         "sign to replay and are left out)")
    boot = report["method"]["bootstrap"]
    lines.append(("nurse acknowledges each alarm " + (f"{ack_after_min:g} min after it sounds"
                                                     if ack_after_min is not None else "never"))
                 + f"; priorities are peak priorities; [95 % CI: {boot['resamples']} bootstrap resamples of"
                 f" patients, seed {boot['seed']}]")
    lines.append("")
    lines.append(f"{'':<{LABEL}}" + "".join(f"{n:<{COL}}" for n in names))

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"{label:<{LABEL}}" + "".join(f"{x:<{COL}}" for x in cells))

    row("alarms per patient-day", [_fmt(mons[n]["alarms_per_patient_day"]) for n in names])
    row("  physiological (every kind but technical)", [_fmt(mons[n]["physiological_per_patient_day"]) for n in names])
    kinds = sorted({k for n in names for k in mons[n]["by_kind"]})
    for k in kinds:
        row(f"    kind {k}", [f"{mons[n]['by_kind'].get(k, 0.0):.2f}" for n in names])
    for p in ("high", "medium", "low"):
        row(f"    peak priority {p}", [f"{mons[n]['by_peak_priority'].get(p, 0.0):.2f}" for n in names])
    if c["outcome"]:
        row("events alarmed in time (medium/high)",
            [_fmt(mons[n]["events_alarmed"], " %", 100, 1) + f" {mons[n]['events_alarmed']['alarmed']}/"
             f"{mons[n]['events_alarmed']['events']}" for n in names])
        row("median lead time", [_fmt(mons[n]["median_lead_h"], " h") for n in names])
        row("physiological alarms per true positive",
            [_fmt(mons[n]["physiological_alarms_per_true_positive"], digits=1) for n in names])
        row("medium/high alarms per true positive",
            [_fmt(mons[n]["medium_high_alarms_per_true_positive"], digits=1) for n in names])
        row("AUROC of each patient's maximum score",
            [_fmt(mons[n]["auroc"], digits=3) + f" ({mons[n]['auroc']['score']})" for n in names])
        ref = report.get("reference_auroc")
        if ref:
            row(f"reference: AUROC of {ref['score']}", [_fmt(ref, digits=3) + f" ({ref['patients']} patients)"])
    ratio = report["engine_to_naive"]
    lines.append("")
    lines.append(f"engine / naive, alarms per patient-day: {_fmt(ratio['alarms_per_patient_day'])}; "
                 f"physiological: {_fmt(ratio['physiological_per_patient_day'])}")
    return "\n".join(x.rstrip() for x in lines)
