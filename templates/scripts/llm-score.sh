# Scores eval outputs with harden-ci's LLM gate (harden-ci's llm-score.sh). Inputs through
# env: HARDEN_CI_LLM_OUTPUTS, HARDEN_CI_LLM_GOLD, HARDEN_CI_LLM_SCHEMA (optional),
# TOLERANCE, TOKEN_BUDGET, BASELINE (optional), ALLOW_NO_TOKEN_BASELINE (optional), and
# HARDEN_CI_LLM_SAMPLES and HARDEN_CI_JUDGE_* (read by harden-ci itself).
set -euo pipefail
args=(--tolerance "$TOLERANCE" --token-budget "$TOKEN_BUDGET" --report llm-report.json)
if [ -n "${BASELINE:-}" ]; then
  args+=(--baseline "$BASELINE")
fi
if [ "${ALLOW_NO_TOKEN_BASELINE:-}" = "true" ]; then
  args+=(--allow-no-token-baseline)
fi
"$RUNNER_TEMP/harden-ci/bin/harden-ci" gate llm-score "${args[@]}"
