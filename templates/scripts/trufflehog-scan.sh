# The secret scan with trufflehog (harden-ci's trufflehog-scan.sh), built from its release
# commit by the steps before, over what the event adds. Inputs through env: EVENT_NAME;
# BASE_SHA and HEAD_SHA (the pull request's base and head, the merge group's, or the push's
# before and after); TRUFFLEHOG_EXCLUDE (optional, the allowlist: a file of path regexes);
# GITHUB_EVENT_PATH (the push's commit list).
# trufflehog runs as the trufflesecurity/trufflehog v3.97.0 action runs it (its action.yml
# composite step), without its docker image by tag: `git file://WORKSPACE --since-commit BASE
# --branch HEAD --fail --no-update --github-actions` and the extra arguments
# `--results=verified,unknown` (and `--exclude-paths`). The range per event is the action's:
# - pull_request: the pull request's base and head;
# - push: before and after; a new branch (an all-zero before) from its beginning; a push
#   that lists no commit is not scanned;
# - workflow_dispatch, schedule: the whole history;
# - merge_group: the group's base and head (the action has no case for it and scans the
#   whole history).
# An empty base or head is left out, as trufflehog reads an empty one: not given.
# trufflehog exits 183 when --fail and it found a result.
set -euo pipefail
ZERO=0000000000000000000000000000000000000000

summary() {
  {
    echo "## Secret scan"
    echo "$1"
  } >> "$GITHUB_STEP_SUMMARY"
}

fail() {
  echo "::error title=Secret scan::$1" >&2
  exit 1
}

base=""
head=""
what="the whole history"
case "$EVENT_NAME" in
  pull_request|merge_group)
    base="$BASE_SHA"
    head="$HEAD_SHA"
    what="the ${EVENT_NAME/_/ }'s commits"
    ;;
  push)
    if [ "$(jq '.commits | length' "$GITHUB_EVENT_PATH")" = "0" ]; then
      summary "No commits to scan: the push lists none."
      echo "No commits to scan"
      exit 0
    fi
    head="$HEAD_SHA"
    if [ "$BASE_SHA" != "$ZERO" ]; then
      base="$BASE_SHA"
    fi
    what="the push's commits"
    ;;
  workflow_dispatch|schedule) ;;
  *) fail "the ${EVENT_NAME} event is not scanned for secrets" ;;
esac
for sha in "$base" "$head"; do
  if [ -n "$sha" ] && ! git cat-file -e "${sha}^{commit}" 2>/dev/null; then
    fail "the commit ${sha} is not in the checkout (it needs the full history)"
  fi
done
if [ -n "$base" ] && [ "$base" = "$head" ]; then
  fail "the base and head commits are the same (${base}): nothing to scan"
fi
args=(git "file://${PWD}")
if [ -n "$base" ]; then
  args+=(--since-commit "$base")
fi
if [ -n "$head" ]; then
  args+=(--branch "$head")
fi
args+=(--fail --no-update --github-actions "--results=verified,unknown")
if [ -n "${TRUFFLEHOG_EXCLUDE:-}" ]; then
  args+=("--exclude-paths=${TRUFFLEHOG_EXCLUDE}")
fi
echo "trufflehog ${args[*]}"
status=0
trufflehog "${args[@]}" || status=$?
case "$status" in
  0) msg="No verified or unverifiable secrets in ${what}." ;;
  183) msg="trufflehog found secrets in ${what} (the warnings above name them)." ;;
  *) msg="trufflehog failed (exit ${status}); ${what} were not scanned." ;;
esac
summary "$msg"
if [ "$status" -ne 0 ]; then
  fail "$msg"
fi
echo "$msg"
