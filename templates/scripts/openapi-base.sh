# Fetches the base branch's version of an OpenAPI document and decides whether breaking
# changes fail: they do, unless info.version got a major bump (harden-ci's openapi-base.sh).
# Inputs through env: OPENAPI_FILE, BASE_FILE, BASE_SHA, BREAKING_CHANGES (fail|warn).
# Outputs: has_base (true|false), fail_on (ERR, or empty when the change is announced).
set -euo pipefail
if [ -z "$BASE_SHA" ] || ! git cat-file -e "${BASE_SHA}:${OPENAPI_FILE}" 2>/dev/null; then
  echo "No base version of ${OPENAPI_FILE}: nothing to compare."
  echo "has_base=false" >> "$GITHUB_OUTPUT"
  exit 0
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
{
  echo "has_base=true"
  echo "fail_on=${fail_on}"
} >> "$GITHUB_OUTPUT"
