# Breaking changes between an OpenAPI document and its base commit's version (harden-ci's
# oasdiff-breaking.sh), with oasdiff built from its release commit by the steps before.
# Inputs through env: BASE_FILE (the base version, written by openapi-base.sh), OPENAPI_FILE
# (the revision), FAIL_ON (ERR, or empty when breaking changes are announced or only warn).
# oasdiff runs as oasdiff-action/breaking v0.1.12 runs it (breaking/entrypoint.sh, run 1):
# `oasdiff breaking BASE REVISION --allow-external-refs=false --composed=false`, with
# `--fail-on LEVEL` when a level is given; oasdiff exits 1 for a change at that level or
# higher, 2 and up when it cannot compare (123: an external $ref, refused). The action's
# review upload and PR comment are not run: nothing leaves CI.
set -euo pipefail
title="Breaking changes (${OPENAPI_FILE})"
args=(breaking "$BASE_FILE" "$OPENAPI_FILE" --allow-external-refs=false --composed=false)
if [ -n "$FAIL_ON" ]; then
  args+=(--fail-on "$FAIL_ON")
fi
echo "oasdiff ${args[*]}"
status=0
report="$(oasdiff "${args[@]}")" || status=$?
echo "$report"
{
  echo "## ${title}"
  echo '```'
  echo "$report"
  echo '```'
} >> "$GITHUB_STEP_SUMMARY"
case "$status" in
  0)
    if [ -z "$FAIL_ON" ]; then
      echo "::notice title=${title}::compared with the base commit; breaking changes do not fail (announced by a major info.version bump, or breaking_changes: warn)."
    fi
    ;;
  1)
    echo "::error title=${title}::breaking changes at level ${FAIL_ON} or higher against the base commit; bump the major info.version to announce them."
    exit 1
    ;;
  123)
    echo "::error title=${title}::the document resolves an external \$ref, which oasdiff refuses here (--allow-external-refs=false)."
    exit 1
    ;;
  *)
    echo "::error title=${title}::oasdiff could not compare the documents (exit ${status})."
    exit 1
    ;;
esac
