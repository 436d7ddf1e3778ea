"""The web pages' modules type-check: ``tsc -p tsconfig.json`` (``// @ts-check`` + JSDoc, frame typedefs
from the websocket schema) reports no error. Needs ``npm ci`` (scripts/bootstrap.sh --test does it):
skipped without node_modules locally, a failure in CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TSC = ROOT / "node_modules" / ".bin" / "tsc"


def _tsc(project: Path) -> subprocess.CompletedProcess[str]:
    if not TSC.exists() or not shutil.which("node"):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{TSC} missing in CI: scripts/bootstrap.sh --test runs npm ci")
        pytest.skip("node_modules missing: run npm ci (or scripts/bootstrap.sh --test)")
    return subprocess.run([str(TSC), "-p", str(project), "--pretty", "false"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def test_static_modules_type_check() -> None:
    r = _tsc(ROOT / "tsconfig.json")
    assert r.returncode == 0, f"tsc found type errors:\n{r.stdout}{r.stderr}"


def test_the_check_sees_a_wrong_frame_field(tmp_path: Path) -> None:
    """The project's settings catch a page reading a field a frame does not have (the check is live)."""
    bad = tmp_path / "probe.js"
    frames = (ROOT / "dashboard_api" / "static" / "frames.js").as_posix()
    bad.write_text(f'// @ts-check\n/** @param {{import("{frames}").WsFrame}} f */\n'
                   'export function probe(f) { return f.type === "tile" ? f.tile.no_such_field : 0; }\n')
    cfg = tmp_path / "tsconfig.json"
    base = json.loads((ROOT / "tsconfig.json").read_text())
    cfg.write_text(json.dumps({"compilerOptions": base["compilerOptions"], "include": [str(bad)]}))
    r = _tsc(cfg)
    assert r.returncode != 0 and "no_such_field" in r.stdout, r.stdout + r.stderr
