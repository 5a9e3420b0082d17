"""Jobs that read the spec's secrets and deploy nowhere reference `project.secrets_environment`
(zizmor's auditor persona, secrets-outside-env): the unit tests with secrets, the LLM evals,
image publishing with build secrets or a registry login, schedules and the nightly
re-analysis. Jobs that deploy keep their own environment, no job gets the environment
without a secret to read, and a fork's pull request still runs without the secrets."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import strategies as S
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from harden_ci.cli import cli
from harden_ci.model import Spec
from harden_ci.plan.forks import FORK_PR
from harden_ci.plan.model import Job
from harden_ci.plan.workflows import plan
from harden_ci.render.engine import render
from harden_ci.report.facts import job_values

IMAGE = "redis:7@sha256:" + "cd" * 32
BASE: dict[str, Any] = {
    "version": 1,
    "project": {"name": "shop", "registry": "ghcr.io/acme"},
    "services": {
        "api": {"path": "api", "language": "python", "dockerfile": "api/Dockerfile",
                "docker": {"secrets": ["NPM_TOKEN"]},
                "test_environment": {"services": {"redis": {"image": IMAGE, "ports": [6379]}},
                                     "secrets": ["STRIPE_TEST_KEY"]}},
        "bot": {"path": "bot", "language": "python", "kind": "llm"},
        "web": {"path": "web", "language": "node", "dockerfile": "web/Dockerfile"},
    },
    "environments": {
        "staging": {"deploy": "make deploy", "url": "https://staging.example.com",
                    "secrets": ["DEPLOY_TOKEN"]},
    },
    "tests": {"llm": {"command": "python evals.py", "gold": "evals/gold.jsonl",
                      "secrets": ["OPENAI_API_KEY"]}},
    "schedules": {
        "batch": {"cron": "0 3 * * *", "command": "make batch", "secrets": ["BATCH_KEY"]},
        "sync": {"cron": "0 4 * * *", "command": "make sync", "environment": "staging"},
        "tidy": {"cron": "0 5 * * *", "command": "make tidy"},
    },
}
_SECRET = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")


def _files(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    files = render(Spec.model_validate(spec))
    return {name: yaml.safe_load(text) for name, text in files.items() if name.endswith(".yml")}


def _environments(spec: dict[str, Any]) -> dict[str, str | None]:
    """`file#job` -> the job's environment name (None for none)."""
    found: dict[str, str | None] = {}
    for name, workflow in _files(spec).items():
        for job_id, job in workflow["jobs"].items():
            env = job.get("environment")
            found[f"{name}#{job_id}"] = env["name"] if isinstance(env, dict) else env
    return found


def test_jobs_reading_the_specs_secrets_reference_the_ci_environment() -> None:
    envs = _environments(BASE)
    scoped = sorted(job for job, env in envs.items() if env == "ci")
    assert scoped == ["harden-ci-nightly.yml#schedule-batch", "harden-ci-release.yml#publish-1",
                      "harden-ci.yml#llm-checks", "harden-ci.yml#unit-tests-api"]
    # publish-2 (web) has no build secret and logs in to ghcr.io with GITHUB_TOKEN
    assert envs["harden-ci-release.yml#publish-2"] is None
    # deploying jobs keep their own environment; schedules without secrets get none
    assert envs["harden-ci-release.yml#deploy-staging"] == "staging"
    assert envs["harden-ci-nightly.yml#schedule-sync"] == "staging"
    assert envs["harden-ci-nightly.yml#schedule-tidy"] is None
    # jobs reading no secret of the user's stay without one
    assert envs["harden-ci.yml#unit-tests"] is None
    assert envs["harden-ci.yml#images"] is None


def test_the_environment_is_named_by_the_spec() -> None:
    spec = copy.deepcopy(BASE)
    spec["project"]["secrets_environment"] = "checks"
    envs = _environments(spec)
    assert {job for job, env in envs.items() if env == "checks"} == {
        "harden-ci-nightly.yml#schedule-batch", "harden-ci-release.yml#publish-1",
        "harden-ci.yml#llm-checks", "harden-ci.yml#unit-tests-api"}
    assert "ci" not in envs.values()


def test_a_registry_login_puts_publishing_in_the_environment() -> None:
    spec = copy.deepcopy(BASE)
    spec["project"]["registry"] = "registry.example.com/acme"
    spec["supply_chain"] = {"sign": "keyless"}
    jobs = _files(spec)["harden-ci-release.yml"]["jobs"]
    for job_id in ("publish-2", "sign"):
        assert jobs[job_id]["environment"] == {"name": "ci"}, job_id
        assert "secrets.REGISTRY_PASSWORD" in str(jobs[job_id]["steps"]), job_id
    spec["project"]["registry"] = "ghcr.io/acme"
    jobs = _files(spec)["harden-ci-release.yml"]["jobs"]
    assert "environment" not in jobs["sign"] and "environment" not in jobs["publish-2"]


def test_a_metrics_token_puts_the_nightly_reanalysis_in_the_environment() -> None:
    spec = copy.deepcopy(BASE)
    spec["delivery"] = {"canary": {
        "environment": "staging", "steps": [10, 100], "bake": "5m",
        "shift": "./deploy.sh shift", "rollback": "./deploy.sh rollback",
        "metrics": {"prometheus": "https://prom.example.com", "token_secret": "PROM_TOKEN"}}}
    jobs = _files(spec)["harden-ci-nightly.yml"]["jobs"]
    assert jobs["reanalyse-live"]["environment"] == {"name": "ci"}
    del spec["delivery"]["canary"]["metrics"]["token_secret"]
    jobs = _files(spec)["harden-ci-nightly.yml"]["jobs"]
    assert "environment" not in jobs["reanalyse-live"]


def test_forks_still_run_the_unit_tests_without_the_secrets() -> None:
    job = _files(BASE)["harden-ci.yml"]["jobs"]["unit-tests-api"]
    steps = {step["name"]: step for step in job["steps"]}
    assert steps["Run unit tests"]["env"]["STRIPE_TEST_KEY"] == (
        f"${{{{ !({FORK_PR}) && secrets.STRIPE_TEST_KEY || '' }}}}")
    notice = steps["Say which secrets a fork's pull request runs without"]
    assert notice["if"] == f"${{{{ {FORK_PR} }}}}"
    # a plain environment name, and no condition keeps a fork's pull request off the job
    assert job["environment"] == {"name": "ci"}
    assert "head.repo.full_name" not in job["if"]


def test_a_deploy_environment_cannot_hold_the_checks_secrets(tmp_path: Path) -> None:
    spec = copy.deepcopy(BASE)
    spec["project"]["secrets_environment"] = "staging"
    path = tmp_path / "harden-ci.yaml"
    path.write_text(S.dump_spec(spec), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    line = next(n for n, text in enumerate(path.read_text("utf-8").splitlines(), start=1)
                if "secrets_environment" in text)
    assert f"harden-ci.yaml:{line}:" in result.output
    assert "project.secrets_environment" in result.output
    assert "deploy environment" in result.output


def test_an_environment_named_like_the_default_needs_another_name(tmp_path: Path) -> None:
    spec = copy.deepcopy(BASE)
    spec["environments"]["ci"] = {"deploy": "make deploy-ci", "url": "https://ci.example.com"}
    path = tmp_path / "harden-ci.yaml"
    path.write_text(S.dump_spec(spec), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2 and "project.secrets_environment" in result.output
    spec["project"]["secrets_environment"] = "checks"
    path.write_text(S.dump_spec(spec), encoding="utf-8")
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0


def _user_secrets(job: Job) -> set[str]:
    """Secrets of the user's a job reads: every `secrets.X` but GITHUB_TOKEN (GitHub's, which
    zizmor exempts too). The secret scan reads none: gitleaks is built from source."""
    names = {name for value in job_values(job) for name in _SECRET.findall(value)}
    return names - {"GITHUB_TOKEN"}


@settings(derandomize=True, deadline=None, database=None, max_examples=40,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(S.specs(max_services=4))
def test_any_spec_scopes_exactly_the_jobs_that_read_its_secrets(spec: S.SpecDict) -> None:
    model = Spec.model_validate(spec)
    chosen = model.project.secrets_environment
    deploys = set(model.environments)
    for workflow in plan(model, "harden-ci.yaml", wheel_sha256=S.wheel_sha256(spec)).workflows:
        for job in workflow.jobs:
            where = f"{workflow.filename}#{job.id}"
            if job.uses is not None:  # a reusable workflow's caller takes no environment
                assert job.environment is None, where
            elif _user_secrets(job):
                assert job.environment is not None, f"{where} reads {_user_secrets(job)}"
                assert job.environment in deploys | {chosen}, where
            else:  # least privilege: no job reaches the secrets environment for nothing
                assert job.environment != chosen, where
