# Ramps a flagd feature flag to a share of evaluations (harden-ci's flagd-ramp.sh).
# Inputs through env: FLAG_FILE, HARDEN_CI_FLAG, HARDEN_CI_FLAG_PERCENT, PUBLISH_COMMAND
# (optional: publishes the rewritten flag file to flagd).
set -euo pipefail
harden-ci gate flag-set --file "$FLAG_FILE" --flag "$HARDEN_CI_FLAG" --percent "$HARDEN_CI_FLAG_PERCENT"
if [ -n "${PUBLISH_COMMAND}" ]; then
  eval "${PUBLISH_COMMAND}"
fi
