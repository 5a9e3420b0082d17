# Runs one shard of a service's unit tests (harden-ci's run-tests.sh).
# Inputs, all through env: TEST_COMMAND (the spec's command, run as written),
# SHARD_STRATEGY, HARDEN_CI_SHARD_INDEX, HARDEN_CI_SHARD_TOTAL, HARDEN_CI_REPORTS_DIR.
# With more than one shard, this shard's share of the tests is appended to the command:
# test files (python), --shard=i/N (node), packages (go), -Dtest=classes (java);
# other languages read HARDEN_CI_SHARD_INDEX and HARDEN_CI_SHARD_TOTAL themselves.
set -euo pipefail
mkdir -p "$HARDEN_CI_REPORTS_DIR"
index="${HARDEN_CI_SHARD_INDEX:-1}"
total="${HARDEN_CI_SHARD_TOTAL:-1}"
args=()

# Keep every total-th line of stdin, starting at this shard's index (1-based).
pick() { awk -v i="$index" -v n="$total" '(NR - 1) % n == i - 1'; }

if [ "$total" -gt 1 ]; then
  case "$SHARD_STRATEGY" in
    python)
      # Test files by name, at any depth; listed first so a failing git fails the step.
      listing=$(git ls-files -- ':(glob)**/test_*.py' ':(glob)**/*_test.py')
      mapfile -t args < <(printf '%s\n' "$listing" | sed '/^$/d' | sort | pick)
      ;;
    node)
      args=("--shard=${index}/${total}")
      ;;
    go)
      listing=$(go list ./...)
      mapfile -t args < <(printf '%s\n' "$listing" | sed '/^$/d' | sort | pick)
      ;;
    java)
      listing=$(git ls-files -- ':(glob)src/test/**/*Test.java' ':(glob)src/test/**/*Tests.java')
      classes=$(printf '%s\n' "$listing" | sed '/^$/d' | sort | pick \
        | sed -e 's#.*/##' -e 's#\.java$##' | paste -sd, -)
      if [ -n "$classes" ]; then
        args=("-Dtest=${classes}" "-Dsurefire.failIfNoSpecifiedTests=false")
      fi
      ;;
    *)
      ;;
  esac
  if [ "$SHARD_STRATEGY" != "env" ] && [ "${#args[@]}" -eq 0 ]; then
    echo "Shard ${index}/${total} has no tests to run."
    exit 0
  fi
fi

echo "Running: ${TEST_COMMAND} ${args[*]}"
# The command is the spec's own shell text: it runs as the reviewed spec wrote it.
eval "${TEST_COMMAND}"' "${args[@]}"'
