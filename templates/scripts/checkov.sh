# Lints an IaC tree with checkov installed by hash from PyPI (every package of its tree
# from the companion lock), in place of an action that runs a container image by tag.
# Inputs through env: CHECKOV_DIRECTORY, CHECKOV_FRAMEWORK, CHECKOV_BASELINE (optional: the
# recorded findings pass, new ones still fail) and SARIF_FILE (the report for code scanning).
# The findings go to the log and to the SARIF file; checkov's exit code is the gate's.
set -uo pipefail
args=(--directory "$CHECKOV_DIRECTORY" --framework "$CHECKOV_FRAMEWORK" --quiet --compact
      --output cli --output sarif --output-file-path "console,$SARIF_FILE")
if [ -n "${CHECKOV_BASELINE:-}" ]; then
  args+=(--baseline "$CHECKOV_BASELINE")
fi
status=0
checkov "${args[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "::error::checkov: failed checks in $CHECKOV_DIRECTORY ($CHECKOV_FRAMEWORK)"
fi
exit "$status"
