# Lints an OpenAPI document with Spectral (harden-ci's spectral-lint.sh).
# Inputs through env: OPENAPI_FILE, SPECTRAL_RULESET (the spec's `tests.contract.ruleset`,
# may be empty). Spectral comes from install-npm-tools.sh (npm ci on a lockfile with
# integrity hashes). The spec's ruleset wins, then the repository's own .spectral.*;
# otherwise Spectral's OpenAPI rules apply.
set -euo pipefail
ruleset="${SPECTRAL_RULESET:-}"
if [ -n "$ruleset" ] && [ ! -f "$ruleset" ]; then
  echo "::error::the Spectral ruleset $ruleset (tests.contract.ruleset) does not exist"
  exit 1
fi
for candidate in .spectral.yaml .spectral.yml .spectral.json .spectral.js; do
  if [ -n "$ruleset" ]; then break; fi
  if [ -f "$candidate" ]; then ruleset="$candidate"; break; fi
done
if [ -z "$ruleset" ]; then
  ruleset="$RUNNER_TEMP/spectral-ruleset.yaml"
  printf 'extends: ["spectral:oas"]\n' > "$ruleset"
fi
spectral lint --ruleset "$ruleset" --fail-severity error "$OPENAPI_FILE"
