"""Verify before deploy: a job that deploys the release's images first checks, for every
digest it deploys, the cosign keyless signature (exact identity and issuer: this release
workflow at this run's ref) and, with provenance on, the provenance attestation.

The verification is the job's first steps, before the checkout: nothing of the repository
runs before the images are known to be the ones the signing job signed, nor while the
registry login that verification needs is in place (it is dropped right after). Deploy jobs wait
for the signing jobs (and SLSA), so the signatures exist when they look.

The provenance is checked with `gh attestation verify`, not `cosign verify-attestation`:
actions/attest-build-provenance signs with GitHub's own Sigstore instance in private and
internal repositories (no public transparency log entry), which cosign's default trust root
rejects; gh verifies either instance and reads the attestation from GitHub's API.
"""

from __future__ import annotations

from dataclasses import replace

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Step, read
from harden_ci.plan.stages import publish, signing
from harden_ci.plan.stages.changes import chunk_count
from harden_ci.plan.steps import action_step
from harden_ci.plan.tools import version

SCRIPT = "verify-images.sh"
ISSUER = "https://token.actions.githubusercontent.com"
CONTROL = "Deploys verify each image's keyless signature and provenance before deploying"


def enabled(ctx: PlanContext) -> bool:
    """Only a signed release can be verified: without `sign: keyless` there is no signature."""
    chain = ctx.spec.supply_chain
    return chain is not None and chain.sign == "keyless" and bool(signing.job_ids(ctx))


def _release_file() -> str:
    # Imported late: plan.workflows imports the stages.
    from harden_ci.plan.workflows import RELEASE_FILE
    return RELEASE_FILE


def _provenance(ctx: PlanContext) -> bool:
    return ctx.spec.supply_chain is not None and ctx.spec.supply_chain.provenance


def needs(ctx: PlanContext) -> list[str]:
    """The jobs whose signatures and provenance a deploy verifies."""
    if not enabled(ctx):
        return []
    ids = signing.job_ids(ctx)
    chain = ctx.spec.supply_chain
    if chain is not None and chain.slsa:
        count = chunk_count(publish.published(ctx))
        ids += ["slsa"] if count == 1 else [f"slsa-{i}" for i in range(1, count + 1)]
    return ids


def steps(ctx: PlanContext) -> list[Step]:
    workflow = f".github/workflows/{_release_file()}"
    env = {
        # Both maps from image-digests: a static map of every image would grow each
        # deploying job by a line per image.
        "IMAGES": f"${{{{ needs.{publish.DIGESTS_JOB_ID}.outputs.names }}}}",
        "DIGESTS": publish.DIGESTS_OUTPUT,
        # The deploy runs in the release run that signed: same workflow, same ref.
        "IDENTITY": f"https://github.com/${{{{ github.repository }}}}/{workflow}"
                    "@${{ github.ref }}",
        "ISSUER": ISSUER,
        "PROVENANCE": "true" if _provenance(ctx) else "",
    }
    chain = ctx.spec.supply_chain
    if chain is not None and chain.slsa:
        # The SLSA Build L3 provenance the generator pushed next to each image.
        env["SLSA_IDENTITY"] = publish.slsa_identity(ctx)
    if _provenance(ctx):
        env["SIGNER_WORKFLOW"] = f"${{{{ github.repository }}}}/{workflow}"
        env["GH_TOKEN"] = "${{ github.token }}"
    return [
        # Signatures and attestations live next to the image in the registry.
        publish.login(ctx),
        action_step(ctx, "Install cosign", "sigstore/cosign-installer",
                    {"cosign-release": version("cosign")}),
        Step(name="Verify the images' signatures and provenance", run=load_script(SCRIPT),
             env=env),
        # The login's credentials (a registry password, outside GitHub Packages) must not
        # reach the deploy commands, which run the repository's code.
        Step(name="Log out of the registry", run=load_script("registry-logout.sh"),
             env={"REGISTRY": (ctx.spec.project.registry or "").split("/")[0]}),
    ]


def permissions(ctx: PlanContext) -> dict[str, Grant]:
    grants: dict[str, Grant] = {}
    if publish.uses_ghcr(ctx):
        grants["packages"] = read("read the images' signatures in GitHub Packages")
    if _provenance(ctx):
        grants["attestations"] = read("read the images' provenance attestations")
    return grants


VERIFY_STEP_MINUTES = 5  # a login, an install, a verification of every digest, a logout


def guard(ctx: PlanContext, job: Job) -> None:
    """Make `job`, which deploys the published images, verify them first."""
    if not enabled(ctx):
        return
    # Each verify step has its own timeout, added to the job's: the canary's job timeout
    # is the sum of its steps' (delivery.py), so a rollback keeps its full margin.
    guarding = [replace(step, timeout_minutes=step.timeout_minutes or VERIFY_STEP_MINUTES)
                for step in steps(ctx)]
    job.steps[:0] = guarding
    if isinstance(job.timeout_minutes, int):
        job.timeout_minutes += sum(step.timeout_minutes or 0 for step in guarding)
    job.needs += [need for need in needs(ctx) if need not in job.needs]
    job.permissions = {**job.permissions, **permissions(ctx)}
