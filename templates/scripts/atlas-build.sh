# Builds the Atlas CLI from its checked-out release source and puts it on PATH
# (harden-ci's atlas-build.sh). Runs in the source's cmd/atlas module. Input through env:
# ATLAS_VERSION (the release tag the checkout is pinned to, for the log).
# go.sum pins every dependency by hash and -mod=readonly refuses to change it, so the
# binary is built only from content fixed by the release commit.
set -euo pipefail
mkdir -p "$RUNNER_TEMP/atlas"
go build -mod=readonly -trimpath -o "$RUNNER_TEMP/atlas/atlas" .
echo "$RUNNER_TEMP/atlas" >> "$GITHUB_PATH"
echo "Built Atlas ${ATLAS_VERSION} (community edition) from source"
