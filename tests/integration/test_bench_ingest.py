"""``smartward bench ingest`` end to end at a tiny scale, as a newcomer runs it: real Mosquitto and
InfluxDB, every stage reports a figure. Only the report's shape is checked (and that the worker stage
stored the whole backlog, which it waits for); the benchmark prints rates, it never judges them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from benchmarks import ingest

REPO = Path(__file__).resolve().parents[2]


def test_bench_ingest_reports_every_stage() -> None:
    r = subprocess.run([sys.executable, "-m", "smartward", "bench", "ingest", "--messages", "1000", "--workers", "1",
                        "--writer-points", "5000"],
                       cwd=REPO, capture_output=True, text=True, timeout=150)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    # the writer is set beside raw /write round by round (alternated), then the medians
    assert len(re.findall(r"^  round \d: raw /write +[\d,]+ points/s, our writer +[\d,]+ points/s = [\d.]+x$",
                          out, re.M)) == ingest.WRITER_ROUNDS, out
    assert re.search(r"^our InfluxDB writer .* = [\d.]+x raw /write \(median of the rounds' ratios\)$", out, re.M), out
    assert re.search(r"^ingest MQTT->InfluxDB, 1 worker\(s\): +[\d,]+ msg/s", out, re.M), out
    assert "Exception ignored" not in r.stderr, r.stderr  # paho closing its socket after the loop ended
