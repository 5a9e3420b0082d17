"""The whole spec: `version`, `project`, `services`, and the optional sections."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.delivery import Delivery, Load, Schedule
from harden_ci.model.environments import Environment
from harden_ci.model.gates import Gates, SupplyChain
from harden_ci.model.services import Project, Service
from harden_ci.model.source import HardenCiSource
from harden_ci.model.types import Name
from harden_ci.model.verification import Tests
from harden_ci.model.workspaces import Workspace, fill_members, member_problems


class Spec(SpecModel):
    """harden-ci.yaml: one reviewed file that the hardened workflows are rendered from."""

    version: Literal[1]
    """The spec format version."""
    project: Project
    """What the repository is: name, default branch, registry, runner."""
    services: dict[Name, Service] = Field(min_length=1, max_length=1000)
    """One entry per deployable; the name becomes part of job ids."""
    workspaces: dict[Name, Workspace] = Field(default_factory=dict)
    """Monorepo roots (pnpm/yarn/npm/bun workspaces, uv workspaces, go.work, Cargo
    workspaces) whose one install serves the services that name them (`workspace:`)."""
    gates: Gates | None = None
    """Static checks every change passes: secrets, IaC lint, schema drift, vulnerabilities."""
    supply_chain: SupplyChain | None = None
    """SBOMs, signatures and provenance of published images."""
    environments: dict[Name, Environment] = Field(default_factory=dict)
    """Where the product runs: per-pull-request previews, staging, production."""
    tests: Tests | None = None
    """Verification after unit tests: contract, e2e, LLM checks, auth e2e."""
    load: Load | None = None
    """Soak tests with latency and error budgets."""
    delivery: Delivery | None = None
    """Progressive delivery: canary steps with automatic rollback."""
    schedules: dict[Name, Schedule] = Field(default_factory=dict)
    """Recurring jobs (nightly batches and the like), one run at a time, with budgets."""
    harden_ci: HardenCiSource | None = None
    """Where CI gets harden-ci itself (a committed wheel, an index with its hash, or a git
    commit); every install of it is hashed."""

    @model_validator(mode="before")
    @classmethod
    def _members_take_their_workspace(cls, data: object) -> object:
        return fill_members(data)


Reference = tuple[tuple[str | int, ...], str, str]  # (path, message, hint)


def dangling_references(spec: Spec) -> list[Reference]:
    """Names one section uses for another's entries that do not exist."""
    problems: list[Reference] = []

    def need(path: tuple[str | int, ...], name: str, pool: dict[str, object], what: str) -> None:
        if name not in pool:
            known = ", ".join(sorted(pool)) or "none defined"
            problems.append((path, f"no {what} named `{name}`", f"known {what}s: {known}"))

    problems += member_problems(spec.services, spec.workspaces)
    envs: dict[str, object] = dict(spec.environments)
    if spec.project.secrets_environment in envs:
        problems.append((("project", "secrets_environment"),
                         f"`{spec.project.secrets_environment}` is a deploy environment of "
                         "`environments`", "name a GitHub environment of its own for the "
                         "checks' secrets (the default is `ci`): deploy environments restrict "
                         "branches and ask for reviewers, which would hold up pull requests"))
    services: dict[str, object] = dict(spec.services)
    if spec.gates and spec.gates.schema_drift:
        need(("gates", "schema_drift", "service"), spec.gates.schema_drift.service, services,
             "service")
    if spec.tests:
        if spec.tests.e2e:
            need(("tests", "e2e", "environment"), spec.tests.e2e.environment, envs, "environment")
        if spec.tests.auth:
            need(("tests", "auth", "environment"), spec.tests.auth.environment, envs,
                 "environment")
        if spec.tests.contract and not any(s.openapi for s in spec.services.values()):
            problems.append((("tests", "contract"), "contract tests need a service with "
                             "an `openapi` file", "add `openapi: path/to/openapi.yaml` to a "
                             "service"))
        if spec.tests.llm and not any(s.kind == "llm" for s in spec.services.values()):
            problems.append((("tests", "llm"), "LLM checks need a service with `kind: llm`",
                             "mark the service that calls the model with `kind: llm`"))
    if spec.load and spec.load.soak:
        need(("load", "soak", "environment"), spec.load.soak.environment, envs, "environment")
    if spec.delivery and spec.delivery.canary:
        canary = spec.delivery.canary
        need(("delivery", "canary", "environment"), canary.environment, envs, "environment")
        target = spec.environments.get(canary.environment)
        if canary.provider == "gateway-api" and target is not None and not target.deploy:
            # The weights only move traffic; the canary and the promoted stable need a deploy.
            problems.append((("delivery", "canary", "provider"), "`provider: gateway-api` needs "
                             f"environment `{canary.environment}` to have a `deploy` command",
                             "it deploys the canary (HARDEN_CI_CANARY=true) and then the "
                             "promoted stable (HARDEN_CI_CANARY=false)"))
    for name, schedule in spec.schedules.items():
        if schedule.environment:
            need(("schedules", name, "environment"), schedule.environment, envs, "environment")
    if spec.tests and spec.tests.e2e and not _deployable(spec, spec.tests.e2e.environment):
        problems.append((("tests", "e2e", "environment"), "e2e needs an environment with a "
                         "`url`", "give the environment a `url:`"))
    for path, env_name in _url_users(spec):
        if not _deployable(spec, env_name):
            problems.append((path, f"environment `{env_name}` needs a `url`",
                             "the probes and load tests target it"))
    # Deploys read each image's digest from HARDEN_CI_DIGEST_<NAME>, `-` read as `_`.
    seen: dict[str, str] = {}
    for name in spec.services:
        variable = name.upper().replace("-", "_")
        if variable in seen:
            problems.append((("services", name), f"`{name}` and `{seen[variable]}` would share "
                             f"the variable HARDEN_CI_DIGEST_{variable}",
                             "rename one (`-` and `_` read the same there)"))
        seen.setdefault(variable, name)
    return problems


def _deployable(spec: Spec, name: str) -> bool:
    env = spec.environments.get(name)
    return env is None or env.url is not None  # a missing name is reported on its own


def _url_users(spec: Spec) -> list[tuple[tuple[str | int, ...], str]]:
    users: list[tuple[tuple[str | int, ...], str]] = []
    if spec.load and spec.load.soak:
        users.append((("load", "soak", "environment"), spec.load.soak.environment))
    if spec.tests and spec.tests.auth:
        users.append((("tests", "auth", "environment"), spec.tests.auth.environment))
    return users
