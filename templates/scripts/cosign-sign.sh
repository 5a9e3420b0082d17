# Signs an image by digest with cosign keyless (harden-ci's cosign-sign.sh).
# Inputs through env: IMAGE (no tag), DIGEST (sha256:...). The identity is this workflow's
# OIDC token; the signature lands in the registry and the transparency log.
set -euo pipefail
cosign sign --yes "${IMAGE}@${DIGEST}"
echo "Signed ${IMAGE}@${DIGEST}" >> "$GITHUB_STEP_SUMMARY"
