# Fails when database models and migrations disagree (harden-ci's schema-check.sh).
# Inputs through env: SCHEMA_CHECK (the spec's command or a preset), DATABASE_URL.
set -euo pipefail
echo "Running: ${SCHEMA_CHECK}"
# A child shell with -e, so a failure on any line of a multi-line check counts
# (inside `if`, the calling shell's -e would be off).
if ! bash -eo pipefail -c "${SCHEMA_CHECK}"; then
  echo "::error title=Schema drift::Models and migrations disagree. Add the missing migration (or fix the model) before merging."
  exit 1
fi
