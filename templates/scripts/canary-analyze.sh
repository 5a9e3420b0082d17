# Bakes one canary step and decides promote or rollback (harden-ci's canary-analyze.sh).
# Inputs through env: HARDEN_CI_PROMETHEUS_URL, HARDEN_CI_CANARY_*, BAKE, REPORT.
set -euo pipefail
"$RUNNER_TEMP/harden-ci/bin/harden-ci" gate canary-analyze --bake "$BAKE" --report "$REPORT"
