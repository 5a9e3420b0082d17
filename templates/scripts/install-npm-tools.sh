# Installs npm tools from a lockfile with integrity hashes and puts only their commands on
# PATH (harden-ci's install-npm-tools.sh). Inputs through env: HARDEN_CI_NPM_LOCK (the
# companion: comment lines, then npm's package-lock.json), HARDEN_CI_TOOL_COMMANDS.
set -euo pipefail
dir="$RUNNER_TEMP/npm-tools"
rm -rf "$dir"
mkdir -p "$dir" "$RUNNER_TEMP/tool-bin"
sed '/^#/d' "$HARDEN_CI_NPM_LOCK" > "$dir/package-lock.json"
# package.json is the lock's own root entry, so npm ci installs exactly what the lock lists.
node -e 'const fs = require("fs");
const root = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).packages[""];
fs.writeFileSync(process.argv[2], JSON.stringify({name: root.name, version: root.version,
  private: true, dependencies: root.dependencies}, null, 2) + "\n");' \
  "$dir/package-lock.json" "$dir/package.json"
# npm ci checks every tarball against the lock's integrity hash; no package script runs.
npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
for command in $HARDEN_CI_TOOL_COMMANDS; do
  ln -sf "$dir/node_modules/.bin/$command" "$RUNNER_TEMP/tool-bin/$command"
done
echo "$RUNNER_TEMP/tool-bin" >> "$GITHUB_PATH"
