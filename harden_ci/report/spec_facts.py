"""Facts read off the spec for `explain` and `policy`: which sections are on or off, the
budgets and rollback rules (each with where it is written), and the environments.

Sections are found by walking the model's fields, so a section added to the spec shows up
as on or off without a change here; budgets and rollback rules are named one by one
because each needs words a reviewer understands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from harden_ci.load import LoadedSpec
from harden_ci.model import Spec
from harden_ci.model import types as spec_types
from harden_ci.model.delivery import Canary
from harden_ci.model.environments import Environment
from harden_ci.model.soak_load import Journey, journey_load
from harden_ci.model.types import format_seconds

Path_ = tuple[str | int, ...]
# Always present, so never "on" or "off"; `workspaces` is how services are laid out, not
# a control (explain lists it with each service's toolchain).
_REQUIRED_SECTIONS = ("version", "project", "services", "workspaces")


def dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def where(loaded: LoadedSpec, path: Path_) -> str:
    """file:line:col of `path`, or of its closest written parent."""
    return str(loaded.location(path))


def written(loaded: LoadedSpec, path: Path_) -> bool:
    """Whether the spec spells `path` out (else a default applies)."""
    return tuple(path) in loaded.marks


def _is_duration(field: FieldInfo | None) -> bool:
    if field is None:
        return False
    return any(getattr(m, "func", None) is spec_types._parse_duration for m in field.metadata)


def _show(value: object, field: FieldInfo | None = None) -> str:
    if _is_duration(field) and isinstance(value, int):
        return format_seconds(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value) or "none"
    return str(value)


def summary(model: BaseModel) -> str:
    """`key=value` pairs of a section's settings (defaults included, nested flattened)."""
    parts: list[str] = []

    def walk(obj: BaseModel, prefix: str) -> None:
        for name, field in type(obj).model_fields.items():
            value = getattr(obj, name)
            key = prefix + (field.alias or name)
            if value is None:
                continue
            if isinstance(value, BaseModel):
                walk(value, key + ".")
            elif isinstance(value, dict):
                parts.append(f"{key}={', '.join(sorted(value)) or 'none'}")
            else:
                parts.append(f"{key}={_show(value, field)}")

    walk(model, "")
    return "; ".join(parts)


@dataclass(frozen=True)
class Section:
    path: str
    on: bool
    meaning: str
    settings: str
    location: str


def _off_value(value: object) -> bool:
    return value is None or value is False or value == "none" or value == {}


def sections(spec: Spec, loaded: LoadedSpec) -> list[Section]:
    """Every optional section and sub-section, on or off, in the model's order."""
    found: list[Section] = []
    for name, field in Spec.model_fields.items():
        if name in _REQUIRED_SECTIONS:
            continue
        value: Any = getattr(spec, name)
        meaning = (field.description or "").split("\n")[0]
        if isinstance(value, dict):  # environments: named entries
            found.append(Section(name, bool(value), meaning,
                                 ", ".join(value) if value else "", where(loaded, (name,))))
            continue
        if value is None:
            found.append(Section(name, False, meaning, "", where(loaded, (name,))))
            continue
        assert isinstance(value, BaseModel)
        for sub, subfield in type(value).model_fields.items():
            subvalue = getattr(value, sub)
            path = (name, subfield.alias or sub)
            submeaning = (subfield.description or "").split("\n")[0]
            settings = (summary(subvalue) if isinstance(subvalue, BaseModel)
                        else "" if _off_value(subvalue) else _show(subvalue, subfield))
            found.append(Section(dotted(path), not _off_value(subvalue), submeaning, settings,
                                 where(loaded, path)))
    # Always listed: it is how anything gets published, and it always waits for the
    # commit's checks (harden_ci.plan.release_gate).
    release_field = type(spec.project).model_fields["release"]
    found.append(Section("project.release", True,
                         (release_field.description or "").split("\n")[0],
                         _release_settings(spec),
                         where(loaded, ("project", "release"))))
    if not spec.project.code_scanning:
        found.append(Section("project.code_scanning", False, "SARIF uploads to code scanning",
                             "", where(loaded, ("project", "code_scanning"))))
    return found


def _release_settings(spec: Spec) -> str:
    """The effective trigger (the default tags spelled out), and the checks' time limit."""
    release = spec.project.release
    what = (f"trigger=tags ({', '.join(release.tag_patterns)})" if release.trigger == "tags"
            else f"trigger=branch ({spec.project.default_branch})")
    return f"{what}; waits for the commit's checks up to {format_seconds(release.checks_timeout)}"


@dataclass(frozen=True)
class Rule:
    """One budget, threshold or rollback rule, in words, with where it is written."""

    section: str
    key: str
    value: Any
    text: str
    location: str
    explicit: bool


def _rule(loaded: LoadedSpec, path: Path_, value: Any, text: str) -> Rule:
    return Rule(dotted(path[:-1]), str(path[-1]), value, text, where(loaded, path),
                written(loaded, path))


def _pct(rate: float) -> str:
    return f"{rate * 100:g}%"


def budgets(spec: Spec, loaded: LoadedSpec) -> list[Rule]:
    """Gate thresholds and budgets the generated CI enforces."""
    rules: list[Rule] = []
    gates = spec.gates
    if gates and gates.vulnerabilities:
        rules.append(_rule(loaded, ("gates", "vulnerabilities", "fail_on"),
                           gates.vulnerabilities.fail_on,
                           f"vulnerabilities of severity {gates.vulnerabilities.fail_on} or "
                           "above fail the change"))
    if gates and gates.iac_lint:
        rules.append(_rule(loaded, ("gates", "iac_lint", "fail_on"), gates.iac_lint.fail_on,
                           f"IaC findings of severity {gates.iac_lint.fail_on} or above fail "
                           "the change"))
    tests = spec.tests
    if tests and tests.contract:
        rules.append(_rule(loaded, ("tests", "contract", "breaking_changes"),
                           tests.contract.breaking_changes,
                           f"a breaking OpenAPI change {tests.contract.breaking_changes}s the "
                           "pull request"))
    if tests and tests.llm:
        llm = tests.llm
        rules.append(_rule(loaded, ("tests", "llm", "tolerance"), llm.tolerance,
                           f"the LLM eval score may fall at most {llm.tolerance:g} below gold"))
        rules.append(_rule(loaded, ("tests", "llm", "token_budget"), llm.token_budget,
                           f"token use may grow at most {_pct(llm.token_budget)} over baseline"))
    if tests and tests.auth:
        lifetime = tests.auth.max_token_lifetime
        rules.append(_rule(loaded, ("tests", "auth", "max_token_lifetime"), lifetime,
                           f"access tokens live at most {format_seconds(lifetime)}"))
    soak = spec.load.soak if spec.load else None
    if soak:
        base = ("load", "soak")
        b = soak.budgets
        rules.append(_rule(loaded, (*base, "duration"), soak.duration,
                           f"the soak runs {format_seconds(soak.duration)} against "
                           f"`{soak.environment}`"))
        rules.append(_rule(loaded, (*base, "budgets", "api_p95_ms"), b.api_p95_ms,
                           f"API p95 latency at most {b.api_p95_ms} ms"))
        rules.append(_rule(loaded, (*base, "budgets", "llm_tool_p95_ms"), b.llm_tool_p95_ms,
                           f"LLM tool-call p95 latency at most {b.llm_tool_p95_ms} ms"))
        if b.p50_ms is not None:
            rules.append(_rule(loaded, (*base, "budgets", "p50_ms"), b.p50_ms,
                               f"API p50 latency at most {b.p50_ms} ms"))
        rules.append(_rule(loaded, (*base, "budgets", "error_rate"), b.error_rate,
                           f"error rate at most {_pct(b.error_rate)}"))
        for i, entry in enumerate(soak.scripts):
            if isinstance(entry, Journey):
                rules.append(_rule(loaded, (*base, "scripts", i), entry.script,
                                   f"journey `{entry.script}` runs {journey_load(entry)}"))
        if b.cold_start_ms is not None:
            if soak.cold_start is not None:
                idle = format_seconds(soak.cold_start.after_idle)
                cold = (f"the first request after {idle} with no traffic (one iteration per "
                        f"journey once the soak ends) at most {b.cold_start_ms} ms")
            else:
                cold = (f"each VU's first iteration of the soak (the first requests of the soak "
                        f"job after the deploy) at most {b.cold_start_ms} ms")
            rules.append(_rule(loaded, (*base, "budgets", "cold_start_ms"), b.cold_start_ms, cold))
    for name, schedule in spec.schedules.items():
        sched = ("schedules", name)
        rules.append(_rule(loaded, (*sched, "timeout"), schedule.timeout,
                           f"scheduled `{name}` ({schedule.cron}) runs at most "
                           f"{format_seconds(schedule.timeout)}"))
        if schedule.cost_budget is not None:
            rules.append(_rule(loaded, (*sched, "cost_budget", "max"), schedule.cost_budget.max,
                               f"one run of scheduled `{name}` may cost at most "
                               f"{schedule.cost_budget.max:g}"))
    return rules


def _shifted_by(canary: Canary) -> str:
    """Who moves the traffic, and so where a rollback runs."""
    if canary.provider == "argo-rollouts":
        return (f"traffic is shifted by the Argo Rollouts controller (Rollout `{canary.rollout}`), "
                "which runs harden-ci's analysis and aborts the rollout itself")
    if canary.route is not None:
        r = canary.route
        return (f"traffic is shifted by harden-ci's job, patching the weights of HTTPRoute "
                f"`{r.namespace}/{r.name}` (`{r.stable_service}` / `{r.canary_service}`); no "
                "controller: the rollback to stable 100% runs in the job, unlike argo-rollouts")
    return "traffic is shifted by the spec's `shift` command; harden-ci's job analyses each step"


def rollback_rules(spec: Spec, loaded: LoadedSpec) -> list[Rule]:
    """How the canary promotes, and what rolls it back automatically."""
    canary = spec.delivery.canary if spec.delivery else None
    if canary is None:
        return []
    base = ("delivery", "canary")
    steps = " → ".join(f"{s}%" for s in canary.steps)
    rules = [
        _rule(loaded, (*base, "steps"), list(canary.steps),
              f"traffic moves {steps} on `{canary.environment}`"),
        _rule(loaded, (*base, "provider"), canary.provider, _shifted_by(canary)),
        _rule(loaded, (*base, "bake"), canary.bake,
              f"each step holds {format_seconds(canary.bake)} while the analysis runs"),
    ]
    if canary.shadow_traffic:
        rules.append(_rule(loaded, (*base, "shadow_traffic"), True,
                           "live prompts are mirrored to the new version and scored first"))
    if canary.feature_flag:
        rules.append(_rule(loaded, (*base, "feature_flag"), canary.feature_flag,
                           f"feature flag `{canary.feature_flag}` ramps with the steps"))
    if canary.flag_api is not None:
        api = canary.flag_api
        rules.append(_rule(loaded, (*base, "flag_api"), api.url,
                           f"the ramp is written by {api.method} {api.url} and read back over OFREP "
                           f"at {api.ofrep_url} ({api.samples} evaluations must show it within "
                           f"{format_seconds(api.settle)}); it rolls back to 0% on failure"))
    if canary.rollback:
        rules.append(_rule(loaded, (*base, "rollback"), canary.rollback,
                           f"a rollback runs `{canary.rollback}`"))
    r = canary.rollback_on
    rb = (*base, "rollback_on")
    rules += [
        _rule(loaded, (*rb, "error_rate"), r.error_rate,
              f"roll back when the canary's error rate passes {_pct(r.error_rate)}"),
        _rule(loaded, (*rb, "p95_ms"), r.p95_ms,
              f"roll back when the canary's p95 latency passes {r.p95_ms} ms"),
        _rule(loaded, (*rb, "cost_regression"), r.cost_regression,
              f"roll back when cost per request grows more than {_pct(r.cost_regression)}"),
    ]
    return rules


@dataclass(frozen=True)
class EnvironmentFacts:
    name: str
    per_pull_request: bool
    provider: str
    url: str | None
    reviewers: bool
    protection: str
    secrets: tuple[str, ...]
    variables: tuple[str, ...]
    location: str
    credentials: str  # how the deploy reaches its cloud: OIDC, long-lived secrets, or neither


def credentials(env: Environment) -> str:
    """How deploys to `env` authenticate, as a reviewer should read it."""
    if env.cloud is not None:
        return (f"OIDC login to {env.cloud.provider} as {env.cloud.identity()} "
                "(short-lived credentials, `id-token: write` in its deploy jobs only)")
    if env.secrets:
        return "deploys with long-lived credentials: " + ", ".join(env.secrets)
    return "no credentials passed to the deploy"


def environments(spec: Spec, loaded: LoadedSpec) -> list[EnvironmentFacts]:
    found = []
    for name, env in spec.environments.items():
        if env.reviewers:
            protection = (f"required reviewers: jobs deploying here name the GitHub environment "
                          f"`{name}` and check through the API, before deploying, that it has "
                          "required reviewers and a deployment branch policy (set them in "
                          "Settings → Environments)")
        elif env.per_pull_request:
            protection = (f"ephemeral per pull request (swept after {format_seconds(env.ttl)}); "
                          "fork pull requests never deploy")
        else:
            protection = "no required reviewers"
        found.append(EnvironmentFacts(
            name=name, per_pull_request=env.per_pull_request, provider=env.provider,
            url=env.url, reviewers=env.reviewers, protection=protection,
            secrets=tuple(env.secrets), variables=tuple(env.vars),
            location=where(loaded, ("environments", name)), credentials=credentials(env)))
    return found
