"""Environment protection checked at deploy time: check-environment.sh, as rendered into
learnhub's canary job, run for real (tests/test_scripts.py's Runner: `bash -e` on its
`run:` text with its `env:`) against a real HTTP server on 127.0.0.1 that answers
GET /repos/{owner}/{repo}/environments/{name} the way GitHub's REST API does. The step
passes only on a required_reviewers rule with reviewers and a deployment-branch policy;
every other answer fails the job with what to set in Settings -> Environments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Reply, ScriptedApi, scripted_api
from test_scripts import Runner, learnhub, script_step

SCRIPT = "check-environment.sh"
TOKEN = "ghs_test-token"
REPOSITORY = "acme/learnhub"


def environment(*, rules: list[dict[str, Any]] | None = None,
                policy: dict[str, Any] | None = None, name: str = "production") -> Reply:
    body = {"id": 161088068, "name": name, "url": "", "html_url": "",
            "protection_rules": rules if rules is not None else [],
            "deployment_branch_policy": policy}
    return 200, json.dumps(body)


REVIEWERS = {"id": 3736, "node_id": "MDQ6R2F0ZTM3MzY=", "type": "required_reviewers",
             "prevent_self_review": True,
             "reviewers": [{"type": "Team", "reviewer": {"id": 1, "slug": "release"}}]}
WAIT = {"id": 3755, "node_id": "MDQ6R2F0ZTM3NTU=", "type": "wait_timer", "wait_timer": 30}
BRANCHES = {"protected_branches": True, "custom_branch_policies": False}
PROTECTED = environment(rules=[WAIT, REVIEWERS], policy=BRANCHES)


EnvironmentsApi = ScriptedApi


@pytest.fixture
def api() -> Iterator[ScriptedApi]:
    with scripted_api(PROTECTED) as state:
        yield state


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


def check(runner: Runner, api: EnvironmentsApi, *replies: Reply) -> tuple[int, str]:
    api.replies = list(replies)
    step = dict(script_step(learnhub(), SCRIPT, "canary"))
    # Only the pause between retries is turned down for the test.
    step["env"] = {**step["env"], "HARDEN_CI_RETRY_SECONDS": "1"}
    result = runner.run(step, {"GH_TOKEN": TOKEN, "HARDEN_CI_API_URL": api.url,
                               "HARDEN_CI_REPOSITORY": REPOSITORY}, timeout=60)
    return result.returncode, result.stdout + result.stderr


def test_passes_when_reviewers_and_a_branch_policy_are_set(runner: Runner,
                                                            api: EnvironmentsApi) -> None:
    code, out = check(runner, api, PROTECTED)
    assert code == 0, out
    assert "1 required reviewer(s)" in out
    path, headers = api.requests[0]
    assert path == f"/repos/{REPOSITORY}/environments/production"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert "production" in runner.summary.read_text()


def test_custom_branch_policies_count_as_a_policy(runner: Runner, api: EnvironmentsApi) -> None:
    code, out = check(runner, api, environment(
        rules=[REVIEWERS], policy={"protected_branches": False, "custom_branch_policies": True}))
    assert code == 0, out


@pytest.mark.parametrize(("reply", "says"), [
    pytest.param(environment(rules=[WAIT], policy=BRANCHES), "no required reviewers",
                 id="no-reviewers-rule"),
    pytest.param(environment(rules=[{**REVIEWERS, "reviewers": []}], policy=BRANCHES),
                 "no required reviewers", id="empty-reviewers"),
    pytest.param(environment(rules=[{k: v for k, v in REVIEWERS.items() if k != "reviewers"}],
                             policy=BRANCHES), "no required reviewers",
                 id="reviewers-missing"),
    pytest.param(environment(rules=[{**REVIEWERS, "reviewers": "everyone"}], policy=BRANCHES),
                 "no required reviewers", id="reviewers-not-a-list"),
    pytest.param(environment(rules=[REVIEWERS], policy=None), "no deployment branch policy",
                 id="branch-policy-null"),
    pytest.param((200, json.dumps({"name": "production", "protection_rules": [REVIEWERS]})),
                 "no deployment branch policy", id="branch-policy-absent"),
    pytest.param(environment(rules=None, policy=None), "no required reviewers",
                 id="unprotected"),
])
def test_fails_when_the_environment_is_not_protected(runner: Runner, api: EnvironmentsApi,
                                                     reply: Reply, says: str) -> None:
    code, out = check(runner, api, reply)
    assert code == 1, out
    assert "::error::environment 'production' is not protected" in out and says in out
    assert "Settings -> Environments -> production" in out
    assert len(api.requests) == 1


def test_both_problems_are_reported(runner: Runner, api: EnvironmentsApi) -> None:
    code, out = check(runner, api, environment(rules=[], policy=None))
    assert code == 1
    assert "no required reviewers" in out and "no deployment branch policy" in out


@pytest.mark.parametrize(("status", "says"), [
    (404, "does not exist"), (401, "was refused (HTTP 401)"), (403, "was refused (HTTP 403)"),
    (418, "failed with HTTP 418"),
])
def test_http_errors_fail_without_retrying(runner: Runner, api: EnvironmentsApi, status: int,
                                           says: str) -> None:
    code, out = check(runner, api, (status, json.dumps({"message": "nope"})), PROTECTED)
    assert code == 1, out
    assert says in out
    assert len(api.requests) == 1


@pytest.mark.parametrize("body", [
    "{not json", "", "[]", '"production"', json.dumps({"protection_rules": [REVIEWERS]}),
    json.dumps({"name": "production"}) * 2,
])
def test_malformed_answers_fail(runner: Runner, api: EnvironmentsApi, body: str) -> None:
    code, out = check(runner, api, (200, body))
    assert code == 1, out
    assert "not an environment (malformed JSON)" in out


def test_server_errors_are_retried_until_an_answer(runner: Runner,
                                                   api: EnvironmentsApi) -> None:
    code, out = check(runner, api, (502, "bad gateway"), (503, ""), (429, ""), PROTECTED)
    assert code == 0, out
    assert len(api.requests) == 4
    assert "HTTP 502 reading environment 'production'; retrying (attempt 2 of 5)" in out


def test_server_errors_that_outlast_the_retries_fail(runner: Runner,
                                                     api: EnvironmentsApi) -> None:
    code, out = check(runner, api, (500, "oops"))
    assert code == 1, out
    assert "still failed (HTTP 500) after 5 attempts" in out
    assert len(api.requests) == 5


def test_a_missing_token_or_forged_inputs_fail_before_any_request(
        runner: Runner, api: EnvironmentsApi) -> None:
    step = dict(script_step(learnhub(), SCRIPT, "canary"))
    for expressions, says in [
        ({"GH_TOKEN": "", "HARDEN_CI_API_URL": api.url, "HARDEN_CI_REPOSITORY": REPOSITORY},
         "GH_TOKEN is empty"),
        ({"GH_TOKEN": TOKEN, "HARDEN_CI_API_URL": api.url,
          "HARDEN_CI_REPOSITORY": "acme/learnhub/../../x?"}, "is not owner/name"),
        ({"GH_TOKEN": TOKEN, "HARDEN_CI_API_URL": "file:///etc/passwd",
          "HARDEN_CI_REPOSITORY": REPOSITORY}, "is not an http(s) URL"),
    ]:
        result = runner.run(step, expressions, timeout=60)
        assert result.returncode == 1 and says in result.stdout + result.stderr
    forged = {**step, "env": {**step["env"], "HARDEN_CI_ENVIRONMENT": "prod/../../admin"}}
    result = runner.run(forged, {"GH_TOKEN": TOKEN, "HARDEN_CI_API_URL": api.url,
                                 "HARDEN_CI_REPOSITORY": REPOSITORY}, timeout=60)
    assert result.returncode == 1 and "is not an environment name" in result.stdout
    assert api.requests == []


def test_a_connection_refused_is_retried_then_fails(runner: Runner) -> None:
    step = dict(script_step(learnhub(), SCRIPT, "canary"))
    step["env"] = {**step["env"], "HARDEN_CI_RETRY_SECONDS": "1", "HARDEN_CI_HTTP_ATTEMPTS": "2"}
    result = runner.run(step, {"GH_TOKEN": TOKEN, "HARDEN_CI_API_URL": "http://127.0.0.1:9",
                               "HARDEN_CI_REPOSITORY": REPOSITORY}, timeout=60)
    assert result.returncode == 1
    assert "still failed (HTTP 000) after 2 attempts" in result.stdout
