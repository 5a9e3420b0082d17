# Hands the rollout to Argo Rollouts and follows it (harden-ci's argo-rollouts.sh).
# Inputs through env: ROLLOUT, ANALYSIS and STRATEGY (the companion files harden-ci wrote:
# the AnalysisTemplate and the merge patch of the Rollout's canary steps), ACTION (apply |
# follow) and, for follow, TIMEOUT_SECONDS. Needs kubectl and cluster credentials on the
# runner. The controller shifts traffic, runs the analysis and aborts on a failed one;
# this only reports the phases it goes through.
set -euo pipefail
if [ "$ACTION" = "apply" ]; then
  kubectl apply -f "$ANALYSIS"
  kubectl patch rollout "$ROLLOUT" --type merge --patch-file "$STRATEGY"
  exit 0
fi
deadline=$(( $(date +%s) + TIMEOUT_SECONDS ))
last=""
while :; do
  phase=$(kubectl get rollout "$ROLLOUT" -o jsonpath='{.status.phase}')
  message=$(kubectl get rollout "$ROLLOUT" -o jsonpath='{.status.message}')
  if [ "$phase/$message" != "$last" ]; then
    echo "rollout $ROLLOUT: ${phase:-unknown} ${message}"
    last="$phase/$message"
  fi
  case "$phase" in
    Healthy)
      echo "## Rollout $ROLLOUT is healthy" >> "$GITHUB_STEP_SUMMARY"
      exit 0 ;;
    Degraded)
      echo "::error title=Rollout aborted::$ROLLOUT is Degraded: ${message}"
      exit 1 ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "::error title=Rollout timed out::$ROLLOUT is still ${phase:-unknown} after ${TIMEOUT_SECONDS}s"
    exit 1
  fi
  sleep 15
done
