# Lints an OpenAPI document with Spectral (harden-ci's spectral-lint.sh).
# Inputs through env: OPENAPI_FILE, SPECTRAL_CLI (the pinned npm package).
# The repository's own .spectral.* ruleset wins; otherwise Spectral's OpenAPI rules apply.
set -euo pipefail
ruleset=""
for candidate in .spectral.yaml .spectral.yml .spectral.json .spectral.js; do
  if [ -f "$candidate" ]; then ruleset="$candidate"; break; fi
done
if [ -z "$ruleset" ]; then
  ruleset="$RUNNER_TEMP/spectral-ruleset.yaml"
  printf 'extends: ["spectral:oas"]\n' > "$ruleset"
fi
npx --yes "$SPECTRAL_CLI" lint --ruleset "$ruleset" --fail-severity error "$OPENAPI_FILE"
