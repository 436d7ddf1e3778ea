#!/usr/bin/env bash
# One command from a fresh checkout to a running demo ward (embedded broker and store).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/smartward demo "$@"
