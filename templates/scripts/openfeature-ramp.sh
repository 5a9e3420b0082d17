# Ramps a feature flag in an OpenFeature-compatible service and reads it back over OFREP
# (harden-ci's openfeature-ramp.sh). Inputs through env: HARDEN_CI_FLAG, HARDEN_CI_FLAG_PERCENT,
# HARDEN_CI_FLAG_API (the spec's flag_api as JSON) and the tokens, set on this step alone:
# HARDEN_CI_FLAG_TOKEN (the write) and HARDEN_CI_OFREP_TOKEN (the read-back).
set -euo pipefail
"$RUNNER_TEMP/harden-ci/bin/harden-ci" gate flag-publish --flag "$HARDEN_CI_FLAG" --percent "$HARDEN_CI_FLAG_PERCENT"
