"""``smartward news2``: bad lines are reported in place (naming the field) and processing continues."""

from __future__ import annotations

import json
import subprocess
import sys


def _run(stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smartward", "news2"], input=stdin, capture_output=True, text=True,
                          check=False, timeout=60)


def test_bad_lines_name_the_field_and_processing_continues() -> None:
    lines = [
        '{"resp_rate": 25, "spo2": 91}',
        '{"spo2": "98"}',
        'not json',
        '{"heart_rate": true}',
        '{"consciousness": "X"}',
        '{"spo2_scale": 3}',
        '{"pulse": 80}',
        '[1, 2]',
        '{"temperature": 55}',
        '',
        '{"resp_rate": 12, "spo2": 97, "supplemental_o2": false, "sbp": 120, "heart_rate": 70, '
        '"consciousness": "A", "temperature": 37}',
    ]
    proc = _run("\n".join(lines) + "\n")
    assert proc.returncode == 1
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(out) == 10  # the blank line is not an input
    assert out[0]["total"] == 6 and out[0]["complete"] is False
    fields = [o.get("field") for o in out[1:9]]
    assert fields == ["spo2", "$", "heart_rate", "consciousness", "spo2_scale", "pulse", "$", "temperature"]
    assert all(o["line"] for o in out[1:9])
    assert out[9] == {"total": 0, "scores": {"resp_rate": 0, "spo2": 0, "supplemental_o2": 0, "sbp": 0,
                                             "heart_rate": 0, "consciousness": 0, "temperature": 0},
                      "risk": "low", "complete": True, "missing": []}
    assert "1" in proc.stderr or "bad line" in proc.stderr


def test_all_good_input_exits_zero_and_null_means_missing() -> None:
    proc = _run('{"resp_rate": null, "spo2": 95}\n')
    assert proc.returncode == 0
    out = json.loads(proc.stdout)
    assert out["scores"] == {"spo2": 1} and "resp_rate" in out["missing"]


def test_a_platform_signal_code_or_a_typo_gets_the_news2_key_suggested() -> None:
    proc = _run('{"nibp_sys": 120}\n{"sp02": 97}\n{"zzz": 1}\n')
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert "did you mean 'sbp'?" in out[0]["error"]
    assert "did you mean 'spo2'?" in out[1]["error"]
    assert out[2]["error"].startswith("unknown key; expected one of resp_rate")
    assert proc.returncode == 1 and "smartward news2: error: 3 bad line(s)" in proc.stderr


def test_a_missing_input_file_is_named_without_a_traceback(tmp_path: object) -> None:
    proc = subprocess.run([sys.executable, "-m", "smartward", "news2", "--input", f"{tmp_path}/nope.jsonl"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"smartward news2: error: {tmp_path}/nope.jsonl: No such file or directory"
