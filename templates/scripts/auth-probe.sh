# Runs harden-ci's auth probes against an environment (harden-ci's auth-probe.sh). Inputs
# through env: HARDEN_CI_URL, HARDEN_CI_AUTH_*, HARDEN_CI_*TOKEN_COMMAND,
# HARDEN_CI_ROTATE_COMMAND, MAX_TOKEN_LIFETIME, PROBES (the enabled probe flags).
set -euo pipefail
# shellcheck disable=SC2086 # PROBES is a list of flags harden-ci wrote
"$RUNNER_TEMP/harden-ci/bin/harden-ci" gate auth-probe $PROBES --max-token-lifetime "$MAX_TOKEN_LIFETIME" --report auth-report.json
