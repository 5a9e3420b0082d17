"""`explain --format md`: the review as GitHub-flavoured Markdown (plain text, no colour, so it
reads the same in a terminal, a pull request or a file)."""

from __future__ import annotations

from harden_ci import __version__
from harden_ci.report.escape import markdown
from harden_ci.report.explain import UNRECORDED_CONTROL, Check, Explanation
from harden_ci.report.facts import (
    AUTOMATIC_TOKEN,
    JobRef,
    is_oidc,
    iter_jobs,
    job_ref,
    readable,
    secrets_of,
)
from harden_ci.report.graph import mermaid
from harden_ci.report.spec_facts import Rule

_STATUS = {"met": "met", "partial": "partial", "not-met": "not met"}


def _cell(text: object) -> str:
    """A value as text, anywhere in the document."""
    return markdown(text)


def _code(text: object) -> str:
    """A value as a code span in a table cell."""
    return markdown(text, code=True, table=True)


def _span(text: object) -> str:
    """A value as a code span outside tables."""
    return markdown(text, code=True)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _jobs(refs: tuple[JobRef, ...] | list[JobRef]) -> str:
    return ", ".join(f"{_code(r.job)} ({_cell(readable(r.name))})" for r in refs)


def _summary(ex: Explanation) -> list[str]:
    met = sum(1 for p in ex.scorecard if p.satisfied)
    jobs = sum(len(wf.jobs) for wf in ex.workflows)
    lines = [
        f"- {len(ex.workflows)} workflow(s), {jobs} job(s), {len(ex.controls)} control(s); "
        f"{len(ex.actions)} pinned action(s), {len(ex.tools)} pinned tool(s).",
        f"- SLSA Build Level {ex.slsa.level}; OpenSSF Scorecard: {met} of "
        f"{len(ex.scorecard)} predicted checks met.",
    ]
    if ex.deploys:
        lines.append(f"- {_cell(ex.deploys)}")
    if ex.required.recommended:
        lines.append(f"- Require one check in branch protection or the merge queue: "
                     f"{_span(ex.required.recommended)}.")
    if ex.policy is not None:
        verdict = ("meets it" if ex.policy.passed
                   else f"{len(ex.policy.violations)} gap(s), listed under Policy gaps")
        lines.append(f"- Policy {_span(ex.policy.policy_file)}: {verdict}.")
    return [*lines, ""]


def _controls(ex: Explanation) -> list[str]:
    rows = [[_cell(c.control), _jobs(c.jobs)] for c in ex.controls
            if c.control != UNRECORDED_CONTROL]
    rows += [[_cell(UNRECORDED_CONTROL), _jobs(c.jobs)] for c in ex.controls
             if c.control == UNRECORDED_CONTROL]
    return ["## Controls and the jobs that enforce them", "",
            *_table(["control", "enforced by"], rows)]


def _sections(ex: Explanation) -> list[str]:
    on = [[_code(s.path), _cell(s.settings or "on"), _cell(s.location)]
          for s in ex.sections if s.on]
    off = [f"- {_span(s.path)}: {_cell(s.meaning) or 'off'}" for s in ex.sections if not s.on]
    lines = ["## Spec sections that are on", "", *_table(["section", "settings", "written at"], on)]
    lines += ["## What is off", ""] + (off or ["Nothing: every optional section is on."]) + [""]
    return lines


def _permissions(ex: Explanation) -> list[str]:
    lines = ["## Jobs, permissions, secrets and OIDC", "",
             "Every workflow starts from `permissions: {}`; each job asks only for the scopes "
             "below, and each grant carries its reason (also written beside it in the YAML).",
             ""]
    for wf in ex.workflows:
        lines += [f"### {_span(wf.filename)}: {_cell(wf.name)}", ""]
        rows: list[list[str]] = []
        for job in wf.jobs:
            label = f"{_code(job.id)} ({_cell(readable(job.name))})"
            names = ", ".join(_code(s) for s in secrets_of(job)) or "none"
            grants = list(job.permissions.items())
            if not grants:
                rows.append([label, "none", "", "", names])
            for index, (scope, grant) in enumerate(grants):
                rows.append([label if index == 0 else "", _code(scope), _cell(grant.level),
                             _cell(grant.reason), names if index == 0 else ""])
        lines += _table(["job", "scope", "level", "reason", "secrets"], rows)
    secrets: dict[str, list[JobRef]] = {}
    for wf, job in iter_jobs(ex.workflows):
        for name in secrets_of(job):
            secrets.setdefault(name, []).append(job_ref(wf, job))
    lines += ["### Secrets", ""]
    if secrets:
        rows = [[_code(name), "automatic token, scoped by the job's permissions"
                 if name == AUTOMATIC_TOKEN else "repository or environment secret",
                 _jobs(secrets[name])] for name in sorted(secrets)]
        lines += _table(["secret", "kind", "read by"], rows)
    else:
        lines += ["No job reads a secret.", ""]
    if ex.secrets_environment_jobs:
        lines += [f"Secrets reach these jobs through the GitHub environment "
                  f"{_code(ex.secrets_environment)} (`project.secrets_environment`; they "
                  f"deploy nowhere): {_jobs(list(ex.secrets_environment_jobs))}. Store their "
                  "secrets there, and give it no required reviewers, wait timer or branch "
                  "restriction: pull requests and the merge queue run these jobs. A fork's "
                  "pull request gets none of its secrets.", ""]
    oidc = [f"- {_span(job_ref(wf, job))}: {_cell(job.permissions['id-token'].reason)}"
            for wf, job in iter_jobs(ex.workflows) if is_oidc(job)]
    lines += ["### OIDC (`id-token: write`)", ""]
    lines += (oidc or ["No job requests an OIDC token."]) + [""]
    return lines


def _environments(ex: Explanation) -> list[str]:
    lines = ["## Environments and their protection", ""]
    if not ex.environments:
        return [*lines, "No environments are defined.", ""]
    rows = []
    for e in ex.environments:
        kind = "per pull request" if e.per_pull_request else "long-lived"
        jobs = [job_ref(wf, job) for wf, job in iter_jobs(ex.workflows)
                if job.environment == e.name]
        rows.append([_code(e.name), _cell(f"{kind}, {e.provider}"), _cell(e.url or ""),
                     _cell(e.protection), ", ".join(_code(s) for s in e.secrets) or "none",
                     _cell(e.credentials), _jobs(jobs) or "none"])
    return [*lines, *_table(["environment", "kind", "url", "protection", "secrets",
                             "credentials", "jobs in it"], rows)]


def _rules(title: str, rules: list[Rule], empty: str) -> list[str]:
    lines = [f"## {title}", ""]
    if not rules:
        return [*lines, empty, ""]
    rows = [[_cell(r.text), _code(f"{r.section}.{r.key}"),
             _cell(r.location) + ("" if r.explicit else " (default)")] for r in rules]
    return [*lines, *_table(["rule", "spec key", "written at"], rows)]


def _check_line(check: Check) -> str:
    notes = []
    if check.matrix:
        notes.append("matrix: one check per leg, named at run time")
    if check.conditional:
        notes.append("conditional: a skipped job reports success")
    suffix = f" ({'; '.join(notes)})" if notes else ""
    return f"- {_span(readable(check.name))}{suffix}"


def _required(ex: Explanation) -> list[str]:
    lines = ["## Required checks", ""]
    if ex.required.recommended:
        lines += [f"Recommended: require the single check {_span(ex.required.recommended)}. "
                  "It runs after every other job of its workflow and fails unless all of them "
                  "succeeded or were skipped by design, so the list below can change without "
                  "touching branch protection.", ""]
    queued = [c for c in ex.required.checks if c.merge_queue]
    pr_only = [c for c in ex.required.checks if not c.merge_queue]
    if queued:
        lines += ["Or require each check name that reports on pull requests and in the merge "
                  "queue:", "", *(_check_line(c) for c in queued), ""]
    if pr_only:
        lines += ["Reported on pull requests only, not in the merge queue: require these only "
                  "without a merge queue.", "", *(_check_line(c) for c in pr_only), ""]
    return lines


def _supply_chain(ex: Explanation) -> list[str]:
    lines = ["## Actions, pinned by commit", ""]
    rows = [[_code(a.action), _code(a.tag), _code(a.sha), _cell(a.date),
             "tag (recorded exception)" if a.ref_style != "sha" else "commit SHA",
             _cell(a.note)] for a in ex.actions]
    lines += _table(["action", "tag", "commit", "released", "referenced by", "catalog note"], rows)
    exceptions = [f"- {_span(a.action + '@' + a.tag)}: {_cell(a.exception or a.note)}"
                  for a in ex.actions if a.ref_style != "sha"]
    lines += ["## Recorded exceptions", ""] + (exceptions or ["None."]) + [""]
    lines += ["## Accepted findings (adoption exceptions)", ""]
    if ex.accepted:
        lines += _table(["setting", "tool", "value", "effect", "written at"],
                        [[_code(a.setting), _cell(a.tool), _code(a.value), _cell(a.effect),
                          _cell(a.location)] for a in ex.accepted])
    else:
        lines += ["None: every gate reports every finding.", ""]
    lines += ["## Tools, and how each install is pinned", ""]
    if ex.tools:
        lines += _table(["tool", "version", "source", "how pinned", "used by"],
                        [[_code(t.name), _code(t.version), _cell(t.source), _cell(t.pinned),
                          _jobs(t.jobs)] for t in ex.tools])
    else:
        lines += ["No pinned tools are installed.", ""]
    lines += [f"harden-ci itself (drift guard, runtime gates): {_cell(ex.harden_ci_source)}.", ""]
    if ex.toolchains:
        lines += ["## Toolchains and package managers", ""]
        lines += _table(["service", "language", "package manager", "installed by", "lockfile",
                         "install runs in", "version", "workspace"],
                        [[_code(t.service), t.language, _code(t.package_manager),
                          _cell(t.installed_by), _code(t.lockfile), _code(t.install_dir),
                          _cell(t.version), _code(t.workspace) if t.workspace else "-"]
                         for t in ex.toolchains])
    if ex.unit_tests:
        lines += ["## Unit-test jobs", "",
                  "Secrets reach the test step on trusted events only: a fork's pull request "
                  "runs the tests without them, and its log says so.", ""]
        lines += _table(["service", "job", "runs", "timeout", "containers", "env", "vars",
                         "secrets"],
                        [[_code(u.service), _code(u.job), _cell(", ".join(u.checks)),
                          f"{u.timeout_minutes} min", _cell("; ".join(u.containers) or "-"),
                          _cell(", ".join(u.env) or "-"), _cell(", ".join(u.vars) or "-"),
                          _cell(", ".join(u.secrets) or "-")] for u in ex.unit_tests])
    if ex.images:
        lines += ["## Container images, pinned by digest", ""]
        lines += _table(["image", "used by"], [[_code(i), _jobs(j)] for i, j in ex.images])
    return lines


def _predictions(ex: Explanation) -> list[str]:
    rows = [[_cell(p.check), _STATUS[p.status], _cell(p.reason)] for p in ex.scorecard]
    return ["## OpenSSF Scorecard (predicted)", "",
            "What the generated CI contributes; repository settings (branch protection, "
            "reviews, releases) decide the rest.", "",
            *_table(["check", "prediction", "why"], rows),
            "## SLSA build level", "", f"**Build L{_cell(ex.slsa.level)}**: {_cell(ex.slsa.reason)}.",
            ""]


def _policy(ex: Explanation) -> list[str]:
    if ex.policy is None:
        return []
    lines = [f"## Policy gaps ({_span(ex.policy.policy_file)})", ""]
    if ex.policy.passed:
        return [*lines, f"None: the spec meets all {len(ex.policy.rules)} rules.", ""]
    rows = [[_code(v.rule), _cell(v.message), _cell(v.spec_location), _cell(v.policy_location)]
            for v in ex.policy.violations]
    return [*lines, *_table(["policy rule", "gap", "spec", "policy"], rows)]


def to_markdown(ex: Explanation) -> str:
    lines = [
        f"# Security review: {_cell(ex.project)}", "",
        f"Generated by harden-ci {__version__} from {_span(ex.spec_file)} "
        f"(sha256 {_span(ex.spec_sha256[:16])}). Review the spec; the workflows are its output.",
        "",
        *_summary(ex), *_controls(ex), *_sections(ex), *_permissions(ex), *_environments(ex),
        *_rules("Budgets and gates", ex.budgets, "No budgets: no gate thresholds, soak "
                "or eval budgets are set."),
        *_rules("Canary promotion and rollback", ex.rollback, "No canary: delivery is "
                "not progressive (delivery.canary is off)."),
        *_required(ex), *_supply_chain(ex), *_predictions(ex), *_policy(ex),
        "## Job graph", "", "```mermaid", mermaid(ex.workflows).rstrip("\n"), "```", "",
    ]
    return "\n".join(lines)
