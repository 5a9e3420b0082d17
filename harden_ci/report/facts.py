"""Facts read off a plan by walking it generically: workflows → jobs → steps.

Nothing here knows a stage or a job id. Secrets are found by scanning every value a job
passes on (`${{ secrets.NAME }}`), actions by every `uses:`, tools by the names in the
tool table (`harden_ci.plan.tools`) appearing in what a job runs or installs. New stages
show up in every report without a change here.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from harden_ci.model import Spec
from harden_ci.plan.model import Job, Script, Step, Uses, Workflow
from harden_ci.plan.pins import UnknownPinError, catalog
from harden_ci.plan.tools import TOOLS

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_SECRET = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")
_GITHUB_TOKEN = re.compile(r"\bgithub\.token\b")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
AUTOMATIC_TOKEN = "GITHUB_TOKEN"


def workflows_of(result: object) -> list[Workflow]:
    """`plan()` returns a `Plan` (workflows and companion files); accept a bare list too."""
    workflows = getattr(result, "workflows", result)
    assert isinstance(workflows, Iterable)
    return [wf for wf in workflows if isinstance(wf, Workflow)]


def plan_workflows(spec: Spec, spec_file: str) -> list[Workflow]:
    from harden_ci.plan.workflows import plan

    return workflows_of(plan(spec, spec_file))


@dataclass(frozen=True, order=True)
class JobRef:
    """A job, named the way a reviewer finds it: file, id and display name."""

    workflow: str
    job: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"workflow": self.workflow, "job": self.job, "name": self.name}

    def __str__(self) -> str:
        return f"{self.workflow}#{self.job}"


def job_ref(wf: Workflow, job: Job) -> JobRef:
    return JobRef(wf.filename, job.id, job.name)


def iter_jobs(workflows: Iterable[Workflow]) -> Iterator[tuple[Workflow, Job]]:
    for wf in workflows:
        for job in wf.jobs:
            yield wf, job


def _step_values(step: Step) -> list[str]:
    values = [str(v) for v in step.with_.values()] + list(step.env.values())
    if isinstance(step.run, str):
        values.append(step.run)
    if step.if_:
        values.append(step.if_)
    return values


def job_values(job: Job) -> list[str]:
    """Every value a job hands to its steps, tools or callee (where secrets can appear)."""
    values = list(job.env.values()) + [str(v) for v in job.with_.values()]
    values += list(job.secrets.values()) + list(job.outputs.values())
    for service in job.services.values():
        values += list(service.env.values())
    for step in job.steps:
        values += _step_values(step)
    if job.if_:
        values.append(job.if_)
    return values


def job_text(job: Job) -> str:
    """What a job runs and installs, as one text: values, step names, actions, scripts."""
    parts = job_values(job) + [step.name for step in job.steps]
    parts += [uses.action for uses in uses_of(job)]
    parts += [step.run.body for step in job.steps if isinstance(step.run, Script)]
    parts += [service.image for service in job.services.values()]
    return "\n".join(parts)


def secrets_of(job: Job) -> list[str]:
    """Secret names the job reads (`secrets.X`; `github.token` counts as GITHUB_TOKEN)."""
    found: set[str] = set()
    for value in job_values(job):
        found.update(_SECRET.findall(value))
        if _GITHUB_TOKEN.search(value):
            found.add(AUTOMATIC_TOKEN)
    return sorted(found)


def uses_of(job: Job) -> list[Uses]:
    """The job's reusable-workflow call and every step's action, in order."""
    found = [job.uses] if job.uses is not None else []
    found += [step.uses for step in job.steps if step.uses is not None]
    return found


def is_oidc(job: Job) -> bool:
    grant = job.permissions.get("id-token")
    return grant is not None and grant.level == "write"


def write_scopes(job: Job) -> list[str]:
    return [scope for scope, grant in job.permissions.items() if grant.level == "write"]


@functools.cache
def _catalog_raw() -> dict[str, dict[str, Any]]:
    text = resources.files("harden_ci").joinpath("data/pins.json").read_text(encoding="utf-8")
    pins: dict[str, dict[str, Any]] = json.loads(text)["pins"]
    return pins


def catalog_date(action: str) -> str:
    """The release date the catalog records for `action` ("" if none)."""
    return str(_catalog_raw().get(action, {}).get("date") or "")


@dataclass(frozen=True)
class ActionUse:
    """One action (or reusable workflow) the workflows call, with its catalog facts."""

    action: str
    tag: str
    ref: str
    sha: str
    ref_style: str
    runtime: str
    date: str
    note: str
    exception: str | None
    jobs: tuple[JobRef, ...]

    @property
    def owner_repo(self) -> tuple[str, str, str]:
        """(owner, repository, path inside it or "")."""
        owner, repo, *rest = self.action.split("/")
        return owner, repo, "/".join(rest)


def actions_used(workflows: Iterable[Workflow]) -> list[ActionUse]:
    users: dict[str, list[JobRef]] = {}
    refs: dict[str, Uses] = {}
    for wf, job in iter_jobs(workflows):
        for uses in uses_of(job):
            refs.setdefault(uses.action, uses)
            users.setdefault(uses.action, [])
            if job_ref(wf, job) not in users[uses.action]:
                users[uses.action].append(job_ref(wf, job))
    found = []
    for action in sorted(refs, key=str.lower):
        uses = refs[action]
        try:
            pin = catalog().get(action)
            sha, ref_style, runtime = pin.sha, pin.ref_style, pin.runtime
            note, exception = pin.note, pin.exception
        except UnknownPinError:  # cannot happen for a planned workflow; report what is known
            sha = uses.ref if _FULL_SHA.match(uses.ref) else ""
            ref_style = "sha" if sha else "tag"
            runtime, note, exception = "", "not in the pin catalog", None
        found.append(ActionUse(action=action, tag=uses.tag, ref=uses.ref, sha=sha,
                               ref_style=ref_style, runtime=runtime, date=catalog_date(action),
                               note=note, exception=exception, jobs=tuple(users[action])))
    return found


@dataclass(frozen=True)
class ToolUse:
    name: str
    version: str
    source: str
    jobs: tuple[JobRef, ...]
    pinned: str = ""
    built_from: tuple[str, str] | None = None  # (owner/repo, commit) of a source build


def _mentions(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_.-]){re.escape(name)}(?![A-Za-z0-9_])", re.IGNORECASE)


def tools_used(workflows: Iterable[Workflow]) -> list[ToolUse]:
    """Tools from the tool table that some job installs or runs (named in what it runs)."""
    texts = [(job_ref(wf, job), job_text(job)) for wf, job in iter_jobs(workflows)]
    found = []
    for tool in sorted(TOOLS.values(), key=lambda t: t.name):
        pattern = _mentions(tool.name)
        jobs = tuple(ref for ref, text in texts if pattern.search(text))
        if jobs:
            found.append(ToolUse(tool.name, tool.version, tool.source, jobs, tool.pinned,
                                 tool.built_from))
    return found


def images_used(workflows: Iterable[Workflow]) -> list[tuple[str, tuple[JobRef, ...]]]:
    """Container images jobs run beside them (always by digest), with their jobs."""
    users: dict[str, list[JobRef]] = {}
    for wf, job in iter_jobs(workflows):
        for service in job.services.values():
            users.setdefault(service.image, []).append(job_ref(wf, job))
    return [(image, tuple(users[image])) for image in sorted(users)]


def pr_workflows(workflows: Iterable[Workflow]) -> list[Workflow]:
    """Workflows that run on pull requests (and so produce required checks)."""
    return [wf for wf in workflows if wf.on.pull_request or wf.on.merge_group]


def is_matrix(job: Job) -> bool:
    return job.matrix is not None


def readable(text: str) -> str:
    """A job name for people: `${{ matrix.shard }}` → `{shard}`, other expressions → `{...}`."""
    def repl(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("matrix."):
            return "{" + inner.removeprefix("matrix.") + "}"
        return "{...}"

    return EXPRESSION.sub(repl, text)
