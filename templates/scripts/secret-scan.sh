# The secret scan (harden-ci's secret-scan.sh): gitleaks, built from its release commit by
# the steps before, over what the event adds. Inputs through env: EVENT_NAME; BASE_SHA and
# HEAD_SHA (the pull request's base and head, the merge group's, or the push's before and
# after); GITLEAKS_CONFIG (optional, the allowlist; gitleaks reads it); GITHUB_EVENT_PATH
# (the push's commit list, read only for a new branch).
# gitleaks runs as gitleaks-action v3.0.0 runs it (src/gitleaks.js Scan): `detect`, redacted,
# SARIF in results.sarif, exit code 2 for leaks. The ranges:
# - pull_request: the action's, `--no-merges --first-parent FIRST^..HEAD`, FIRST the pull
#   request's oldest commit (the action lists them through the API; here git does);
# - push: every commit the push adds to the branch, `--no-merges BEFORE..AFTER`; for a new
#   branch (an all-zero BEFORE) or a BEFORE no longer in the history (a force push), the
#   action's range over the payload's commits: `-1` for one, else FIRST^..LAST, nothing
#   when none is listed;
# - merge_group: every commit the group adds over its base, `--no-merges BASE..HEAD` (the
#   action refuses merge_group);
# - workflow_dispatch, schedule: the whole history, as the action scans it.
# A first commit with no parent (a repository's root) starts the range at the beginning.
set -euo pipefail
ZERO=0000000000000000000000000000000000000000

fail() {
  echo "::error title=Secret scan::$1" >&2
  exit 1
}

summary() {
  {
    echo "## Secret scan"
    echo "$1"
  } >> "$GITHUB_STEP_SUMMARY"
}

# Nothing new to scan is a pass: the commits are known and there are none.
nothing() {
  summary "No commits to scan: $1"
  echo "No commits to scan: $1"
  exit 0
}

is_sha() {
  case "$1" in
    *[!0-9a-f]*|"") return 1 ;;
  esac
  [ "${#1}" -eq 40 ]
}

present() {
  git cat-file -e "$1^{commit}" 2>/dev/null
}

# `--no-merges --first-parent FIRST^..LAST`, or from the start when FIRST is a root commit.
from_first() {
  if present "$1^"; then
    log_opts="--no-merges --first-parent $1^..$2"
  else
    log_opts="--no-merges --first-parent $2"
  fi
}

push_commits() {
  local listed first last
  listed="$(jq -r '.commits | length' "$GITHUB_EVENT_PATH")"
  if [ "$listed" = "0" ]; then
    log_opts=""
    return 1
  fi
  first="$(jq -r '.commits[0].id' "$GITHUB_EVENT_PATH")"
  last="$(jq -r '.commits[-1].id' "$GITHUB_EVENT_PATH")"
  if ! is_sha "$first" || ! is_sha "$last"; then
    fail "the push event lists a commit that is not a SHA"
  fi
  if ! present "$first" || ! present "$last"; then
    fail "the push event lists a commit that is not in the checkout"
  fi
  if [ "$first" = "$last" ]; then
    log_opts="-1 $last"
  else
    from_first "$first" "$last"
  fi
}

what="the whole history's"
log_opts=""
case "$EVENT_NAME" in
  pull_request|merge_group|push)
    if ! is_sha "$BASE_SHA" || ! is_sha "$HEAD_SHA"; then
      fail "the ${EVENT_NAME} event names no base and head commit SHA"
    fi
    present "$HEAD_SHA" || fail "the head commit ${HEAD_SHA} is not in the checkout"
    ;;
  workflow_dispatch|schedule) ;;
  *) fail "the ${EVENT_NAME} event is not scanned for secrets" ;;
esac
case "$EVENT_NAME" in
  pull_request)
    what="the pull request's"
    present "$BASE_SHA" || fail "the pull request's base ${BASE_SHA} is not in the checkout"
    # Oldest first, as GitHub lists a pull request's commits; read whole (no early exit).
    commits="$(git rev-list --reverse --topo-order "${BASE_SHA}..${HEAD_SHA}")"
    if [ -z "$commits" ]; then
      nothing "the pull request adds no commit over its base."
    fi
    from_first "${commits%%$'\n'*}" "$HEAD_SHA"
    ;;
  merge_group)
    what="the merge group's"
    present "$BASE_SHA" || fail "the merge group's base ${BASE_SHA} is not in the checkout"
    log_opts="--no-merges ${BASE_SHA}..${HEAD_SHA}"
    ;;
  push)
    what="the push's"
    if [ "$BASE_SHA" != "$ZERO" ] && present "$BASE_SHA"; then
      log_opts="--no-merges ${BASE_SHA}..${HEAD_SHA}"
    elif ! push_commits; then
      nothing "the push lists none."
    fi
    ;;
esac
# gitleaks splits --log-opts on spaces (its sources/git.go); they hold only options and SHAs.
# shellcheck disable=SC2086
count="$(git rev-list --count ${log_opts:---all})"
args=(detect --redact -v --exit-code=2 --report-format=sarif --report-path=results.sarif)
if [ -n "$log_opts" ]; then
  args+=("--log-opts=${log_opts}")
fi
echo "Scanning ${count} commit(s) (${EVENT_NAME}): gitleaks ${args[*]}"
status=0
gitleaks "${args[@]}" || status=$?
case "$status" in
  0) msg="No secrets in ${what} ${count} commit(s)." ;;
  2) msg="gitleaks found secrets in ${what} commits (results.sarif)." ;;
  *) msg="gitleaks failed (exit ${status}); ${what} commits were not scanned." ;;
esac
summary "${msg}"
if [ "$status" -ne 0 ]; then
  echo "::error title=Secret scan::${msg}" >&2
  exit 1
fi
echo "${msg}"
