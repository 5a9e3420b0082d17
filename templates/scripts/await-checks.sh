# Waits for the CI workflow's run on this commit and passes only if it succeeded
# (harden-ci's await-checks.sh). Nothing publishes before this job passes: a run still
# going is waited for, any other conclusion, no run at all, an HTTP error that outlasts
# the retries and an answer that is not the runs list each fail the job.
# Inputs through env: GH_TOKEN (the job's token, actions: read), HARDEN_CI_API_URL,
# HARDEN_CI_REPOSITORY (owner/name), HARDEN_CI_SHA (the commit), HARDEN_CI_CI_WORKFLOW
# (the CI workflow's file name), HARDEN_CI_EVENT (the event both workflows ran on),
# HARDEN_CI_POLL_SECONDS (default 15), HARDEN_CI_TIMEOUT_SECONDS (default 3600),
# HARDEN_CI_HTTP_ATTEMPTS (tries per query before an HTTP error fails; default 5).
set -euo pipefail
poll=${HARDEN_CI_POLL_SECONDS:-15}
timeout=${HARDEN_CI_TIMEOUT_SECONDS:-3600}
attempts=${HARDEN_CI_HTTP_ATTEMPTS:-5}
workflow=${HARDEN_CI_CI_WORKFLOW:-}
event=${HARDEN_CI_EVENT:-push}
sha=${HARDEN_CI_SHA:-}
repository=${HARDEN_CI_REPOSITORY:-}
api=${HARDEN_CI_API_URL:-}

for number in "$poll" "$timeout" "$attempts"; do
  if [[ ! "$number" =~ ^[1-9][0-9]{0,5}$ ]]; then
    echo "::error::poll interval, timeout and attempts must be whole numbers above 0 (got '${number}')"
    exit 1
  fi
done
# Each value becomes part of the query URL: refuse anything that could change it.
if [[ ! "$sha" =~ ^([0-9a-f]{40}|[0-9a-f]{64})$ ]]; then
  echo "::error::HARDEN_CI_SHA is not a commit id: '${sha}'"
  exit 1
fi
if [[ ! "$repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]]; then
  echo "::error::HARDEN_CI_REPOSITORY is not owner/name: '${repository}'"
  exit 1
fi
if [[ ! "$workflow" =~ ^[A-Za-z0-9_.-]+\.ya?ml$ ]]; then
  echo "::error::HARDEN_CI_CI_WORKFLOW is not a workflow file name: '${workflow}'"
  exit 1
fi
if [[ ! "$event" =~ ^[a-z_]+$ ]]; then
  echo "::error::HARDEN_CI_EVENT is not an event name: '${event}'"
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

url="${api%/}/repos/${repository}/actions/workflows/${workflow}/runs?head_sha=${sha}&event=${event}&per_page=100"
body="${RUNNER_TEMP:-/tmp}/await-checks-runs.json"
what="${workflow} on ${sha} (${event})"

# One query, retried on connection errors, rate limits (403, 429) and server errors
# (5xx). The token goes to curl on stdin, never on its command line.
query() {
  local try=1 code
  while :; do
    code=$(printf 'header = "Authorization: Bearer %s"\n' "$GH_TOKEN" |
      curl --config - --silent --show-error --max-time 30 --output "$body" \
        --write-out '%{http_code}' --header 'Accept: application/vnd.github+json' \
        --header 'X-GitHub-Api-Version: 2022-11-28' "$url") || code=000
    case "$code" in
      200) return 0 ;;
      000 | 403 | 429 | 5??) ;;
      401)
        echo "::error::the runs query of ${what} was refused (HTTP 401): the job token is not accepted"
        exit 1 ;;
      404)
        echo "::error::no workflow ${workflow} in ${repository} (HTTP 404), or the token lacks actions: read"
        exit 1 ;;
      *)
        echo "::error::the runs query of ${what} failed with HTTP ${code}"
        exit 1 ;;
    esac
    if [ "$try" -ge "$attempts" ]; then
      echo "::error::the runs query of ${what} still failed (HTTP ${code}) after ${attempts} attempts"
      exit 1
    fi
    echo "HTTP ${code} from the runs query; retrying (attempt $((try + 1)) of ${attempts})"
    try=$((try + 1))
    sleep "$poll"
  done
}

start=$SECONDS
while :; do
  query
  # Slurped, so an empty answer (no document at all) or several documents fail too; the
  # output is compared rather than `jq -e` trusted, which jq 1.6 passes on empty input.
  valid=$(jq -s 'length == 1 and (.[0] | type == "object" and (.workflow_runs | type == "array"))' "$body" 2>/dev/null) || valid=false
  if [ "$valid" != true ]; then
    echo "::error::the runs query of ${what} answered something that is not a runs list (malformed JSON)"
    exit 1
  fi
  # The newest run of this very commit and event (the API filters too; check again, since
  # a missing filter must not let another commit's run through). A re-run keeps its id and
  # shows its latest attempt.
  run=$(jq -c --arg sha "$sha" --arg event "$event" '
    [.workflow_runs[] | select(type == "object" and .head_sha == $sha and .event == $event)]
    | sort_by([(.created_at // "" | tostring), (.id // 0 | tonumber? // 0)]) | last // empty' "$body")
  state=waiting
  if [ -n "$run" ]; then
    status=$(jq -r '.status // "" | tostring' <<<"$run")
    conclusion=$(jq -r '.conclusion // "" | tostring' <<<"$run")
    link=$(jq -r '.html_url // "" | tostring' <<<"$run")
    attempt=$(jq -r '.run_attempt // 1 | tostring' <<<"$run")
    if [ "$status" = completed ]; then
      state=finished
    fi
  fi
  if [ "$state" = finished ]; then
    {
      echo "## Checks of this commit"
      echo "- ${what}: ${conclusion:-no conclusion} (attempt ${attempt}) ${link}"
    } >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
    case "$conclusion" in
      success)
        echo "${what} succeeded (attempt ${attempt}): ${link}"
        exit 0 ;;
      failure) reason="failed" ;;
      cancelled) reason="was cancelled" ;;
      timed_out) reason="timed out" ;;
      skipped) reason="was skipped, so nothing was checked" ;;
      action_required) reason="waits for approval (action_required), so nothing was checked" ;;
      neutral) reason="ended neutral, which is not a pass" ;;
      stale) reason="went stale" ;;
      "") reason="completed without a conclusion" ;;
      *) reason="ended '${conclusion}', which is not a pass" ;;
    esac
    echo "::error::${what} ${reason}: nothing is published (${link})"
    exit 1
  fi
  elapsed=$((SECONDS - start))
  if [ "$elapsed" -ge "$timeout" ]; then
    if [ -n "$run" ]; then
      echo "::error::${what} is still ${status:-in an unknown state} after ${timeout}s: nothing is published (${link})"
    else
      echo "::error::no run of ${what} appeared within ${timeout}s: nothing is published"
    fi
    exit 1
  fi
  if [ -n "$run" ]; then
    echo "${what} is ${status}; checking again in ${poll}s"
  else
    echo "no run of ${what} yet; checking again in ${poll}s"
  fi
  left=$((timeout - elapsed))
  sleep $((poll < left ? poll : left))
done
