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
from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Companion, Job, Step, read
from harden_ci.plan.steps import checkout

JOB_ID = "changes"
SCRIPT = "harden-ci/affected.py"
SCRIPT_IN_REPO = f".github/workflows/{SCRIPT}"
MATRIX_LIMIT = 256  # GitHub runs at most 256 jobs per matrix
_SHARD_STRATEGY = {"python": "python", "node": "node", "go": "go", "java": "java"}
_CACHE = {  # languages without a pinned setup action: cache folder and lock file
    "rust": ("~/.cargo/registry\n~/.cargo/git", "Cargo.lock"),
    "dotnet": ("~/.nuget/packages", "packages.lock.json"),
    "ruby": ("vendor/bundle", "Gemfile.lock"),
}
REPORTS_DIR = "test-results"
# The default go command covers every package; a shard names its own packages instead.
_SHARDED_GO_DEFAULT = "go test -race"


def _in(path: str, name: str) -> str:
    return name if path == "." else f"{path}/{name}"


def _test_command(service: Service) -> str:
    if service.language == "go" and service.test is None and service.shards > 1:
        return _SHARDED_GO_DEFAULT
    return service.test_command or ""


def _lockfiles(service: Service) -> str:
    defaults = service.defaults()
    return "\n".join(_in(service.path, p) for p in defaults.lockfiles) if defaults else ""


def service_config(ctx: PlanContext) -> dict[str, dict[str, Any]]:
    """What the matrix jobs need of each service, kept in the companion script and read by
    each matrix job's first step (`affected.py --service NAME`): the matrix entries stay
    small, well under GitHub's 1 MB of outputs per job even for a thousand services."""
    config: dict[str, dict[str, Any]] = {}
    for name, service in ctx.spec.services.items():
        entry: dict[str, Any] = {"path": service.path}
        if service.language is not None:
            cache_path, cache_file = _CACHE.get(service.language, ("", ""))
            entry.update({
                "language": service.language, "version": service.toolchain_version or "",
                "setup": service.setup or "", "install": service.install_command or "",
                "test": _test_command(service),
                "strategy": _SHARD_STRATEGY.get(service.language, "env"),
                "lockfiles": _lockfiles(service), "cache_path": cache_path,
                "cache_key_file": _in(service.path, cache_file) if cache_file else "",
                "reports": _in(service.path, REPORTS_DIR),
            })
        if service.dockerfile:
            entry["dockerfile"] = service.dockerfile
        config[name] = entry
    return config


def test_entries(ctx: PlanContext) -> list[dict[str, Any]]:
    """One matrix entry per service shard, in spec order."""
    return [{"service": name, "shard": shard, "shards": service.shards,
             "runs_on": service.runner_labels(ctx.spec.project)}
            for name, service in ctx.spec.services.items() if service.language is not None
            for shard in range(1, service.shards + 1)]


def image_entries(ctx: PlanContext) -> list[dict[str, Any]]:
    return [{"service": name, "runs_on": s.runner_labels(ctx.spec.project)}
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
        "services": [{"name": name, "paths": [s.path, *s.watch]}
                     for name, s in ctx.spec.services.items()],
        # A change to these reruns everything: shared code, the spec, the workflows.
        "always": [*ctx.spec.project.shared_paths, ctx.spec_file, ".github/"],
        "tests": tests, "images": images, "config": service_config(ctx),
        "test_chunks": chunk_count(tests), "image_chunks": chunk_count(images),
    }


def companion(ctx: PlanContext) -> Companion:
    return Companion(filename=SCRIPT, template="affected.py.j2", context={"table": table(ctx)})


def build(ctx: PlanContext) -> list[Job]:
    data = table(ctx)
    if not data["tests"] and not data["images"]:
        return []
    outputs = {"services": "${{ steps.select.outputs.services }}"}
    for kind, count in (("tests", data["test_chunks"]), ("images", data["image_chunks"])):
        for index in range(1, count + 1):
            outputs[f"{kind}-{index}"] = f"${{{{ steps.select.outputs.{kind}-{index} }}}}"
    step = Step(
        name="Select the services this change touches", id="select",
        run=f"python3 {SCRIPT_IN_REPO}",
        env={"BASE_SHA": "${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha }}",
             "HEAD_SHA": "${{ github.event.pull_request.head.sha || github.event.merge_group.head_sha }}"},
    )
    return [Job(id=JOB_ID, name="Affected services", runs_on=ctx.runner, timeout_minutes=5,
                permissions={"contents": read("diff the change against its base")},
                steps=[checkout(ctx, full_history=True), step], outputs=outputs,
                control="Only the services a change touches run (monorepo fan-out)")]
