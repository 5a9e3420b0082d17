# Soaks the journeys under k6 and judges the budgets (harden-ci's soak.sh). Inputs through
# env: BASE_URL, HARDEN_CI_SOAK_JOURNEYS (the spec's scripts and load models, JSON),
# HARDEN_CI_SOAK_BUDGETS, HARDEN_CI_SOAK_DURATION, HARDEN_CI_SOAK_COLD_AFTER_IDLE (if set),
# HARDEN_CI_SOAK_DIR. k6 comes from the setup-k6 step.
set -euo pipefail
"$RUNNER_TEMP/harden-ci/bin/harden-ci" gate soak-run --k6 "$(command -v k6)"
