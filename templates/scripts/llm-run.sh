# Runs the spec's eval command with a fixed seed and captures its JSON-lines output
# (harden-ci's llm-run.sh). Inputs through env: LLM_COMMAND, HARDEN_CI_SEED,
# HARDEN_CI_LLM_OUTPUTS.
set -euo pipefail
"$RUNNER_TEMP/harden-ci/bin/harden-ci" gate llm-run --seed "$HARDEN_CI_SEED" --out "$HARDEN_CI_LLM_OUTPUTS" -- bash -c "$LLM_COMMAND"
