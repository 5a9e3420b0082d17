# Keeps the pushed image's digest for the image-digests job (harden-ci's record-digest.sh).
# Inputs through env: SERVICE (the service's name), IMAGE (its image name, registry
# included), DIGEST (sha256:..., from the build).
set -euo pipefail
if [[ ! "$DIGEST" =~ ^sha256:[0-9a-f]{64}$ ]]; then
  echo "::error::the build reported no image digest for ${SERVICE}"
  exit 1
fi
mkdir -p "$RUNNER_TEMP/digests"
printf '%s\n' "$DIGEST" > "$RUNNER_TEMP/digests/$SERVICE"
printf '%s\n' "$IMAGE" > "$RUNNER_TEMP/digests/$SERVICE.image"
