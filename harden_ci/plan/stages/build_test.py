"""Unit tests of every affected service: one matrix over service shards, filled at run time
by the `changes` job, with toolchain setup, package manager and dependency caching per service, all read
from the service's settings at run time.

A matrix holds at most 256 jobs, so a monorepo with more shards gets several `unit-tests-N`
jobs; each is skipped when its part of the matrix is empty. Each row carries its service's
`timeout_minutes`. A service whose tests need containers, env, variables or secrets
(`test_environment`) gets a job of its own, `unit-tests-NAME`, over its shards: a job's
`services:`, `env:` and secrets are static, which one shared matrix cannot give each row.
"""

from __future__ import annotations

from harden_ci.model.services import Service
from harden_ci.model.unit_env import UnitEnvironment
from harden_ci.plan import managers
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.forks import FORK_PR
from harden_ci.plan.model import ROW_TIMEOUT, Job, Matrix, Scalar, Step, health_options, read
from harden_ci.plan.model import Service as Container
from harden_ci.plan.stages import changes
from harden_ci.plan.steps import (
    action_step,
    cache_inputs,
    checkout,
    secrets_environment,
    setup_uv,
)

CONTROL = "Unit tests of every affected service (sharded, cached)"


C = f"steps.{changes.SETTINGS_STEP}.outputs"  # the settings_step outputs
_cfg = changes.setting_expr


def _is(language: str) -> str:
    return f"${{{{ {C}.language == '{language}' }}}}"


def _setup_cache(ctx: PlanContext, language: str) -> dict[str, Scalar]:
    """The setup action's cache inputs, from the service's settings: `setup_cache` is empty
    where that action cannot cache the service's package manager (see model/managers.py)."""
    if not ctx.caches_allowed:
        return cache_inputs(ctx, language, "")
    value = f"${{{{ {C}.setup_cache == 'true' }}}}" if language == "go" else _cfg("setup_cache")
    return {**cache_inputs(ctx, language, _cfg("lockfiles")), "cache": value}


def _manager_steps(ctx: PlanContext) -> list[Step]:
    """Installs of package managers the runner does not ship, only when a service uses one."""
    steps: list[Step] = []
    if managers.hashed_managers(ctx):
        steps.append(managers.install_manager_step(
            _cfg("manager"), if_=f"${{{{ contains(fromJSON('[\"npm\", \"pip\"]'), "
                                 f"{C}.manager_install) }}}}"))
    if managers.uses_setup_uv(ctx):
        steps.append(setup_uv(ctx, _cfg("lockfiles"), if_=f"${{{{ {C}.manager == 'uv' }}}}"))
    return steps


def _command_step(name: str, setting: str) -> Step:
    """A spec command (`lint`, `typecheck`) in the service's folder, when it has one."""
    return Step(name=name, run=load_script("run-command.sh"), working_directory=_cfg("path"),
                if_=f"${{{{ {C}.{setting} != '' }}}}", env={"COMMAND": _cfg(setting)})


def _secret_env(unit: UnitEnvironment | None) -> dict[str, str]:
    """Each spec-named secret under its own name, empty on a fork's pull request (whose code
    its author controls): the secrets reach trusted events only."""
    if unit is None:
        return {}
    return {name: f"${{{{ !({FORK_PR}) && secrets.{name} || '' }}}}" for name in unit.secrets}


def _fork_notice(unit: UnitEnvironment | None) -> list[Step]:
    if unit is None or not unit.secrets:
        return []
    return [Step(name="Say which secrets a fork's pull request runs without",
                 run=load_script("fork-secrets-notice.sh"), if_=f"${{{{ {FORK_PR} }}}}",
                 env={"WITHHELD_SECRETS": " ".join(unit.secrets)})]


def _steps(ctx: PlanContext, unit: UnitEnvironment | None = None) -> list[Step]:
    return [
        checkout(ctx),
        changes.settings_step(),
        action_step(ctx, "Set up Python", "actions/setup-python", {
            "python-version": _cfg("version"), "python-version-file": _cfg("version_file"),
            **_setup_cache(ctx, "python")}, if_=_is("python")),
        action_step(ctx, "Set up Node.js", "actions/setup-node", {
            "node-version": _cfg("version"), "node-version-file": _cfg("version_file"),
            **_setup_cache(ctx, "node")}, if_=_is("node")),
        action_step(ctx, "Set up Go", "actions/setup-go", {
            "go-version": _cfg("version"), "go-version-file": _cfg("version_file"),
            **_setup_cache(ctx, "go")}, if_=_is("go")),
        action_step(ctx, "Set up Java", "actions/setup-java", {
            "distribution": "temurin", "java-version": _cfg("version"),
            "java-version-file": _cfg("version_file"),
            **_setup_cache(ctx, "java")}, if_=_is("java")),
        *_manager_steps(ctx),
        Step(name="Set up the toolchain", run=load_script("toolchain.sh"),
             working_directory=_cfg("path"),
             if_=f"${{{{ contains(fromJSON('[\"rust\", \"dotnet\", \"ruby\", \"custom\"]'), "
                 f"{C}.language) }}}}",
             env={"LANGUAGE": _cfg("language"),
                  "TOOLCHAIN_VERSION": _cfg("version"),
                  "SETUP_COMMAND": _cfg("setup")}),
        *([action_step(ctx, "Cache dependencies", "actions/cache", {
            "path": _cfg("cache_path"),
            "key": f"${{{{ {C}.manager }}}}-${{{{ runner.os }}}}-"
                   f"${{{{ hashFiles({C}.cache_key_file) }}}}",
        }, if_=f"${{{{ {C}.cache_path != '' }}}}")] if ctx.caches_allowed else []),
        Step(name="Install dependencies", run=load_script("run-command.sh"),
             working_directory=_cfg("install_dir"), if_=f"${{{{ {C}.install != '' }}}}",
             env={"COMMAND": _cfg("install")}),
        _command_step("Lint", "lint"),
        _command_step("Type check", "typecheck"),
        *_fork_notice(unit),
        Step(name="Run unit tests", run=load_script("run-tests.sh"),
             working_directory=_cfg("path"),
             env={**_secret_env(unit),
                  "TEST_COMMAND": _cfg("test"),
                  "SHARD_STRATEGY": _cfg("strategy"),
                  "HARDEN_CI_SHARD_INDEX": "${{ matrix.shard }}",
                  "HARDEN_CI_SHARD_TOTAL": "${{ matrix.shards }}",
                  "HARDEN_CI_REPORTS_DIR": changes.REPORTS_DIR}),
        action_step(ctx, "Upload test reports", "actions/upload-artifact", {
            "name": "test-results-${{ matrix.service }}-${{ matrix.shard }}",
            "path": _cfg("reports"), "if-no-files-found": "ignore",
            "retention-days": 14}, if_="${{ !cancelled() }}"),
    ]


def build(ctx: PlanContext) -> list[Job]:
    count = changes.chunk_count(changes.test_entries(ctx))
    jobs = []
    for index in range(1, count + 1):
        output = f"needs.{changes.JOB_ID}.outputs.tests-{index}"
        jobs.append(Job(
            id=f"unit-tests-{index}" if count > 1 else "unit-tests",
            name="Unit tests (${{ matrix.service }} ${{ matrix.shard }}/${{ matrix.shards }})",
            runs_on="${{ matrix.runs_on }}",
            timeout_minutes=ROW_TIMEOUT,
            needs=[changes.JOB_ID],
            if_=f"${{{{ {output} != '[]' && {output} != '' }}}}",
            permissions={"contents": read("check out the code")},
            matrix=Matrix(include_expression=f"${{{{ fromJSON({output}) }}}}"),
            steps=_steps(ctx),
            control=CONTROL,
        ))
    for name in changes.own_test_entries(ctx):
        jobs.append(_own_job(ctx, name, ctx.spec.services[name]))
    return jobs


def _containers(unit: UnitEnvironment) -> dict[str, Container]:
    return {name: Container(
        image=c.image, env=dict(c.env), ports=list(c.ports),
        # HEALTH_PATTERN keeps the command free of quotes and backslashes.
        options=health_options(c.health) if c.health else None)
        for name, c in unit.services.items()}


def _own_job(ctx: PlanContext, name: str, service: Service) -> Job:
    """The unit tests of a service with containers, env, variables or secrets."""
    unit = service.test_environment
    assert unit is not None
    output = f"needs.{changes.JOB_ID}.outputs.{changes.own_output(name)}"
    env = {**unit.env, **{var: f"${{{{ vars.{var} }}}}" for var in unit.vars}}
    return Job(
        id=f"unit-tests-{name}",
        name=f"Unit tests ({name} ${{{{ matrix.shard }}}}/${{{{ matrix.shards }}}})",
        runs_on="${{ matrix.runs_on }}",
        timeout_minutes=service.timeout_minutes,
        needs=[changes.JOB_ID],
        if_=f"${{{{ {output} != '[]' && {output} != '' }}}}",
        permissions={"contents": read("check out the code")},
        matrix=Matrix(include_expression=f"${{{{ fromJSON({output}) }}}}"),
        env=env,
        environment=secrets_environment(ctx, bool(unit.secrets)),
        services=_containers(unit),
        steps=_steps(ctx, unit),
        control=CONTROL,
    )
