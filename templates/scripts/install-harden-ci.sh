# Installs harden-ci and its dependencies by hash into a venv of its own
# (harden-ci's install-harden-ci.sh). Later steps call "$RUNNER_TEMP/harden-ci/bin/harden-ci"
# by absolute path; the venv never goes on PATH, so nothing it holds shadows other tools.
# Inputs through env: HARDEN_CI_REQUIREMENTS (the companion lock, from the workspace root),
# HARDEN_CI_INDEX_URL (optional: the index harden-ci's own wheel comes from).
set -euo pipefail
venv="$RUNNER_TEMP/harden-ci"
python3 -m venv --clear "$venv"
install=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check
         --require-hashes --no-deps --only-binary :all:)
if [ -n "${HARDEN_CI_INDEX_URL:-}" ]; then
  install+=(--index-url "$HARDEN_CI_INDEX_URL")
fi
# Every line of the lock carries its sha256s: pip refuses any other file, and installs
# nothing the lock does not list (--no-deps).
"${install[@]}" -r "$HARDEN_CI_REQUIREMENTS"
"$venv/bin/harden-ci" --version
