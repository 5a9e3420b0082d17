# Extracts the base commit's version of an OpenAPI document and decides whether breaking
# changes fail: they do, unless info.version got a major bump (harden-ci's openapi-base.sh).
# Inputs through env: OPENAPI_FILE, BASE_FILE, BASE_SHA (the pull request's or the merge
# group's base commit; empty on a push), BREAKING_CHANGES (fail|warn).
# Outputs: has_base (true|false), fail_on (ERR, or empty when the change is announced).
# The checkout has the full history, so the base commit is read with `git show`.
set -euo pipefail
skip() {
  echo "::notice title=Breaking changes (${OPENAPI_FILE})::$1"
  echo "has_base=false" >> "$GITHUB_OUTPUT"
  exit 0
}
if [ -z "$BASE_SHA" ]; then
  # A push to the default branch has no base to compare with: its pull request (or merge
  # group) was compared before it landed. Spectral still lints the document.
  skip "no base commit on a ${GITHUB_EVENT_NAME:-push}: the breaking-change comparison is skipped."
fi
if ! git cat-file -e "${BASE_SHA}^{commit}" 2>/dev/null; then
  # Never pass by comparing nothing: a base that cannot be read is a broken check.
  echo "::error title=Breaking changes (${OPENAPI_FILE})::the base commit ${BASE_SHA} is not in the checkout (it needs the full history)."
  exit 1
fi
if ! git cat-file -e "${BASE_SHA}:${OPENAPI_FILE}" 2>/dev/null; then
  # A new API: nothing existed before, so nothing can break.
  skip "${OPENAPI_FILE} does not exist at the base commit ${BASE_SHA}: a new API, nothing to compare."
fi
git show "${BASE_SHA}:${OPENAPI_FILE}" > "$BASE_FILE"
major() { yq -r '.info.version // "0"' "$1" | sed -E 's/^v//; s/[^0-9].*$//'; }
base_major=$(major "$BASE_FILE")
head_major=$(major "$OPENAPI_FILE")
fail_on="ERR"
if [ "$BREAKING_CHANGES" = "warn" ]; then
  fail_on=""
elif [ "${head_major:-0}" -gt "${base_major:-0}" ]; then
  echo "info.version went from major ${base_major} to ${head_major}: breaking changes are announced."
  fail_on=""
fi
echo "Comparing ${OPENAPI_FILE} with its version at ${BASE_SHA}."
{
  echo "has_base=true"
  echo "fail_on=${fail_on}"
} >> "$GITHUB_OUTPUT"
