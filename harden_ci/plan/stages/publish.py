"""Publishing on the default branch: push each image, then carry on by digest only —
scan, SBOM, cosign keyless signature, provenance and SBOM attestations, optional SLSA 3.

One matrix job publishes every image (one per runner class, 256 images at most each), so
the workflow grows by one line per image, not by a job: a monorepo with hundreds of images
stays far below GitHub's workflow size limits. Matrix legs cannot each set a job output,
so every leg uploads its digest and `image-digests` gathers them into one JSON map, which
later jobs index by service name.

These jobs hold the only write permissions harden-ci ever grants, and use no cache: a
poisoned cache must never reach a signed artifact.
"""

from __future__ import annotations

from typing import TypeVar

from harden_ci.model.services import Service
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Matrix, Scalar, Step, read, write
from harden_ci.plan.stages.changes import MATRIX_LIMIT, chunk_count
from harden_ci.plan.stages.images import build_context, scan_step
from harden_ci.plan.steps import action_step, checkout, runs_on, upload_artifact
from harden_ci.plan.tools import pip_requirement, version

T = TypeVar("T")
CONTROL = "Images are pushed by digest, signed, and attested (SBOM, provenance)"
DIGEST = "${{ steps.build.outputs.digest }}"


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


# Matrix values, read by the steps below (spec values reach commands only through env).
M = "${{ matrix.%s }}"
DIGESTS_JOB_ID = "image-digests"
DIGESTS_OUTPUT = f"${{{{ needs.{DIGESTS_JOB_ID}.outputs.digests }}}}"


def _python_sbom(ctx: PlanContext) -> list[Step]:
    """CycloneDX of the service's Python environment (no cache: this job publishes)."""
    is_python = "${{ matrix.python }}"
    return [
        action_step(ctx, "Set up Python", "actions/setup-python",
                    {"python-version": M % "python_version"}, if_=is_python),
        Step(name="SBOM of the Python environment (cyclonedx-py)",
             run=load_script("python-sbom.sh"), working_directory=M % "path", if_=is_python,
             env={"INSTALL_COMMAND": M % "install",
                  "CYCLONEDX_BOM": pip_requirement("cyclonedx-bom"),
                  "SBOM_FILE": "sbom-${{ matrix.service }}-python.cdx.json"}),
    ]


def _entry(ctx: PlanContext, name: str, service: Service) -> dict[str, Scalar]:
    """One image's row of the publish matrix."""
    assert service.dockerfile is not None
    return {"service": name, "image": image_name(ctx, name), "context": build_context(service),
            "dockerfile": service.dockerfile, "path": service.path,
            "python": service.language == "python",
            "python_version": (service.toolchain_version or "") if service.language == "python"
            else "",
            "install": service.install_command or "true"}


def _job(ctx: PlanContext, job_id: str, labels: list[str], entries: list[dict[str, Scalar]]) -> Job:
    chain = ctx.spec.supply_chain
    image = M % "image"
    any_python = any(entry["python"] for entry in entries)
    permissions: dict[str, Grant] = {"contents": read("read the build context")}
    if uses_ghcr(ctx):
        permissions["packages"] = write("push the image to GitHub Packages")
    build_with: dict[str, Scalar] = {
        "context": M % "context", "file": M % "dockerfile", "push": True,
        "tags": f"{image}:${{{{ github.sha }}}}", "provenance": False, "no-cache": True,
    }
    steps: list[Step] = [
        checkout(ctx),
        action_step(ctx, "Set up Docker Buildx", "docker/setup-buildx-action",
                    {"cache-binary": False}),
        _login(ctx),
        action_step(ctx, "Build and push the image", "docker/build-push-action", build_with,
                    id="build"),
        # Matrix legs have no outputs of their own: each records its digest as an artifact
        # and the image-digests job gathers them into one map.
        Step(name="Record the image digest", run=load_script("record-digest.sh"),
             env={"SERVICE": M % "service", "DIGEST": DIGEST}),
        action_step(ctx, "Upload the image digest", "actions/upload-artifact", {
            "name": "digest-${{ matrix.service }}",
            "path": "${{ runner.temp }}/digests/${{ matrix.service }}",
            "if-no-files-found": "error", "retention-days": 1}),
    ]
    by_digest = f"{image}@{DIGEST}"
    vulns = ctx.spec.gates.vulnerabilities if ctx.spec.gates else None
    if vulns is not None:
        steps.append(scan_step(ctx, vulns, by_digest))
    sbom_files: list[str] = []
    if chain is not None and chain.sbom == "cyclonedx":
        sbom_file = "sbom-${{ matrix.service }}.cdx.json"
        sbom_files.append(sbom_file)
        steps.append(action_step(ctx, "SBOM of the image (syft)", "anchore/sbom-action", {
            "image": by_digest, "format": "cyclonedx-json", "output-file": sbom_file,
            "upload-artifact": False}))
        if any_python:
            steps += _python_sbom(ctx)
        steps.append(upload_artifact(ctx, "sbom-${{ matrix.service }}",
                                     "sbom-${{ matrix.service }}*.cdx.json", always=False))
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
    if sbom_files:
        steps.append(action_step(ctx, "Attest the image SBOM", "actions/attest-sbom",
                                 {"subject-name": image, "subject-digest": DIGEST,
                                  "sbom-path": sbom_files[0], "push-to-registry": True}))
        if any_python:
            steps.append(action_step(
                ctx, "Attest the Python environment SBOM", "actions/attest-sbom",
                {"subject-name": image, "subject-digest": DIGEST,
                 "sbom-path": "sbom-${{ matrix.service }}-python.cdx.json",
                 "push-to-registry": True}, if_="${{ matrix.python }}"))
    return Job(id=job_id, name="Publish (${{ matrix.service }})",
               runs_on=runs_on(labels), timeout_minutes=45,
               permissions=permissions, steps=steps,
               matrix=Matrix(include=entries), control=CONTROL)


def _digests_job(ctx: PlanContext, needs: list[str], services: list[str]) -> Job:
    """The legs' digests, checked complete: a map service -> digest, and the same rows in
    matrix-sized chunks for the SLSA jobs."""
    chunks = chunk_count(services)
    outputs = {"digests": "${{ steps.collect.outputs.digests }}"}
    outputs |= {f"images-{i}": f"${{{{ steps.collect.outputs.images-{i} }}}}"
                for i in range(1, chunks + 1)}
    return Job(
        id=DIGESTS_JOB_ID, name="Image digests", runs_on=ctx.runner, timeout_minutes=10,
        needs=needs, steps=[
            action_step(ctx, "Download the image digests", "actions/download-artifact", {
                "pattern": "digest-*", "path": "${{ runner.temp }}/digests",
                "merge-multiple": True}),
            Step(name="Collect the image digests", id="collect",
                 run=load_script("collect-digests.sh"),
                 env={"SERVICES": " ".join(services),
                      "REGISTRY": ctx.spec.project.registry or "",
                      "CHUNK": str(MATRIX_LIMIT)}),
        ],
        outputs=outputs, control=CONTROL)


def digest_of(name: str) -> str:
    """The expression for one service's pushed digest, in jobs after image-digests."""
    return f"${{{{ fromJSON(needs.{DIGESTS_JOB_ID}.outputs.digests)['{name}'] }}}}"


def _slsa(ctx: PlanContext, job_id: str, chunk: int) -> Job:
    """SLSA level 3 provenance. The generator must be called by its release tag (its own
    documentation requires it; slsa-verifier checks the ref): a recorded exception. The
    matrix rows come from image-digests, so each leg names its image and digest directly."""
    uses_secret = ("${{ secrets.GITHUB_TOKEN }}" if uses_ghcr(ctx)
                   else "${{ secrets.REGISTRY_PASSWORD }}")
    username = "${{ github.actor }}" if uses_ghcr(ctx) else "${{ secrets.REGISTRY_USERNAME }}"
    action = "slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml"
    with_: dict[str, Scalar] = {"image": M % "image", "digest": M % "digest"}
    secrets = {"registry-password": uses_secret}
    if uses_ghcr(ctx):
        with_["registry-username"] = username
    else:
        secrets["registry-username"] = username
    rows = f"needs.{DIGESTS_JOB_ID}.outputs.images-{chunk}"
    return Job(
        id=job_id, name="SLSA provenance (${{ matrix.service }})", runs_on="", timeout_minutes=0,
        needs=[DIGESTS_JOB_ID],
        permissions={"actions": read("the generator reads the workflow run"),
                     "id-token": write("sign the SLSA provenance (OIDC)"),
                     "packages": write("push the provenance next to the image")},
        uses=ctx.pins.uses(action), with_=with_, secrets=secrets,
        matrix=Matrix(include_expression=f"${{{{ fromJSON({rows}) }}}}"), control=CONTROL,
    )


def published(ctx: PlanContext) -> list[str]:
    """The services whose images the release workflow pushes, in spec order."""
    if ctx.spec.project.registry is None:
        return []
    return [name for name, service in ctx.spec.services.items() if service.dockerfile]


def _chunks(items: list[T]) -> list[list[T]]:
    return [items[i:i + MATRIX_LIMIT] for i in range(0, len(items), MATRIX_LIMIT)]


def build(ctx: PlanContext) -> list[Job]:
    """Publish jobs: one matrix per runner class (at most 256 images each), the digest map,
    and SLSA provenance when asked for."""
    names = published(ctx)
    if not names:
        return []
    groups: dict[tuple[str, ...], list[dict[str, Scalar]]] = {}
    for name in names:
        service = ctx.spec.services[name]
        labels = tuple(service.runner_labels(ctx.spec.project))
        groups.setdefault(labels, []).append(_entry(ctx, name, service))
    parts = [(list(labels), chunk) for labels, entries in groups.items()
             for chunk in _chunks(entries)]
    ids = ["publish"] if len(parts) == 1 else [f"publish-{i}" for i in range(1, len(parts) + 1)]
    jobs = [_job(ctx, job_id, labels, entries) for job_id, (labels, entries) in zip(ids, parts, strict=True)]
    jobs.append(_digests_job(ctx, ids, names))
    if ctx.spec.supply_chain is not None and ctx.spec.supply_chain.slsa:
        count = chunk_count(names)
        jobs += [_slsa(ctx, "slsa" if count == 1 else f"slsa-{i}", i) for i in range(1, count + 1)]
    return jobs
