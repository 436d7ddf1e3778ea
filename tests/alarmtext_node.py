"""The station's ``static/alarmtext.js`` run under node with its real i18n catalogues (the tests that
check how alarm reasons read in each language share this one runner)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).resolve().parents[1] / "dashboard_api" / "static"

RUNNER = """
import { readFileSync } from "node:fs";
const [lang, file] = process.argv.slice(1);
globalThis.document = { documentElement: {}, dispatchEvent() {} };
globalThis.fetch = async url => ({ ok: true, json: async () =>
  JSON.parse(readFileSync(new URL(url.replace("/static/", "./"), "STATIC/"), "utf8")) });
const I18n = await import("STATIC/i18n.js");
const { message, translated } = await import("STATIC/alarmtext.js");
await I18n.ready(lang);
const items = JSON.parse(readFileSync(file, "utf8"));
console.log(JSON.stringify(items.map(m => CALL)));
"""


def run_alarmtext(lang: str, items: list[Any], call: str, tmp: Path) -> list[Any]:
    """``call`` (a JS expression of ``m``, e.g. ``message(m.key, m.params)``) for each item, in ``lang``."""
    if not shutil.which("node"):
        pytest.skip("node missing")
    (tmp / "alarmtext-items.json").write_text(json.dumps(items), encoding="utf-8")
    script = RUNNER.replace("STATIC/", STATIC.as_uri() + "/").replace("CALL", call)
    r = subprocess.run(["node", "--input-type=module", "-e", script, lang, str(tmp / "alarmtext-items.json")],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    out: list[Any] = json.loads(r.stdout)
    return out
