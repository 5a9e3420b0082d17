# CycloneDX SBOM of a service's Python environment (harden-ci's python-sbom.sh).
# Inputs through env: INSTALL_COMMAND, INSTALL_DIR (where the install runs, from the
# workspace root; empty: the service's folder), PACKAGE_MANAGER (pip, uv, poetry or pdm),
# CYCLONEDX_LOCK (the hashed lock of cyclonedx-bom, from the workspace root), SBOM_FILE
# (relative to the workspace root; the step runs in the service folder).
# The service's own install runs into a fresh venv, which the SBOM then describes: each
# manager is pointed at it the way it is told where to install (uv: UV_PROJECT_ENVIRONMENT,
# since `uv sync` otherwise fills the project's .venv; poetry: the active venv, with
# virtualenv creation off; pdm: the active venv).
set -euo pipefail
if [ -n "${INSTALL_DIR:-}" ]; then cd "${GITHUB_WORKSPACE}/${INSTALL_DIR}"; fi
python -m venv "$RUNNER_TEMP/sbom-env"
# shellcheck disable=SC1091
. "$RUNNER_TEMP/sbom-env/bin/activate"
case "${PACKAGE_MANAGER:-pip}" in
  uv) export UV_PROJECT_ENVIRONMENT="$RUNNER_TEMP/sbom-env" ;;
  poetry) export POETRY_VIRTUALENVS_CREATE=false ;;
  pdm) export PDM_IGNORE_ACTIVE_VENV=0 PDM_USE_VENV=1 ;;
  *) ;;
esac
eval "${INSTALL_COMMAND}"
deactivate
# What the install put into the venv, beyond the venv's own seed packages (uv sync may
# remove those, so pip is not asked).
count="$("$RUNNER_TEMP/sbom-env/bin/python" -c 'import importlib.metadata as m
print(len({(d.metadata["Name"] or "").lower() for d in m.distributions()} - {"", "pip", "setuptools", "wheel"}))')"
if [ "$count" -eq 0 ]; then
  echo "::error::the install left the SBOM's environment empty (${PACKAGE_MANAGER:-pip}): its packages went elsewhere"
  exit 1
fi
python -m venv "$RUNNER_TEMP/sbom-tool"
"$RUNNER_TEMP/sbom-tool/bin/python" -m pip install --quiet --disable-pip-version-check \
  --require-hashes --no-deps --only-binary :all: -r "${GITHUB_WORKSPACE}/${CYCLONEDX_LOCK}"
"$RUNNER_TEMP/sbom-tool/bin/cyclonedx-py" environment --output-format JSON --output-file "${GITHUB_WORKSPACE}/${SBOM_FILE}" "$RUNNER_TEMP/sbom-env"
