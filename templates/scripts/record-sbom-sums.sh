# Records the sha256 of each SBOM this build made, next to the image digest, for the
# signing job (harden-ci's record-sbom-sums.sh). Inputs through env: SERVICE. The SBOMs
# are sbom-SERVICE*.cdx.json in the workspace root; the list lands in
# $RUNNER_TEMP/digests/SERVICE.sbom.sha256 (sha256sum's format). The signing job checks
# the SBOMs it downloads against it, so an SBOM it attests is the one made for the digest.
set -euo pipefail
shopt -s nullglob
cd "$GITHUB_WORKSPACE"
if [[ ! -f "sbom-${SERVICE}.cdx.json" ]]; then
  echo "::error::no SBOM was made for ${SERVICE}"
  exit 1
fi
files=("sbom-${SERVICE}.cdx.json" sbom-"${SERVICE}"-*.cdx.json)
mkdir -p "$RUNNER_TEMP/digests"
sha256sum -- "${files[@]}" > "$RUNNER_TEMP/digests/${SERVICE}.sbom.sha256"
