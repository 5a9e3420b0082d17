"""Release after checks: the release workflow publishes nothing until the same commit's CI
run has succeeded.

The await job's step runs for real, exactly as rendered (tests/test_scripts.py's Runner:
`bash -e` on its `run:` text with its `env:`), against a real HTTP server on 127.0.0.1
that answers the runs query the way GitHub's REST API does. Only the polling knobs are
turned down (interval, timeout, attempts), so a wait that never ends fails in seconds.
The plan-level tests read the rendered workflows: every job of the release workflow
waits for the await job, whose token can only read Actions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import QuietJSONHandler, serving
from test_scripts import Runner, learnhub, rendered, script_step

from harden_ci.model import Spec
from harden_ci.plan.context import make_context
from harden_ci.plan.release_gate import JOB_ID

SCRIPT = "await-checks.sh"
RELEASE = "harden-ci-release.yml"
CI = "harden-ci.yml"
SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER_SHA = "fedcba9876543210fedcba9876543210fedcba98"
TOKEN = "ghs_test-token"
REPOSITORY = "acme/learnhub"


# --------------------------------------------------------------------- a fake runs API

Reply = tuple[int, str]  # HTTP status, body


def runs(*entries: dict[str, Any]) -> Reply:
    return 200, json.dumps({"total_count": len(entries), "workflow_runs": list(entries)})


def run(conclusion: str | None, *, status: str = "completed", sha: str = SHA,
        run_id: int = 7, created: str = "2025-01-01T10:00:00Z", event: str = "push",
        ) -> dict[str, Any]:
    return {"id": run_id, "head_sha": sha, "event": event, "status": status,
            "conclusion": conclusion, "run_attempt": 1, "created_at": created,
            "html_url": f"https://github.invalid/{REPOSITORY}/actions/runs/{run_id}"}


@dataclass
class RunsApi:
    """Answers each request with the next scripted reply; the last one repeats."""

    replies: list[Reply]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def next_reply(self, path: str, headers: dict[str, str]) -> Reply:
        self.requests.append((path, headers))
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@pytest.fixture
def api() -> Iterator[RunsApi]:
    state = RunsApi(replies=[runs()])

    class Handler(QuietJSONHandler):
        def do_GET(self) -> None:
            status, body = state.next_reply(self.path, dict(self.headers.items()))
            self.send_json(status, body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield state


def await_step(workflows: dict[str, dict[str, Any]] | None = None, **knobs: str,
               ) -> dict[str, Any]:
    """The await job's step as rendered (learnhub's spec unless given), with the polling
    knobs turned down for the test."""
    step = dict(script_step(workflows or learnhub(), SCRIPT, JOB_ID))
    step["env"] = {**step["env"], "HARDEN_CI_POLL_SECONDS": "1",
                   "HARDEN_CI_TIMEOUT_SECONDS": "3", **knobs}
    return step


def wait(runner: Runner, api: RunsApi, *replies: Reply, **knobs: str) -> tuple[int, str]:
    api.replies = list(replies)
    result = runner.run(await_step(**knobs), {
        "GH_TOKEN": TOKEN, "HARDEN_CI_API_URL": api.url,
        "HARDEN_CI_REPOSITORY": REPOSITORY, "HARDEN_CI_SHA": SHA}, timeout=60)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


# ------------------------------------------------------------------- the step, for real

def test_green_when_the_commits_run_succeeded(runner: Runner, api: RunsApi) -> None:
    code, out = wait(runner, api, runs(run("success")))
    assert code == 0, out
    assert "succeeded" in out
    path, headers = api.requests[0]
    url = urlsplit(path)
    assert url.path == f"/repos/{REPOSITORY}/actions/workflows/{CI}/runs"
    query = parse_qs(url.query)
    assert query["head_sha"] == [SHA] and query["event"] == ["push"]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert "success" in runner.summary.read_text()


@pytest.mark.parametrize(("conclusion", "says"), [
    ("failure", "failed"), ("cancelled", "was cancelled"), ("timed_out", "timed out"),
    ("skipped", "was skipped"), ("action_required", "action_required"),
    ("neutral", "neutral"), ("stale", "stale"), (None, "without a conclusion"),
    ("startup_failure", "startup_failure"),
])
def test_red_on_any_other_conclusion(runner: Runner, api: RunsApi, conclusion: str | None,
                                     says: str) -> None:
    code, out = wait(runner, api, runs(run(conclusion)))
    assert code == 1, out
    assert "::error::" in out and says in out and "nothing is published" in out


def test_waits_for_a_run_in_progress(runner: Runner, api: RunsApi) -> None:
    code, out = wait(runner, api, runs(run(None, status="queued")),
                     runs(run(None, status="in_progress")), runs(run("success")),
                     HARDEN_CI_TIMEOUT_SECONDS="30")
    assert code == 0, out
    assert len(api.requests) == 3
    assert "is in_progress; checking again" in out


def test_red_when_the_run_is_still_going_at_the_timeout(runner: Runner, api: RunsApi) -> None:
    code, out = wait(runner, api, runs(run(None, status="in_progress")))
    assert code == 1, out
    assert "still in_progress after 3s" in out
    assert len(api.requests) >= 2  # it did poll


def test_red_when_no_run_appears(runner: Runner, api: RunsApi) -> None:
    code, out = wait(runner, api, runs())
    assert code == 1, out
    assert "no run of harden-ci.yml on" in out and "appeared within 3s" in out


def test_a_run_for_another_commit_is_no_run(runner: Runner, api: RunsApi) -> None:
    """Even if the API ignored the filter, another commit's green run must not count."""
    code, out = wait(runner, api, runs(run("success", sha=OTHER_SHA),
                                       run("success", event="pull_request")))
    assert code == 1, out
    assert "appeared within" in out


def test_then_it_appears(runner: Runner, api: RunsApi) -> None:
    code, out = wait(runner, api, runs(), runs(run("success")), HARDEN_CI_TIMEOUT_SECONDS="30")
    assert code == 0, out
    assert "no run of harden-ci.yml on" in out and "yet" in out


def test_the_newest_run_of_the_commit_decides(runner: Runner, api: RunsApi) -> None:
    older_green = run("success", run_id=7, created="2025-01-01T10:00:00Z")
    newer_red = run("failure", run_id=9, created="2025-01-01T11:00:00Z")
    code, out = wait(runner, api, runs(newer_red, older_green))
    assert code == 1 and "failed" in out, out
    code, out = wait(runner, api, runs(run("success", run_id=9, created="2025-01-01T11:00:00Z"),
                                       run("failure", run_id=7)))
    assert code == 0, out


def test_a_server_error_is_retried(runner: Runner, api: RunsApi) -> None:
    code, out = wait(runner, api, (500, "oops"), (502, "bad gateway"), runs(run("success")))
    assert code == 0, out
    assert len(api.requests) == 3 and "HTTP 500" in out


def test_red_when_server_errors_outlast_the_retries(runner: Runner, api: RunsApi) -> None:
    code, out = wait(runner, api, (503, "down"), HARDEN_CI_HTTP_ATTEMPTS="3")
    assert code == 1, out
    assert "still failed (HTTP 503) after 3 attempts" in out
    assert len(api.requests) == 3


def test_red_when_nothing_answers(runner: Runner, api: RunsApi) -> None:
    api.url = "http://127.0.0.1:9"  # the discard port: connection refused
    code, out = wait(runner, api, runs(), HARDEN_CI_HTTP_ATTEMPTS="2")
    assert code == 1, out
    assert "(HTTP 000) after 2 attempts" in out


@pytest.mark.parametrize("body", ["{not json", "[]", '{"workflow_runs": "none"}', ""])
def test_red_on_malformed_json(runner: Runner, api: RunsApi, body: str) -> None:
    code, out = wait(runner, api, (200, body))
    assert code == 1, out
    assert "malformed JSON" in out


def test_red_on_404(runner: Runner, api: RunsApi) -> None:
    code, out = wait(runner, api, (404, '{"message": "Not Found"}'))
    assert code == 1, out
    assert "HTTP 404" in out and len(api.requests) == 1  # not retried


def test_refuses_values_that_would_change_the_query(runner: Runner, api: RunsApi) -> None:
    api.replies = [runs(run("success"))]
    step = await_step()
    result = runner.run(step, {"GH_TOKEN": TOKEN, "HARDEN_CI_API_URL": api.url,
                               "HARDEN_CI_REPOSITORY": REPOSITORY,
                               "HARDEN_CI_SHA": f"{SHA}&event=pull_request"})
    assert result.returncode == 1 and "not a commit id" in result.stdout
    assert api.requests == []


# -------------------------------------------------------------------------- the plan

def _spec(release: dict[str, Any] | None = None) -> dict[str, Any]:
    project: dict[str, Any] = {"name": "demo", "registry": "ghcr.io/acme"}
    if release is not None:
        project["release"] = release
    return {"version": 1, "project": project,
            "services": {"api": {"language": "python", "dockerfile": "Dockerfile"}},
            "supply_chain": {"sign": "keyless", "provenance": True, "sbom": "cyclonedx"}}


def _ancestors(jobs: dict[str, Any], job_id: str) -> set[str]:
    seen: set[str] = set()
    todo = list(jobs[job_id].get("needs") or [])
    while todo:
        need = todo.pop()
        if need not in seen:
            seen.add(need)
            todo += jobs[need].get("needs") or []
    return seen


def _publishes(job: dict[str, Any]) -> bool:
    """Pushes, signs, attests or deploys: a write permission, an environment, or a
    reusable workflow (the SLSA generator)."""
    writes = any(level == "write" for level in (job.get("permissions") or {}).values())
    return writes or "environment" in job or "uses" in job


@pytest.mark.parametrize("workflows", [learnhub, lambda: rendered(_spec())],
                         ids=["learnhub", "signed"])
def test_every_release_job_waits_for_the_checks(workflows: Any) -> None:
    jobs = workflows()[RELEASE]["jobs"]
    assert next(iter(jobs)) == JOB_ID
    publishing = [job_id for job_id, job in jobs.items() if _publishes(job)]
    assert publishing, "nothing in the release workflow publishes; the test proves nothing"
    for job_id in jobs:
        if job_id != JOB_ID:
            assert JOB_ID in _ancestors(jobs, job_id), f"{job_id} does not wait for {JOB_ID}"
    gate = jobs[JOB_ID]
    assert gate["permissions"] == {"actions": "read"}
    assert "needs" not in gate and "if" not in gate


def test_the_await_job_outlives_its_script() -> None:
    gate = rendered(_spec({"checks_timeout": "90m"}))[RELEASE]["jobs"][JOB_ID]
    (step,) = gate["steps"]
    assert step["env"]["HARDEN_CI_TIMEOUT_SECONDS"] == "5400"
    assert step["env"]["HARDEN_CI_CI_WORKFLOW"] == CI
    assert step["env"]["HARDEN_CI_SHA"] == "${{ github.sha }}"
    assert gate["timeout-minutes"] == 95


def test_branch_releases_by_default() -> None:
    workflows = rendered(_spec())
    assert workflows[RELEASE]["on"] == {"push": {"branches": ["main"]}}
    assert workflows[CI]["on"]["push"] == {"branches": ["main"]}


def test_tag_releases_trigger_both_workflows_on_the_tags() -> None:
    workflows = rendered(_spec({"trigger": "tags", "tags": ["v*", "release-[0-9]*"]}))
    assert workflows[RELEASE]["on"] == {"push": {"tags": ["v*", "release-[0-9]*"]}}
    assert workflows[CI]["on"]["push"] == {"branches": ["main"],
                                           "tags": ["v*", "release-[0-9]*"]}
    assert workflows[RELEASE]["jobs"][JOB_ID]["steps"][0]["env"]["HARDEN_CI_EVENT"] == "push"


def test_tag_releases_default_to_v_tags_and_use_no_cache() -> None:
    spec = _spec({"trigger": "tags"})
    assert rendered(spec)[RELEASE]["on"] == {"push": {"tags": ["v*"]}}
    assert not make_context(Spec.model_validate(spec), "harden-ci.yaml").caches_allowed
    assert make_context(Spec.model_validate(_spec()), "harden-ci.yaml").caches_allowed


@pytest.mark.parametrize("release", [
    {"tags": ["v*"]}, {"trigger": "tags", "tags": ["!v*"]},
    {"trigger": "tags", "tags": ["v* ; true"]}, {"trigger": "nightly"},
    {"checks_timeout": "7h"},
])
def test_release_settings_are_checked(release: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Spec.model_validate(_spec(release))
