# Deploys the app into the job's kind cluster and exposes it on localhost
# (harden-ci's kind-deploy.sh). Inputs through env: CLUSTER, IMAGES (one
# "service|context|dockerfile" per line), MANIFESTS (a folder of manifests or a Helm
# chart), PORT_FORWARD ("svc/NAME LOCAL:REMOTE"), HARDEN_CI_URL.
set -euo pipefail
while IFS='|' read -r service context dockerfile; do
  [ -n "$service" ] || continue
  docker build --tag "harden-ci.local/${service}:pr" --file "$dockerfile" "$context"
  kind load docker-image "harden-ci.local/${service}:pr" --name "$CLUSTER"
done <<< "$IMAGES"
if [ -f "${MANIFESTS}/Chart.yaml" ]; then
  helm upgrade --install preview "$MANIFESTS" --wait --timeout 5m
else
  kubectl apply --recursive --filename "$MANIFESTS"
  kubectl wait --for=condition=Available deployment --all --timeout=300s
fi
read -r target ports <<< "$PORT_FORWARD"
kubectl port-forward "$target" "$ports" > "$RUNNER_TEMP/port-forward.log" 2>&1 &
for _ in $(seq 1 60); do
  if curl --silent --output /dev/null "$HARDEN_CI_URL"; then
    echo "The preview answers at ${HARDEN_CI_URL}"
    exit 0
  fi
  sleep 2
done
echo "::error title=Preview not reachable::${HARDEN_CI_URL} did not answer within 120 s"
cat "$RUNNER_TEMP/port-forward.log"
exit 1
