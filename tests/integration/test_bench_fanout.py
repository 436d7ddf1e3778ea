"""``smartward bench fanout`` end to end at a tiny scale, as a newcomer runs it (production settings, no
audit key configured): a real Mosquitto, the API with a real user who logs in, screens that receive every
frame. Only the report's shape and completeness are checked; the benchmark prints times, it never judges
them (and neither does this test)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_fanout_delivers_every_frame_to_every_screen() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SMARTWARD_ENVIRONMENT", "SMARTWARD_AUDIT_KEY", "SMARTWARD_AUDIT_KEY_FILE")}
    r = subprocess.run([sys.executable, "-m", "smartward", "bench", "fanout", "--beds", "10", "--screens", "5",
                        "--duration", "2", "--burst", "200"], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=150)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "fanout: 5 screens connected; 10 beds x 1 Hz" in out, out
    m = re.search(r"^paced: (\d+) messages -> ([\d,]+) of ([\d,]+) frames delivered \(0 missing\)", out, re.M)
    assert m and int(m.group(1)) > 0 and m.group(2) == m.group(3), out
    assert re.search(r"^alarms: [1-9][\d,]* alarm frames", out, re.M), out
    assert "-> 1,000 of 1,000 frames" in out, out  # the burst: 200 messages x 5 screens
