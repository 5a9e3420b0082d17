"""`explain`: the security review of one spec, as data (`build`) and as JSON (`as_json`).

The Markdown rendering is `harden_ci.report.explain_md`. The JSON shape is documented by
`docs/explain-schema.json`; `schema_version` changes when a field is removed or renamed.
Everything is read generically off the plan (controls from `Job.control`, permissions with
their reasons, secrets from the values jobs pass on), plus the spec's own sections,
budgets and rollback rules.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from harden_ci import __version__
from harden_ci.load import LoadedSpec
from harden_ci.model import Spec
from harden_ci.plan.model import Job, Script, Workflow
from harden_ci.plan.selfinstall import describe_source
from harden_ci.plan.stages import verify_deploy
from harden_ci.report import spec_facts
from harden_ci.report.accepted import Accepted, accepted
from harden_ci.report.facts import (
    AUTOMATIC_TOKEN,
    ActionUse,
    JobRef,
    ToolUse,
    actions_used,
    images_used,
    is_matrix,
    is_oidc,
    iter_jobs,
    job_ref,
    pr_workflows,
    readable,
    secrets_of,
    tools_used,
    uses_of,
)
from harden_ci.report.policy import PolicyResult
from harden_ci.report.scorecard import Prediction, SlsaLevel, scorecard, slsa_level
from harden_ci.report.toolchains import Toolchain, UnitTests, toolchains, unit_tests

SCHEMA_VERSION = 1
UNRECORDED_CONTROL = "(no control recorded)"


def _required_job_id() -> str:
    """The assembler's one check name to require (see harden_ci.plan.workflows)."""
    from harden_ci.plan import workflows

    return str(getattr(workflows, "REQUIRED_JOB_ID", "required"))


@dataclass(frozen=True)
class Control:
    control: str
    jobs: tuple[JobRef, ...]


@dataclass(frozen=True)
class Check:
    """A check name a pull request reports (one per job; a matrix job reports one per leg).

    `merge_queue` says whether the check also reports in the merge queue: under a merge
    queue, require only checks that do, or merges wait forever."""

    name: str
    workflow: str
    job: str
    matrix: bool
    conditional: bool
    merge_queue: bool


@dataclass(frozen=True)
class RequiredChecks:
    recommended: str | None
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class Explanation:
    spec_file: str
    spec_sha256: str
    project: str
    workflows: list[Workflow]
    controls: list[Control]
    sections: list[spec_facts.Section]
    environments: list[spec_facts.EnvironmentFacts]
    budgets: list[spec_facts.Rule]
    rollback: list[spec_facts.Rule]
    actions: list[ActionUse]
    tools: list[ToolUse]
    toolchains: list[Toolchain]
    unit_tests: list[UnitTests]
    harden_ci_source: str  # where CI gets harden-ci itself, and how it is pinned
    images: list[tuple[str, tuple[JobRef, ...]]]
    required: RequiredChecks
    scorecard: list[Prediction]
    slsa: SlsaLevel
    policy: PolicyResult | None
    accepted: list[Accepted]
    deploys: str = ""  # whether deploys verify the images they deploy; "" when none do
    # project.secrets_environment, and the jobs (deploying nowhere) that reference it
    secrets_environment: str = "ci"
    secrets_environment_jobs: tuple[JobRef, ...] = ()


def _deploys(workflows: list[Workflow]) -> str:
    """Whether the jobs that deploy the published images verify them first."""
    deploying: list[str] = []
    verified: list[str] = []
    slsa = False
    for _wf, job in iter_jobs(workflows):
        if not any(key.startswith("HARDEN_CI_DIGEST_") for step in job.steps for key in step.env):
            continue
        deploying.append(job.id)
        checks = [step for step in job.steps
                  if isinstance(step.run, Script) and step.run.name == verify_deploy.SCRIPT]
        if checks:
            verified.append(job.id)
            slsa = slsa or any("SLSA_IDENTITY" in step.env for step in checks)
    if not deploying:
        return ""
    unverified = [job_id for job_id in deploying if job_id not in verified]
    if unverified:
        return ("Deploys are unverified: supply_chain.sign is off, so there is no signature to "
                f"check before deploying ({', '.join(unverified)}).")
    generator = (", and the SLSA generator's provenance signed by its workflow at the pinned "
                 "tag" if slsa else "")
    return ("Deploys verify each image's keyless signature (and provenance when on"
            f"{generator}) before deploying ({', '.join(verified)}).")


def _controls(workflows: list[Workflow]) -> list[Control]:
    grouped: dict[str, list[JobRef]] = {}
    for wf, job in iter_jobs(workflows):
        grouped.setdefault(job.control or UNRECORDED_CONTROL, []).append(job_ref(wf, job))
    return [Control(text, tuple(jobs)) for text, jobs in grouped.items()]


def _required(workflows: list[Workflow]) -> RequiredChecks:
    required_id = _required_job_id()
    checks: list[Check] = []
    recommended = None
    for wf in pr_workflows(workflows):
        for job in wf.jobs:
            conditional = job.if_ is not None and "always()" not in job.if_
            checks.append(Check(job.name, wf.filename, job.id, is_matrix(job), conditional,
                                wf.on.merge_group))
            if job.id == required_id and wf.on.merge_group and wf.on.pull_request:
                recommended = job.name
    return RequiredChecks(recommended, tuple(checks))


def build(spec: Spec, loaded: LoadedSpec, workflows: list[Workflow], files: dict[str, str],
          policy: PolicyResult | None = None) -> Explanation:
    """The whole review, from a validated spec, its plan and its rendered files."""
    return Explanation(
        spec_file=loaded.source,
        spec_sha256=hashlib.sha256(loaded.raw).hexdigest(),
        project=spec.project.name,
        workflows=workflows,
        controls=_controls(workflows),
        sections=spec_facts.sections(spec, loaded),
        environments=spec_facts.environments(spec, loaded),
        budgets=spec_facts.budgets(spec, loaded),
        rollback=spec_facts.rollback_rules(spec, loaded),
        actions=actions_used(workflows),
        tools=tools_used(workflows),
        toolchains=toolchains(spec),
        unit_tests=unit_tests(spec),
        harden_ci_source=describe_source(spec),
        images=images_used(workflows),
        required=_required(workflows),
        scorecard=scorecard(spec, workflows, files),
        slsa=slsa_level(spec, workflows),
        policy=policy,
        accepted=accepted(spec, loaded),
        deploys=_deploys(workflows),
        secrets_environment=spec.project.secrets_environment,
        secrets_environment_jobs=tuple(
            job_ref(wf, job) for wf, job in iter_jobs(workflows)
            if job.environment == spec.project.secrets_environment),
    )


# --- JSON ---------------------------------------------------------------------------------

def _job_json(wf: Workflow, job: Job) -> dict[str, Any]:
    secrets = secrets_of(job)
    return {
        "workflow": wf.filename,
        "id": job.id,
        "name": job.name,
        "control": job.control or None,
        "needs": list(job.needs),
        "matrix": is_matrix(job),
        "condition": job.if_,
        "environment": job.environment,
        "runs_on": job.runs_on or None,
        "reusable_workflow": job.uses.action if job.uses is not None else None,
        "permissions": [{"scope": scope, "level": grant.level, "reason": grant.reason}
                        for scope, grant in job.permissions.items()],
        "secrets": secrets,
        "oidc": is_oidc(job),
        "actions": sorted({u.action for u in uses_of(job)}, key=str.lower),
    }


def _secrets_json(workflows: list[Workflow]) -> list[dict[str, Any]]:
    users: dict[str, list[JobRef]] = {}
    for wf, job in iter_jobs(workflows):
        for name in secrets_of(job):
            users.setdefault(name, []).append(job_ref(wf, job))
    return [{"name": name, "automatic": name == AUTOMATIC_TOKEN,
             "jobs": [ref.as_dict() for ref in users[name]]} for name in sorted(users)]


def _env_jobs(workflows: list[Workflow], name: str) -> list[dict[str, str]]:
    return [job_ref(wf, job).as_dict() for wf, job in iter_jobs(workflows)
            if job.environment == name]


def as_json(ex: Explanation) -> dict[str, Any]:
    """The review as JSON-ready data (validates against docs/explain-schema.json)."""
    wfs = ex.workflows
    return {
        "schema_version": SCHEMA_VERSION,
        "harden_ci_version": __version__,
        "spec": {"file": ex.spec_file, "sha256": ex.spec_sha256, "project": ex.project},
        "workflows": [{"file": wf.filename, "name": wf.name,
                       "jobs": [job.id for job in wf.jobs]} for wf in wfs],
        "controls": [{"control": c.control, "jobs": [j.as_dict() for j in c.jobs]}
                     for c in ex.controls],
        "jobs": [_job_json(wf, job) for wf, job in iter_jobs(wfs)],
        "secrets": _secrets_json(wfs),
        "secrets_environment": {"name": ex.secrets_environment,
                                "jobs": [ref.as_dict() for ref in ex.secrets_environment_jobs]},
        "oidc": [{**job_ref(wf, job).as_dict(), "reason": job.permissions["id-token"].reason}
                 for wf, job in iter_jobs(wfs) if is_oidc(job)],
        "environments": [{
            "name": e.name, "per_pull_request": e.per_pull_request, "provider": e.provider,
            "url": e.url, "reviewers": e.reviewers, "protection": e.protection,
            "secrets": list(e.secrets), "variables": list(e.variables),
            "credentials": e.credentials, "location": e.location, "jobs": _env_jobs(wfs, e.name),
        } for e in ex.environments],
        "budgets": [_rule_json(r) for r in ex.budgets],
        "rollback": [_rule_json(r) for r in ex.rollback],
        "actions": [{
            "action": a.action, "tag": a.tag, "sha": a.sha, "ref": a.ref,
            "ref_style": a.ref_style, "runtime": a.runtime, "date": a.date or None,
            "note": a.note, "exception": a.exception,
            "jobs": [j.as_dict() for j in a.jobs],
        } for a in ex.actions],
        "harden_ci_source": ex.harden_ci_source,
        "tools": [{"name": t.name, "version": t.version, "source": t.source, "pinned": t.pinned,
                   "built_from": ({"repository": t.built_from[0], "commit": t.built_from[1]}
                                  if t.built_from else None),
                   "jobs": [j.as_dict() for j in t.jobs]} for t in ex.tools],
        "toolchains": [t.as_dict() for t in ex.toolchains],
        "unit_tests": [u.as_dict() for u in ex.unit_tests],
        "images": [{"image": image, "jobs": [j.as_dict() for j in jobs]}
                   for image, jobs in ex.images],
        "exceptions": [{"action": a.action, "tag": a.tag, "reason": a.exception or a.note}
                       for a in ex.actions if a.ref_style != "sha"],
        "accepted_findings": [{"setting": a.setting, "tool": a.tool, "value": a.value,
                               "effect": a.effect, "location": a.location}
                              for a in ex.accepted],
        "sections": [{"section": s.path, "on": s.on, "meaning": s.meaning,
                      "settings": s.settings or None, "location": s.location}
                     for s in ex.sections],
        "off": [s.path for s in ex.sections if not s.on],
        "required_checks": {
            "recommended": ex.required.recommended,
            "checks": [{"name": c.name, "display": readable(c.name), "workflow": c.workflow,
                        "job": c.job, "matrix": c.matrix, "conditional": c.conditional,
                        "merge_queue": c.merge_queue}
                       for c in ex.required.checks],
        },
        "scorecard": [{"check": p.check, "status": p.status, "satisfied": p.satisfied,
                       "reason": p.reason} for p in ex.scorecard],
        "slsa": {"level": ex.slsa.level, "reason": ex.slsa.reason},
        "deploys": ex.deploys or None,
        "policy": ex.policy.as_dict() if ex.policy is not None else None,
    }


def _rule_json(rule: spec_facts.Rule) -> dict[str, Any]:
    return {"section": rule.section, "key": rule.key, "value": rule.value, "text": rule.text,
            "location": rule.location, "explicit": rule.explicit}


def to_json_text(ex: Explanation) -> str:
    return json.dumps(as_json(ex), indent=2, ensure_ascii=False) + "\n"
