# Lints Terraform with tflint (harden-ci's tflint.sh). Input through env: TERRAFORM_DIR.
set -euo pipefail
tflint --chdir="$TERRAFORM_DIR" --init
tflint --chdir="$TERRAFORM_DIR" --recursive --format=compact
