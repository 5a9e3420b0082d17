# Says that a fork's pull request runs the unit tests without the spec's secrets
# (harden-ci's fork-secrets-notice.sh). Input through env: WITHHELD_SECRETS (names, spaces).
set -euo pipefail
echo "::notice title=Secrets withheld::This pull request comes from a fork: the tests run without ${WITHHELD_SECRETS} (test_environment.secrets), which reach trusted events only."
