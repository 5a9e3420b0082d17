# Blocks added dependencies with known vulnerabilities (harden-ci's dependency-review.sh).
# Inputs through env: GH_TOKEN, BASE_SHA, HEAD_SHA, FAIL_ON (low|medium|high|critical).
set -euo pipefail
changes=$(gh api "repos/${GITHUB_REPOSITORY}/dependency-graph/compare/${BASE_SHA}...${HEAD_SHA}")
blocking=$(printf '%s' "$changes" | jq -r --arg fail_on "$FAIL_ON" '
  {"low": 0, "moderate": 1, "medium": 1, "high": 2, "critical": 3} as $rank
  | .[] | select(.change_type == "added") as $dep
  | ($dep.vulnerabilities // [])[]
  | select(($rank[.severity] // 0) >= $rank[$fail_on])
  | "\($dep.manifest): \($dep.name)@\($dep.version) \(.severity) \(.advisory_ghsa_id) \(.advisory_summary)"')
{
  echo "## Dependency review (fail on ${FAIL_ON} and above)"
  if [ -n "$blocking" ]; then
    printf '%s\n' "$blocking" | sed 's/^/- /'
  else
    echo "No added dependency has a known vulnerability at or above ${FAIL_ON}."
  fi
} >> "$GITHUB_STEP_SUMMARY"
if [ -n "$blocking" ]; then
  echo "::error title=Vulnerable dependencies::$(printf '%s' "$blocking" | wc -l) added dependencies have known vulnerabilities at or above ${FAIL_ON}"
  printf '%s\n' "$blocking"
  exit 1
fi
