# Drops the registry login once the images are verified (harden-ci's registry-logout.sh).
# Input through env: REGISTRY (the host). The deploy commands that follow are the
# repository's code: they get no registry credentials from harden-ci.
set -euo pipefail
docker logout "$REGISTRY"
