# Gathers the digests the publish legs recorded (harden-ci's collect-digests.sh). Inputs
# through env: SERVICES (the names, space-separated), CHUNK (rows per matrix). Each leg
# recorded its digest (SERVICE) and its image name (SERVICE.image: a service may name its
# image). Every service must have exactly one well-formed digest: a missing leg
# fails the release. Outputs: `digests`, a JSON map service -> digest; `names`, service ->
# image name; `images-1`,
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
  image="$(tr -d '[:space:]' < "$folder/$service.image" 2>/dev/null || true)"
  if [[ ! "$image" =~ ^[a-z0-9][a-z0-9._:/-]*$ ]]; then
    echo "::error::no image name for ${service}"
    exit 1
  fi
  rows="$(jq -c --arg service "$service" --arg image "$image" --arg digest "$digest" \
    '. + [{service: $service, image: $image, digest: $digest}]' <<< "$rows")"
  echo "${image}@${digest}" >> "$GITHUB_STEP_SUMMARY"
done
echo "digests=$(jq -c 'map({(.service): .digest}) | add // {}' <<< "$rows")" >> "$GITHUB_OUTPUT"
echo "names=$(jq -c 'map({(.service): .image}) | add // {}' <<< "$rows")" >> "$GITHUB_OUTPUT"
chunks="$(jq -c --argjson size "$CHUNK" '[range(0; length; $size) as $i | .[$i:$i + $size]]' <<< "$rows")"
count="$(jq 'length' <<< "$chunks")"
for ((index = 0; index < count; index++)); do
  echo "images-$((index + 1))=$(jq -c --argjson i "$index" '.[$i]' <<< "$chunks")" >> "$GITHUB_OUTPUT"
done
