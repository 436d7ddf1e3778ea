"""Twin runs started from the API: queued, run one (or ``max_runs``) at a time, each in its own
process (:mod:`dashboard_api.twin_worker`), never on the event loop; persisted under
``{data_dir}/twin/runs/{id}/`` (``run.json`` status, ``ward.json`` the ward model simulated,
``report.json`` + ``report.html``) so they survive a restart. A run that was queued or running when
the server stopped is queued again on start (same seed, so the same report)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import re
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from device_profiles.files import write_atomic

from .errors import DashboardError

log = logging.getLogger(__name__)
RUN_ID = re.compile(r"^r-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
Status = Literal["queued", "running", "done", "failed"]


class TwinJobError(DashboardError):
    """A twin run could not be started, read or completed."""


class RunRecord(BaseModel):
    """What ``GET /api/v1/twin/runs/{id}`` answers; also ``run.json`` on disk."""

    model_config = ConfigDict(extra="ignore")
    id: str
    scenario: str
    title: str = ""
    ward: str
    census: Literal["layout", "live"]
    replications: int
    seed: int
    parameters: dict[str, str] = Field(default_factory=dict)
    status: Status = "queued"
    done: int = 0
    total: int = 0
    error: str | None = None
    by: str = ""
    created_t: int = 0
    started_t: int | None = None
    finished_t: int | None = None
    census_used: dict[str, Any] = Field(default_factory=dict)
    census_source: dict[str, Any] = Field(default_factory=dict, description="where the census came from "
                                          "(digital_twin.census_source: file path, or live platform and time)")


def new_run_id(now: float | None = None) -> str:
    return time.strftime("r-%Y%m%d-%H%M%S-", time.gmtime(now)) + secrets.token_hex(3)


async def run_worker(spec: dict[str, Any], on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run ``spec`` in a :mod:`dashboard_api.twin_worker` process; returns its final line.
    Raises :class:`TwinJobError` naming the problem. Cancelling kills the process."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "dashboard_api.twin_worker",
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stderr: collections.deque[bytes] = collections.deque(maxlen=20)

    async def drain_stderr() -> None:
        assert proc.stderr is not None
        async for line in proc.stderr:
            stderr.append(line)

    final: dict[str, Any] | None = None
    err_task = asyncio.create_task(drain_stderr())
    try:
        proc.stdin.write(orjson.dumps(spec) + b"\n")
        await proc.stdin.drain()
        async for line in proc.stdout:
            try:
                msg = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if "progress" in msg and on_progress is not None:
                on_progress(int(msg["progress"][0]), int(msg["progress"][1]))
            elif "ok" in msg:
                final = msg
        rc = await proc.wait()
        await err_task
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        err_task.cancel()
        raise
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            proc.stdin.close()
    if final is None:
        tail = b"".join(stderr).decode("utf-8", "replace").strip().splitlines()
        raise TwinJobError(f"the run process exited with {rc}: {tail[-1] if tail else 'no output'}")
    if not final.get("ok"):
        raise TwinJobError(str(final.get("error") or "the run failed"))
    return final


class TwinJobs:
    """The run queue. ``start()`` in the app's lifespan, ``close()`` at shutdown."""

    def __init__(self, root: Path, *, max_runs: int = 1, workers: int = 1) -> None:
        self.root = root
        self.workers = workers
        self.runs: dict[str, RunRecord] = {}
        self._slots = asyncio.Semaphore(max_runs)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._saved: dict[str, float] = {}
        self._cancelled: set[str] = set()

    def run_dir(self, run_id: str) -> Path:
        if not RUN_ID.match(run_id):
            raise TwinJobError(f"{run_id!r} is not a run id")
        return self.root / run_id

    # -- persistence ------------------------------------------------------------------------------
    def _load_all(self) -> list[RunRecord]:
        self.root.mkdir(parents=True, exist_ok=True)
        out = []
        for d in sorted(self.root.iterdir()):
            f = d / "run.json"
            if RUN_ID.match(d.name) and f.exists():
                try:
                    out.append(RunRecord.model_validate_json(f.read_bytes()))
                except ValueError as exc:
                    log.warning("twin: run %s not restored: %s", d.name, exc)
        return out

    async def _save(self, rec: RunRecord, *, throttle_s: float = 0.0) -> None:
        now = time.monotonic()
        if throttle_s and now - self._saved.get(rec.id, 0.0) < throttle_s:
            return
        self._saved[rec.id] = now
        data = rec.model_dump_json(indent=1).encode()
        await asyncio.to_thread(write_atomic, self.run_dir(rec.id) / "run.json", data)

    async def start(self) -> None:
        """Restore persisted runs; queue again the ones a stop interrupted."""
        for rec in await asyncio.to_thread(self._load_all):
            self.runs[rec.id] = rec
            if rec.status in ("queued", "running"):
                log.info("twin: run %s (%s) was %s at the last stop; queued again", rec.id, rec.scenario, rec.status)
                rec.status, rec.done, rec.started_t = "queued", 0, None
                await self._save(rec)
                self._launch(rec)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    # -- runs -------------------------------------------------------------------------------------
    async def submit(self, rec: RunRecord, ward_json: bytes) -> RunRecord:
        d = self.run_dir(rec.id)
        await asyncio.to_thread(d.mkdir, parents=True)
        await asyncio.to_thread(write_atomic, d / "ward.json", ward_json)
        rec.created_t = rec.created_t or int(time.time() * 1000)
        self.runs[rec.id] = rec
        await self._save(rec)
        self._launch(rec)
        return rec

    def _launch(self, rec: RunRecord) -> None:
        task = asyncio.get_running_loop().create_task(self._execute(rec), name=f"twin-run-{rec.id}")
        self._tasks[rec.id] = task

        def forget(_t: asyncio.Task[None], rid: str = rec.id) -> None:
            self._tasks.pop(rid, None)

        task.add_done_callback(forget)

    async def cancel(self, run_id: str, by: str) -> RunRecord:
        """Stop a queued or running run (its worker process is killed); it ends ``failed``,
        ``error`` = "cancelled by …"."""
        rec = self.runs.get(run_id)
        if rec is None:
            raise TwinJobError(f"no run {run_id!r}")
        if rec.status not in ("queued", "running"):
            raise TwinJobError(f"run {run_id} is {rec.status} already")
        rec.status, rec.error, rec.finished_t = "failed", f"cancelled by {by}", int(time.time() * 1000)
        self._cancelled.add(run_id)
        task = self._tasks.get(run_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._save(rec)
        log.info("twin: run %s (%s) cancelled by %s", rec.id, rec.scenario, by)
        return rec

    async def _execute(self, rec: RunRecord) -> None:
        try:
            await self._execute_in_slot(rec)
        except asyncio.CancelledError:
            if rec.id not in self._cancelled:  # a shutdown: run.json keeps queued/running, re-queued on start
                raise

    async def _execute_in_slot(self, rec: RunRecord) -> None:
        d = self.run_dir(rec.id)
        async with self._slots:
            rec.status, rec.started_t, rec.total, rec.done = "running", int(time.time() * 1000), rec.replications, 0
            await self._save(rec)
            spec = {"scenario": rec.scenario, "ward_file": str(d / "ward.json"), "replications": rec.replications,
                    "seed": rec.seed, "overrides": rec.parameters, "workers": self.workers, "out_dir": str(d),
                    "census": rec.census_source or None}
            pending: set[asyncio.Task[None]] = set()

            def progress(done: int, total: int) -> None:
                rec.done, rec.total = done, total
                task = asyncio.get_running_loop().create_task(self._save(rec, throttle_s=1.0))
                pending.add(task)
                task.add_done_callback(pending.discard)

            try:
                await run_worker(spec, progress)
            except (TwinJobError, OSError) as exc:  # OSError: the worker process could not be started
                rec.status, rec.error = "failed", str(exc)
                log.warning("twin: run %s (%s) failed: %s", rec.id, rec.scenario, exc)
            else:
                rec.status, rec.done = "done", rec.total
                log.info("twin: run %s (%s, %d replications) done", rec.id, rec.scenario, rec.replications)
            finally:
                for t in list(pending):
                    with contextlib.suppress(asyncio.CancelledError):
                        await t
            rec.finished_t = int(time.time() * 1000)
            await self._save(rec)

    def report_file(self, run_id: str, kind: Literal["json", "html"]) -> Path:
        rec = self.runs.get(run_id)
        if rec is None:
            raise TwinJobError(f"no run {run_id!r}")
        if rec.status != "done":
            raise TwinJobError(f"run {run_id} is {rec.status}; its report is not ready")
        return self.run_dir(run_id) / f"report.{kind}"

    def listing(self) -> list[RunRecord]:
        return sorted(self.runs.values(), key=lambda r: (r.created_t, r.id), reverse=True)
