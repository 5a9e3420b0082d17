"""Organisation policy: a small YAML file of requirements checked against a spec.

```yaml
version: 1
name: acme-baseline
require: {secret_scan: true, signing: true, provenance: true, slsa: true, reviewers: [production]}
gates: {fail_on_no_weaker_than: high}     # `critical` would be weaker, `medium` stricter
soak: {min_duration: 15m, max_api_p95_ms: 300}
canary: {max_first_step: 5}
```

`require.*` turns a section on as mandatory; the limits in `gates`, `soak`, `canary`, `llm`
and `auth` apply whenever the spec has that section (combine them with `require` to make
the section mandatory too). The file is read by harden-ci's strict loader, so a mistake is
reported with file:line:column and a "did you mean"; unknown keys are errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harden_ci.errors import SpecError, SpecErrors
from harden_ci.load import LoadedSpec, load_spec_file
from harden_ci.model import Spec
from harden_ci.model.types import (
    SEVERITY_ORDER,
    Milliseconds,
    Name,
    Percent,
    Rate,
    Seconds,
    Severity,
    Text,
    format_seconds,
)
from harden_ci.report.protection import reviewers_verdict
from harden_ci.report.spec_facts import Path_, dotted, where


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True,
                              use_attribute_docstrings=True)


class Require(_PolicyModel):
    secret_scan: bool = False
    """gates.secret_scan must be on."""
    iac_lint: bool = False
    """gates.iac_lint must be on."""
    schema_drift: bool = False
    """gates.schema_drift must be on."""
    vulnerability_gate: bool = False
    """gates.vulnerabilities must be on."""
    code_scanning: bool = False
    """project.code_scanning must stay on."""
    sbom: bool = False
    """supply_chain.sbom must produce an SBOM."""
    signing: bool = False
    """supply_chain.sign must be keyless."""
    provenance: bool = False
    """supply_chain.provenance must be on."""
    slsa: bool = False
    """supply_chain.slsa must be on (SLSA Build L3)."""
    contract_tests: bool = False
    """tests.contract must be on."""
    auth_tests: bool = False
    """tests.auth must be on."""
    soak: bool = False
    """load.soak must be on."""
    canary: bool = False
    """delivery.canary must be on."""
    reviewers: list[Name] = Field(default_factory=list)
    """Environments that, when the spec defines them, must require reviewers."""


class GatesPolicy(_PolicyModel):
    fail_on_no_weaker_than: Severity | None = None
    """The highest `fail_on` allowed for vulnerabilities and IaC lint (`high` refuses `critical`)."""


class SoakPolicy(_PolicyModel):
    min_duration: Seconds | None = None
    """The shortest soak allowed."""
    max_api_p95_ms: Milliseconds | None = None
    """The loosest API p95 budget allowed."""
    max_llm_tool_p95_ms: Milliseconds | None = None
    """The loosest LLM tool-call p95 budget allowed."""
    max_error_rate: Rate | None = None
    """The loosest error-rate budget allowed."""


class CanaryPolicy(_PolicyModel):
    max_first_step: Percent | None = None
    """The most traffic the first canary step may take (percent)."""
    min_bake: Seconds | None = None
    """The shortest time each step must hold."""
    max_rollback_error_rate: Rate | None = None
    """The loosest error-rate rollback rule allowed."""
    max_rollback_p95_ms: Milliseconds | None = None
    """The loosest p95 rollback rule allowed."""
    max_rollback_cost_regression: Rate | None = None
    """The loosest cost-regression rollback rule allowed."""


class LlmPolicy(_PolicyModel):
    max_tolerance: Rate | None = None
    """The loosest LLM eval tolerance allowed."""


class AuthPolicy(_PolicyModel):
    max_token_lifetime: Seconds | None = None
    """The longest access-token lifetime the auth probes may accept."""


class Policy(_PolicyModel):
    version: Literal[1]
    """The policy format version."""
    name: Text | None = None
    """A name for reports."""
    require: Require = Require()
    gates: GatesPolicy = GatesPolicy()
    soak: SoakPolicy = SoakPolicy()
    canary: CanaryPolicy = CanaryPolicy()
    llm: LlmPolicy = LlmPolicy()
    auth: AuthPolicy = AuthPolicy()


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    loaded: LoadedSpec


def _model_at(path: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Policy
    for part in path:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _error(loaded: LoadedSpec, err: Any) -> SpecError:
    loc: Path_ = tuple(err["loc"])
    field = dotted(loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        names = list(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
        hint = (f"did you mean `{close[0]}`?" if close
                else f"known keys here: {', '.join(names)}" if names else None)
        return SpecError(f"unknown key `{loc[-1]}`", location=loaded.location(loc, key=True),
                         field=field, hint=hint)
    if err["type"] == "missing":
        return SpecError(f"`{loc[-1]}` is required", location=loaded.location(loc[:-1]),
                         field=field, hint="start the policy with `version: 1`"
                         if loc == ("version",) else None)
    message = str(err["msg"]).removeprefix("Value error, ")
    return SpecError(message, location=loaded.location(loc), field=field)


def load_policy(path: Path) -> LoadedPolicy:
    """Read and validate a policy file; SpecError (exit 2) with file:line:col if it is bad."""
    loaded = load_spec_file(path)
    try:
        policy = Policy.model_validate(loaded.data)
    except ValidationError as exc:
        raise SpecErrors([_error(loaded, e) for e in exc.errors(include_url=False)]) from None
    return LoadedPolicy(policy, loaded)


@dataclass(frozen=True)
class Violation:
    rule: str  # the policy key, e.g. `soak.min_duration`
    message: str
    spec_path: str
    spec_location: str
    policy_location: str
    expected: str
    actual: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return (f"{self.spec_location}: {self.spec_path}: {self.message} "
                f"(policy rule `{self.rule}` at {self.policy_location})")


@dataclass(frozen=True)
class PolicyResult:
    policy_file: str
    name: str | None
    rules: tuple[str, ...]  # every rule the policy turns on
    violations: tuple[Violation, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {"policy": self.policy_file, "name": self.name, "passed": self.passed,
                "rules": list(self.rules), "violations": [v.as_dict() for v in self.violations],
                "notes": list(self.notes)}


# require.<key> → (spec path, is it on?)
_REQUIREMENTS: dict[str, tuple[Path_, Callable[[Spec], bool]]] = {
    "secret_scan": (("gates", "secret_scan"), lambda s: bool(s.gates and s.gates.secret_scan)),
    "iac_lint": (("gates", "iac_lint"), lambda s: bool(s.gates and s.gates.iac_lint)),
    "schema_drift": (("gates", "schema_drift"), lambda s: bool(s.gates and s.gates.schema_drift)),
    "vulnerability_gate": (("gates", "vulnerabilities"),
                           lambda s: bool(s.gates and s.gates.vulnerabilities)),
    "code_scanning": (("project", "code_scanning"), lambda s: s.project.code_scanning),
    "sbom": (("supply_chain", "sbom"),
             lambda s: s.supply_chain is not None and s.supply_chain.sbom != "none"),
    "signing": (("supply_chain", "sign"),
                lambda s: s.supply_chain is not None and s.supply_chain.sign == "keyless"),
    "provenance": (("supply_chain", "provenance"),
                   lambda s: s.supply_chain is not None and s.supply_chain.provenance),
    "slsa": (("supply_chain", "slsa"), lambda s: s.supply_chain is not None and s.supply_chain.slsa),
    "contract_tests": (("tests", "contract"), lambda s: bool(s.tests and s.tests.contract)),
    "auth_tests": (("tests", "auth"), lambda s: bool(s.tests and s.tests.auth)),
    "soak": (("load", "soak"), lambda s: bool(s.load and s.load.soak)),
    "canary": (("delivery", "canary"), lambda s: bool(s.delivery and s.delivery.canary)),
}


class _Checker:
    def __init__(self, spec: Spec, loaded: LoadedSpec, policy: LoadedPolicy) -> None:
        self.spec, self.loaded, self.policy = spec, loaded, policy
        self.rules: list[str] = []
        self.violations: list[Violation] = []
        self.notes: list[str] = []  # what a passing rule rests on, said in the output

    def rule(self, rule: Path_) -> None:
        self.rules.append(dotted(rule))

    def fail(self, rule: Path_, spec_path: Path_, message: str, expected: str, actual: str,
             *, at: Path_ | None = None) -> None:
        """Record a violation of `rule`, written in the policy at `at` (default: the rule)."""
        self.violations.append(Violation(
            rule=dotted(rule), message=message, spec_path=dotted(spec_path),
            spec_location=where(self.loaded, spec_path),
            policy_location=where(self.policy.loaded, at or rule), expected=expected,
            actual=actual))

    def at_most(self, rule: Path_, spec_path: Path_, actual: float, limit: float | None,
                show: Callable[[float], str], what: str) -> None:
        if limit is None:
            return
        self.rule(rule)
        if actual > limit:
            self.fail(rule, spec_path, f"{what} is {show(actual)}, above the policy's maximum "
                      f"of {show(limit)}", f"at most {show(limit)}", show(actual))

    def at_least(self, rule: Path_, spec_path: Path_, actual: float, limit: float | None,
                 show: Callable[[float], str], what: str) -> None:
        if limit is None:
            return
        self.rule(rule)
        if actual < limit:
            self.fail(rule, spec_path, f"{what} is {show(actual)}, below the policy's minimum "
                      f"of {show(limit)}", f"at least {show(limit)}", show(actual))


def _ms(value: float) -> str:
    return f"{value:g} ms"


def _pct(value: float) -> str:
    return f"{value * 100:g}%"


def _dur(value: float) -> str:
    return format_seconds(int(value))


def _requirements(c: _Checker) -> None:
    require = c.policy.policy.require
    for key, (spec_path, is_on) in _REQUIREMENTS.items():
        if getattr(require, key):
            c.rule(("require", key))
            if not is_on(c.spec):
                c.fail(("require", key), spec_path, "required by the policy, but off or absent",
                       "on", "off")
    rule: Path_ = ("require", "reviewers")
    if require.reviewers:
        c.rule(rule)
    for index, name in enumerate(require.reviewers):
        env = c.spec.environments.get(name)
        if env is not None and not env.reviewers:
            c.fail(rule, ("environments", name, "reviewers"), f"environment `{name}` must "
                   "require reviewers (`reviewers: true`)", "reviewers: true", "reviewers: false",
                   at=(*rule, index))
        elif env is not None:  # the spec's word is not proof: the deploy jobs must check
            ok, text = reviewers_verdict(c.spec, c.loaded.source, name)
            if ok:
                c.notes.append(text)
            else:
                c.fail(rule, ("environments", name, "reviewers"), text,
                       "verified at deploy time", "not verified", at=(*rule, index))


def _gates(c: _Checker) -> None:
    limit = c.policy.policy.gates.fail_on_no_weaker_than
    if limit is None:
        return
    rule: Path_ = ("gates", "fail_on_no_weaker_than")
    c.rule(rule)
    gates = c.spec.gates
    for section in ("vulnerabilities", "iac_lint"):
        gate = getattr(gates, section, None) if gates else None
        if gate is not None and SEVERITY_ORDER[gate.fail_on] > SEVERITY_ORDER[limit]:
            c.fail(rule, ("gates", section, "fail_on"), f"`fail_on: {gate.fail_on}` lets "
                   f"{limit} findings through; the policy requires `{limit}` or stricter",
                   f"{limit} or stricter", gate.fail_on)


def _soak(c: _Checker) -> None:
    soak = c.spec.load.soak if c.spec.load else None
    p = c.policy.policy.soak
    if soak is None:
        return
    base: Path_ = ("load", "soak")
    c.at_least(("soak", "min_duration"), (*base, "duration"), soak.duration, p.min_duration,
               _dur, "the soak duration")
    b = soak.budgets
    c.at_most(("soak", "max_api_p95_ms"), (*base, "budgets", "api_p95_ms"), b.api_p95_ms,
              p.max_api_p95_ms, _ms, "the API p95 budget")
    c.at_most(("soak", "max_llm_tool_p95_ms"), (*base, "budgets", "llm_tool_p95_ms"),
              b.llm_tool_p95_ms, p.max_llm_tool_p95_ms, _ms, "the LLM tool-call p95 budget")
    c.at_most(("soak", "max_error_rate"), (*base, "budgets", "error_rate"), b.error_rate,
              p.max_error_rate, _pct, "the error-rate budget")


def _canary(c: _Checker) -> None:
    canary = c.spec.delivery.canary if c.spec.delivery else None
    p = c.policy.policy.canary
    if canary is None:
        return
    base: Path_ = ("delivery", "canary")
    c.at_most(("canary", "max_first_step"), (*base, "steps", 0), canary.steps[0],
              p.max_first_step, lambda v: f"{v:g}%", "the first canary step")
    c.at_least(("canary", "min_bake"), (*base, "bake"), canary.bake, p.min_bake, _dur,
               "the bake time")
    r = canary.rollback_on
    rb: Path_ = (*base, "rollback_on")
    c.at_most(("canary", "max_rollback_error_rate"), (*rb, "error_rate"), r.error_rate,
              p.max_rollback_error_rate, _pct, "the error-rate rollback threshold")
    c.at_most(("canary", "max_rollback_p95_ms"), (*rb, "p95_ms"), r.p95_ms,
              p.max_rollback_p95_ms, _ms, "the p95 rollback threshold")
    c.at_most(("canary", "max_rollback_cost_regression"), (*rb, "cost_regression"),
              r.cost_regression, p.max_rollback_cost_regression, _pct,
              "the cost-regression rollback threshold")


def _tests(c: _Checker) -> None:
    tests = c.spec.tests
    if tests and tests.llm:
        c.at_most(("llm", "max_tolerance"), ("tests", "llm", "tolerance"), tests.llm.tolerance,
                  c.policy.policy.llm.max_tolerance, lambda v: f"{v:g}", "the LLM eval tolerance")
    if tests and tests.auth:
        c.at_most(("auth", "max_token_lifetime"), ("tests", "auth", "max_token_lifetime"),
                  tests.auth.max_token_lifetime, c.policy.policy.auth.max_token_lifetime, _dur,
                  "the accepted token lifetime")


def check_policy(spec: Spec, loaded: LoadedSpec, policy: LoadedPolicy) -> PolicyResult:
    """Every rule the policy turns on, checked against the spec; pure."""
    checker = _Checker(spec, loaded, policy)
    for step in (_requirements, _gates, _soak, _canary, _tests):
        step(checker)
    return PolicyResult(policy_file=policy.loaded.source, name=policy.policy.name,
                        rules=tuple(checker.rules), violations=tuple(checker.violations),
                        notes=tuple(checker.notes))


def format_text(result: PolicyResult, spec_file: str) -> str:
    """Plain text (no colour): one line per violation, then a verdict."""
    lines = [str(v) for v in result.violations] + [f"note: {n}" for n in result.notes]
    label = f"policy {result.name!r} ({result.policy_file})" if result.name else result.policy_file
    if result.violations:
        lines.append(f"{spec_file}: {len(result.violations)} violation(s) of {label}")
    else:
        lines.append(f"{spec_file}: meets {label} ({len(result.rules)} rules checked)")
    return "\n".join(lines) + "\n"
