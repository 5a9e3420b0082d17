# Stops the job: the spec names no pinned source for harden-ci (harden-ci's
# no-harden-ci-source.sh). harden-ci is not on a public package index yet, and an unhashed
# package name is never installed (whoever registers it would run code here).
set -euo pipefail
echo "::error title=harden-ci has no pinned source::Set harden_ci in the spec: commit a harden-ci wheel and name it in harden_ci.wheel (or harden_ci.index with the wheel's sha256, or harden_ci.git with a commit), then run 'harden-ci render'. See the README, 'Getting harden-ci into your CI'."
exit 1
