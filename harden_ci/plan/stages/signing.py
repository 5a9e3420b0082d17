"""Signing, isolated from building: after `image-digests`, one matrix job per 256 images
signs each pushed digest (cosign keyless) and attests its provenance and SBOMs.

These are the only jobs of harden-ci holding `id-token: write` and `attestations: write`
(besides the SLSA generator's call). They check out nothing, run none of the repository's
code and install nothing unhashed: they download the build's SBOMs and recorded hashes,
check the SBOMs are about exactly this digest (check-sboms.sh), then use pinned actions
only. A compromised build can push a bad image, but cannot mint an OIDC token to sign or
attest anything else, nor attest an SBOM of another digest.
"""

from __future__ import annotations

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Matrix, Step, write
from harden_ci.plan.stages import publish
from harden_ci.plan.stages.changes import chunk_count
from harden_ci.plan.steps import action_step, secrets_environment
from harden_ci.plan.tools import version

CONTROL = ("Images are signed and attested (SBOM, provenance) by digest, in a job that runs "
           "no repository code")
# The pushed digest of this leg's image: check-sboms.sh picks it from image-digests' map
# (an index computed in an expression would be obfuscation to zizmor) and hands it on only
# once the SBOMs are checked against it.
CHECK_ID = "check"
DIGEST = f"${{{{ steps.{CHECK_ID}.outputs.digest }}}}"
RECORDED = "${{ runner.temp }}/recorded"
SBOMS = "${{ runner.temp }}/sbom"


def enabled(ctx: PlanContext) -> bool:
    chain = ctx.spec.supply_chain
    return chain is not None and (chain.sign == "keyless" or chain.provenance
                                  or chain.sbom == "cyclonedx")


def job_ids(ctx: PlanContext) -> list[str]:
    """The signing jobs' ids (empty when nothing is signed or attested)."""
    names = publish.published(ctx)
    if not names or not enabled(ctx):
        return []
    count = chunk_count(names)
    return ["sign"] if count == 1 else [f"sign-{i}" for i in range(1, count + 1)]


def _steps(ctx: PlanContext, any_python: bool) -> list[Step]:
    chain = ctx.spec.supply_chain
    assert chain is not None
    image = publish.M % "image"
    sboms = chain.sbom == "cyclonedx"
    steps = [action_step(ctx, "Download the recorded digest", "actions/download-artifact",
                         {"name": publish.DIGEST_ARTIFACT, "path": RECORDED})]
    if sboms:
        steps.append(action_step(ctx, "Download the SBOMs", "actions/download-artifact",
                                 {"name": publish.SBOM_ARTIFACT, "path": SBOMS}))
    steps.append(Step(name="Check the SBOMs are about this digest", id=CHECK_ID,
                      run=load_script("check-sboms.sh"),
                      env={"SERVICE": publish.M % "service", "DIGESTS": publish.DIGESTS_OUTPUT,
                           "RECORDED": RECORDED, "SBOM_DIR": SBOMS if sboms else "",
                           "IMAGE_SBOM": publish.IMAGE_SBOM if sboms else ""}))
    # cosign and the attest actions write next to the image in the registry.
    steps.append(publish.login(ctx))
    if chain.sign == "keyless":
        steps.append(action_step(ctx, "Install cosign", "sigstore/cosign-installer",
                                 {"cosign-release": version("cosign")}))
        steps.append(Step(name="Sign the image digest (keyless)", run=load_script("cosign-sign.sh"),
                          env={"IMAGE": image, "DIGEST": DIGEST}))
    if chain.provenance:
        steps.append(action_step(ctx, "Attest build provenance", "actions/attest-build-provenance",
                                 {"subject-name": image, "subject-digest": DIGEST,
                                  "push-to-registry": True}))
    if sboms:
        steps.append(action_step(ctx, "Attest the image SBOM", "actions/attest-sbom",
                                 {"subject-name": image, "subject-digest": DIGEST,
                                  "sbom-path": f"{SBOMS}/{publish.IMAGE_SBOM}",
                                  "push-to-registry": True}))
        if any_python:
            steps.append(action_step(
                ctx, "Attest the Python environment SBOM", "actions/attest-sbom",
                {"subject-name": image, "subject-digest": DIGEST,
                 "sbom-path": f"{SBOMS}/{publish.PYTHON_SBOM}", "push-to-registry": True},
                if_=f"${{{{ steps.{CHECK_ID}.outputs.python_sbom == 'true' }}}}"))
    return steps


def _permissions(ctx: PlanContext) -> dict[str, Grant]:
    chain = ctx.spec.supply_chain
    assert chain is not None
    signing = "the image (cosign keyless) and " if chain.sign == "keyless" else ""
    permissions: dict[str, Grant] = {}
    if publish.uses_ghcr(ctx):
        permissions["packages"] = write("write the signature and attestations next to the "
                                        "image in GitHub Packages")
    permissions["id-token"] = write(f"sign {signing}attestations with the workflow's OIDC "
                                    "identity")
    if chain.provenance or chain.sbom == "cyclonedx":
        permissions["attestations"] = write("store provenance and SBOM attestations")
    return permissions


def build(ctx: PlanContext) -> list[Job]:
    """One job per image-digests chunk, its matrix the chunk's rows (service, image,
    digest): nothing per image is written into the workflow, which keeps a thousand images
    under GitHub's file size limit."""
    ids = job_ids(ctx)
    names = publish.published(ctx) if ids else []
    any_python = any(ctx.spec.services[name].language == "python" for name in names)
    jobs = []
    for chunk, job_id in enumerate(ids, start=1):
        rows = f"needs.{publish.DIGESTS_JOB_ID}.outputs.images-{chunk}"
        jobs.append(Job(
            id=job_id, name="Sign and attest (${{ matrix.service }})", runs_on=ctx.runner,
            timeout_minutes=20, needs=[publish.DIGESTS_JOB_ID],
            if_=f"${{{{ {rows} != '[]' && {rows} != '' }}}}",
            # Keyless signatures name the workflow file and ref, which an environment
            # leaves as they are (it changes only the OIDC token's `sub`).
            environment=secrets_environment(ctx, not publish.uses_ghcr(ctx)),
            permissions=_permissions(ctx), steps=_steps(ctx, any_python),
            matrix=Matrix(include_expression=f"${{{{ fromJSON({rows}) }}}}"), control=CONTROL))
    return jobs
