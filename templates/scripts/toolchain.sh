# Selects a toolchain the runner image already ships, or runs a custom setup command
# (harden-ci's toolchain.sh). Inputs through env: LANGUAGE, TOOLCHAIN_VERSION, SETUP_COMMAND.
set -euo pipefail
case "$LANGUAGE" in
  rust)
    # Only an explicit version installs a toolchain. A rust-toolchain(.toml) file is read
    # by rustup itself on the first cargo call; with neither, the runner's toolchain is
    # used as it is (`rustup toolchain install stable` would need the network to update).
    if [ -n "${TOOLCHAIN_VERSION}" ]; then
      rustup toolchain install "$TOOLCHAIN_VERSION" --profile minimal
      rustup override set "$TOOLCHAIN_VERSION"
    fi
    cargo --version
    ;;
  dotnet)
    if ! dotnet --list-sdks | grep -q "^${TOOLCHAIN_VERSION}"; then
      echo "::error::.NET SDK ${TOOLCHAIN_VERSION} is not on this runner"
      exit 1
    fi
    ;;
  ruby)
    if ! ruby --version | grep -q "ruby ${TOOLCHAIN_VERSION}"; then
      echo "::error::Ruby ${TOOLCHAIN_VERSION} is not on this runner"
      exit 1
    fi
    ;;
  custom)
    # The spec's own setup command, run as the reviewed spec wrote it.
    eval "${SETUP_COMMAND}"
    ;;
  *)
    echo "::error::no toolchain step for ${LANGUAGE}"
    exit 1
    ;;
esac
