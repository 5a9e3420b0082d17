# Fails when an Atlas migration directory does not reach the desired schema
# (harden-ci's atlas-drift.sh). Inputs through env: ATLAS_MIGRATIONS (the migration
# directory), ATLAS_SCHEMA (an HCL or SQL file, or a folder of them), ATLAS_DEV_URL (the
# throwaway database Atlas replays the migrations on).
set -euo pipefail
fail() {
  echo "::error title=Schema drift::$1"
  exit 1
}
[ -d "$ATLAS_MIGRATIONS" ] || fail "No migration directory at ${ATLAS_MIGRATIONS} (set gates.schema_drift.migrations)."
[ -e "$ATLAS_SCHEMA" ] || fail "No desired schema at ${ATLAS_SCHEMA} (set gates.schema_drift.desired_schema)."

# 1. The directory is intact (atlas.sum matches its files) and every migration applies.
echo "Running: atlas migrate validate --dir file://${ATLAS_MIGRATIONS}"
atlas migrate validate --dir "file://${ATLAS_MIGRATIONS}" --dev-url "$ATLAS_DEV_URL" \
  || fail "The migration directory ${ATLAS_MIGRATIONS} does not validate: a file was changed without re-running atlas migrate hash, or a migration fails to apply."

# 2. `atlas migrate diff` plans the desired schema against the replayed migrations and
# writes a new migration exactly when the two disagree; it exits 0 either way. It runs on
# a scratch copy, so a new file there is the drift, and the checkout is never touched.
scratch=$(mktemp -d "$RUNNER_TEMP/atlas-migrations.XXXXXX")
cp -R "${ATLAS_MIGRATIONS}/." "$scratch/"
echo "Running: atlas migrate diff --dir file://${ATLAS_MIGRATIONS} --to file://${ATLAS_SCHEMA}"
atlas migrate diff --dir "file://${scratch}" --to "file://${ATLAS_SCHEMA}" \
  --dev-url "$ATLAS_DEV_URL" harden_ci_drift \
  || fail "atlas migrate diff could not compare ${ATLAS_SCHEMA} with ${ATLAS_MIGRATIONS}."
drift=0
for file in "$scratch"/*.sql; do
  [ -e "$file" ] || continue
  if [ ! -e "${ATLAS_MIGRATIONS}/$(basename "$file")" ]; then
    echo "The migration the desired schema still needs ($(basename "$file")):"
    cat "$file"
    drift=1
  fi
done
if [ "$drift" -ne 0 ]; then
  fail "Models and migrations disagree: ${ATLAS_SCHEMA} is not what ${ATLAS_MIGRATIONS} builds. Run atlas migrate diff and commit the migration it writes before merging."
fi
echo "The migrations in ${ATLAS_MIGRATIONS} reach the desired schema ${ATLAS_SCHEMA}."
