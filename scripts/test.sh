#!/usr/bin/env bash
# One command from a fresh checkout to the whole test suite, with real Mosquitto, InfluxDB and Chromium.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test || exit 1
# Two workers (one per core of the reference machine): most integration tests wait on real servers, so
# the suite takes about half as long. Tests are handed out a file at a time; every worker starts its
# own Mosquitto and InfluxDB. SMARTWARD_TEST_WORKERS=0 runs everything in one process (easier to debug).
# The suite starts hundreds of Python processes (serve, demo, CLIs): compile the project's own modules
# once, so they do not compile again in each when PYTHONDONTWRITEBYTECODE is set.
.venv/bin/python -m compileall -q -j 0 -x '/(\.venv|node_modules|\.git)/' . >/dev/null
# Each run has its own temporary root: pytest's shared numbered directories (/tmp/pytest-of-$USER) are
# pruned by whichever session starts next, so two suites on one machine could see each other's files.
basetemp="$(mktemp -d "${TMPDIR:-/tmp}/smartward-tests.XXXXXX")"
workers="${SMARTWARD_TEST_WORKERS:-2}"
if [ "$workers" = "0" ]; then
  .venv/bin/python -m pytest --timeout=300 --basetemp="$basetemp" "$@"
else
  .venv/bin/python -m pytest --timeout=300 -n "$workers" --dist loadfile --basetemp="$basetemp" "$@"
fi
rc=$?
if [ "$rc" -eq 0 ]; then rm -rf "$basetemp"; else echo "test files kept in $basetemp" >&2; fi
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests (exit 5): treating as failure of the suite layout" >&2
  exit 1
fi
exit "$rc"
