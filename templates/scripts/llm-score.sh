# Scores eval outputs with harden-ci's LLM gate (harden-ci's llm-score.sh). Inputs through
# env: HARDEN_CI_LLM_OUTPUTS, HARDEN_CI_LLM_GOLD, HARDEN_CI_LLM_SCHEMA (optional),
# TOLERANCE, TOKEN_BUDGET, BASELINE (optional).
set -euo pipefail
args=(--tolerance "$TOLERANCE" --token-budget "$TOKEN_BUDGET" --report llm-report.json)
if [ -n "${BASELINE:-}" ]; then
  args+=(--baseline "$BASELINE")
fi
harden-ci gate llm-score "${args[@]}"
