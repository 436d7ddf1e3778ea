""""Time to evacuate now": the ``evacuation`` scenario on the live census of a ward with the current
shift's roster, computed in a worker process and cached. A cached estimate is reused until the
census changes or it is older than ``now_max_age_s``: at once when beds are occupied or freed (the
previous estimate is served meanwhile, marked ``stale``), at most every ``now_min_interval_s`` when
only a patient's acuity from the NEWS2 band changed (bands flicker; not marked stale)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_profiles.files import write_atomic
from digital_twin.errors import TwinError
from digital_twin.live import Census, overlay_census

from .twin_config import Layouts, Shift, TwinSettings
from .twin_jobs import TwinJobError, run_worker

log = logging.getLogger(__name__)
SCENARIO = "evacuation"
SEED = 20171  # fixed: the same census gives the same estimate


Fingerprint = tuple[tuple[str, bool, str | None], ...]


def occupied(fp: Fingerprint) -> frozenset[str]:
    return frozenset(bed for bed, occ, _acuity in fp if occ)


def should_recompute(last: Fingerprint | None, now: Fingerprint, age_s: float, settings: TwinSettings) -> bool:
    """Never computed, beds occupied or freed, older than ``now_max_age_s``, or a patient's acuity
    changed and the estimate is at least ``now_min_interval_s`` old (NEWS2 bands flicker)."""
    if last is None or occupied(last) != occupied(now) or age_s >= settings.now_max_age_s:
        return True
    return last != now and age_s >= settings.now_min_interval_s


@dataclass
class _Entry:
    fingerprint: Fingerprint | None = None
    computed_mono: float = 0.0
    result: dict[str, Any] | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


HEADLINE = "total_min"  # the evacuation scenario's "alarm to last patient out"


def pick_metric(metrics: dict[str, Any]) -> str | None:
    """The headline metric: ``total_min``, else the first time metric named total…, else the first."""
    if HEADLINE in metrics:
        return HEADLINE
    names = list(metrics)
    for n in names:
        if n.startswith("total") and str(metrics[n].get("unit", "")) in ("s", "min"):
            return n
    return names[0] if names else None


class EvacuationNow:
    def __init__(self, settings: TwinSettings, layouts: Layouts, census_of: Callable[[str, int], Census],
                 work_dir: Path) -> None:
        self.settings = settings
        self.layouts = layouts
        self.census_of = census_of
        self.work_dir = work_dir
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = asyncio.Lock()  # one estimate computed at a time

    async def close(self) -> None:
        tasks = [e.task for e in self._entries.values() if e.task is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def get(self, ward_id: str, shift: Shift, wait_s: float = 0.0) -> dict[str, Any]:
        """The current estimate (``status`` ready | computing | failed). Starts a computation when the
        census changed or the estimate is old; waits up to ``wait_s`` for it."""
        layout = self.layouts.get(ward_id)
        if layout is None:
            raise TwinJobError(f"no ward layout with id {ward_id!r}")
        census = self.census_of(ward_id, int(time.time() * 1000))
        if not census.beds:  # no live census: an empty ward would "evacuate" in 0 min, which says nothing
            return {"ward": ward_id, "shift": shift, "scenario": SCENARIO, "status": "failed", "census_changed": False,
                    "stale": False, "error": f"the platform has no beds in ward {ward_id!r}, so there is no live "
                                             "census to estimate from (pick the platform's ward; aliases: "
                                             "SMARTWARD_TWIN_ALIASES)"}
        fp = census.fingerprint()
        entry = self._entries.setdefault((ward_id, shift), _Entry())
        age = time.monotonic() - entry.computed_mono
        if entry.task is None and should_recompute(entry.fingerprint, fp, age, self.settings):
            entry.done.clear()
            entry.task = asyncio.get_running_loop().create_task(self._compute(entry, ward_id, shift, census, fp))
        if entry.task is not None and wait_s > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await entry.done.wait()
        return self._answer(entry, ward_id, shift, fp, time.monotonic() - entry.computed_mono)

    def _answer(self, entry: _Entry, ward_id: str, shift: str, fp: Fingerprint, age: float) -> dict[str, Any]:
        status = "computing" if entry.task is not None else ("failed" if entry.error and entry.result is None
                                                             else "ready")
        out: dict[str, Any] = {"ward": ward_id, "shift": shift, "scenario": SCENARIO, "status": status,
                               "error": entry.error, "census_changed": entry.fingerprint != fp}
        if entry.result is not None:
            out |= entry.result
        # stale: other beds are occupied now, or it is old; an acuity-only change is recomputed quietly
        out["stale"] = entry.result is not None and entry.fingerprint is not None and (
            occupied(entry.fingerprint) != occupied(fp) or age >= self.settings.now_max_age_s)
        return out

    async def _compute(self, entry: _Entry, ward_id: str, shift: Shift, census: Census, fp: Fingerprint) -> None:
        try:
            async with self._lock:
                layout = self.layouts.get(ward_id)
                assert layout is not None
                overlay = overlay_census(layout, census)
                staff = len(overlay.ward.staff_on(shift))
                ward_file = self.work_dir / f"now-{ward_id}-{shift}.ward.json"
                await asyncio.to_thread(self.work_dir.mkdir, parents=True, exist_ok=True)
                await asyncio.to_thread(write_atomic, ward_file, overlay.ward.model_dump_json().encode())
                spec = {"scenario": SCENARIO, "ward_file": str(ward_file), "replications": self.settings.now_replications,
                        "seed": SEED, "overrides": shift_overrides(shift), "workers": 1, "out_dir": None}
                final = await run_worker(spec)
            report = final["report"]
            metric = pick_metric(report.get("metrics") or {})
            if metric is None:
                raise TwinJobError(f"scenario {SCENARIO} reported no metrics")
            m = report["metrics"][metric]
            entry.result = {
                "metric": metric, "label": m.get("label", metric), "unit": m.get("unit", "s"),
                "mean": m.get("mean"), "p50": m.get("p50"), "p95": m.get("p95"), "ci95": m.get("ci95"),
                "replications": report.get("replications"), "seed": SEED,
                "census": overlay.summary() | {"t": census.t, "staff_on_shift": staff, "platform_beds": len(census.beds)},
                "summary": list(report.get("summary") or [])[:3], "computed_at": int(time.time() * 1000)}
            entry.error = None
            entry.fingerprint = fp
            entry.computed_mono = time.monotonic()
            log.info("twin: time to evacuate ward %s (%s) now: mean %s %s", ward_id, shift, m.get("mean"), m.get("unit"))
        except (TwinJobError, TwinError, OSError, KeyError, TypeError) as exc:
            entry.error = str(exc)
            entry.fingerprint, entry.computed_mono = fp, time.monotonic()  # retried after max age or a change
            log.warning("twin: time to evacuate ward %s now not computed: %s", ward_id, exc)
        finally:
            entry.task = None
            entry.done.set()


def shift_overrides(shift: str) -> dict[str, str]:
    """The evacuation scenario's parameters for ``shift`` (its ``shift`` parameter, when it has one)."""
    from digital_twin.scenarios import SCENARIOS

    cls = SCENARIOS.get(SCENARIO)
    if cls is not None and "shift" in cls.Params.model_fields:
        return {"shift": shift}
    return {}
