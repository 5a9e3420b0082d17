# Installs exact tool versions into a throwaway venv and puts it on PATH
# (harden-ci's install-tools.sh). Input through env: REQUIREMENTS (space-separated, pinned).
set -euo pipefail
python -m venv "$RUNNER_TEMP/tools"
# shellcheck disable=SC2086 # one word per requirement
"$RUNNER_TEMP/tools/bin/python" -m pip install --quiet --disable-pip-version-check $REQUIREMENTS
echo "$RUNNER_TEMP/tools/bin" >> "$GITHUB_PATH"
