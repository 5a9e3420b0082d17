# Selects a toolchain the runner image already ships, or runs a custom setup command
# (harden-ci's toolchain.sh). Inputs through env: LANGUAGE, TOOLCHAIN_VERSION, SETUP_COMMAND.
set -euo pipefail
case "$LANGUAGE" in
  rust)
    rustup toolchain install "$TOOLCHAIN_VERSION" --profile minimal
    rustup override set "$TOOLCHAIN_VERSION"
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
