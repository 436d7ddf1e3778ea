"""One digital-twin run in its own process: ``python -m dashboard_api.twin_worker``.

Started by :class:`dashboard_api.twin_jobs.TwinJobs` (and the "time to evacuate now" estimator) so
the Monte Carlo work never runs on the API's event loop. Protocol, one JSON object per line:

- stdin, first line: ``{"scenario", "ward_file", "replications", "seed", "overrides": {key: str},
  "workers", "out_dir" | null, "census": {where the census came from} | null}``. The parent keeps stdin open; EOF (the parent closed it, or died)
  ends the run at once.
- stdout: ``{"progress": [done, total]}`` (at most ~5 per second, and the last one), then either
  ``{"ok": true}`` (reports written to ``out_dir``) or ``{"ok": true, "report": {…}}`` (no
  ``out_dir``: the report without samples), or ``{"ok": false, "error": "…"}`` with exit code 1.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("dashboard_api.twin_worker")
PROGRESS_EVERY_S = 0.2


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(obj) + b"\n")
    sys.stdout.flush()


def _exit_on_eof() -> None:
    """The parent holds our stdin: when it closes it (cancel) or dies, stop at once."""
    fd = sys.stdin.fileno()
    while os.read(fd, 4096):
        pass
    os._exit(3)


def run_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one spec; returns the final line (``ok`` + optional ``report``) or raises ``TwinError``."""
    from digital_twin.model import WardModel
    from digital_twin.report_html import write_reports
    from digital_twin.runner import run

    ward = WardModel.model_validate_json(Path(spec["ward_file"]).read_bytes()).with_overrides()  # + reference checks
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            _emit({"progress": [done, total]})

    report = run(spec["scenario"], ward, replications=int(spec["replications"]), seed=int(spec["seed"]),
                 overrides=dict(spec.get("overrides") or {}), workers=spec.get("workers"), progress=progress,
                 census=spec.get("census"))
    if spec.get("out_dir"):
        write_reports(report, Path(spec["out_dir"]))
        return {"ok": True}
    doc = report.to_json()
    doc.pop("samples", None)
    for m in (doc.get("metrics") or {}).values():
        if isinstance(m, dict):
            m.pop("samples", None)
    return {"ok": True, "report": doc}


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="twin worker: %(levelname)s %(message)s")
    from digital_twin import TwinError

    line = sys.stdin.buffer.readline()
    try:
        spec = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        _emit({"ok": False, "error": f"bad run spec on stdin: {exc}"})
        return 2
    threading.Thread(target=_exit_on_eof, name="stdin-eof", daemon=True).start()
    try:
        _emit(run_spec(spec))
    except TwinError as exc:
        _emit({"ok": False, "error": str(exc)})
        return 1
    except (OSError, ValueError, KeyError) as exc:  # unreadable ward file, bad spec: name it
        log.exception("run failed")
        _emit({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
