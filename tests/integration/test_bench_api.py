"""``smartward bench api`` end to end at a tiny scale: real Mosquitto and InfluxDB, ``smartward serve`` as a
subprocess, a publisher, and one user of each kind. Only the report's shape and its error count are
checked: the benchmark prints times, it never judges them (and neither does this test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY = ["--users", "6", "--beds", "20", "--wards", "2", "--duration", "5", "--ramp", "2", "--history-minutes", "2",
        "--think-scale", "0.2"]


def test_bench_api_runs_end_to_end_and_reports_every_kind_with_no_errors() -> None:
    r = subprocess.run([sys.executable, "-m", "smartward", "bench", "api", *TINY], cwd=REPO, capture_output=True,
                       text=True, timeout=150)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "6 users (1 station, 2 nurse, 2 portal, 1 fhir), 20 beds x 1 Hz in 2 wards" in out
    assert "ingest workers" in out and "SMARTWARD_ENVIRONMENT=production" in out  # serve as users run it
    for kind in ("trend 1h", "trend 8h", "portal summary", "fhir page", "overall", "login", "ws ticket", "ws snapshot"):
        assert re.search(rf"^  {re.escape(kind)}\s+\d+\s", out, re.M), f"no {kind!r} row in:\n{out}"
    m = re.search(r"^overall P95 \S+ s over (\d+) requests .*, (\d+) errors \(requests", out, re.M)
    assert m, out
    assert int(m.group(1)) > 0 and m.group(2) == "0", out
    assert "errors: 0 in the steady phase, 0 in the whole run" in out, out
    assert re.search(r"^websockets: 1 stations, 1 connected at the end; .* 0 errors$", out, re.M), out
    assert re.search(r"^ingest: offered \d+ msg/s .* stored \d+ samples/s", out, re.M), out
    assert re.search(r"^CPU in the steady phase .*serve .*ingest workers .*influxd .*publisher", out, re.M), out
    assert re.search(r"^load average .* on \d+ CPUs", out, re.M), out
