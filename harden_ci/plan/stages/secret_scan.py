"""Secret scanning with gitleaks or trufflehog over the change (or full history on push)."""

from __future__ import annotations

from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Job, Step
from harden_ci.plan.steps import action_step, checkout

CONTROL = "Secret scanning of every change"
JOB_ID = "secret-scan"
TRUFFLEHOG_VERSION = "3.97.0"  # the CLI the pinned action runs (it defaults to `latest`)


def build(ctx: PlanContext) -> list[Job]:
    gates = ctx.spec.gates
    if gates is None or gates.secret_scan is None:
        return []
    scan = gates.secret_scan
    permissions = {"contents": "read"}
    steps: list[Step] = [checkout(ctx, full_history=True)]
    if scan.tool == "gitleaks":
        # gitleaks-action reads the PR's commits through the API, hence pull-requests: read;
        # comments stay off so it never needs write access.
        permissions["pull-requests"] = "read"
        env = {
            "GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}",
            "GITLEAKS_LICENSE": "${{ secrets.GITLEAKS_LICENSE }}",
            "GITLEAKS_ENABLE_COMMENTS": "false",
            "GITLEAKS_ENABLE_UPLOAD_ARTIFACT": "true",
        }
        if scan.allowlist:
            env["GITLEAKS_CONFIG"] = scan.allowlist
        steps.append(action_step(ctx, "Scan for secrets (gitleaks)", "gitleaks/gitleaks-action",
                                 env=env))
    else:
        extra = "--results=verified,unknown"
        if scan.allowlist:
            extra += f" --exclude-paths={scan.allowlist}"
        steps.append(action_step(ctx, "Scan for secrets (trufflehog)",
                                 "trufflesecurity/trufflehog",
                                 {"version": TRUFFLEHOG_VERSION, "extra_args": extra}))
    return [Job(id=JOB_ID, name="Secret scan", runs_on=ctx.runner, timeout_minutes=15,
                permissions=permissions, steps=steps, control=CONTROL)]
