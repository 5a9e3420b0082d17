# Gathers the digests the publish legs recorded (harden-ci's collect-digests.sh). Inputs
# through env: SERVICES (the names, space-separated), REGISTRY (the image prefix), CHUNK
# (rows per matrix). Every service must have exactly one well-formed digest: a missing leg
# fails the release. Outputs: `digests`, a JSON map service -> digest; `images-1`,
# `images-2`, ...: the rows {service, image, digest} in matrix-sized chunks.
set -euo pipefail
folder="$RUNNER_TEMP/digests"
rows="[]"
for service in $SERVICES; do
  if [[ ! -f "$folder/$service" ]]; then
    echo "::error::no digest was recorded for ${service}"
    exit 1
  fi
  digest="$(tr -d '[:space:]' < "$folder/$service")"
  if [[ ! "$digest" =~ ^sha256:[0-9a-f]{64}$ ]]; then
    echo "::error::the digest recorded for ${service} is malformed"
    exit 1
  fi
  rows="$(jq -c --arg service "$service" --arg image "${REGISTRY}/${service}" --arg digest "$digest" \
    '. + [{service: $service, image: $image, digest: $digest}]' <<< "$rows")"
  echo "${REGISTRY}/${service}@${digest}" >> "$GITHUB_STEP_SUMMARY"
done
echo "digests=$(jq -c 'map({(.service): .digest}) | add // {}' <<< "$rows")" >> "$GITHUB_OUTPUT"
chunks="$(jq -c --argjson size "$CHUNK" '[range(0; length; $size) as $i | .[$i:$i + $size]]' <<< "$rows")"
count="$(jq 'length' <<< "$chunks")"
for ((index = 0; index < count; index++)); do
  echo "images-$((index + 1))=$(jq -c --argjson i "$index" '.[$i]' <<< "$chunks")" >> "$GITHUB_OUTPUT"
done
