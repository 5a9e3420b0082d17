"""Unit tests of every affected service: one matrix over service shards, filled at run time
by the `changes` job, with toolchain setup and dependency caching per language.

A matrix holds at most 256 jobs, so a monorepo with more shards gets several `unit-tests-N`
jobs; each is skipped when its part of the matrix is empty.
"""

from __future__ import annotations

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Matrix, Step, read
from harden_ci.plan.stages import changes
from harden_ci.plan.steps import action_step, cache_inputs, checkout

CONTROL = "Unit tests of every affected service (sharded, cached)"


C = f"steps.{changes.SETTINGS_STEP}.outputs"  # the settings_step outputs
_cfg = changes.setting_expr


def _is(language: str) -> str:
    return f"${{{{ {C}.language == '{language}' }}}}"


def _steps(ctx: PlanContext) -> list[Step]:
    return [
        checkout(ctx),
        changes.settings_step(),
        action_step(ctx, "Set up Python", "actions/setup-python", {
            "python-version": _cfg("version"),
            **cache_inputs(ctx, "python", _cfg("lockfiles"))}, if_=_is("python")),
        action_step(ctx, "Set up Node.js", "actions/setup-node", {
            "node-version": _cfg("version"),
            **cache_inputs(ctx, "node", _cfg("lockfiles"))}, if_=_is("node")),
        action_step(ctx, "Set up Go", "actions/setup-go", {
            "go-version": _cfg("version"),
            **cache_inputs(ctx, "go", _cfg("lockfiles"))}, if_=_is("go")),
        action_step(ctx, "Set up Java", "actions/setup-java", {
            "distribution": "temurin", "java-version": _cfg("version"),
            **cache_inputs(ctx, "java", _cfg("lockfiles"))}, if_=_is("java")),
        Step(name="Set up the toolchain", run=load_script("toolchain.sh"),
             working_directory=_cfg("path"),
             if_=f"${{{{ contains(fromJSON('[\"rust\", \"dotnet\", \"ruby\", \"custom\"]'), "
                 f"{C}.language) }}}}",
             env={"LANGUAGE": _cfg("language"),
                  "TOOLCHAIN_VERSION": _cfg("version"),
                  "SETUP_COMMAND": _cfg("setup")}),
        *([action_step(ctx, "Cache dependencies", "actions/cache", {
            "path": _cfg("cache_path"),
            "key": f"${{{{ {C}.language }}}}-${{{{ runner.os }}}}-"
                   f"${{{{ hashFiles({C}.cache_key_file) }}}}",
        }, if_=f"${{{{ {C}.cache_path != '' }}}}")] if ctx.caches_allowed else []),
        Step(name="Install dependencies", run=load_script("run-command.sh"),
             working_directory=_cfg("path"), if_=f"${{{{ {C}.install != '' }}}}",
             env={"COMMAND": _cfg("install")}),
        Step(name="Run unit tests", run=load_script("run-tests.sh"),
             working_directory=_cfg("path"),
             env={"TEST_COMMAND": _cfg("test"),
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
            timeout_minutes=30,
            needs=[changes.JOB_ID],
            if_=f"${{{{ {output} != '[]' && {output} != '' }}}}",
            permissions={"contents": read("check out the code")},
            matrix=Matrix(include_expression=f"${{{{ fromJSON({output}) }}}}"),
            steps=_steps(ctx),
            control=CONTROL,
        ))
    return jobs
