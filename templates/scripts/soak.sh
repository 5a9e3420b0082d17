# Soaks the journeys under k6 and judges the budgets (harden-ci's soak.sh). Inputs through
# env: BASE_URL, HARDEN_CI_SOAK_SCRIPTS, HARDEN_CI_SOAK_BUDGETS, HARDEN_CI_SOAK_DURATION,
# HARDEN_CI_SOAK_DIR. k6 comes from the setup-k6 step.
set -euo pipefail
args=()
for script in $HARDEN_CI_SOAK_SCRIPTS; do
  args+=(--script "$script")
done
"$RUNNER_TEMP/harden-ci/bin/harden-ci" gate soak-run "${args[@]}" --k6 "$(command -v k6)"
