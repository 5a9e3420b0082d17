# Ramps a flagd feature flag and publishes it to flagd (harden-ci's flagd-ramp.sh).
# Inputs through env: FLAG_FILE, HARDEN_CI_FLAG, HARDEN_CI_FLAG_PERCENT, and where it goes:
# CONFIGMAP (+ CONFIGMAP_NAMESPACE, CONFIGMAP_KEY: the ConfigMap the flagd deployment reads)
# and/or PUBLISH_COMMAND (the spec's flag_command). The spec refuses a ramp with neither.
set -euo pipefail
"$RUNNER_TEMP/harden-ci/bin/harden-ci" gate flag-set --file "$FLAG_FILE" --flag "$HARDEN_CI_FLAG" --percent "$HARDEN_CI_FLAG_PERCENT"
if [ -n "${CONFIGMAP}" ]; then
  kubectl create configmap "$CONFIGMAP" --namespace "$CONFIGMAP_NAMESPACE" \
    --from-file="$CONFIGMAP_KEY=$FLAG_FILE" --dry-run=client -o yaml | kubectl apply -f -
fi
if [ -n "${PUBLISH_COMMAND}" ]; then
  eval "${PUBLISH_COMMAND}"
fi
