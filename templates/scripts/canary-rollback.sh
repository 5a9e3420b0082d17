# Undoes a failed rollout (harden-ci's canary-rollback.sh). Inputs through env: PROVIDER,
# ROLLBACK_COMMAND, SHIFT_COMMAND, ROLLOUT, HARDEN_CI_FLAG, FLAG_COMMAND, FLAG_FILE.
set -euo pipefail
echo "::error title=Canary rolled back::The canary broke a rollback rule or a step failed; rolling back."
if [ "$PROVIDER" = "argo-rollouts" ]; then
  kubectl argo rollouts abort "$ROLLOUT"
elif [ -n "$ROLLBACK_COMMAND" ]; then
  eval "$ROLLBACK_COMMAND"
else
  export HARDEN_CI_CANARY_WEIGHT=0
  eval "$SHIFT_COMMAND"
fi
if [ -n "$HARDEN_CI_FLAG" ]; then
  export HARDEN_CI_FLAG_PERCENT=0
  if [ -n "${FLAG_FILE:-}" ]; then
    harden-ci gate flag-set --file "$FLAG_FILE" --flag "$HARDEN_CI_FLAG" --percent 0
  fi
  if [ -n "$FLAG_COMMAND" ]; then
    eval "$FLAG_COMMAND"
  fi
fi
{
  echo "## Canary rolled back"
  echo "See the canary-analysis artifact for the numbers behind the decision."
} >> "$GITHUB_STEP_SUMMARY"
