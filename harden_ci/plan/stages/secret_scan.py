"""Secret scanning with gitleaks or trufflehog (each built from its release commit) over the
change: a pull request's, a merge group's or a push's commits."""

from __future__ import annotations

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Step, read, write
from harden_ci.plan.steps import (
    checkout,
    go_tool_from_source,
    upload_artifact,
    upload_sarif,
)
from harden_ci.plan.tools import GITLEAKS_COMMIT, TRUFFLEHOG_COMMIT, version

CONTROL = "Secret scanning of every change"
JOB_ID = "secret-scan"
GITLEAKS_SOURCE = ".harden-ci-gitleaks"  # where the job checks out gitleaks' source
TRUFFLEHOG_SOURCE = ".harden-ci-trufflehog"  # ... and trufflehog's


def _event_env() -> dict[str, str]:
    """The event and its base and head commits, as both scan scripts read them."""
    return {"EVENT_NAME": "${{ github.event_name }}",
            "BASE_SHA": "${{ github.event.pull_request.base.sha || "
                        "github.event.merge_group.base_sha || github.event.before }}",
            "HEAD_SHA": "${{ github.event.pull_request.head.sha || "
                        "github.event.merge_group.head_sha || github.event.after }}"}


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
        env = _event_env()
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
        # trufflehog is built from its release commit too: its action `docker run`s the
        # trufflehog image by version tag. trufflehog-scan.sh runs it with the action's
        # arguments over the action's range per event.
        steps += go_tool_from_source(
            ctx, label="trufflehog", tool="trufflehog", version_text=version("trufflehog"),
            repository="trufflesecurity/trufflehog", commit=TRUFFLEHOG_COMMIT,
            source=TRUFFLEHOG_SOURCE, package=".")
        env = _event_env()
        if scan.allowlist:
            env["TRUFFLEHOG_EXCLUDE"] = scan.allowlist
        steps.append(Step(name="Scan the change's commits for secrets (trufflehog)",
                          run=load_script("trufflehog-scan.sh"), env=env))
    return [Job(id=JOB_ID, name="Secret scan", runs_on=ctx.runner, timeout_minutes=15,
                permissions=permissions, steps=steps, control=CONTROL)]
