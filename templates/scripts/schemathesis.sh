# Fuzzes a running API against its OpenAPI document (harden-ci's schemathesis.sh).
# Inputs through env: OPENAPI_FILE, HARDEN_CI_URL (the environment under test).
set -euo pipefail
schemathesis run "$OPENAPI_FILE" --url "$HARDEN_CI_URL" --checks all \
  --report junit --report-dir "${RUNNER_TEMP}/schemathesis"
