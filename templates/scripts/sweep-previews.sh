# Tears down previews of closed pull requests and of open ones idle past the TTL
# (harden-ci's sweep-previews.sh). Inputs through env: GH_TOKEN, TEARDOWN_COMMAND,
# TTL_SECONDS, URL_TEMPLATE. The teardown command must be idempotent: it may run for a
# preview that is already gone. It gets HARDEN_CI_PR_NUMBER and HARDEN_CI_URL, like the
# per-PR teardown.
set -euo pipefail
now=$(date +%s)
since=$(date -u -d "@$((now - 7 * 86400))" +%Y-%m-%d)
closed=$(gh pr list --repo "$GITHUB_REPOSITORY" --state closed --search "closed:>=${since}" \
  --limit 200 --json number --jq '.[].number')
stale=$(gh pr list --repo "$GITHUB_REPOSITORY" --state open --limit 500 \
  --json number,updatedAt --jq ".[] | select((.updatedAt | fromdateiso8601) < (${now} - ${TTL_SECONDS})) | .number")
swept=0
for number in $closed $stale; do
  echo "Tearing down the preview of #${number}"
  export HARDEN_CI_PR_NUMBER="$number"
  export HARDEN_CI_URL="${URL_TEMPLATE//\{number\}/$number}"
  eval "$TEARDOWN_COMMAND"
  swept=$((swept + 1))
done
echo "## Swept ${swept} preview(s)" >> "$GITHUB_STEP_SUMMARY"
