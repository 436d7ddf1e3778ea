#!/usr/bin/env bash
# Run every benchmark one after another on a quiet machine; output also kept in var/bench-<date>.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test || exit 1
mkdir -p var
out="var/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
for b in decode alerting gateway ingest fanout twin; do
  echo "== smartward bench $b"
  .venv/bin/smartward bench "$b" || echo "!! bench $b failed (exit $?)"
done 2>&1 | tee "$out"
echo "figures kept in $out"
