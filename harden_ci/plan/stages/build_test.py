"""Per-service unit tests: toolchain with dependency cache, sharded matrix, reports."""

from __future__ import annotations

from harden_ci.model.services import Service
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Matrix, Step, read
from harden_ci.plan.steps import checkout, setup_toolchain, upload_artifact

CONTROL = "Unit tests of every service (sharded, cached)"
REPORTS_DIR = "test-results"
# How run-tests.sh hands each shard its share of the tests.
_SHARD_STRATEGY = {"python": "python", "node": "node", "go": "go", "java": "java"}
# The default go command covers every package; a shard names its own packages instead.
_SHARDED_GO_DEFAULT = "go test -race"


def job_id(name: str) -> str:
    return f"test-{name}"


def _test_command(service: Service) -> str:
    command = service.test_command or ""
    if service.language == "go" and service.test is None and service.shards > 1:
        return _SHARDED_GO_DEFAULT
    return command


def _job(ctx: PlanContext, name: str, service: Service) -> Job:
    sharded = service.shards > 1
    reports = REPORTS_DIR if service.path == "." else f"{service.path}/{REPORTS_DIR}"
    steps: list[Step] = [checkout(ctx), *setup_toolchain(ctx, service)]
    if service.install_command:
        steps.append(Step(name="Install dependencies", run=service.install_command,
                          working_directory=service.path))
    steps.append(Step(
        name="Run unit tests",
        run=load_script("run-tests.sh"),
        working_directory=service.path,
        env={
            "TEST_COMMAND": _test_command(service),
            "SHARD_STRATEGY": _SHARD_STRATEGY.get(service.language or "", "env"),
            "HARDEN_CI_SHARD_INDEX": "${{ matrix.shard }}" if sharded else "1",
            "HARDEN_CI_SHARD_TOTAL": str(service.shards),
            "HARDEN_CI_REPORTS_DIR": REPORTS_DIR,
        },
    ))
    artifact = f"test-results-{name}" + ("-${{ matrix.shard }}" if sharded else "")
    steps.append(upload_artifact(ctx, artifact, reports))
    title = f"Unit tests ({name}" + (", shard ${{ matrix.shard }}/" + f"{service.shards})"
                                      if sharded else ")")
    return Job(
        id=job_id(name),
        name=title,
        runs_on=service.runner or ctx.runner,
        timeout_minutes=30,
        permissions={"contents": read("check out the code")},
        steps=steps,
        matrix=Matrix(axes={"shard": list(range(1, service.shards + 1))}) if sharded else None,
        control=CONTROL,
    )


def build(ctx: PlanContext) -> list[Job]:
    return [_job(ctx, name, service) for name, service in ctx.spec.services.items()
            if service.language is not None]
