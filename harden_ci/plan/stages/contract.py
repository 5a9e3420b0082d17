"""Contract tests of every service with an OpenAPI document: Spectral lint, a breaking-change
diff against the base branch (oasdiff) that fails unless `info.version` got a major bump,
and, against a running preview, Schemathesis fuzzing."""

from __future__ import annotations

from harden_ci.model.services import Service
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read
from harden_ci.plan.steps import action_step, checkout, pip_install_step
from harden_ci.plan.tools import pip_requirement, version

CONTROL = "API contracts: lint, no unannounced breaking change, fuzzed against a preview"
JOB_ID = "contract"


def services_with_openapi(ctx: PlanContext) -> list[tuple[str, Service]]:
    return [(name, s) for name, s in ctx.spec.services.items() if s.openapi]


def _service_steps(ctx: PlanContext, name: str, service: Service, base_url: str | None) -> list[Step]:
    assert service.openapi is not None
    contract = ctx.spec.tests.contract if ctx.spec.tests else None
    assert contract is not None
    base_file = f"openapi-base-{name}.yaml"
    steps = [
        Step(name=f"Lint the {name} API (Spectral)", run=load_script("spectral-lint.sh"),
             env={"OPENAPI_FILE": service.openapi,
                  "SPECTRAL_CLI": f"@stoplight/spectral-cli@{version('spectral-cli')}"}),
        Step(name=f"Compare the {name} API with the base branch", id=f"base-{name}",
             run=load_script("openapi-base.sh"),
             env={"OPENAPI_FILE": service.openapi, "BASE_FILE": base_file,
                  "BASE_SHA": "${{ github.event.pull_request.base.sha || "
                              "github.event.merge_group.base_sha || github.event.before }}",
                  "BREAKING_CHANGES": contract.breaking_changes}),
        action_step(ctx, f"Breaking changes in the {name} API (oasdiff)",
                    "oasdiff/oasdiff-action/breaking", {
                        "base": base_file, "revision": service.openapi,
                        "fail-on": f"${{{{ steps.base-{name}.outputs.fail_on }}}}",
                        # No upload of the specs and no PR comment: nothing leaves CI.
                        "review": False, "github-token": ""},
                    if_=f"${{{{ steps.base-{name}.outputs.has_base == 'true' }}}}"),
    ]
    if contract.fuzz and base_url:
        steps.append(Step(name=f"Fuzz the {name} API (Schemathesis)",
                          run=load_script("schemathesis.sh"),
                          env={"OPENAPI_FILE": service.openapi, "HARDEN_CI_URL": base_url}))
    return steps


def contract_job(ctx: PlanContext, *, base_url: str | None = None,
                 needs: list[str] | None = None, environment: str | None = None) -> Job | None:
    """The contract job; with `base_url` (a running preview) it also fuzzes the API."""
    tests = ctx.spec.tests
    if tests is None or tests.contract is None:
        return None
    steps: list[Step] = [checkout(ctx, full_history=True)]
    if tests.contract.fuzz and base_url:
        steps.append(pip_install_step("Install Schemathesis", pip_requirement("schemathesis")))
    for name, service in services_with_openapi(ctx):
        steps += _service_steps(ctx, name, service, base_url)
    return Job(id=JOB_ID, name="API contracts", runs_on=ctx.runner, timeout_minutes=20,
               needs=needs or [], environment=environment,
               permissions={"contents": read("read both versions of the API documents")},
               steps=steps, control=CONTROL)
