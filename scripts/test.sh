#!/usr/bin/env bash
# One command from a fresh checkout to the whole test suite, with real Mosquitto, InfluxDB and Chromium.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test || exit 1
.venv/bin/python -m pytest --timeout=300 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests (exit 5): treating as failure of the suite layout" >&2
  exit 1
fi
exit "$rc"
