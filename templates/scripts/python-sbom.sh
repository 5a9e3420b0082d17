# CycloneDX SBOM of a service's Python environment (harden-ci's python-sbom.sh).
# Inputs through env: INSTALL_COMMAND, CYCLONEDX_BOM (pinned requirement), SBOM_FILE
# (relative to the workspace root; the step runs in the service folder).
set -euo pipefail
python -m venv "$RUNNER_TEMP/sbom-env"
# shellcheck disable=SC1091
. "$RUNNER_TEMP/sbom-env/bin/activate"
eval "${INSTALL_COMMAND}"
deactivate
python -m venv "$RUNNER_TEMP/sbom-tool"
"$RUNNER_TEMP/sbom-tool/bin/python" -m pip install --quiet --disable-pip-version-check "$CYCLONEDX_BOM"
"$RUNNER_TEMP/sbom-tool/bin/cyclonedx-py" environment --output-format JSON --output-file "${GITHUB_WORKSPACE}/${SBOM_FILE}" "$RUNNER_TEMP/sbom-env"
