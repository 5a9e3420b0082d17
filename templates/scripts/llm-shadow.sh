# Compares the new version's answers to the live version's on the same mirrored prompts
# (harden-ci's llm-shadow.sh). Inputs through env: HARDEN_CI_SHADOW_LIVE and
# HARDEN_CI_SHADOW_CANDIDATE (JSON lines the spec's `shadow` command wrote), THRESHOLD,
# MIN_AGREEMENT, and HARDEN_CI_LLM_SCHEMA and HARDEN_CI_JUDGE_* (optional, read by
# harden-ci itself).
set -euo pipefail
"$RUNNER_TEMP/harden-ci/bin/harden-ci" gate llm-shadow --threshold "$THRESHOLD" \
  --min-agreement "$MIN_AGREEMENT"
