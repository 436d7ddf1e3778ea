"""The twin worker process protocol (dashboard_api.twin_worker via twin_jobs.run_worker) and the run
queue on disk: errors name what is wrong, progress arrives, cancelling kills the process. (Real
worker processes, no broker: integration-marked for their few seconds.)"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dashboard_api.twin_jobs import RunRecord, TwinJobError, TwinJobs, new_run_id, run_worker
from digital_twin.model import example_ward_path, load_ward
from tests.integration.dashboard.conftest import until

pytestmark = pytest.mark.integration


@pytest.fixture
def ward_file(tmp_path: Path) -> Path:
    p = tmp_path / "ward.json"
    p.write_bytes(load_ward(example_ward_path()).model_dump_json().encode())
    return p


def spec(path: Path, **kw: object) -> dict[str, object]:
    return {"scenario": "evacuation", "ward_file": str(path), "replications": 40, "seed": 1, "overrides": {},
            "workers": 1, "out_dir": None} | kw


async def test_report_and_progress(ward_file: Path) -> None:
    seen: list[tuple[int, int]] = []
    final = await run_worker(spec(ward_file), lambda d, t: seen.append((d, t)))
    assert final["ok"] and seen[-1] == (40, 40) and all(t == 40 for _, t in seen)
    report = final["report"]
    assert report["replications"] == 40 and "total_min" in report["metrics"] and "samples" not in report


@pytest.mark.parametrize(("change", "message"), [
    ({"overrides": {"census": "99"}}, "census 99 exceeds the 30 beds"),
    ({"ward_file": "/nonexistent/ward.json"}, "/nonexistent/ward.json"),
])
async def test_errors_name_the_problem(ward_file: Path, change: dict[str, object], message: str) -> None:
    with pytest.raises(TwinJobError, match=message.replace("(", r"\(")):
        await run_worker(spec(ward_file, **change))


async def test_cancelling_a_run_stops_its_process(tmp_path: Path, ward_file: Path) -> None:
    jobs = TwinJobs(tmp_path / "runs")
    await jobs.start()
    rec = RunRecord(id=new_run_id(), scenario="evacuation", ward="medsurg-4", census="layout", replications=100_000,
                    seed=1, total=100_000)
    await jobs.submit(rec, load_ward(example_ward_path()).model_dump_json().encode())
    await until(lambda: rec.done > 0, "progress of the run", 30)
    out = await jobs.cancel(rec.id, "fiona")
    assert out.status == "failed" and out.error == "cancelled by fiona" and out.done < 100_000
    on_disk = RunRecord.model_validate_json((tmp_path / "runs" / rec.id / "run.json").read_bytes())
    assert on_disk.status == "failed" and not (tmp_path / "runs" / rec.id / "report.json").exists()
    # a restart does not queue a cancelled run again
    again = TwinJobs(tmp_path / "runs")
    await again.start()
    assert again.runs[rec.id].status == "failed" and not again._tasks
    with pytest.raises(TwinJobError, match="is failed already"):
        await again.cancel(rec.id, "fiona")
    assert orjson.loads((tmp_path / "runs" / rec.id / "ward.json").read_bytes())["id"] == "medsurg-4"
