# Installs a set of tools by hash into a venv of its own and puts only their commands on
# PATH, never the venv's python or pip (harden-ci's install-tools.sh).
# Inputs through env: HARDEN_CI_TOOL_LOCK (the companion lock, from the workspace root),
# HARDEN_CI_TOOL_COMMANDS (space-separated commands to expose).
set -euo pipefail
# One venv per lock, so two tool sets in one job never clear each other.
venv="$RUNNER_TEMP/$(basename "$HARDEN_CI_TOOL_LOCK" .txt)"
python3 -m venv --clear "$venv"
# Every line of the lock carries its sha256s: pip refuses any other file, and installs
# nothing the lock does not list (--no-deps).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
  --no-deps --only-binary :all: -r "$HARDEN_CI_TOOL_LOCK"
mkdir -p "$RUNNER_TEMP/tool-bin"
for command in $HARDEN_CI_TOOL_COMMANDS; do
  ln -sf "$venv/bin/$command" "$RUNNER_TEMP/tool-bin/$command"
done
echo "$RUNNER_TEMP/tool-bin" >> "$GITHUB_PATH"
