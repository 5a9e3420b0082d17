"""Container images on pull requests: build with the Actions cache, scan, never push.

Pull-request runs get no registry credentials and no write permission; publishing happens
only in the release workflow (see `publish`), which uses no cache at all.
"""

from __future__ import annotations

from harden_ci.model.gates import Vulnerabilities
from harden_ci.plan import docker
from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Job, Matrix, Scalar, Step, read
from harden_ci.plan.stages import changes
from harden_ci.plan.steps import action_step, checkout

CONTROL = "Every image builds and passes the vulnerability gate before merge"
_SEVERITIES = ("low", "medium", "high", "critical")


def scan_step(ctx: PlanContext, vulns: Vulnerabilities, image_ref: str) -> Step:
    """Fail at the spec's severity or above; `image_ref` is a local tag or a digest."""
    if vulns.scanner == "trivy":
        at_or_above = _SEVERITIES[_SEVERITIES.index(vulns.fail_on):]
        return action_step(ctx, "Scan the image (trivy)", "aquasecurity/trivy-action", {
            "scan-type": "image", "image-ref": image_ref, "exit-code": "1",
            "ignore-unfixed": True, "severity": ",".join(s.upper() for s in at_or_above),
            # Its default caches the database and binary: never in a publishing job.
            "cache": False,
        })
    return action_step(ctx, "Scan the image (grype)", "anchore/scan-action", {
        "image": image_ref, "fail-build": True, "severity-cutoff": vulns.fail_on,
        "output-format": "table",
    })


def build(ctx: PlanContext) -> list[Job]:
    count = changes.chunk_count(changes.image_entries(ctx))
    vulns = ctx.spec.gates.vulnerabilities if ctx.spec.gates else None
    local_tag = "harden-ci.local/${{ matrix.service }}:pr"
    scope = "image-${{ matrix.service }}"
    cache: dict[str, Scalar] = ({"cache-from": f"type=gha,scope={scope}",
                                 "cache-to": f"type=gha,mode=max,scope={scope}"}
                                if ctx.caches_allowed else {"no-cache": True})
    any_platforms = any(s.docker and s.docker.platforms for s in ctx.spec.services.values())
    multi_arch = f"${{{{ {changes.setting('platforms')} != '' }}}}"
    jobs = []
    for index in range(1, count + 1):
        output = f"needs.{changes.JOB_ID}.outputs.images-{index}"
        steps = [
            checkout(ctx),
            changes.settings_step(),
            *([action_step(ctx, "Set up QEMU (multi-arch)", "docker/setup-qemu-action",
                           {} if ctx.caches_allowed else {"cache-image": False},
                           if_=multi_arch)] if any_platforms else []),
            action_step(ctx, "Set up Docker Buildx", "docker/setup-buildx-action"),
            # The runner's own platform, loaded for the scan; build secrets never reach a
            # pull request's build (a fork's above all), so none are passed here.
            action_step(ctx, "Build the image (no push)", "docker/build-push-action", {
                **docker.build_inputs(changes.setting_expr, platforms=False),
                "file": changes.setting_expr("dockerfile"),
                "push": False, "load": True, "tags": local_tag, **cache}),
        ]
        if any_platforms:
            # A multi-platform image cannot be loaded: every platform is built, not kept.
            steps.append(action_step(ctx, "Build every platform (no push)",
                                     "docker/build-push-action", {
                **docker.build_inputs(changes.setting_expr),
                "file": changes.setting_expr("dockerfile"), "push": False, **cache},
                if_=multi_arch))
        if vulns is not None:
            steps.append(scan_step(ctx, vulns, local_tag))
        jobs.append(Job(
            id=f"images-{index}" if count > 1 else "images",
            name="Image (${{ matrix.service }})", runs_on="${{ matrix.runs_on }}",
            timeout_minutes=30, needs=[changes.JOB_ID],
            # Pushes build and publish in the release workflow instead.
            if_=f"${{{{ github.event_name != 'push' && {output} != '[]' && {output} != '' }}}}",
            permissions={"contents": read("read the build context")},
            matrix=Matrix(include_expression=f"${{{{ fromJSON({output}) }}}}"),
            steps=steps, control=CONTROL,
        ))
    return jobs
