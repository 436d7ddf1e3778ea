#!/usr/bin/env bash
# Mutation score of the unit tests over the alerting core (issue 11): every one-line change mutmut
# makes to alerting/{limits,lifecycle,technical,news2,anomaly_watch}.py should make a test in
# tests/unit fail; a surviving mutant is a missing test or dead code. Not run in CI (it takes long).
#   benchmarks/mutation.sh                    # all five modules
#   benchmarks/mutation.sh limits technical   # a subset
#   REV=HEAD~3 benchmarks/mutation.sh         # another commit (default HEAD; REV=worktree: uncommitted files too)
# Runs in a temporary copy (of the commit, by default): mutmut writes mutants/ and must never touch the
# working tree people edit, and needs a green baseline (every selected test passing before mutating).
# Configuration: [tool.mutmut] in pyproject.toml; mutmut is pinned in the dev extra.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py="$root/.venv/bin/python"
"$py" -c 'import mutmut' 2>/dev/null || { echo "mutation: mutmut missing; run scripts/bootstrap.sh" >&2; exit 1; }
modules=("$@")
[ ${#modules[@]} -eq 0 ] && modules=(limits lifecycle technical news2 anomaly_watch)
work=$(mktemp -d "${TMPDIR:-/tmp}/smartward-mutation.XXXXXX")
trap 'rm -rf "$work"' EXIT
rev=${REV:-HEAD}
if [ "$rev" = worktree ]; then  # tracked and new (not ignored) files as they are now
  git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' \
    | tar --null -T - -cf - | tar -xf - -C "$work"
else
  git archive "$rev" | tar -xf - -C "$work"
fi
cd "$work"
names=()
for m in "${modules[@]}"; do names+=("alerting.${m}.*"); done
echo "mutation: mutating ${modules[*]} of $rev against tests/unit in $work" >&2
start=$(date +%s)
"$py" -m mutmut run "${names[@]}" >"$work/run.log" 2>&1 || { tail -40 "$work/run.log" >&2; exit 1; }
"$py" -m mutmut export-cicd-stats >/dev/null
echo "surviving mutants and their diffs:"
"$py" -m mutmut results | grep -v ': not checked$' | sed 's/^/  /'
for name in $("$py" -m mutmut results | awk -F': ' '$2 == "survived" {print $1}'); do
  "$py" -m mutmut show "$name" | grep -E '^[-+][^-+]' | sed "s|^|    $name |"
done
"$py" - "$start" "${modules[@]}" <<'PY'
import json, sys, time
s = json.load(open("mutants/mutmut-cicd-stats.json"))
# "total" counts the mutants of every module mutmut generated; only those of the selected modules ran
tested = sum(s.get(k, 0) for k in ("killed", "timeout", "survived", "suspicious", "no_tests", "segfault"))
caught = s.get("killed", 0) + s.get("timeout", 0)
print(f"mutation score ({', '.join(sys.argv[2:])}): {caught}/{tested} = {100 * caught / max(1, tested):.1f} % "
      f"(killed {s.get('killed', 0)}, timeout {s.get('timeout', 0)}, survived {s.get('survived', 0)}, "
      f"no tests {s.get('no_tests', 0)}, suspicious {s.get('suspicious', 0)}) in {time.time() - float(sys.argv[1]):.0f} s")
PY
