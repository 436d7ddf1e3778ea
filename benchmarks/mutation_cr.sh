#!/usr/bin/env bash
# Mutation check with cosmic-ray of the authorization rules and the write path (issue 13 and the brief:
# a one-line change to a rule must make a test fail). Not in CI (minutes to an hour).
#   benchmarks/mutation_cr.sh writer        # ingest/writer.py against tests/unit/ingest/test_writer.py (~5 min)
#   benchmarks/mutation_cr.sh auth          # dashboard_api/deps.py + users.py against tests/security (long)
#   benchmarks/mutation_cr.sh republish     # ingest/republish.py against tests/unit/ingest/test_republish.py
#   benchmarks/mutation_cr.sh lines         # ingest/stores/influx_lines.py against its unit tests
# Runs in a temporary copy of HEAD (REV=… for another commit) with this checkout's .venv, and prints the
# counts and every surviving mutant (file:line, operator, the changed line). Mutants of annotations
# (`X | None` under `from __future__ import annotations`, never evaluated) survive by construction.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
name=${1:?usage: benchmarks/mutation_cr.sh auth|writer}
cfg="$root/benchmarks/mutation/$name.toml"
[ -f "$cfg" ] || { echo "no $cfg" >&2; exit 2; }
"$root/.venv/bin/python" -c 'import cosmic_ray' 2>/dev/null || { echo "cosmic-ray missing: run scripts/bootstrap.sh" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smartward-cr.XXXXXX")
trap 'rm -rf "$work"' EXIT
git archive "${REV:-HEAD}" | tar -xf - -C "$work"
ln -s "$root/.venv" "$work/.venv"
[ -d "$root/node_modules" ] && ln -s "$root/node_modules" "$work/node_modules"
cd "$work"
export PATH="$root/.venv/bin:$PATH"
cosmic-ray init "$cfg" "$work/session.sqlite" >/dev/null
cosmic-ray exec "$cfg" "$work/session.sqlite"
python - "$work/session.sqlite" <<'PY'
import sqlite3, sys
from collections import Counter
c = sqlite3.connect(sys.argv[1])
rows = c.execute("select r.test_outcome, s.module_path, s.start_pos_row, s.operator_name, r.diff "
                 "from work_results r join mutation_specs s using(job_id)").fetchall()
n = Counter(str(t) for t, *_ in rows)
tested = sum(v for k, v in n.items() if k in ("TestOutcome.KILLED", "TestOutcome.SURVIVED", "KILLED", "SURVIVED"))
killed = n.get("TestOutcome.KILLED", 0) + n.get("KILLED", 0)
print(f"mutants: {len(rows)}, tested {tested}, killed {killed}, survived {tested - killed}"
      f" (score {100 * killed / max(1, tested):.1f} %)")
for t, path, row, op, diff in sorted(rows, key=lambda r: (r[1], r[2])):
    if str(t).endswith("SURVIVED"):
        changed = [l for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
        print(f"  survived {path}:{row} {op}: {changed[-1][1:].strip() if changed else ''}")
PY
