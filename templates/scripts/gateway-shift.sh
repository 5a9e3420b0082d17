# Sets an HTTPRoute's backend weights (harden-ci's gateway-shift.sh, `provider: gateway-api`).
# Inputs through env: ROUTE, NAMESPACE, STABLE_SERVICE, CANARY_SERVICE, PORT and
# HARDEN_CI_CANARY_WEIGHT (0-100: canary gets it, stable 100 minus it); ROLLBACK=true when
# this is the rollback of a failed or cancelled run. Needs kubectl and cluster credentials.
# One JSON patch (RFC 6902) on the first rule: its `test` operations make the API server
# refuse the whole patch, writing nothing, when backendRefs 0 and 1 are not the stable and
# canary Services on PORT, so a route changed by hand is never silently rewritten.
set -euo pipefail
if [ "${ROLLBACK:-}" = "true" ]; then
  echo "::error title=Canary rolled back::The canary broke a rollback rule, a step failed or timed out, or the run was cancelled; rolling back."
fi
weight=$HARDEN_CI_CANARY_WEIGHT
case "$weight" in
  ''|*[!0-9]*) echo "::error title=Bad canary weight::not a whole percentage: '$weight'"; exit 2 ;;
esac
if [ "$weight" -gt 100 ]; then
  echo "::error title=Bad canary weight::$weight is over 100"
  exit 2
fi
refs=/spec/rules/0/backendRefs
patch=$(jq -cn --arg stable "$STABLE_SERVICE" --arg canary "$CANARY_SERVICE" \
  --argjson port "$PORT" --argjson weight "$weight" --arg refs "$refs" '[
  {op: "test", path: "\($refs)/0/name", value: $stable},
  {op: "test", path: "\($refs)/0/port", value: $port},
  {op: "test", path: "\($refs)/1/name", value: $canary},
  {op: "test", path: "\($refs)/1/port", value: $port},
  {op: "add", path: "\($refs)/0/weight", value: (100 - $weight)},
  {op: "add", path: "\($refs)/1/weight", value: $weight}]')
if ! kubectl patch httproute "$ROUTE" --namespace "$NAMESPACE" --type=json --patch "$patch"; then
  echo "::error title=Traffic not shifted::httproute $NAMESPACE/$ROUTE refused the weights: its first rule's backendRefs 0 and 1 must be $STABLE_SERVICE and $CANARY_SERVICE on port $PORT (apply .github/workflows/harden-ci/gateway-httproute.yaml), or kubectl could not reach the cluster"
  exit 1
fi
echo "httproute $NAMESPACE/$ROUTE: $STABLE_SERVICE $((100 - weight)), $CANARY_SERVICE $weight"
if [ "${ROLLBACK:-}" = "true" ]; then
  {
    echo "## Canary rolled back"
    echo "httproute $NAMESPACE/$ROUTE sends all traffic to $STABLE_SERVICE again."
    echo "See the canary-analysis artifact for the numbers behind the decision."
  } >> "$GITHUB_STEP_SUMMARY"
fi
