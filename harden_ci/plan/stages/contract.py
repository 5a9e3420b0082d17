"""Contract tests of every service with an OpenAPI document.

The static checks gate merging: `contract-lint`, in the CI workflow (pull requests, forks'
included, the merge queue and pushes, and so under `All required checks`), lints each
document with Spectral and compares it with the base commit's version (oasdiff, built from
its release commit), failing on a breaking change unless `info.version` got a major bump.
They need no secret and no environment. Fuzzing (Schemathesis) needs a running preview, so
it stays in the preview workflow's `contract` job."""

from __future__ import annotations

from harden_ci.model.services import Service
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read
from harden_ci.plan.steps import checkout, go_tool_from_source, npm_install_step, pip_install_step
from harden_ci.plan.tools import NPM_TOOLSETS, OASDIFF_COMMIT, PIP_TOOLSETS, version

CONTROL_LINT = "API contracts: lint, no unannounced breaking change against the base commit"
CONTROL_FUZZ = "API contracts: fuzzed against a preview"
LINT_JOB_ID = "contract-lint"
JOB_ID = "contract"
# The base a pull request or a merge group is compared with; empty on a push, where the
# comparison is skipped (the pull request or merge group that landed it was compared).
BASE_SHA = "${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha }}"
OASDIFF_SOURCE = ".harden-ci-oasdiff"  # where the job checks out oasdiff's source


def services_with_openapi(ctx: PlanContext) -> list[tuple[str, Service]]:
    return [(name, s) for name, s in ctx.spec.services.items() if s.openapi]


def _lint_steps(ctx: PlanContext, name: str, service: Service) -> list[Step]:
    assert service.openapi is not None
    contract = ctx.spec.tests.contract if ctx.spec.tests else None
    assert contract is not None
    base_file = f"openapi-base-{name}.yaml"
    return [
        Step(name=f"Lint the {name} API (Spectral)", run=load_script("spectral-lint.sh"),
             env={"OPENAPI_FILE": service.openapi,
                  "SPECTRAL_RULESET": contract.ruleset or ""}),
        Step(name=f"Read the {name} API at the base commit", id=f"base-{name}",
             run=load_script("openapi-base.sh"),
             env={"OPENAPI_FILE": service.openapi, "BASE_FILE": base_file,
                  "BASE_SHA": BASE_SHA, "BREAKING_CHANGES": contract.breaking_changes}),
        # oasdiff built from its release commit (lint_job), run as oasdiff-action/breaking
        # ran it, without the action's docker image by tag, its upload or its PR comment.
        Step(name=f"Breaking changes in the {name} API (oasdiff)",
             run=load_script("oasdiff-breaking.sh"),
             env={"OPENAPI_FILE": service.openapi, "BASE_FILE": base_file,
                  "FAIL_ON": f"${{{{ steps.base-{name}.outputs.fail_on }}}}"},
             if_=f"${{{{ steps.base-{name}.outputs.has_base == 'true' }}}}"),
    ]


def lint_job(ctx: PlanContext) -> Job | None:
    """Spectral and oasdiff for every OpenAPI document, in the CI workflow."""
    tests = ctx.spec.tests
    if tests is None or tests.contract is None:
        return None
    steps: list[Step] = [checkout(ctx, full_history=True),
                         npm_install_step("Install spectral-cli by hash (npm lockfile)",
                                          NPM_TOOLSETS["spectral"])]
    # oasdiff is built from its release commit, never run from its image by tag; only an
    # event with a base commit compares anything (a push skips the comparison).
    steps += go_tool_from_source(
        ctx, label="oasdiff", tool="oasdiff", version_text=version("oasdiff"),
        repository="oasdiff/oasdiff", commit=OASDIFF_COMMIT, source=OASDIFF_SOURCE, package=".",
        if_=BASE_SHA)  # a SHA is truthy, an absent one is not
    for name, service in services_with_openapi(ctx):
        steps += _lint_steps(ctx, name, service)
    # ctx.runner: a fork's pull request gets a GitHub-hosted label (forks.py).
    return Job(id=LINT_JOB_ID, name="API contracts: lint and breaking changes",
               runs_on=ctx.runner, timeout_minutes=20,
               permissions={"contents": read("read both versions of the API documents")},
               steps=steps, control=CONTROL_LINT)


def contract_job(ctx: PlanContext, *, base_url: str | None,
                 needs: list[str] | None = None) -> Job | None:
    """Schemathesis against the running preview at `base_url`, when `tests.contract.fuzz`
    (a preview without a URL has nothing to fuzz)."""
    tests = ctx.spec.tests
    if tests is None or tests.contract is None or not tests.contract.fuzz or not base_url:
        return None
    steps: list[Step] = [checkout(ctx),
                         pip_install_step("Install Schemathesis by hash",
                                          PIP_TOOLSETS["schemathesis"])]
    for name, service in services_with_openapi(ctx):
        assert service.openapi is not None
        steps.append(Step(name=f"Fuzz the {name} API (Schemathesis)",
                          run=load_script("schemathesis.sh"),
                          env={"OPENAPI_FILE": service.openapi, "HARDEN_CI_URL": base_url}))
    return Job(id=JOB_ID, name="API contracts: fuzzing", runs_on=ctx.runner, timeout_minutes=20,
               needs=needs or [],
               permissions={"contents": read("read the API documents")},
               steps=steps, control=CONTROL_FUZZ)
