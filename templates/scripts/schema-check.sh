# Fails when database models and migrations disagree (harden-ci's schema-check.sh).
# Inputs through env: SCHEMA_CHECK (the spec's command or a preset), DATABASE_URL.
set -euo pipefail
echo "Running: ${SCHEMA_CHECK}"
if ! eval "${SCHEMA_CHECK}"; then
  echo "::error title=Schema drift::Models and migrations disagree. Add the missing migration (or fix the model) before merging."
  exit 1
fi
