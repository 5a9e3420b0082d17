# Builds harden-ci from one pinned git commit and installs it with its dependencies by hash
# into a venv of its own (harden-ci's build-harden-ci.sh). Later steps call
# "$RUNNER_TEMP/harden-ci/bin/harden-ci" by absolute path; the venv never goes on PATH.
# Inputs through env: HARDEN_CI_REQUIREMENTS (the companion lock: dependencies and the build
# backend, every file hashed), HARDEN_CI_GIT_URL, HARDEN_CI_GIT_COMMIT (40 hex).
set -euo pipefail
venv="$RUNNER_TEMP/harden-ci"
src="$RUNNER_TEMP/harden-ci-src"
dist="$RUNNER_TEMP/harden-ci-dist"
python3 -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
  --no-deps --only-binary :all: -r "$HARDEN_CI_REQUIREMENTS"
rm -rf "$src" "$dist"
git init --quiet "$src"
git -C "$src" fetch --quiet --depth 1 "$HARDEN_CI_GIT_URL" "$HARDEN_CI_GIT_COMMIT"
git -C "$src" checkout --quiet --detach FETCH_HEAD
if [ "$(git -C "$src" rev-parse HEAD)" != "$HARDEN_CI_GIT_COMMIT" ]; then
  echo "::error title=harden-ci source mismatch::$HARDEN_CI_GIT_URL did not give commit $HARDEN_CI_GIT_COMMIT"
  exit 1
fi
# The build backend is the hashed one installed above (no build isolation, no index).
"$venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation --no-index --wheel-dir "$dist" "$src"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-index \
  "$dist"/harden_ci-*.whl
"$venv/bin/harden-ci" --version
