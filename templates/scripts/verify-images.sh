# Before anything is deployed: every image this job deploys is the one the release signed
# (harden-ci's verify-images.sh). Inputs through env: IMAGES (a JSON map service -> image
# name, registry included), DIGESTS (image-digests' JSON map service -> digest), IDENTITY
# (the signing workflow's certificate identity), ISSUER (its OIDC issuer), PROVENANCE
# ("true": also verify the build provenance attestation), SIGNER_WORKFLOW (REPOSITORY/PATH
# of the release workflow, for gh attestation verify), GH_TOKEN (reads the attestations),
# SLSA_IDENTITY (set with supply_chain.slsa: the SLSA generator's workflow at its tag).
# - cosign verify: a keyless signature whose certificate names exactly IDENTITY and ISSUER;
# - gh attestation verify: a SLSA provenance attestation signed by the release workflow;
# - cosign verify-attestation: the SLSA generator's provenance, signed by its workflow.
#   The attest action signs with GitHub's own Sigstore instance in private repositories,
#   which cosign's public trust root does not know; gh verifies both instances.
# Every service of IMAGES needs a well-formed digest: missing data is never a pass.
set -euo pipefail
fail() {
  echo "::error::$*"
  exit 1
}
[[ -n "${IDENTITY:-}" && -n "${ISSUER:-}" ]] || fail "no signing identity or issuer to verify against"
services="$(jq -r 'if type == "object" and length > 0 then keys[] else error("not a map") end' \
  <<< "${IMAGES:-}" 2>/dev/null)" || fail "IMAGES is not a non-empty JSON map of service to image"
jq -e 'type == "object"' <<< "${DIGESTS:-}" > /dev/null 2>&1 \
  || fail "the digest map is not a JSON map of service to digest (got '${DIGESTS:-}')"
failed=0
while read -r service; do
  image="$(jq -r --arg s "$service" '.[$s] | if type == "string" then . else "" end' <<< "$IMAGES")"
  digest="$(jq -r --arg s "$service" '.[$s] // "" | if type == "string" then . else "" end' \
    <<< "$DIGESTS")"
  [[ -n "$image" ]] || fail "${service}: no image name"
  if [[ ! "$digest" =~ ^sha256:[0-9a-f]{64}$ ]]; then
    fail "${service}: no well-formed digest in the digest map (got '${digest}')"
  fi
  ref="${image}@${digest}"
  if ! cosign verify "$ref" --certificate-identity "$IDENTITY" \
      --certificate-oidc-issuer "$ISSUER" > /dev/null; then
    echo "::error::${ref}: no valid signature by ${IDENTITY}"
    failed=1
    continue
  fi
  if [[ "${PROVENANCE:-}" == "true" ]]; then
    if ! gh attestation verify "oci://${ref}" --repo "$GITHUB_REPOSITORY" \
        --signer-workflow "$SIGNER_WORKFLOW" \
        --predicate-type https://slsa.dev/provenance/v1 > /dev/null; then
      echo "::error::${ref}: no valid provenance attestation by ${SIGNER_WORKFLOW}"
      failed=1
      continue
    fi
  fi
  if [[ -n "${SLSA_IDENTITY:-}" ]]; then
    if ! cosign verify-attestation "$ref" --type slsaprovenance \
        --certificate-identity "$SLSA_IDENTITY" --certificate-oidc-issuer "$ISSUER" \
        > /dev/null; then
      echo "::error::${ref}: no valid SLSA provenance by ${SLSA_IDENTITY}"
      failed=1
      continue
    fi
  fi
  echo "Verified ${ref}" >> "$GITHUB_STEP_SUMMARY"
done <<< "$services"
[[ "$failed" == 0 ]] || fail "an image failed verification: nothing is deployed"
