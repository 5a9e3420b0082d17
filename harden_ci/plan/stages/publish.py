"""Publishing on the default branch: build and push each image, then carry on by digest
only — scan, SBOMs, optional SLSA 3. Signing and attesting happen in the signing stage
(plan/stages/signing.py), in jobs that run none of the repository's code.

One matrix job publishes every image (one per runner class, 256 images at most each), so
the workflow grows by one line per image, not by a job: a monorepo with hundreds of images
stays far below GitHub's workflow size limits. Matrix legs cannot each set a job output,
so every leg uploads its digest (and its SBOMs' sha256) and `image-digests` gathers the
digests into one JSON map, which later jobs index by service name.

The build jobs hold `packages: write` (to push) and nothing else that writes, and use no
cache: a poisoned cache must never reach a signed artifact.
"""

from __future__ import annotations

from typing import TypeVar

from harden_ci.model.services import Service
from harden_ci.plan import docker, managers
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Matrix, Scalar, Step, read, write
from harden_ci.plan.stages.changes import MATRIX_LIMIT, chunk_count
from harden_ci.plan.stages.images import scan_step
from harden_ci.plan.steps import (
    action_step,
    checkout,
    runs_on,
    secrets_environment,
    setup_uv,
    tool_lock_in_repo,
    upload_artifact,
)
from harden_ci.plan.tools import PIP_TOOLSETS

T = TypeVar("T")
CONTROL = "Images are pushed by digest, signed, and attested (SBOM, provenance)"
DIGEST = "${{ steps.build.outputs.digest }}"
IMAGE_SBOM = "sbom-${{ matrix.service }}.cdx.json"
PYTHON_SBOM = "sbom-${{ matrix.service }}-python.cdx.json"
SBOM_ARTIFACT = "sbom-${{ matrix.service }}"
DIGEST_ARTIFACT = "digest-${{ matrix.service }}"


def image_name(ctx: PlanContext, name: str) -> str:
    assert ctx.spec.project.registry is not None
    return f"{ctx.spec.project.registry}/{docker.image_name(ctx.spec.services[name], name)}"


def uses_ghcr(ctx: PlanContext) -> bool:
    return (ctx.spec.project.registry or "").startswith("ghcr.io/")


def login(ctx: PlanContext) -> Step:
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
    managers_used = {s.manager_name for s in ctx.spec.services.values()
                     if s.dockerfile and s.language == "python"}
    steps = [action_step(ctx, "Set up Python", "actions/setup-python",
                         {"python-version": M % "python_version"}, if_=is_python)]
    # The package manager the service's install needs: uv from the pinned action (no
    # cache: this job publishes), poetry and pdm at exact, hash-checked versions.
    if managers_used & {"poetry", "pdm"}:
        steps.append(managers.install_manager_step(
            M % "manager", if_="${{ matrix.manager == 'poetry' || matrix.manager == 'pdm' }}"))
    if "uv" in managers_used:
        steps.append(setup_uv(ctx, "", if_="${{ matrix.manager == 'uv' }}", cache=False))
    return [
        *steps,
        Step(name="SBOM of the Python environment (cyclonedx-py)",
             run=load_script("python-sbom.sh"), working_directory=M % "path", if_=is_python,
             env={"INSTALL_COMMAND": M % "install", "PACKAGE_MANAGER": M % "manager",
                  "INSTALL_DIR": M % "install_dir",
                  "CYCLONEDX_LOCK": tool_lock_in_repo(PIP_TOOLSETS["cyclonedx"]),
                  "SBOM_FILE": PYTHON_SBOM}),
    ]


def _entry(ctx: PlanContext, name: str, service: Service) -> dict[str, Scalar]:
    """One image's row of the publish matrix, every setting present (see _trimmed)."""
    assert service.dockerfile is not None
    python = service.language == "python"
    row: dict[str, Scalar] = {
        "service": name, "image": image_name(ctx, name), **docker.settings(service),
        "dockerfile": service.dockerfile, "path": service.path, "python": python,
        "manager": (service.manager_name or "") if python else "",
        # where the install runs, when that is not the service's folder (a workspace root)
        "install_dir": service.install_dir if python and service.install_dir != service.path
        else "",
        "python_version": (service.toolchain_version or "") if python else "",
        "install": service.install_command or "true"}
    return row


def _trimmed(entries: list[dict[str, Scalar]]) -> list[dict[str, Scalar]]:
    """Rows after the first leave their empty settings out (a missing matrix key reads as
    '' in an expression, as an empty one does), so a thousand images stay under GitHub's
    workflow size limit; the first row keeps every key, which is how actionlint learns the
    matrix's properties."""
    return [entries[0], *({k: v for k, v in row.items() if v not in ("", False)}
                          for row in entries[1:])] if entries else []


def _job(ctx: PlanContext, job_id: str, labels: list[str], entries: list[dict[str, Scalar]],
         build_secrets: tuple[str, ...] = ()) -> Job:
    """`build_secrets`: the build secrets every leg of this job names (jobs are grouped by
    them, so no leg's environment holds another service's secrets)."""
    chain = ctx.spec.supply_chain
    image = M % "image"
    any_python = any(entry.get("python") for entry in entries)
    secret_with, secret_env = docker.secret_inputs(build_secrets)
    permissions: dict[str, Grant] = {"contents": read("read the build context")}
    if uses_ghcr(ctx):
        permissions["packages"] = write("push the image to GitHub Packages")
    # No id-token or attestations here: this job runs the repository's code (the build, the
    # Python install for its SBOM), so signing happens in the signing job, which runs none.
    build_with: dict[str, Scalar] = {
        **docker.build_inputs(lambda key: M % key), **secret_with,
        "file": M % "dockerfile", "push": True,
        "tags": f"{image}:${{{{ github.sha }}}}", "provenance": False, "no-cache": True,
    }
    steps: list[Step] = [
        checkout(ctx),
        *([action_step(ctx, "Set up QEMU (multi-arch)", "docker/setup-qemu-action",
                       {"cache-image": False}, if_="${{ matrix.platforms != '' }}")]
          if any(entry.get("platforms") for entry in entries) else []),
        action_step(ctx, "Set up Docker Buildx", "docker/setup-buildx-action",
                    {"cache-binary": False}),
        login(ctx),
        action_step(ctx, "Build and push the image", "docker/build-push-action", build_with,
                    id="build", **({"env": secret_env} if secret_env else {})),
        # Matrix legs have no outputs of their own: each records its digest as an artifact
        # and the image-digests job gathers them into one map.
        Step(name="Record the image digest", run=load_script("record-digest.sh"),
             env={"SERVICE": M % "service", "IMAGE": image, "DIGEST": DIGEST}),
    ]
    by_digest = f"{image}@{DIGEST}"
    vulns = ctx.spec.gates.vulnerabilities if ctx.spec.gates else None
    if vulns is not None:
        steps.append(scan_step(ctx, vulns, by_digest))
    recorded = ["${{ runner.temp }}/digests/${{ matrix.service }}",
                "${{ runner.temp }}/digests/${{ matrix.service }}.image"]
    if chain is not None and chain.sbom == "cyclonedx":
        steps.append(action_step(ctx, "SBOM of the image (syft)", "anchore/sbom-action", {
            "image": by_digest, "format": "cyclonedx-json", "output-file": IMAGE_SBOM,
            "upload-artifact": False}))
        if any_python:
            steps += _python_sbom(ctx)
        # The signing job checks the SBOMs it attests against these hashes.
        steps.append(Step(name="Record the SBOM hashes", run=load_script("record-sbom-sums.sh"),
                          env={"SERVICE": M % "service"}))
        recorded.append("${{ runner.temp }}/digests/${{ matrix.service }}.sbom.sha256")
        steps.append(upload_artifact(ctx, SBOM_ARTIFACT, "sbom-${{ matrix.service }}*.cdx.json",
                                     always=False))
    steps.append(action_step(ctx, "Upload the image digest", "actions/upload-artifact", {
        "name": DIGEST_ARTIFACT, "path": "\n".join(recorded),
        "if-no-files-found": "error", "retention-days": 1}))
    return Job(id=job_id, name="Publish (${{ matrix.service }})",
               runs_on=runs_on(labels), timeout_minutes=45,
               environment=secrets_environment(ctx, bool(build_secrets) or not uses_ghcr(ctx)),
               permissions=permissions, steps=steps,
               matrix=Matrix(include=_trimmed(entries)), control=CONTROL)


def _digests_job(ctx: PlanContext, needs: list[str], services: list[str]) -> Job:
    """The legs' digests, checked complete: a map service -> digest, and the same rows in
    matrix-sized chunks for the SLSA jobs."""
    chunks = chunk_count(services)
    outputs = {"digests": "${{ steps.collect.outputs.digests }}",
               "names": "${{ steps.collect.outputs.names }}"}
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
                      "CHUNK": str(MATRIX_LIMIT)}),
        ],
        outputs=outputs, control=CONTROL)


def digest_of(name: str) -> str:
    """The expression for one service's pushed digest, in jobs after image-digests."""
    return f"${{{{ fromJSON(needs.{DIGESTS_JOB_ID}.outputs.digests)['{name}'] }}}}"


SLSA_GENERATOR = ("slsa-framework/slsa-github-generator/.github/workflows/"
                  "generator_container_slsa3.yml")


def slsa_identity(ctx: PlanContext) -> str:
    """The certificate identity of the SLSA generator's provenance signature: its reusable
    workflow at the pinned release tag (slsa-github-generator's container README: verify
    with `cosign verify-attestation --type slsaprovenance` and this identity)."""
    repository, workflow = SLSA_GENERATOR.split("/.github/", 1)
    return (f"https://github.com/{repository}/.github/{workflow}"
            f"@refs/tags/{ctx.pins.get(SLSA_GENERATOR).tag}")


def _slsa(ctx: PlanContext, job_id: str, chunk: int) -> Job:
    """SLSA level 3 provenance. The generator must be called by its release tag (its own
    documentation requires it; slsa-verifier checks the ref): a recorded exception. The
    matrix rows come from image-digests, so each leg names its image and digest directly."""
    uses_secret = ("${{ secrets.GITHUB_TOKEN }}" if uses_ghcr(ctx)
                   else "${{ secrets.REGISTRY_PASSWORD }}")
    username = "${{ github.actor }}" if uses_ghcr(ctx) else "${{ secrets.REGISTRY_USERNAME }}"
    action = SLSA_GENERATOR
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
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Scalar]]] = {}
    for name in names:
        service = ctx.spec.services[name]
        key = (tuple(service.runner_labels(ctx.spec.project)), docker.secrets(service))
        groups.setdefault(key, []).append(_entry(ctx, name, service))
    parts = [(list(labels), build_secrets, chunk)
             for (labels, build_secrets), entries in groups.items() for chunk in _chunks(entries)]
    ids = ["publish"] if len(parts) == 1 else [f"publish-{i}" for i in range(1, len(parts) + 1)]
    jobs = [_job(ctx, job_id, labels, entries, build_secrets)
            for job_id, (labels, build_secrets, entries) in zip(ids, parts, strict=True)]
    jobs.append(_digests_job(ctx, ids, names))
    if ctx.spec.supply_chain is not None and ctx.spec.supply_chain.slsa:
        count = chunk_count(names)
        jobs += [_slsa(ctx, "slsa" if count == 1 else f"slsa-{i}", i) for i in range(1, count + 1)]
    return jobs
