# Builds a Go tool from its checked-out release source and puts it on PATH
# (harden-ci's go-build-tool.sh). Runs in the source's module root. Inputs through env:
# GO_TOOL (the command's name), GO_TOOL_VERSION (the release tag the checkout is pinned to,
# for the log), GO_TOOL_PACKAGE (the main package, e.g. ./cmd/NAME).
# go.sum pins every dependency by hash and -mod=readonly refuses to change it, so the
# binary is built only from content fixed by the release commit.
set -euo pipefail
mkdir -p "$RUNNER_TEMP/$GO_TOOL"
go build -mod=readonly -trimpath -o "$RUNNER_TEMP/$GO_TOOL/$GO_TOOL" "$GO_TOOL_PACKAGE"
echo "$RUNNER_TEMP/$GO_TOOL" >> "$GITHUB_PATH"
echo "Built $GO_TOOL ${GO_TOOL_VERSION} from source"
