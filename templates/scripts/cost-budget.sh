# Fails a scheduled run whose reported cost passes its budget (harden-ci's cost-budget.sh).
# Inputs through env: HARDEN_CI_COST_FILE (the command wrote its cost there), COST_BUDGET.
set -euo pipefail
if [ ! -s "$HARDEN_CI_COST_FILE" ]; then
  echo "::error title=No cost reported::The job did not write its cost to ${HARDEN_CI_COST_FILE}"
  exit 1
fi
cost=$(tr -d '[:space:]' < "$HARDEN_CI_COST_FILE")
echo "## Cost: ${cost} (budget ${COST_BUDGET})" >> "$GITHUB_STEP_SUMMARY"
if ! awk -v c="$cost" -v b="$COST_BUDGET" 'BEGIN { exit !(c + 0 == c && c <= b) }'; then
  echo "::error title=Cost budget::This run cost ${cost}, over its budget of ${COST_BUDGET}"
  exit 1
fi
