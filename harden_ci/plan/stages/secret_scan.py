"""Secret scanning with gitleaks or trufflehog over the change (or full history on push)."""

from __future__ import annotations

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Step, read, write
from harden_ci.plan.steps import action_step, checkout, go_tool_from_source, upload_sarif
from harden_ci.plan.tools import GITLEAKS_COMMIT, version

CONTROL = "Secret scanning of every change"
JOB_ID = "secret-scan"
GITLEAKS_SOURCE = ".harden-ci-gitleaks"  # where the merge queue checks out gitleaks' source


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
        # gitleaks-action exits 1 on merge_group (it knows push, pull_request,
        # workflow_dispatch and schedule), which would block the merge queue for good. There
        # the same gitleaks release, built from its source, scans the queue's commits.
        steps.append(action_step(ctx, "Scan for secrets (gitleaks)", "gitleaks/gitleaks-action",
                                 env=env, if_="${{ github.event_name != 'merge_group' }}"))
        in_queue = "${{ github.event_name == 'merge_group' }}"
        steps += go_tool_from_source(
            ctx, label="gitleaks", tool="gitleaks", version_text=version("gitleaks"),
            repository="gitleaks/gitleaks", commit=GITLEAKS_COMMIT, source=GITLEAKS_SOURCE,
            package=".", if_=in_queue)
        queue_env = {"BASE_SHA": "${{ github.event.merge_group.base_sha }}",
                     "HEAD_SHA": "${{ github.event.merge_group.head_sha }}"}
        if scan.allowlist:
            queue_env["GITLEAKS_CONFIG"] = scan.allowlist
        steps.append(Step(name="Scan the merge group's commits for secrets (gitleaks)",
                          run=load_script("secret-scan-queue.sh"), env=queue_env, if_=in_queue))
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
