#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for SmartWard: system packages, then a virtualenv in .venv.
#   scripts/bootstrap.sh          # Python runtime only (enough for `smartward demo`)
#   scripts/bootstrap.sh --test   # plus Mosquitto, InfluxDB 1.x, PostgreSQL, Chromium and node + npm ci (tsc) for the test suite
# Idempotent: re-running installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pkgs=()
need() { dpkg -s "$1" >/dev/null 2>&1 || pkgs+=("$1"); }
if command -v dpkg >/dev/null 2>&1; then
  command -v python3 >/dev/null 2>&1 || need python3
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need python3-venv
  if [ "$want_test" = 1 ]; then
    need mosquitto; need mosquitto-clients; need influxdb; need influxdb-client; need chromium; need fonts-dejavu-core
    need fonts-wqy-microhei  # Chinese text in the portal screenshots and browser tests (not tofu boxes)
    need postgresql  # the state DB's migrations are tested on PostgreSQL too (tests/contract/test_state_migrations.py)
    command -v node >/dev/null 2>&1 || need nodejs  # tsc type-checks the web pages (package.json)
    command -v npm >/dev/null 2>&1 || need npm
  fi
  if [ ${#pkgs[@]} -gt 0 ]; then
    echo "bootstrap: installing system packages: ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
fi

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "SmartWard needs Python >= 3.11")'
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.smartward-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  echo "bootstrap: installing Python packages into .venv"
  # uv installs the same locked versions as pip about three times faster (27 s instead of ~80 s for the
  # test set on the reference machine); pip remains the fallback. uv does not read pip.conf: an index
  # given to pip by environment is passed on, the system's certificates are used, and a machine whose
  # index is only in pip.conf can set UV_INDEX_URL (or rely on the pip fallback when uv fails).
  [ -n "${PIP_INDEX_URL:-}" ] && export UV_INDEX_URL="${UV_INDEX_URL:-$PIP_INDEX_URL}"
  [ -n "${PIP_EXTRA_INDEX_URL:-}" ] && export UV_EXTRA_INDEX_URL="${UV_EXTRA_INDEX_URL:-$PIP_EXTRA_INDEX_URL}"
  export UV_NATIVE_TLS="${UV_NATIVE_TLS:-1}"
  # Bytecode is compiled at install, as pip does: with PYTHONDONTWRITEBYTECODE set (as on some CI
  # machines) every process would otherwise compile every imported module again.
  if .venv/bin/python -m pip install -q uv==0.13.9 >/dev/null 2>&1 &&
     .venv/bin/uv pip install -q --compile-bytecode --python .venv/bin/python -c requirements.lock -e '.[dev]'; then
    :
  else
    echo "bootstrap: uv unavailable or failed; installing with pip"
    .venv/bin/python -m pip install -q -c requirements.lock -e '.[dev]'
  fi
  touch "$stamp"
fi

# the web pages' type-checker and axe-core (package-lock.json): reinstalled when the lock changes
if [ "$want_test" = 1 ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "bootstrap: installing node packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
fi
