"""Monte Carlo runner: seeded replications of a scenario, across processes, in replication order.

Replication ``i`` always uses ``numpy.random.SeedSequence(seed).spawn(replications)[i]``, whatever the
number of workers or chunks, so the same seed gives the same numbers (and a byte-identical
``report.json``). Chunks of replications run in worker processes started from a fork server that has
the twin preloaded (cheap to start, safe to use from a process that runs threads or an event loop).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
from pydantic import BaseModel

from .errors import ScenarioError
from .model import WardModel
from .report import Report, compare
from .scenario import Scenario, params_dict, prepare
from .stats import summarize

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
MAX_REPLICATIONS = 100_000  # every sample is kept in report.json (about 10 bytes each per metric)
IN_PROCESS_BELOW_S = 1.5  # workers=None: estimated work under this runs in-process (a pool costs ~0.6 s to start)

__all__ = ["Progress", "Report", "compare", "get_scenario", "run", "run_chunk"]


def get_scenario(name: str) -> type[Scenario]:
    from .scenarios import SCENARIOS

    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS)) or "(none registered)"
        raise ScenarioError(f"unknown scenario {name!r}; known: {known}") from None


def run_chunk(name: str, ward: WardModel, params: BaseModel, seeds: Sequence[np.random.SeedSequence]) -> list[list[float]]:
    """Run replications for ``seeds`` in order; one row of metric values (report order) per seed."""
    cls = get_scenario(name)
    scenario = cls()
    names = list(cls.metrics)
    rows: list[list[float]] = []
    for ss in seeds:
        values = scenario.run_once(ward, params, np.random.default_rng(ss))
        missing = [m for m in names if m not in values]
        if missing:
            raise ScenarioError(f"{name}: run_once did not return metric(s) {', '.join(missing)}")
        rows.append([float(values[m]) for m in names])
    return rows


def _pool(workers: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        ctx.set_forkserver_preload(["digital_twin.runner", "digital_twin.scenarios"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run(scenario: str, ward: WardModel, *, replications: int, seed: int, overrides: Mapping[str, Any] | None = None,
        workers: int | None = None, progress: Progress | None = None,
        census: Mapping[str, Any] | None = None) -> Report:
    """Run ``replications`` of ``scenario`` on ``ward``; errors in the setup are raised before any work.

    ``census``: where the ward's census came from (``digital_twin.census_source``), kept in the report."""
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise ScenarioError(f"replications must be between 1 and {MAX_REPLICATIONS:,} (got {replications})")
    if seed < 0:
        raise ScenarioError(f"seed must be a non-negative integer (got {seed})")
    cls = get_scenario(scenario)
    params = prepare(cls, ward, overrides or {})  # the scenario's own check against the ward
    seeds = np.random.SeedSequence(seed).spawn(replications)
    run_chunk(scenario, ward, params, [np.random.SeedSequence([seed, 2**31])])  # fail fast on bad setup
    if workers is None:
        t0 = time.perf_counter()
        run_chunk(scenario, ward, params, [np.random.SeedSequence([seed, 2**31 + 1])])
        estimate = (time.perf_counter() - t0) * replications
        n_workers = 1 if estimate < IN_PROCESS_BELOW_S else _default_workers()
    else:
        n_workers = workers
    if n_workers < 1:
        raise ScenarioError(f"workers must be at least 1 (got {n_workers})")
    rows: list[list[float]] = []
    if progress:
        progress(0, replications)
    if n_workers == 1:
        size = max(1, math.ceil(replications / 20))
        for start in range(0, replications, size):
            rows += run_chunk(scenario, ward, params, seeds[start:start + size])
            if progress:
                progress(len(rows), replications)
    else:
        size = max(1, min(250, math.ceil(replications / (n_workers * 8))))
        starts = list(range(0, replications, size))
        done: dict[int, list[list[float]]] = {}
        try:
            _run_pool(scenario, ward, params, seeds, starts, size, min(n_workers, len(starts)), done, progress)
        except BrokenProcessPool as exc:
            raise ScenarioError(f"{scenario}: a worker process died ({exc}); try workers=1") from exc
        for s in starts:
            rows += done[s]
    log.debug("twin run %s on %s: %d replications, seed %d", scenario, ward.id, replications, seed)
    return _report(cls, ward, params, seed, rows, census)


def _run_pool(scenario: str, ward: WardModel, params: BaseModel, seeds: Sequence[np.random.SeedSequence],
              starts: list[int], size: int, workers: int, done: dict[int, list[list[float]]],
              progress: Progress | None) -> None:
    replications = len(seeds)
    with _pool(workers) as pool:
        futures: dict[Future[list[list[float]]], int] = {
            pool.submit(run_chunk, scenario, ward, params, seeds[s:s + size]): s for s in starts}
        pending = set(futures)
        count = 0
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                done[futures[f]] = f.result()
                count += len(done[futures[f]])
            if progress:
                progress(count, replications)


def _report(cls: type[Scenario], ward: WardModel, params: BaseModel, seed: int, rows: list[list[float]],
            census: Mapping[str, Any] | None) -> Report:
    names = list(cls.metrics)
    matrix = np.asarray(rows, dtype=float).reshape(len(rows), len(names))
    samples = {m: matrix[:, j] for j, m in enumerate(names)}
    metrics = {m: summarize(samples[m], cls.metrics[m].unit, cls.metrics[m].label,
                            proportion=cls.metrics[m].proportion) for m in names}
    summary = cls().summarize(ward, params, metrics)
    return Report(
        scenario=cls.name, title=cls.title, ward=ward.id, ward_name=ward.name, seed=seed, replications=len(rows),
        parameters=params_dict(params), specs=dict(cls.metrics), metrics=metrics, summary=list(summary),
        references=list(cls.references), samples={m: samples[m].tolist() for m in names},
        census=dict(census) if census else None,
    )
