# Fails unless every job this one waits for succeeded or was skipped on purpose
# (harden-ci's require-success.sh). Input through env: NEEDS_JSON, the `needs` context.
set -euo pipefail
failed=$(printf '%s' "$NEEDS_JSON" | jq -r 'to_entries[] | select(.value.result != "success" and .value.result != "skipped") | "\(.key): \(.value.result)"')
{
  echo "## Required checks"
  printf '%s' "$NEEDS_JSON" | jq -r 'to_entries[] | "- \(.key): \(.value.result)"'
} >> "$GITHUB_STEP_SUMMARY"
if [ -n "$failed" ]; then
  echo "These jobs did not succeed:"
  echo "$failed"
  exit 1
fi
echo "All required jobs succeeded."
