# Checks, through the REST API, that the GitHub environment this job deploys to really is
# protected (harden-ci's check-environment.sh): a `required_reviewers` protection rule with
# at least one reviewer, and a deployment-branch policy. The spec's `reviewers: true` is a
# request; this is the proof, read at deploy time. Anything else fails the job: a missing
# rule, an empty reviewer list, no branch policy, an unknown environment, a refused token,
# an answer that is not an environment, an HTTP error that outlasts the retries.
# Inputs through env: GH_TOKEN (the job's token, actions: read), HARDEN_CI_API_URL,
# HARDEN_CI_REPOSITORY (owner/name), HARDEN_CI_ENVIRONMENT (the environment's name),
# HARDEN_CI_HTTP_ATTEMPTS (tries before an HTTP error fails; default 5),
# HARDEN_CI_RETRY_SECONDS (pause between tries; default 10).
set -euo pipefail
attempts=${HARDEN_CI_HTTP_ATTEMPTS:-5}
pause=${HARDEN_CI_RETRY_SECONDS:-10}
repository=${HARDEN_CI_REPOSITORY:-}
environment=${HARDEN_CI_ENVIRONMENT:-}
api=${HARDEN_CI_API_URL:-}

for number in "$attempts" "$pause"; do
  if [[ ! "$number" =~ ^[1-9][0-9]{0,3}$ ]]; then
    echo "::error::attempts and retry pause must be whole numbers above 0 (got '${number}')"
    exit 1
  fi
done
# Each value becomes part of the query URL: refuse anything that could change it.
if [[ ! "$repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]]; then
  echo "::error::HARDEN_CI_REPOSITORY is not owner/name: '${repository}'"
  exit 1
fi
if [[ ! "$environment" =~ ^[A-Za-z0-9_.-]{1,255}$ ]]; then
  echo "::error::HARDEN_CI_ENVIRONMENT is not an environment name: '${environment}'"
  exit 1
fi
if [[ ! "$api" =~ ^https?://[^[:space:]?#]+$ ]]; then
  echo "::error::HARDEN_CI_API_URL is not an http(s) URL: '${api}'"
  exit 1
fi
if [ -z "${GH_TOKEN:-}" ]; then
  echo "::error::GH_TOKEN is empty: the job needs its token (permissions: actions: read)"
  exit 1
fi

url="${api%/}/repos/${repository}/environments/${environment}"
body="${RUNNER_TEMP:-/tmp}/check-environment.json"
settings="Settings -> Environments -> ${environment}"

# One query, retried on connection errors, rate limits (429) and server errors (5xx).
# The token goes to curl on stdin, never on its command line.
try=1
while :; do
  code=$(printf 'header = "Authorization: Bearer %s"\n' "$GH_TOKEN" |
    curl --config - --silent --show-error --connect-timeout 10 --max-time 30 \
      --output "$body" --write-out '%{http_code}' \
      --header 'Accept: application/vnd.github+json' \
      --header 'X-GitHub-Api-Version: 2022-11-28' "$url") || code=000
  case "$code" in
    200) break ;;
    000 | 429 | 5??) ;;
    401 | 403)
      echo "::error::reading environment '${environment}' was refused (HTTP ${code}): the job token needs permissions: actions: read"
      exit 1 ;;
    404)
      echo "::error::environment '${environment}' does not exist in ${repository} (HTTP 404): create it in ${settings}, with required reviewers and a deployment branch policy"
      exit 1 ;;
    *)
      echo "::error::reading environment '${environment}' failed with HTTP ${code}"
      exit 1 ;;
  esac
  if [ "$try" -ge "$attempts" ]; then
    echo "::error::reading environment '${environment}' still failed (HTTP ${code}) after ${attempts} attempts"
    exit 1
  fi
  echo "HTTP ${code} reading environment '${environment}'; retrying (attempt $((try + 1)) of ${attempts})"
  try=$((try + 1))
  sleep "$pause"
done

# Slurped, so an empty answer or several documents fail too; the output is compared
# rather than `jq -e` trusted, which jq 1.6 passes on empty input.
valid=$(jq -s 'length == 1 and (.[0] | type == "object" and .name? != null)' "$body" 2>/dev/null) || valid=false
if [ "$valid" != true ]; then
  echo "::error::reading environment '${environment}' answered something that is not an environment (malformed JSON)"
  exit 1
fi
reviewers=$(jq '[(.protection_rules // [])[]? | select(type == "object" and .type == "required_reviewers")
                 | (.reviewers // []) | if type == "array" then length else 0 end] | add // 0' "$body")
policy=$(jq '.deployment_branch_policy | type == "object"' "$body")
problems=()
if [ "$reviewers" -lt 1 ]; then
  problems+=("no required reviewers: in ${settings}, tick 'Required reviewers' and add at least one person or team")
fi
if [ "$policy" != true ]; then
  problems+=("no deployment branch policy (any branch may deploy): in ${settings}, set 'Deployment branches and tags' to protected branches or selected branches")
fi
if [ "${#problems[@]}" -gt 0 ]; then
  for problem in "${problems[@]}"; do
    echo "::error::environment '${environment}' is not protected as the spec's reviewers: true requires: ${problem}"
  done
  exit 1
fi
echo "environment '${environment}' is protected: ${reviewers} required reviewer(s) and a deployment branch policy"
{
  echo "## Environment protection"
  echo "- ${environment}: ${reviewers} required reviewer(s), deployment branch policy set"
} >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
