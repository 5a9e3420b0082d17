# Records when the rollout begins (harden-ci's canary-start.sh): the canary analysis reads the
# previous version's own behaviour in the window ending then, which the 100% step still has.
set -euo pipefail
echo "at=$(date +%s)" >> "$GITHUB_OUTPUT"
