# Drives an Argo Rollout one step (harden-ci's argo-rollouts.sh).
# Inputs through env: ROLLOUT, ACTION (promote|abort). Needs kubectl with the
# argo-rollouts plugin and cluster credentials on the runner.
set -euo pipefail
kubectl argo rollouts "$ACTION" "$ROLLOUT"
if [ "$ACTION" = "promote" ]; then
  kubectl argo rollouts status "$ROLLOUT" --timeout 10m
fi
