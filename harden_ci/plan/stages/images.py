"""Container images on pull requests: build with the Actions cache, scan, never push.

Pull-request runs get no registry credentials and no write permission; publishing happens
only in the release workflow (see `publish`), which uses no cache at all.
"""

from __future__ import annotations

from harden_ci.model.gates import Vulnerabilities
from harden_ci.model.services import Service
from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Job, Scalar, Step, read
from harden_ci.plan.steps import action_step, checkout

CONTROL = "Every image builds and passes the vulnerability gate before merge"
NOT_PUSH = "${{ github.event_name != 'push' }}"
_SEVERITIES = ("low", "medium", "high", "critical")


def job_id(name: str) -> str:
    return f"image-{name}"


def build_context(service: Service) -> str:
    return service.path


def scan_step(ctx: PlanContext, vulns: Vulnerabilities, image_ref: str) -> Step:
    """Fail at the spec's severity or above; `image_ref` is a local tag or a digest."""
    if vulns.scanner == "trivy":
        at_or_above = _SEVERITIES[_SEVERITIES.index(vulns.fail_on):]
        return action_step(ctx, "Scan the image (trivy)", "aquasecurity/trivy-action", {
            "scan-type": "image", "image-ref": image_ref, "exit-code": "1",
            "ignore-unfixed": True, "severity": ",".join(s.upper() for s in at_or_above),
        })
    return action_step(ctx, "Scan the image (grype)", "anchore/scan-action", {
        "image": image_ref, "fail-build": True, "severity-cutoff": vulns.fail_on,
        "output-format": "table",
    })


def _job(ctx: PlanContext, name: str, service: Service) -> Job:
    assert service.dockerfile is not None
    local_tag = f"harden-ci.local/{name}:pr"
    scope = f"image-{name}"
    build_with: dict[str, Scalar] = {
        "context": build_context(service), "file": service.dockerfile, "push": False,
        "load": True, "tags": local_tag,
        "cache-from": f"type=gha,scope={scope}", "cache-to": f"type=gha,mode=max,scope={scope}",
    }
    steps = [
        checkout(ctx),
        action_step(ctx, "Set up Docker Buildx", "docker/setup-buildx-action"),
        action_step(ctx, "Build the image (no push)", "docker/build-push-action", build_with),
    ]
    vulns = ctx.spec.gates.vulnerabilities if ctx.spec.gates else None
    if vulns is not None:
        steps.append(scan_step(ctx, vulns, local_tag))
    return Job(id=job_id(name), name=f"Image ({name})", runs_on=service.runner or ctx.runner,
               timeout_minutes=30, if_=NOT_PUSH,
               permissions={"contents": read("read the build context")},
               steps=steps, control=CONTROL)


def build(ctx: PlanContext) -> list[Job]:
    return [_job(ctx, name, s) for name, s in ctx.spec.services.items() if s.dockerfile]
