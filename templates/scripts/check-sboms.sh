# Before anything is signed: the SBOMs downloaded are about exactly this digest
# (harden-ci's check-sboms.sh). Inputs through env: SERVICE, DIGESTS (image-digests' JSON
# map service -> digest), RECORDED (the folder holding the build's digest-SERVICE artifact), SBOM_DIR (the
# downloaded sbom-SERVICE artifact; empty: no SBOMs are made), IMAGE_SBOM (the syft
# SBOM's file name).
# - the digest the build job recorded is the one in the map;
# - every SBOM file is one the build job recorded (its sha256), none is missing or extra;
# - the image SBOM names the digest: syft, run on IMAGE@DIGEST, records the digest as
#   metadata.component.version of a `container` component (its CycloneDX encoder's
#   descriptor component; the source's version is the reference's digest).
# The Python-environment SBOM cannot name the image; its recorded sha256 ties it to the
# build that pushed this digest. Missing data is never a pass.
# Outputs: `digest`, which the signing steps use (they get a digest only once it is
# checked), and `python_sbom` (true when the build recorded a Python-environment SBOM).
set -euo pipefail
fail() {
  echo "::error::${SERVICE}: $*"
  exit 1
}
DIGEST="$(jq -r --arg s "$SERVICE" 'if type == "object" then .[$s] // "" else "" end' \
  <<< "${DIGESTS:-}" 2>/dev/null)" || DIGEST=""
if [[ ! "$DIGEST" =~ ^sha256:[0-9a-f]{64}$ ]]; then
  fail "no well-formed digest in image-digests' map (got '${DIGEST}')"
fi
digest_file="$RECORDED/$SERVICE"
[[ -f "$digest_file" ]] || fail "the build job recorded no digest"
if [[ "$(tr -d '[:space:]' < "$digest_file")" != "$DIGEST" ]]; then
  fail "the digest the build job recorded is not ${DIGEST}"
fi
if [[ -z "${SBOM_DIR:-}" ]]; then
  echo "No SBOMs are made; ${DIGEST} is the one the build job recorded."
  echo "digest=${DIGEST}" >> "$GITHUB_OUTPUT"
  exit 0
fi
sums="$RECORDED/$SERVICE.sbom.sha256"
[[ -s "$sums" ]] || fail "the build job recorded no SBOM hashes"
declare -A listed=()
while read -r sum file; do
  file="${file#\*}"
  if [[ ! "$sum" =~ ^[0-9a-f]{64}$ || ! "$file" =~ ^sbom-[a-z0-9_-]+\.cdx\.json$ ]]; then
    fail "a malformed line in the recorded SBOM hashes"
  fi
  [[ -f "$SBOM_DIR/$file" ]] || fail "the SBOM ${file} the build job made is missing"
  actual="$(sha256sum < "$SBOM_DIR/$file" | cut -d' ' -f1)"
  if [[ "$actual" != "$sum" ]]; then
    fail "${file} is not the SBOM the build job made for ${DIGEST} (sha256 ${actual}, recorded ${sum})"
  fi
  listed["$file"]=1
done < "$sums"
shopt -s nullglob
for path in "$SBOM_DIR"/*.cdx.json; do
  [[ -n "${listed[$(basename "$path")]:-}" ]] || fail "$(basename "$path") was not recorded by the build job"
done
[[ -n "${listed[$IMAGE_SBOM]:-}" ]] || fail "the image SBOM ${IMAGE_SBOM} is missing"
named="$(jq -r 'if .metadata.component.type == "container" then .metadata.component.version // "" else "" end' \
  "$SBOM_DIR/$IMAGE_SBOM" 2>/dev/null)" || fail "the image SBOM ${IMAGE_SBOM} is not CycloneDX JSON"
if [[ "$named" != "$DIGEST" ]]; then
  fail "the image SBOM describes '${named}', not ${DIGEST}"
fi
echo "SBOMs of ${DIGEST}: ${!listed[*]}" >> "$GITHUB_STEP_SUMMARY"
# The Python-environment SBOM is attested when the build recorded one (a Python service).
python_sbom=false
if [[ -n "${listed[sbom-${SERVICE}-python.cdx.json]:-}" ]]; then python_sbom=true; fi
echo "python_sbom=${python_sbom}" >> "$GITHUB_OUTPUT"
echo "digest=${DIGEST}" >> "$GITHUB_OUTPUT"
