"""Self-contained HTML reports (plots as embedded PNGs, no external links) and the report files.

``write_reports(report, out_dir)`` writes ``report.json`` (byte-identical for the same seed) and
``report.html``; ``write_compare(a, b, out_dir)`` writes both runs under ``a/`` and ``b/`` plus
``compare.json`` and ``compare.html``.
"""

from __future__ import annotations

import base64
import io
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from .census_source import describe as describe_census
from .metric_text import absent_note
from .report import Report, compare, report_bytes

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:980px;color:#1b1f24;
line-height:1.45;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d0d7de;padding-bottom:.3rem}.meta{color:#57606a}.summary{background:#f6f8fa;border-left:4px solid
#0969da;padding:.8rem 1.2rem}.summary li{margin:.35rem 0}table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{border-bottom:1px solid #d8dee4;padding:.35rem .5rem;text-align:left}td.num{text-align:right;
font-variant-numeric:tabular-nums}.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1rem}
figure{margin:0}figcaption{font-size:.85rem;color:#57606a}img{max-width:100%}.good{color:#1a7f37}.bad{color:#cf222e}
"""


def _fmt(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "&ndash;"
    ax = abs(x)
    return f"{x:,.0f}" if ax >= 100 else (f"{x:.1f}" if ax >= 10 else f"{x:.2f}")


def _pct(x: float) -> str:
    """A share in % with one decimal ("95.2"), "&ndash;" when there is none."""
    return f"{x:.1f}" if math.isfinite(x) else "&ndash;"


def _ci(ci: tuple[float, float]) -> str:
    """The interval, or "n/a" when there is none (no value, or a single one)."""
    return f"{_fmt(ci[0])} &ndash; {_fmt(ci[1])}" if math.isfinite(ci[0]) and math.isfinite(ci[1]) else "n/a"


def _text(sentence: str) -> str:
    """Escape a summary sentence; `backticked` commands become <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(sentence))


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _hist(series: Sequence[tuple[str, Sequence[float]]], title: str, unit: str, absent: str = "") -> str:
    from matplotlib.figure import Figure  # no pyplot: no global state, safe in servers

    fig = Figure(figsize=(4.4, 2.8))
    ax = fig.add_subplot()
    colours = ["#0969da", "#bf3989"]
    finite = [(name, np.asarray(v, dtype=float)) for name, v in series]
    finite = [(name, v[np.isfinite(v)]) for name, v in finite]
    allv = np.concatenate([v for _, v in finite]) if finite else np.array([])
    if allv.size == 0:
        why = textwrap.fill(f"In every replication {absent}." if absent else "No value in any replication.", 42)
        ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, fontsize=8)
    elif unit == "%" and bool(np.isin(allv, (0.0, 100.0)).all()):  # a yes/no outcome: share of replications
        width = 0.8 / len(finite)
        for i, (name, v) in enumerate(finite):
            yes = 100.0 * float((v == 100.0).mean()) if v.size else 0.0
            ax.bar([j + i * width for j in (0, 1)], [100.0 - yes, yes], width=width, color=colours[i % 2], label=name)
        ax.set_xticks([0.4 - width / 2, 1.4 - width / 2] if len(finite) > 1 else [0, 1], ["no", "yes"])
        ax.set_ylim(0, 100)
        if len(finite) > 1:
            ax.legend(fontsize=8)
        unit = "% of replications"
    else:
        lo, hi = float(allv.min()), float(allv.max())
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 31).tolist()
        for i, (name, v) in enumerate(finite):
            if v.size:
                ax.hist(v, bins=bins, alpha=0.55 if len(finite) > 1 else 0.85, color=colours[i % 2], label=name)
                ax.axvline(float(v.mean()), color=colours[i % 2], linestyle="--", linewidth=1)
        if len(finite) > 1:
            ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(unit, fontsize=8)
    ax.set_ylabel("share" if unit == "% of replications" else "replications", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.subplots_adjust(left=0.14, right=0.97, top=0.9, bottom=0.17)
    return _png(fig)


def _page(title: str, body: str) -> str:
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><style>{_CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def _params_table(params: Mapping[str, Any]) -> str:
    def plain(v: Any) -> str:  # no Python spellings (None, False) in a page for facility managers
        return "default" if v is None else ("yes" if v else "no") if isinstance(v, bool) else str(v)

    rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(plain(v))}</td></tr>" for k, v in sorted(params.items()))
    return f"<table><tr><th>parameter</th><th>value</th></tr>{rows}</table>"


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page."""
    r = report
    summary = "".join(f"<li>{_text(s)}</li>" for s in r.summary)
    census = describe_census(r.census)
    census_p = f"<p class=census>{escape(census)}</p>" if census else ""
    rows, plots = [], []
    for name, spec in r.specs.items():
        s = r.metrics[name]
        note = absent_note(s, spec)
        miss = f" ({note})" if note else ""
        if spec.proportion:  # yes/no: the share of replications and its Wilson interval; no median, no p95
            rows.append(f"<tr><td>{escape(spec.label)}</td><td>% of replications</td><td class=num>{_pct(s.mean)}</td>"
                        f"<td class=num>{_pct(s.ci95[0])} &ndash; {_pct(s.ci95[1])}</td>"
                        f"<td class=num colspan=2>(yes/no outcome)</td><td class=num>{s.n}{escape(miss)}</td></tr>")
        else:
            rows.append(f"<tr><td>{escape(spec.label)}</td><td>{escape(spec.unit)}</td><td class=num>{_fmt(s.mean)}</td>"
                        f"<td class=num>{_ci(s.ci95)}</td><td class=num>{_fmt(s.p50)}</td>"
                        f"<td class=num>{_fmt(s.p95)}</td><td class=num>{s.n}{escape(miss)}</td></tr>")
        src = _hist([(r.scenario, r.samples[name])], spec.label, spec.unit, spec.absent)
        plots.append(f"<figure><img alt=\"histogram of {escape(spec.label)}\" src=\"{src}\">"
                     f"<figcaption>{escape(spec.label)} — dashed line: mean</figcaption></figure>")
    refs = "".join(f"<li>{escape(x)}</li>" for x in r.references)
    body = (
        f"<h1>{escape(r.title)}</h1><p class=meta>Ward {escape(r.ward_name)} ({escape(r.ward)}) · scenario "
        f"<code>{escape(r.scenario)}</code> · {r.replications:,} replications · seed {r.seed}</p>"
        f"<h2>What this means</h2>{census_p}<ul class=summary>{summary}</ul>"
        f"<h2>Results</h2><table><tr><th>metric</th><th>unit</th><th>mean</th><th>95 % CI of the mean</th><th>median</th>"
        f"<th>95th percentile</th><th>n</th></tr>{''.join(rows)}</table>"
        f"<p class=meta>The 95th percentile is the value only 1 replication in 20 exceeds: plan for it, not the mean. "
        f"A yes/no outcome shows the share of replications where it happened and its 95 % CI (Wilson score "
        f"interval).</p>"
        f"<h2>Distributions</h2><div class=plots>{''.join(plots)}</div>"
        f"<h2>Parameters</h2>{_params_table(r.parameters)}"
        f"<h2>Published reference figures</h2><ul>{refs}</ul>"
        f"<p class=meta>SmartWard digital twin. The same seed and parameters reproduce this report exactly. "
        f"Reproduce: <code>smartward twin run {escape(r.scenario)} --seed {r.seed} --replications {r.replications}</code> "
        f"with the parameters above as <code>--set key=value</code>.</p>"
    )
    return _page(f"{r.title} — {r.ward_name}", body)


def render_compare_html(a: Report, b: Report, cmp: Mapping[str, Any]) -> str:
    changed = sorted(k for k in a.parameters if a.parameters.get(k) != b.parameters.get(k))
    label_a = ", ".join(f"{k}={a.parameters[k]}" for k in changed) or "A"
    label_b = ", ".join(f"{k}={b.parameters[k]}" for k in changed) or "B"
    rows, plots = [], []
    for name in cmp["metric_order"]:
        d = cmp["difference"][name]
        cls = ""
        if d["significant"] and d["diff"] is not None:
            better = (d["diff"] < 0) == d["lower_is_better"]
            cls = "good" if better else "bad"
        rows.append(f"<tr><td>{escape(d['label'])}</td><td>{escape(d['unit'])}</td><td class=num>{_fmt(d['mean_a'])}</td>"
                    f"<td class=num>{_fmt(d['mean_b'])}</td><td class='num {cls}'>{_fmt(d['diff'])}</td>"
                    f"<td class=num>{_fmt(d['ci95'][0])} &ndash; {_fmt(d['ci95'][1])}</td>"
                    f"<td>{'yes' if d['significant'] else 'no'}</td></tr>")
        src = _hist([("A", a.samples[name]), ("B", b.samples[name])], d["label"], d["unit"], a.specs[name].absent)
        plots.append(f"<figure><img alt=\"histograms of {escape(d['label'])}\" src=\"{src}\">"
                     f"<figcaption>{escape(d['label'])}: A vs B</figcaption></figure>")
    body = (
        f"<h1>{escape(a.title)}: comparison</h1><p class=meta>Ward {escape(a.ward_name)} · seed {a.seed} · "
        f"{a.replications:,} replications each</p><p><b>A</b>: {escape(label_a)}<br><b>B</b>: {escape(label_b)}</p>"
        f"<h2>Difference B &minus; A</h2><table><tr><th>metric</th><th>unit</th><th>mean A</th><th>mean B</th><th>B &minus; A</th>"
        f"<th>95 % CI (Welch)</th><th>clear difference</th></tr>{''.join(rows)}</table>"
        f"<p class=meta>{escape(cmp['method'])} Green: B is better, red: B is worse (when the interval excludes 0).</p>"
        f"<h2>What B means (summary)</h2><ul class=summary>{''.join(f'<li>{_text(s)}</li>' for s in b.summary)}</ul>"
        f"<h2>Distributions</h2><div class=plots>{''.join(plots)}</div>"
        f"<h2>Parameters A</h2>{_params_table(a.parameters)}<h2>Parameters B</h2>{_params_table(b.parameters)}"
    )
    return _page(f"{a.title}: comparison", body)


def write_reports(report: Report, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``out_dir`` (created); return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    js, page = out / "report.json", out / "report.html"
    js.write_bytes(report_bytes(report.to_json()))
    page.write_text(render_html(report), encoding="utf-8")
    return js, page


def write_compare(a: Report, b: Report, out_dir: str | Path) -> dict[str, Any]:
    """Write ``a/`` and ``b/`` reports plus ``compare.json`` and ``compare.html``; return the comparison."""
    out = Path(out_dir)
    write_reports(a, out / "a")
    write_reports(b, out / "b")
    cmp = compare(a, b)
    (out / "compare.json").write_bytes(report_bytes(cmp))
    (out / "compare.html").write_text(render_compare_html(a, b, cmp), encoding="utf-8")
    return cmp
