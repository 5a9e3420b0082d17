# Audits the repository's workflows (harden-ci's lint-workflows.sh).
# Inputs through env: ZIZMOR_MIN_SEVERITY, SARIF_FILE, ACTIONLINT_CONFIG (harden-ci's list of
# the spec's own runner labels; used unless the repository has an actionlint config).
set -euo pipefail
status=0
zizmor --offline --format sarif --min-severity "$ZIZMOR_MIN_SEVERITY" .github/workflows > "$SARIF_FILE" || status=$?
zizmor --offline --min-severity "$ZIZMOR_MIN_SEVERITY" .github/workflows || status=$?
if [[ -f "$ACTIONLINT_CONFIG" && ! -f .github/actionlint.yaml && ! -f .github/actionlint.yml ]]; then
  actionlint -config-file "$ACTIONLINT_CONFIG" || status=$?
else
  actionlint || status=$?
fi
exit "$status"
