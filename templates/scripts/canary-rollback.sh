# Undoes a failed or cancelled rollout's traffic (harden-ci's canary-rollback.sh). Inputs
# through env: PROVIDER, ROLLBACK_COMMAND, SHIFT_COMMAND, ROLLOUT. The flag ramp is undone
# by its own step.
set -euo pipefail
echo "::error title=Canary rolled back::The canary broke a rollback rule, a step failed or timed out, or the run was cancelled; rolling back."
if [ "$PROVIDER" = "argo-rollouts" ]; then
  kubectl argo rollouts abort "$ROLLOUT"
elif [ -n "$ROLLBACK_COMMAND" ]; then
  eval "$ROLLBACK_COMMAND"
else
  export HARDEN_CI_CANARY_WEIGHT=0
  eval "$SHIFT_COMMAND"
fi
{
  echo "## Canary rolled back"
  echo "See the canary-analysis artifact for the numbers behind the decision."
} >> "$GITHUB_STEP_SUMMARY"
