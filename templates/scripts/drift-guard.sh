# Fails when the committed workflows differ from what the spec renders
# (harden-ci's drift-guard.sh). Input through env: HARDEN_CI_SPEC. harden-ci comes from
# the hashed install step before this one.
set -euo pipefail
if ! "$RUNNER_TEMP/harden-ci/bin/harden-ci" check "$HARDEN_CI_SPEC"; then
  echo "::error title=Generated workflows drifted::A workflow was edited by hand or the spec changed without re-rendering. Run 'harden-ci render' and commit the result."
  exit 1
fi
