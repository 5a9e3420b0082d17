# The secret scan in the merge queue (harden-ci's secret-scan-queue.sh). Inputs through env:
# BASE_SHA and HEAD_SHA (the merge group's), GITLEAKS_CONFIG (optional, the allowlist;
# gitleaks reads it).
# gitleaks-action refuses merge_group events, so this runs the same release, built from
# source, the way the action runs it on a push (its src/gitleaks.js Scan): `detect`, redacted,
# SARIF in results.sarif, exit code 2 for leaks. The range is every commit the group adds
# over its base: the queued pull requests' commits (or their squashes) and GitHub's merges.
set -euo pipefail
case "$BASE_SHA$HEAD_SHA" in
  *[!0-9a-f]*|"") echo "::error title=Secret scan::the merge group names no base and head commit" >&2; exit 1 ;;
esac
if [ "${#BASE_SHA}" -ne 40 ] || [ "${#HEAD_SHA}" -ne 40 ]; then
  echo "::error title=Secret scan::the merge group's base or head is not a commit SHA" >&2
  exit 1
fi
count="$(git rev-list --count "${BASE_SHA}..${HEAD_SHA}")"
echo "Scanning ${count} commit(s) of the merge group (${BASE_SHA:0:12}..${HEAD_SHA:0:12})"
status=0
gitleaks detect --redact -v --exit-code=2 --report-format=sarif --report-path=results.sarif \
  --log-opts="--no-merges ${BASE_SHA}..${HEAD_SHA}" || status=$?
case "$status" in
  0) msg="No secrets in the merge group's ${count} commit(s)." ;;
  2) msg="gitleaks found secrets in the merge group's commits (results.sarif)." ;;
  *) msg="gitleaks failed (exit ${status}); the merge group was not scanned." ;;
esac
{
  echo "## Secret scan"
  echo "${msg}"
} >> "$GITHUB_STEP_SUMMARY"
if [ "$status" -ne 0 ]; then
  echo "::error title=Secret scan::${msg}" >&2
  exit 1
fi
echo "${msg}"
