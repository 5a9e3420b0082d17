"""Unit tests as a real CI has them: lint and type check, per-service and per-stage timeouts,
containers, env, variables and secrets (trusted events only), schema drift with its own
install. The runs under act are in tests/test_act_test_environment.py."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harden_ci.cli import cli
from harden_ci.model import Spec
from harden_ci.plan.forks import FORK_PR
from harden_ci.render.engine import render

IMAGE = "postgres:17@sha256:" + "ab" * 32
BASE: dict[str, Any] = {
    "version": 1, "project": {"name": "ledger"},
    "services": {
        "api": {"path": "api", "language": "python", "lint": "ruff check .",
                "typecheck": "mypy src", "timeout_minutes": 12,
                "test_environment": {
                    "services": {"postgres": {"image": IMAGE, "ports": [5432],
                                              "env": {"POSTGRES_PASSWORD": "ci"},
                                              "health": "pg_isready -U postgres"}},
                    "env": {"DATABASE_URL": "postgresql://postgres:ci@localhost:5432/postgres"},
                    "vars": ["API_BASE"], "secrets": ["STRIPE_TEST_KEY"]}},
        "web": {"path": "web", "language": "node", "lint": "npm run lint"},
    },
    "gates": {"secret_scan": {}, "schema_drift": {"service": "api", "preset": "alembic",
                                                  "install": "pip install -r requirements.txt"}},
}


def _workflow(spec: dict[str, Any]) -> dict[str, Any]:
    files = render(Spec.model_validate(spec))
    loaded: dict[str, Any] = yaml.safe_load(files["harden-ci.yml"])
    return loaded


def _steps(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in job["steps"]}


def test_a_service_with_a_test_environment_gets_its_own_job() -> None:
    jobs = _workflow(BASE)["jobs"]
    own, shared = jobs["unit-tests-api"], jobs["unit-tests"]
    assert own["timeout-minutes"] == 12
    assert own["services"] == {"postgres": {
        "image": IMAGE, "ports": ["5432:5432"], "env": {"POSTGRES_PASSWORD": "ci"},
        "options": '--health-cmd "pg_isready -U postgres" --health-interval 5s '
                   "--health-timeout 5s --health-retries 20"}}
    assert own["env"] == {"DATABASE_URL": "postgresql://postgres:ci@localhost:5432/postgres",
                          "API_BASE": "${{ vars.API_BASE }}"}
    assert "tests-of-api" in own["if"] and "tests-of-api" in jobs["changes"]["outputs"]
    # the shared matrix has no containers, env or secrets, and takes each row's timeout
    assert "services" not in shared and "env" not in shared
    assert shared["timeout-minutes"] == "${{ matrix.timeout }}"
    assert {"unit-tests", "unit-tests-api"} <= set(jobs["required"]["needs"])


def test_secrets_reach_only_the_test_step_and_never_a_fork() -> None:
    job = _workflow(BASE)["jobs"]["unit-tests-api"]
    steps = _steps(job)
    assert steps["Run unit tests"]["env"]["STRIPE_TEST_KEY"] == (
        f"${{{{ !({FORK_PR}) && secrets.STRIPE_TEST_KEY || '' }}}}")
    holders = [name for name, step in steps.items() if "secrets." in str(step.get("env", {}))]
    assert holders == ["Run unit tests"]
    notice = steps["Say which secrets a fork's pull request runs without"]
    assert notice["if"] == f"${{{{ {FORK_PR} }}}}"
    assert notice["env"] == {"WITHHELD_SECRETS": "STRIPE_TEST_KEY"}


def test_lint_and_typecheck_run_after_the_install_and_before_the_tests() -> None:
    names = list(_steps(_workflow(BASE)["jobs"]["unit-tests"]))
    assert names.index("Install dependencies") < names.index("Lint") < \
        names.index("Type check") < names.index("Run unit tests")


def test_the_service_table_carries_lint_typecheck_and_timeouts() -> None:
    from harden_ci.plan.context import make_context
    from harden_ci.plan.stages import changes

    ctx = make_context(Spec.model_validate(BASE), "harden-ci.yaml", None)
    table = changes.table(ctx)
    assert table["config"]["api"]["lint"] == "ruff check ."
    assert table["config"]["web"]["typecheck"] == ""
    assert [e["service"] for e in table["tests"]] == ["web"]
    assert table["tests"][0]["timeout"] == 30
    assert [e["timeout"] for e in table["own_tests"]["api"]] == [12]


def test_stage_timeouts_apply_to_their_jobs() -> None:
    spec = copy.deepcopy(BASE)
    spec["project"]["timeouts"] = {"secret-scan": 7, "schema-drift": 40}
    jobs = _workflow(spec)["jobs"]
    assert jobs["secret-scan"]["timeout-minutes"] == 7
    assert jobs["schema-drift"]["timeout-minutes"] == 40
    assert jobs["changes"]["timeout-minutes"] == 5


def test_schema_drift_has_its_own_install_and_none_of_the_test_containers() -> None:
    job = _workflow(BASE)["jobs"]["schema-drift"]
    assert _steps(job)["Install dependencies"]["env"] == {
        "COMMAND": "pip install -r requirements.txt"}
    assert "services" not in job  # alembic without a database: no container at all


@pytest.mark.parametrize("change, message", [
    ({"ports": ["5432:99999"]}, "is not a port"),
    ({"ports": ["abc"]}, "is not a port"),
    ({"health": 'pg_isready" --privileged "'}, "health"),
    ({"image": "postgres:17"}, "image"),
])
def test_bad_containers_are_refused(change: dict[str, Any], message: str, tmp_path: Path) -> None:
    spec = copy.deepcopy(BASE)
    spec["services"]["api"]["test_environment"]["services"]["postgres"].update(change)
    _refused(spec, message, tmp_path)


@pytest.mark.parametrize("edit, message", [
    (lambda s: s["services"]["api"]["test_environment"].update(vars=["DATABASE_URL"]),
     "DATABASE_URL named more than once"),
    (lambda s: s["services"]["api"]["test_environment"]["services"].update(
        redis={"image": IMAGE, "ports": ["5432:6379"]}), "same runner port"),
    (lambda s: s["project"].update(timeouts={"unit-tests": 5}), "timeouts"),
    (lambda s: s["services"]["api"].update(timeout_minutes=0), "timeout_minutes"),
    (lambda s: s["services"].update(box={"dockerfile": "Dockerfile", "lint": "x"}),
     "need a `language`"),
    (lambda s: s["services"]["api"]["test_environment"].update(secrets=["GITHUB_TOKEN"]),
     "GITHUB_TOKEN"),
])
def test_bad_test_settings_are_refused(edit: Any, message: str, tmp_path: Path) -> None:
    spec = copy.deepcopy(BASE)
    edit(spec)
    _refused(spec, message, tmp_path)


def _refused(spec: dict[str, Any], message: str, tmp_path: Path) -> None:
    path = tmp_path / "harden-ci.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(cli, ["render", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
