# Audits the repository's workflows (harden-ci's lint-workflows.sh).
# Inputs through env: ZIZMOR_MIN_SEVERITY, SARIF_FILE.
set -euo pipefail
status=0
zizmor --offline --format sarif --min-severity "$ZIZMOR_MIN_SEVERITY" .github/workflows > "$SARIF_FILE" || status=$?
zizmor --offline --min-severity "$ZIZMOR_MIN_SEVERITY" .github/workflows || status=$?
actionlint || status=$?
exit "$status"
