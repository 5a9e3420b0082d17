"""Predictions for reviewers: which OpenSSF Scorecard checks the generated CI satisfies, and
the SLSA build level its releases reach. Read off the plan (and the rendered text for the
top-level permissions), never off job ids.

Scorecard facts used (ossf/scorecard, checks/raw): Pinned-Dependencies counts a `uses:`
as pinned only at a full commit SHA and flags `pip install` without hashes in `run:`;
SAST counts code-scanning check runs on merged pull requests (what SARIF uploads create)
and a few actions by name; Signed-Releases and SBOM look at GitHub release assets (and,
for SBOM, `*.cdx.json` at the repository root), not at a registry; CI-Tests counts check
runs on merged pull requests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from harden_ci.model import Spec
from harden_ci.plan.model import Job, Script, Workflow
from harden_ci.report.facts import (
    actions_used,
    is_oidc,
    iter_jobs,
    pr_workflows,
    tools_used,
    uses_of,
)

Status = Literal["met", "partial", "not-met"]
_PIP_INSTALL = re.compile(r"\bpip3? install\b")
_SAST_ACTIONS = re.compile(r"^(github/codeql-action/(analyze|upload-sarif)|hadolint/hadolint-action"
                           r"|snyk/actions/.*|JetBrains/qodana-action|facebook/pysa-action)$")


@dataclass(frozen=True)
class Prediction:
    check: str
    status: Status
    reason: str

    @property
    def satisfied(self) -> bool:
        return self.status == "met"


def _top_level_permissions_empty(files: dict[str, str], workflows: list[Workflow]) -> bool:
    names = [wf.filename for wf in workflows]
    return bool(names) and all(
        name in files and re.search(r"^permissions: \{\}$", files[name], re.MULTILINE)
        for name in names)


def _token_permissions(files: dict[str, str], workflows: list[Workflow]) -> Prediction:
    writes = sum(1 for _, job in iter_jobs(workflows)
                 for grant in job.permissions.values() if grant.level == "write")
    if _top_level_permissions_empty(files, workflows):
        return Prediction("Token-Permissions", "met",
                          f"every workflow sets `permissions: {{}}` at the top; the {writes} "
                          "write grant(s) sit on the jobs that need them, each with a reason")
    return Prediction("Token-Permissions", "not-met",
                      "a workflow lacks an empty top-level `permissions:` block")


def _pip_installs(workflows: list[Workflow]) -> int:
    count = 0
    for _, job in iter_jobs(workflows):
        for step in job.steps:
            body = step.run.body if isinstance(step.run, Script) else (step.run or "")
            if _PIP_INSTALL.search(body) and "--require-hashes" not in body:
                count += 1
    return count


def _pinned_dependencies(workflows: list[Workflow]) -> Prediction:
    actions = actions_used(workflows)
    tag_pins = [a.action for a in actions if a.ref_style != "sha"]
    pips = _pip_installs(workflows)
    pinned = len(actions) - len(tag_pins)
    problems = []
    if tag_pins:
        problems.append(f"{len(tag_pins)} tag pin(s) kept as recorded exceptions "
                        f"({', '.join(tag_pins)})")
    if pips:
        problems.append(f"{pips} `pip install` step(s) pin exact versions but not hashes")
    if not problems:
        return Prediction("Pinned-Dependencies", "met",
                          f"all {pinned} actions are pinned to full commit SHAs; images by digest")
    return Prediction("Pinned-Dependencies", "partial",
                      f"{pinned} of {len(actions)} actions pinned to full commit SHAs; "
                      + "; ".join(problems))


def _dangerous_workflow(workflows: list[Workflow]) -> Prediction:
    risky = [wf.filename for wf in workflows
             if getattr(wf.on, "pull_request_target", False) or getattr(wf.on, "workflow_run", False)]
    if risky:
        return Prediction("Dangerous-Workflow", "not-met",
                          f"privileged triggers in {', '.join(risky)}")
    return Prediction("Dangerous-Workflow", "met",
                      "no pull_request_target or workflow_run triggers, and no `${{ }}` in any "
                      "`run:` (values reach scripts through env)")


def _sast(workflows: list[Workflow]) -> Prediction:
    sarif = sorted({uses.action for _, job in iter_jobs(workflows) for uses in uses_of(job)
                    if _SAST_ACTIONS.match(uses.action)})
    if sarif:
        return Prediction("SAST", "met",
                          f"pull requests upload findings to code scanning ({', '.join(sarif)}), "
                          "whose check runs Scorecard counts")
    return Prediction("SAST", "not-met", "no gate uploads SARIF to code scanning "
                      "(turn on gates.iac_lint or gates.secret_scan with code_scanning)")


def _signed_releases(spec: Spec, workflows: list[Workflow]) -> Prediction:
    chain = spec.supply_chain
    signs = any(t.name == "cosign" for t in tools_used(workflows))
    if chain is None or chain.sign != "keyless":
        return Prediction("Signed-Releases", "not-met", "signing is off (supply_chain.sign)")
    if not signs:
        return Prediction("Signed-Releases", "not-met",
                          "signing is on but nothing is published (needs project.registry and a "
                          "service Dockerfile)")
    return Prediction("Signed-Releases", "partial",
                      "every pushed image digest is cosign-signed (keyless) and attested; "
                      "Scorecard reads GitHub release assets, so it scores once signatures or "
                      "provenance are attached to releases")


def _sbom(spec: Spec, workflows: list[Workflow]) -> Prediction:
    chain = spec.supply_chain
    produced = any(uses.action == "anchore/sbom-action" for _, job in iter_jobs(workflows)
                   for uses in uses_of(job)) or any(t.name == "cyclonedx-bom"
                                                    for t in tools_used(workflows))
    if chain is None or chain.sbom == "none" or not produced:
        return Prediction("SBOM", "not-met", "no SBOM is produced (supply_chain.sbom, or nothing "
                          "is published)")
    return Prediction("SBOM", "partial",
                      "a CycloneDX SBOM of each image is attested in the registry and uploaded "
                      "as an artifact; Scorecard looks for SBOMs in release assets or at the "
                      "repository root")


def _ci_tests(workflows: list[Workflow]) -> Prediction:
    jobs = sum(len(wf.jobs) for wf in pr_workflows(workflows) if wf.on.pull_request)
    queued = sum(len(wf.jobs) for wf in pr_workflows(workflows) if wf.on.merge_group)
    if jobs:
        return Prediction("CI-Tests", "met", f"{jobs} jobs run on pull requests ({queued} of "
                          "them in the merge queue too), reporting check runs")
    return Prediction("CI-Tests", "not-met", "no workflow runs on pull requests")


def scorecard(spec: Spec, workflows: list[Workflow], files: dict[str, str]) -> list[Prediction]:
    return [
        _token_permissions(files, workflows),
        _pinned_dependencies(workflows),
        _dangerous_workflow(workflows),
        _sast(workflows),
        _signed_releases(spec, workflows),
        _sbom(spec, workflows),
        _ci_tests(workflows),
    ]


@dataclass(frozen=True)
class SlsaLevel:
    level: int
    reason: str


def _job_calls(job: Job, needle: str) -> bool:
    return any(needle in uses.action for uses in uses_of(job))


def _calls(workflows: Iterable[Workflow], needle: str) -> bool:
    return any(_job_calls(job, needle) for _, job in iter_jobs(workflows))


def slsa_level(spec: Spec, workflows: list[Workflow]) -> SlsaLevel:
    """L3 with the SLSA generator, L2 with signed provenance attestations, L1 with any
    provenance, else 0."""
    chain = spec.supply_chain
    workflows = list(workflows)
    attesting = [job for _, job in iter_jobs(workflows)
                 if "attestations" in job.permissions and _job_calls(job, "attest")]
    if chain is not None and chain.slsa and _calls(workflows, "slsa-github-generator"):
        return SlsaLevel(3, "provenance comes from slsa-github-generator's isolated reusable "
                            "workflow, signed with its own OIDC identity, so the build cannot "
                            "forge it (Build L3)")
    if chain is not None and chain.provenance and attesting:
        if all(is_oidc(job) for job in attesting):
            return SlsaLevel(2, "each pushed image gets a build provenance attestation signed "
                                "with the workflow's OIDC identity, in a job apart from the build "
                                "that runs no repository code, so the platform vouches for it "
                                "(Build L2); the provenance is still generated by this workflow, "
                                "so L3 needs `supply_chain.slsa: true`")
        return SlsaLevel(1, "provenance is recorded but not signed by the platform (Build L1)")
    if chain is not None and chain.provenance:
        return SlsaLevel(0, "provenance is on but nothing is published (needs project.registry "
                            "and a service Dockerfile)")
    return SlsaLevel(0, "no provenance is produced (supply_chain.provenance is off or the "
                        "section is absent)")
