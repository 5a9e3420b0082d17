"""Parse generated workflows back and check the invariants every one must hold.

This runs on every render, so a bug in a stage or template surfaces as a refused render
instead of a committed workflow that breaks a promise of the product.
"""

from __future__ import annotations

import re
from typing import Any

from harden_ci.plan.model import ROW_TIMEOUT
from harden_ci.verify.fastyaml import safe_load

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
SHA_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@[0-9a-f]{40}$")
# Reusable workflows that must be referenced by release tag (recorded exceptions).
TAG_PINNED = ("slsa-framework/slsa-github-generator/",)
# GitHub does not start a run of a workflow file larger than this (500 KB). The model
# bounds the spec (at most 1,000 services) so that every file fits; a larger one is a bug.
WORKFLOW_FILE_LIMIT = 500 * 1024
_JOB_KEY = re.compile(r"^  ([A-Za-z0-9_-]+):\s*$")


class InvariantError(AssertionError):
    """A generated workflow breaks a product invariant: a bug in harden-ci, not the spec."""


def _load(text: str, name: str) -> dict[str, Any]:
    data = safe_load(text)
    if not isinstance(data, dict):
        raise InvariantError(f"{name}: does not parse to a mapping")
    # PyYAML (YAML 1.1) reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def _check_uses(name: str, where: str, uses: str) -> list[str]:
    if uses.startswith("./") or uses.startswith("docker://"):
        return [f"{name}: {where}: local or docker `uses: {uses}` is not allowed"]
    if SHA_REF.match(uses):
        return []
    if uses.startswith(TAG_PINNED) and re.search(r"@v\d+\.\d+\.\d+$", uses):
        return []
    return [f"{name}: {where}: `uses: {uses}` is not pinned to a full commit SHA"]


def _check_job(name: str, job_id: str, job: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    where = f"job `{job_id}`"
    if "permissions" not in job:
        problems.append(f"{name}: {where} has no explicit permissions")
    if "uses" in job:  # a reusable workflow call
        return problems + _check_uses(name, where, str(job["uses"]))
    timeout = job.get("timeout-minutes")
    # A shared unit-test matrix takes each row's `timeout`, which the changes job's table
    # holds for every row (the service's timeout_minutes, 1 to 360 in the model).
    from_row = timeout == ROW_TIMEOUT and "matrix" in (job.get("strategy") or {})
    if not (isinstance(timeout, int) and not isinstance(timeout, bool)) and not from_row:
        problems.append(f"{name}: {where} has no timeout-minutes")
    perms = job.get("permissions") or {}
    if isinstance(perms, dict) and perms.get("id-token") == "write":
        uses_all = " ".join(str(s.get("uses", "")) for s in job.get("steps", []))
        if not re.search(r"cosign|attest|configure-aws|google-github-actions/auth|azure/login"
                         r"|Azure/login", uses_all):
            problems.append(f"{name}: {where} asks for id-token: write without OIDC use")
    for index, step in enumerate(job.get("steps", [])):
        at = f"{where} step {index + 1} ({step.get('name', '?')})"
        if "uses" in step:
            uses = str(step["uses"])
            problems += _check_uses(name, at, uses)
            if uses.startswith("actions/checkout@") and \
                    (step.get("with") or {}).get("persist-credentials") is not False:
                problems.append(f"{name}: {at}: checkout without persist-credentials: false")
        run = step.get("run")
        if isinstance(run, str):
            # harden-ci passes every value to scripts through env, so any expression in a
            # script is a bug (and with event data, an injection).
            for expr in EXPRESSION.findall(run):
                problems.append(f"{name}: {at}: expression `${{{{{expr}}}}}` inside run:; "
                                    "pass it through env")
    return problems


# The one line a job on the spec's own self-hosted runner may silence an audit on.
SELF_HOSTED_IGNORE = re.compile(
    r'^\s*runs-on: (\["self-hosted"[^]]*\]|"self-hosted") # zizmor: ignore\[self-hosted-runner\] ')


def _check_ignores(text: str, name: str) -> list[str]:
    """An audit may be silenced only for a recorded exception: a tag-pinned reusable
    workflow that must be called by tag, or a job on the spec's own self-hosted runner
    (zizmor's auditor persona flags every `[self-hosted, ...]`; fork pull requests never
    get one, see plan/forks.py)."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "zizmor: ignore" in line and not re.search(
                r"^\s*uses: (" + "|".join(map(re.escape, TAG_PINNED)) + r")\S+@v\d+\.\d+\.\d+ ",
                line) and not SELF_HOSTED_IGNORE.match(line):
            problems.append(f"{name}:{number}: an audit is silenced outside a recorded exception")
    return problems


def _check_size(text: str, name: str) -> list[str]:
    """A file over GitHub's limit, located: its size and its largest job, with the line
    that job starts on."""
    size = len(text.encode("utf-8"))
    if size <= WORKFLOW_FILE_LIMIT:
        return []
    lines = text.splitlines(keepends=True)
    jobs_at = next((i for i, line in enumerate(lines) if line.rstrip() == "jobs:"), len(lines))
    starts = [(i, m.group(1)) for i, line in enumerate(lines[jobs_at:], start=jobs_at)
              if (m := _JOB_KEY.match(line))]
    largest = ""
    if starts:
        ends = [i for i, _ in starts[1:]] + [len(lines)]
        job_size, start, job_id = max(
            (sum(len(line.encode("utf-8")) for line in lines[start:end]), start, job_id)
            for (start, job_id), end in zip(starts, ends, strict=True))
        largest = f"; the largest job is `{job_id}` (line {start + 1}, {job_size:,} bytes)"
    return [f"{name}:1: {size:,} bytes, over GitHub's workflow file limit of "
            f"{WORKFLOW_FILE_LIMIT:,} bytes (GitHub would not run it){largest}"]


def check_workflow(text: str, name: str) -> list[str]:
    """Every broken invariant in one generated workflow (empty: all hold)."""
    data = _load(text, name)
    problems: list[str] = _check_size(text, name) + _check_ignores(text, name)
    if data.get("permissions") != {}:
        problems.append(f"{name}: top-level permissions must be {{}}")
    triggers = data.get("on") or {}
    if "pull_request_target" in triggers:
        problems.append(f"{name}: pull_request_target is never generated")
    pull_request = triggers.get("pull_request") if isinstance(triggers, dict) else None
    # A check workflow (default pull_request activity) must also run in the merge queue;
    # the preview workflow names its activity types (it deploys and tears down instead).
    is_check = "pull_request" in triggers and not (pull_request or {}).get("types")
    if is_check and "merge_group" not in triggers:
        problems.append(f"{name}: pull-request checks must also run on merge_group")
    if "pull_request" in triggers and "concurrency" not in data:
        problems.append(f"{name}: pull-request workflows need a concurrency group")
    jobs = data.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        problems.append(f"{name}: no jobs")
        return problems
    for job_id, job in jobs.items():
        problems += _check_job(name, str(job_id), job)
    return problems


def verify(files: dict[str, str]) -> None:
    """Raise InvariantError listing every broken invariant across the rendered files."""
    problems: list[str] = []
    for name, text in sorted(files.items()):
        if name.endswith((".yml", ".yaml")) and "/" not in name:
            problems += check_workflow(text, name)
        elif name.endswith((".yml", ".yaml")):
            _load(text, name)  # a companion config (harden-ci/actionlint.yaml): a mapping
        elif name.endswith(".py"):
            try:
                compile(text, name, "exec")
            except SyntaxError as exc:
                problems.append(f"{name}: does not compile: {exc}")
    if problems:
        raise InvariantError("generated workflows break invariants:\n" + "\n".join(problems))
