"""Affected services: the `changes` job works out which services a change touches and
hands the later jobs their matrices, so a monorepo's PR runs only what it must.

The service table (paths, and each test shard's and image's settings) is rendered into a
companion script, `harden-ci/affected.py` beside the workflows, rather than into an env
variable: a large monorepo's table would pass the kernel's limit for one variable.
"""

from __future__ import annotations

import math
from collections.abc import Sized
from typing import Any

from harden_ci.model.services import Service
from harden_ci.plan import docker
from harden_ci.plan.context import PlanContext
from harden_ci.plan.forks import fork_runs_on
from harden_ci.plan.model import Companion, Job, Step, read
from harden_ci.plan.steps import checkout

JOB_ID = "changes"
SCRIPT = "harden-ci/affected.py"
SCRIPT_IN_REPO = f".github/workflows/{SCRIPT}"
MATRIX_LIMIT = 256  # GitHub runs at most 256 jobs per matrix
_SHARD_STRATEGY = {"python": "python", "node": "node", "go": "go", "java": "java"}
REPORTS_DIR = "test-results"
# A sharded go service names its own packages, appended to the command, instead of ./...
_SHARDED_GO_DEFAULT = "go test -race"


def _in(path: str, name: str) -> str:
    return name if path == "." else f"{path}/{name}"


def _test_command(service: Service) -> str:
    if service.manager_name == "go" and service.test is None and service.shards > 1:
        return _SHARDED_GO_DEFAULT
    return service.test_command or ""


def toolchain_settings(service: Service) -> dict[str, str]:
    """How a service's toolchain and dependencies are set up: one value per setting, the
    same for the matrix jobs (read at run time) and the per-service jobs."""
    manager = service.manager
    return {
        "language": service.language or "", "manager": service.manager_name or "",
        "version": service.toolchain_version or "",
        "version_file": service.version_file or "",
        "setup": service.setup or "", "install": service.install_command or "",
        "install_dir": service.install_dir,
        # The setup action's own cache, only where it can cache this manager.
        "setup_cache": manager.setup_cache if manager else "",
        "lockfiles": service.cache_globs,
        "manager_install": manager.installer if manager and manager.installer != "runner"
        else "",
        "cache_path": manager.cache_path if manager else "",
        "cache_key_file": service.lockfile_path if manager and manager.cache_path else "",
    }


def service_config(ctx: PlanContext) -> dict[str, dict[str, Any]]:
    """What the matrix jobs need of each service, kept in the companion script and read by
    each matrix job's first step (`affected.py --service NAME`): the matrix entries stay
    small, well under GitHub's 1 MB of outputs per job even for a thousand services."""
    config: dict[str, dict[str, Any]] = {}
    for name, service in ctx.spec.services.items():
        entry: dict[str, Any] = {"path": service.path}
        if service.language is not None:
            entry.update(toolchain_settings(service))
            entry.update({
                "test": _test_command(service),
                "lint": service.lint or "", "typecheck": service.typecheck or "",
                "strategy": _SHARD_STRATEGY.get(service.language, "env"),
                "reports": _in(service.path, REPORTS_DIR),
            })
        if service.dockerfile:
            entry["dockerfile"] = service.dockerfile
            entry.update(docker.settings(service))
        config[name] = entry
    return config


def has_own_job(service: Service) -> bool:
    """Whether the service's unit tests need a job of their own (model/unit_env.py)."""
    return service.test_environment is not None and service.test_environment.needs_own_job


def own_output(name: str) -> str:
    """The `changes` output holding the matrix of a service with a unit-test job of its own."""
    return f"tests-of-{name}"


def _shard_entries(ctx: PlanContext, name: str, service: Service) -> list[dict[str, Any]]:
    labels = service.runner_labels(ctx.spec.project)
    return [{"service": name, "shard": shard, "shards": service.shards, "runs_on": labels,
             "fork_runs_on": fork_runs_on(ctx, labels), "timeout": service.timeout_minutes}
            for shard in range(1, service.shards + 1)]


def test_entries(ctx: PlanContext) -> list[dict[str, Any]]:
    """One matrix entry per service shard, in spec order, for the shared unit-test jobs
    (the services without a job of their own)."""
    return [entry for name, service in ctx.spec.services.items()
            if service.language is not None and not has_own_job(service)
            for entry in _shard_entries(ctx, name, service)]


def own_test_entries(ctx: PlanContext) -> dict[str, list[dict[str, Any]]]:
    """The shard entries of each service with a unit-test job of its own."""
    return {name: _shard_entries(ctx, name, service)
            for name, service in ctx.spec.services.items()
            if service.language is not None and has_own_job(service)}


def image_entries(ctx: PlanContext) -> list[dict[str, Any]]:
    return [{"service": name, "runs_on": s.runner_labels(ctx.spec.project),
             "fork_runs_on": fork_runs_on(ctx, s.runner_labels(ctx.spec.project))}
            for name, s in ctx.spec.services.items() if s.dockerfile]


SETTINGS_STEP = "service"


def settings_step() -> Step:
    """A matrix job's first step after checkout: its service's settings as step outputs."""
    return Step(name="Read the service's settings", id=SETTINGS_STEP,
                run=f'python3 {SCRIPT_IN_REPO} --service "$SERVICE"',
                env={"SERVICE": "${{ matrix.service }}"})


def setting(field: str) -> str:
    return f"steps.{SETTINGS_STEP}.outputs.{field}"


def setting_expr(field: str) -> str:
    return f"${{{{ {setting(field)} }}}}"


def chunk_count(entries: Sized) -> int:
    """How many matrices of at most MATRIX_LIMIT rows hold `entries`."""
    return math.ceil(len(entries) / MATRIX_LIMIT)


def table(ctx: PlanContext) -> dict[str, Any]:
    tests, images = test_entries(ctx), image_entries(ctx)
    return {
        "services": [{"name": name, "paths": [*_paths(ctx, s), *docker.watched(
                          s, ctx.spec.workspaces[s.workspace].path if s.workspace else None)]}
                     for name, s in ctx.spec.services.items()],
        # A change to these reruns everything: shared code, the spec, the workflows.
        "always": [*ctx.spec.project.shared_paths, ctx.spec_file, ".github/"],
        "tests": tests, "own_tests": own_test_entries(ctx), "images": images,
        "config": service_config(ctx),
        "test_chunks": chunk_count(tests), "image_chunks": chunk_count(images),
    }


def _paths(ctx: PlanContext, service: Service) -> list[str]:
    """What selects a service: its folder, its `watch` paths, its lockfile where that lies
    outside the folder, and its workspace's root files (lockfile, manifests, `watch`): a
    change there selects every member, a change in one member's folder only that one."""
    paths = [service.path, *service.watch]
    lockfile = service.lockfile_path
    if lockfile and service.path != "." and not lockfile.startswith(service.path + "/"):
        paths.append(lockfile)
    if service.workspace is not None:
        paths += ctx.spec.workspaces[service.workspace].selecting_paths()
    return list(dict.fromkeys(paths))


def companion(ctx: PlanContext) -> Companion:
    return Companion(filename=SCRIPT, template="affected.py.j2", context={"table": table(ctx)})


def build(ctx: PlanContext) -> list[Job]:
    data = table(ctx)
    if not data["tests"] and not data["images"] and not data["own_tests"]:
        return []
    outputs = {"services": "${{ steps.select.outputs.services }}"}
    for name in data["own_tests"]:
        outputs[own_output(name)] = f"${{{{ steps.select.outputs.{own_output(name)} }}}}"
    for kind, count in (("tests", data["test_chunks"]), ("images", data["image_chunks"])):
        for index in range(1, count + 1):
            outputs[f"{kind}-{index}"] = f"${{{{ steps.select.outputs.{kind}-{index} }}}}"
    step = Step(
        name="Select the services this change touches", id="select",
        run=f"python3 {SCRIPT_IN_REPO}",
        env={"BASE_SHA": "${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha }}",
             "HEAD_SHA": "${{ github.event.pull_request.head.sha || github.event.merge_group.head_sha }}",
             # A fork's pull request never gets a self-hosted runner (plan/forks.py).
             "HEAD_REPO": "${{ github.event.pull_request.head.repo.full_name }}"},
    )
    return [Job(id=JOB_ID, name="Affected services", runs_on=ctx.runner, timeout_minutes=5,
                permissions={"contents": read("diff the change against its base")},
                steps=[checkout(ctx, full_history=True), step], outputs=outputs,
                control="Only the services a change touches run (monorepo fan-out)")]
