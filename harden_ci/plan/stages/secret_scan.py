"""Secret scanning with gitleaks (built from its release commit) or trufflehog over the
change: a pull request's, a merge group's or a push's commits."""

from __future__ import annotations

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Step, read, write
from harden_ci.plan.steps import (
    action_step,
    checkout,
    go_tool_from_source,
    upload_artifact,
    upload_sarif,
)
from harden_ci.plan.tools import GITLEAKS_COMMIT, version

CONTROL = "Secret scanning of every change"
JOB_ID = "secret-scan"
GITLEAKS_SOURCE = ".harden-ci-gitleaks"  # where the job checks out gitleaks' source


def build(ctx: PlanContext) -> list[Job]:
    gates = ctx.spec.gates
    if gates is None or gates.secret_scan is None:
        return []
    scan = gates.secret_scan
    permissions: dict[str, Grant] = {"contents": read("check out the full history")}
    steps: list[Step] = [checkout(ctx, full_history=True)]
    if scan.tool == "gitleaks":
        # gitleaks is built from its release commit for every event, never downloaded:
        # gitleaks-action fetches its binary with no checksum, needs a GITLEAKS_LICENSE secret
        # for organisations' repositories and refuses merge_group. secret-scan.sh runs the
        # release the action would, with the action's arguments, over what the event adds.
        steps += go_tool_from_source(
            ctx, label="gitleaks", tool="gitleaks", version_text=version("gitleaks"),
            repository="gitleaks/gitleaks", commit=GITLEAKS_COMMIT, source=GITLEAKS_SOURCE,
            package=".")
        env = {"EVENT_NAME": "${{ github.event_name }}",
               "BASE_SHA": "${{ github.event.pull_request.base.sha || "
                           "github.event.merge_group.base_sha || github.event.before }}",
               "HEAD_SHA": "${{ github.event.pull_request.head.sha || "
                           "github.event.merge_group.head_sha || github.event.after }}"}
        if scan.allowlist:
            env["GITLEAKS_CONFIG"] = scan.allowlist
        steps.append(Step(name="Scan the change's commits for secrets (gitleaks)",
                          run=load_script("secret-scan.sh"), env=env))
        # The artifact gitleaks-action uploads (GITLEAKS_ENABLE_UPLOAD_ARTIFACT), by its name.
        steps.append(upload_artifact(ctx, "gitleaks-results.sarif", "results.sarif"))
        if ctx.spec.project.code_scanning:
            permissions["security-events"] = write("upload secret findings to code scanning")
            steps.append(upload_sarif(ctx, "results.sarif", "gitleaks"))
    else:
        extra = "--results=verified,unknown"
        if scan.allowlist:
            extra += f" --exclude-paths={scan.allowlist}"
        steps.append(action_step(ctx, "Scan for secrets (trufflehog)",
                                 "trufflesecurity/trufflehog",
                                 {"version": version("trufflehog"), "extra_args": extra}))
    return [Job(id=JOB_ID, name="Secret scan", runs_on=ctx.runner, timeout_minutes=15,
                permissions=permissions, steps=steps, control=CONTROL)]
