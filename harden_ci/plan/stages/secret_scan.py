"""Secret scanning with gitleaks or trufflehog over the change (or full history on push)."""

from __future__ import annotations

from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Grant, Job, Step, read, write
from harden_ci.plan.steps import action_step, checkout, upload_sarif
from harden_ci.plan.tools import version

CONTROL = "Secret scanning of every change"
JOB_ID = "secret-scan"


def build(ctx: PlanContext) -> list[Job]:
    gates = ctx.spec.gates
    if gates is None or gates.secret_scan is None:
        return []
    scan = gates.secret_scan
    permissions: dict[str, Grant] = {"contents": read("check out the full history")}
    steps: list[Step] = [checkout(ctx, full_history=True)]
    if scan.tool == "gitleaks":
        # gitleaks-action reads the PR's commits through the API, hence pull-requests: read;
        # comments stay off so it never needs write access.
        permissions["pull-requests"] = read("gitleaks lists the pull request's commits")
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
        if ctx.spec.project.code_scanning:
            # gitleaks-action leaves its findings in results.sarif.
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
