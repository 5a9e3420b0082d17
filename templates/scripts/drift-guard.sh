# Fails when the committed workflows differ from what the spec renders
# (harden-ci's drift-guard.sh). Inputs through env: HARDEN_CI_PACKAGE, HARDEN_CI_SPEC.
set -euo pipefail
python -m venv "$RUNNER_TEMP/harden-ci"
"$RUNNER_TEMP/harden-ci/bin/python" -m pip install --quiet --disable-pip-version-check "$HARDEN_CI_PACKAGE"
if ! "$RUNNER_TEMP/harden-ci/bin/harden-ci" check "$HARDEN_CI_SPEC"; then
  echo "::error title=Generated workflows drifted::A workflow was edited by hand or the spec changed without re-rendering. Run 'harden-ci render' and commit the result."
  exit 1
fi
