"""Publishing on the default branch: push each image, then carry on by digest only —
scan, SBOM, cosign keyless signature, provenance and SBOM attestations, optional SLSA 3.

These jobs hold the only write permissions harden-ci ever grants, and use no cache: a
poisoned cache must never reach a signed artifact.
"""

from __future__ import annotations

from harden_ci.model.services import Service
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Scalar, Step, read, write
from harden_ci.plan.stages.images import build_context, scan_step
from harden_ci.plan.steps import action_step, checkout, upload_artifact
from harden_ci.plan.tools import pip_requirement, version

CONTROL = "Images are pushed by digest, signed, and attested (SBOM, provenance)"
DIGEST = "${{ steps.build.outputs.digest }}"


def job_id(name: str) -> str:
    return f"publish-{name}"


def image_name(ctx: PlanContext, name: str) -> str:
    assert ctx.spec.project.registry is not None
    return f"{ctx.spec.project.registry}/{name}"


def uses_ghcr(ctx: PlanContext) -> bool:
    return (ctx.spec.project.registry or "").startswith("ghcr.io/")


def _login(ctx: PlanContext) -> Step:
    registry = (ctx.spec.project.registry or "").split("/")[0]
    if uses_ghcr(ctx):
        creds = {"username": "${{ github.actor }}", "password": "${{ secrets.GITHUB_TOKEN }}"}
    else:
        creds = {"username": "${{ secrets.REGISTRY_USERNAME }}",
                 "password": "${{ secrets.REGISTRY_PASSWORD }}"}
    return action_step(ctx, "Log in to the registry", "docker/login-action",
                       {"registry": registry, **creds})


def _python_sbom(ctx: PlanContext, name: str, service: Service) -> list[Step]:
    """CycloneDX of the service's Python environment (no cache: this job publishes)."""
    return [
        action_step(ctx, "Set up Python", "actions/setup-python",
                    {"python-version": service.toolchain_version or ""}),
        Step(name="SBOM of the Python environment (cyclonedx-py)",
             run=load_script("python-sbom.sh"), working_directory=service.path,
             env={"INSTALL_COMMAND": service.install_command or "true",
                  "CYCLONEDX_BOM": pip_requirement("cyclonedx-bom"),
                  "SBOM_FILE": f"sbom-{name}-python.cdx.json"}),
    ]


def _job(ctx: PlanContext, name: str, service: Service) -> Job:
    assert service.dockerfile is not None
    chain = ctx.spec.supply_chain
    image = image_name(ctx, name)
    permissions: dict[str, Grant] = {"contents": read("read the build context")}
    if uses_ghcr(ctx):
        permissions["packages"] = write("push the image to GitHub Packages")
    build_with: dict[str, Scalar] = {
        "context": build_context(service), "file": service.dockerfile, "push": True,
        "tags": f"{image}:${{{{ github.sha }}}}", "provenance": False, "no-cache": True,
    }
    steps: list[Step] = [
        checkout(ctx),
        action_step(ctx, "Set up Docker Buildx", "docker/setup-buildx-action",
                    {"cache-binary": False}),
        _login(ctx),
        action_step(ctx, "Build and push the image", "docker/build-push-action", build_with,
                    id="build"),
    ]
    by_digest = f"{image}@{DIGEST}"
    vulns = ctx.spec.gates.vulnerabilities if ctx.spec.gates else None
    if vulns is not None:
        steps.append(scan_step(ctx, vulns, by_digest))
    sbom_files: list[str] = []
    if chain is not None and chain.sbom == "cyclonedx":
        sbom_file = f"sbom-{name}.cdx.json"
        sbom_files.append(sbom_file)
        steps.append(action_step(ctx, "SBOM of the image (syft)", "anchore/sbom-action", {
            "image": by_digest, "format": "cyclonedx-json", "output-file": sbom_file,
            "upload-artifact": False}))
        if service.language == "python":
            steps += _python_sbom(ctx, name, service)
            sbom_files.append(f"sbom-{name}-python.cdx.json")
        steps.append(upload_artifact(ctx, f"sbom-{name}", "\n".join(sbom_files), always=False))
    if chain is not None and chain.sign == "keyless":
        permissions["id-token"] = write("sign the image with cosign keyless (OIDC)")
        steps.append(action_step(ctx, "Install cosign", "sigstore/cosign-installer",
                                 {"cosign-release": version("cosign")}))
        steps.append(Step(name="Sign the image digest (keyless)", run=load_script("cosign-sign.sh"),
                          env={"IMAGE": image, "DIGEST": DIGEST}))
    if chain is not None and (chain.provenance or sbom_files):
        signing = "the image (cosign keyless) and " if chain.sign == "keyless" else ""
        permissions["id-token"] = write(f"sign {signing}attestations with the workflow's OIDC "
                                        "identity")
        permissions["attestations"] = write("store provenance and SBOM attestations")
    if chain is not None and chain.provenance:
        steps.append(action_step(ctx, "Attest build provenance", "actions/attest-build-provenance",
                                 {"subject-name": image, "subject-digest": DIGEST,
                                  "push-to-registry": True}))
    for sbom_file in sbom_files:
        steps.append(action_step(ctx, f"Attest {sbom_file} to the image", "actions/attest-sbom",
                                 {"subject-name": image, "subject-digest": DIGEST,
                                  "sbom-path": sbom_file, "push-to-registry": True}))
    return Job(id=job_id(name), name=f"Publish ({name})",
               runs_on=_labels(service.runner_labels(ctx.spec.project)), timeout_minutes=45,
               permissions=permissions, steps=steps,
               outputs={"digest": DIGEST}, control=CONTROL)


def _slsa(ctx: PlanContext, name: str) -> Job:
    """SLSA level 3 provenance. The generator must be called by its release tag (its own
    documentation requires it; slsa-verifier checks the ref): a recorded exception."""
    uses_secret = ("${{ secrets.GITHUB_TOKEN }}" if uses_ghcr(ctx)
                   else "${{ secrets.REGISTRY_PASSWORD }}")
    username = "${{ github.actor }}" if uses_ghcr(ctx) else "${{ secrets.REGISTRY_USERNAME }}"
    action = "slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml"
    with_: dict[str, Scalar] = {"image": image_name(ctx, name),
                                "digest": f"${{{{ needs.{job_id(name)}.outputs.digest }}}}"}
    secrets = {"registry-password": uses_secret}
    if uses_ghcr(ctx):
        with_["registry-username"] = username
    else:
        secrets["registry-username"] = username
    return Job(
        id=f"slsa-{name}", name=f"SLSA provenance ({name})", runs_on="", timeout_minutes=0,
        needs=[job_id(name)],
        permissions={"actions": read("the generator reads the workflow run"),
                     "id-token": write("sign the SLSA provenance (OIDC)"),
                     "packages": write("push the provenance next to the image")},
        uses=ctx.pins.uses(action), with_=with_, secrets=secrets, control=CONTROL,
    )


def build(ctx: PlanContext) -> list[Job]:
    if ctx.spec.project.registry is None:
        return []
    jobs: list[Job] = []
    slsa = ctx.spec.supply_chain is not None and ctx.spec.supply_chain.slsa
    for name, service in ctx.spec.services.items():
        if service.dockerfile:
            jobs.append(_job(ctx, name, service))
            if slsa:
                jobs.append(_slsa(ctx, name))
    return jobs


def _labels(labels: list[str]) -> str | list[str]:
    return labels[0] if len(labels) == 1 else labels
