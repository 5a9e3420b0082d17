# Blocks added dependencies with known vulnerabilities (harden-ci's dependency-review.sh).
# Inputs through env: GH_TOKEN, BASE_SHA, HEAD_SHA, FAIL_ON (low|medium|high|critical).
set -euo pipefail
changes=$(gh api "repos/${GITHUB_REPOSITORY}/dependency-graph/compare/${BASE_SHA}...${HEAD_SHA}")
# One line per vulnerability of an added dependency: "block|note<TAB>description".
found=$(printf '%s' "$changes" | jq -r --arg fail_on "$FAIL_ON" '
  {"low": 0, "moderate": 1, "medium": 1, "high": 2, "critical": 3} as $rank
  | .[] | select(.change_type == "added") as $dep
  | ($dep.vulnerabilities // [])[]
  | (if ($rank[.severity] // 0) >= $rank[$fail_on] then "block" else "note" end)
    + "\t\($dep.manifest): \($dep.name)@\($dep.version) \(.severity) \(.advisory_ghsa_id) \(.advisory_summary)"')
blocking=$(printf '%s\n' "$found" | sed -n 's/^block\t//p')
below=$(printf '%s\n' "$found" | sed -n 's/^note\t//p')
{
  echo "## Dependency review (fail on ${FAIL_ON} and above)"
  if [ -n "$blocking" ]; then
    echo "Blocking:"
    printf '%s\n' "$blocking" | sed 's/^/- /'
  else
    echo "No added dependency has a known vulnerability at or above ${FAIL_ON}."
  fi
  if [ -n "$below" ]; then
    echo "Below the threshold (not blocking):"
    printf '%s\n' "$below" | sed 's/^/- /'
  fi
} >> "$GITHUB_STEP_SUMMARY"
if [ -n "$blocking" ]; then
  count=$(printf '%s\n' "$blocking" | wc -l)
  echo "::error title=Vulnerable dependencies::${count} known vulnerabilities at or above ${FAIL_ON} in added dependencies"
  printf '%s\n' "$blocking"
  exit 1
fi
