# Runs one command from the spec as written (harden-ci's run-command.sh).
# Input through env: COMMAND.
set -euo pipefail
echo "Running: ${COMMAND}"
eval "${COMMAND}"
