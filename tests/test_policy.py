"""`harden-ci policy`: an organisation policy checked against a spec. The strict fixture
policy passes the learnhub example; the fixture specs break every one of its rules, each
violation naming the spec location and the policy rule; bad policy files are refused with
file:line:column (exit 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harden_ci.cli import cli
from harden_ci.pipeline import load
from harden_ci.report.policy import Policy, PolicyResult, check_policy, load_policy

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "policy"
STRICT = FIXTURES / "strict.yaml"
LEARNHUB = ROOT / "examples" / "learnhub" / "harden-ci.yaml"
WEAK = FIXTURES / "weak-spec.yaml"
BARE = FIXTURES / "bare-spec.yaml"

# rule → (fixture spec breaking it, the spec path it points at)
EXPECTED: dict[str, tuple[Path, str]] = {
    "require.secret_scan": (BARE, "gates.secret_scan"),
    "require.iac_lint": (BARE, "gates.iac_lint"),
    "require.schema_drift": (BARE, "gates.schema_drift"),
    "require.vulnerability_gate": (BARE, "gates.vulnerabilities"),
    "require.code_scanning": (WEAK, "project.code_scanning"),
    "require.sbom": (WEAK, "supply_chain.sbom"),
    "require.signing": (WEAK, "supply_chain.sign"),
    "require.provenance": (WEAK, "supply_chain.provenance"),
    "require.slsa": (WEAK, "supply_chain.slsa"),
    "require.contract_tests": (BARE, "tests.contract"),
    "require.auth_tests": (BARE, "tests.auth"),
    "require.soak": (BARE, "load.soak"),
    "require.canary": (BARE, "delivery.canary"),
    "require.reviewers": (WEAK, "environments.production.reviewers"),
    "gates.fail_on_no_weaker_than": (WEAK, "gates.vulnerabilities.fail_on"),
    "soak.min_duration": (WEAK, "load.soak.duration"),
    "soak.max_api_p95_ms": (WEAK, "load.soak.budgets.api_p95_ms"),
    "soak.max_llm_tool_p95_ms": (WEAK, "load.soak.budgets.llm_tool_p95_ms"),
    "soak.max_error_rate": (WEAK, "load.soak.budgets.error_rate"),
    "canary.max_first_step": (WEAK, "delivery.canary.steps.0"),
    "canary.min_bake": (WEAK, "delivery.canary.bake"),
    "canary.max_rollback_error_rate": (WEAK, "delivery.canary.rollback_on.error_rate"),
    "canary.max_rollback_p95_ms": (WEAK, "delivery.canary.rollback_on.p95_ms"),
    "canary.max_rollback_cost_regression": (WEAK, "delivery.canary.rollback_on.cost_regression"),
    "llm.max_tolerance": (WEAK, "tests.llm.tolerance"),
    "auth.max_token_lifetime": (WEAK, "tests.auth.max_token_lifetime"),
}


def check(spec_path: Path, policy_path: Path = STRICT) -> PolicyResult:
    loaded, spec = load(spec_path)
    return check_policy(spec, loaded, load_policy(policy_path))


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["policy", *args])


def spec_line(spec_path: Path, needle: str) -> int:
    lines = spec_path.read_text("utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def test_learnhub_meets_the_strict_policy() -> None:
    result = check(LEARNHUB)
    assert result.passed, [str(v) for v in result.violations]
    assert set(result.rules) == set(EXPECTED)
    cli_result = run(str(STRICT), str(LEARNHUB))
    assert cli_result.exit_code == 0
    assert "meets policy 'acme-strict'" in cli_result.stdout


def test_every_rule_of_the_strict_policy_has_a_fixture_that_breaks_it() -> None:
    violated = {v.rule for spec in (WEAK, BARE) for v in check(spec).violations}
    assert violated == set(check(LEARNHUB).rules) == set(EXPECTED)


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_each_violation_names_the_rule_the_spec_location_and_the_policy_location(
        rule: str) -> None:
    spec_path, spec_key = EXPECTED[rule]
    violations = [v for v in check(spec_path).violations if v.rule == rule]
    assert violations, f"{rule} not caught in {spec_path.name}"
    violation = next((v for v in violations if v.spec_path == spec_key), None)
    assert violation is not None, [v.spec_path for v in violations]
    assert re.fullmatch(rf"{re.escape(spec_path.as_posix())}:\d+:\d+", violation.spec_location)
    assert re.fullmatch(rf"{re.escape(STRICT.as_posix())}:\d+:\d+", violation.policy_location)
    policy_line = int(violation.policy_location.split(":")[-2])
    key = rule.split(".")[-1]
    assert key in STRICT.read_text("utf-8").splitlines()[policy_line - 1]
    assert violation.message and violation.expected and violation.actual


def test_violations_point_at_the_line_where_the_weak_value_is_written() -> None:
    by_rule = {v.rule: v for v in check(WEAK).violations}
    duration = by_rule["soak.min_duration"].spec_location
    assert duration.startswith(f"{WEAK.as_posix()}:{spec_line(WEAK, 'duration: 5m')}:")
    first_step = by_rule["canary.max_first_step"].spec_location
    assert first_step.startswith(f"{WEAK.as_posix()}:{spec_line(WEAK, 'steps: [20, 100]')}:")
    assert "20%" in by_rule["canary.max_first_step"].message


def test_fail_on_no_weaker_than_high_refuses_critical_and_accepts_stricter() -> None:
    weak = [v for v in check(WEAK).violations if v.rule == "gates.fail_on_no_weaker_than"]
    assert {v.spec_path for v in weak} == {"gates.vulnerabilities.fail_on",
                                            "gates.iac_lint.fail_on"}
    assert all(v.actual == "critical" for v in weak)


def test_limits_apply_only_to_sections_the_spec_has() -> None:
    minimal = ROOT / "examples" / "minimal" / "harden-ci.yaml"
    result = check(minimal)
    assert not [v for v in result.violations if v.rule.startswith(("soak.", "canary.", "llm."))]


def test_cli_exits_1_on_violations_with_one_line_each() -> None:
    result = run(str(STRICT), str(WEAK))
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(check(WEAK).violations) + 1
    assert lines[-1].endswith("violation(s) of policy 'acme-strict' (" + STRICT.as_posix() + ")")
    assert all(line.startswith(WEAK.as_posix() + ":") for line in lines[:-1])
    assert "\x1b[" not in result.stdout


def test_cli_json_output() -> None:
    result = run(str(STRICT), str(BARE), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False and data["spec"] == BARE.as_posix()
    assert {"rule", "message", "spec_path", "spec_location", "policy_location", "expected",
            "actual"} == set(data["violations"][0])
    ok = json.loads(run(str(STRICT), str(LEARNHUB), "--format", "json").stdout)
    assert ok["passed"] is True and ok["violations"] == []


@pytest.mark.parametrize(("fixture", "where", "words"), [
    ("bad-unknown-key.yaml", ":3:3:", "did you mean `secret_scan`?"),
    ("bad-value.yaml", ":2:22:", "is not a duration"),
    ("bad-no-version.yaml", ":1:1:", "`version` is required"),
])
def test_a_bad_policy_is_refused_with_its_location(fixture: str, where: str, words: str) -> None:
    result = run(str(FIXTURES / fixture), str(LEARNHUB))
    assert result.exit_code == 2
    assert f"{(FIXTURES / fixture).as_posix()}{where}" in result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_spec_or_a_missing_policy_exits_2(tmp_path: Path) -> None:
    assert run(str(tmp_path / "nope.yaml"), str(LEARNHUB)).exit_code == 2
    assert run(str(STRICT), str(tmp_path / "nope.yaml")).exit_code == 2


def test_an_empty_policy_checks_nothing_and_passes(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\n", encoding="utf-8")
    result = check(BARE, policy)
    assert result.passed and result.rules == ()


def test_the_policy_model_refuses_unknown_keys_everywhere() -> None:
    def forbids(model: Any) -> bool:
        return bool(model.model_config.get("extra") == "forbid")

    models = [Policy, *(f.annotation for f in Policy.model_fields.values()
                        if isinstance(f.annotation, type) and hasattr(f.annotation, "model_config"))]
    assert len(models) > 5 and all(forbids(m) for m in models)
