"""The plan: plain, typed descriptions of workflows, jobs and steps.

Stages build these from the spec; the renderer turns them into YAML. Nothing here knows
about Jinja or files. Every string that reaches a YAML scalar is quoted by the renderer's
one quoting filter, except `Script` bodies, which are harden-ci's own shell text loaded
from `templates/scripts/` and reach data only through `env:`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Scalar = str | int | float | bool
Permission = Literal["read", "write"]


@dataclass(frozen=True)
class Script:
    """A shell script shipped with harden-ci (not spec text); rendered as a literal block.

    `name` is the file under templates/scripts/ it came from, so tests can shellcheck the
    source and reviewers can find it.
    """

    name: str
    body: str


@dataclass(frozen=True)
class Grant:
    """One permission a job asks for, with the reason (rendered as a comment, and shown
    by `explain`)."""

    level: Permission
    reason: str


def read(reason: str) -> Grant:
    return Grant("read", reason)


def write(reason: str) -> Grant:
    return Grant("write", reason)


@dataclass(frozen=True)
class Uses:
    """A pinned action reference: `action@sha  # tag` (or a tag ref for recorded exceptions)."""

    action: str
    ref: str
    tag: str


@dataclass
class Step:
    name: str
    id: str | None = None
    uses: Uses | None = None
    with_: dict[str, Scalar] = field(default_factory=dict)
    run: Script | str | None = None  # str: a command from the spec, quoted as a scalar
    shell: str | None = None
    working_directory: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    if_: str | None = None  # a harden-ci authored expression, never spec text
    continue_on_error: bool = False
    timeout_minutes: int | None = None  # a step's own bound, inside its job's


@dataclass
class Matrix:
    """`strategy.matrix`: static axes, or one axis filled from an expression (dynamic)."""

    axes: dict[str, list[Scalar]] = field(default_factory=dict)
    include: list[dict[str, Scalar]] = field(default_factory=list)
    # `include: ${{ fromJSON(...) }}`: entries computed at run time by an earlier job.
    include_expression: str | None = None
    fail_fast: bool = False
    max_parallel: int | None = None


@dataclass
class Service:
    """A service container beside a job (always an image pinned by digest)."""

    image: str
    env: dict[str, str] = field(default_factory=dict)
    ports: list[str] = field(default_factory=list)
    options: str | None = None


def health_options(command: str) -> str:
    """A container's `options:` that wait for `command` to succeed (every 5 s, 20 tries).
    The command must hold no `"` or backslash: the runner splits this into docker arguments
    (the model's patterns keep them out)."""
    return (f'--health-cmd "{command}" --health-interval 5s --health-timeout 5s '
            "--health-retries 20")


# The shared unit-test matrix's timeout: each row's own (plan/stages/changes.py).
ROW_TIMEOUT = "${{ matrix.timeout }}"


@dataclass
class Job:
    id: str
    name: str
    runs_on: str | list[str]  # a label, an expression, or self-hosted labels
    timeout_minutes: int | str  # minutes, or an expression (a matrix row's `timeout`)
    permissions: dict[str, Grant] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    if_: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    matrix: Matrix | None = None
    environment: str | None = None
    environment_url: str | None = None
    concurrency_group: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    # A reusable workflow call (`uses:` at job level) instead of steps, with its inputs.
    uses: Uses | None = None
    with_: dict[str, Scalar] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    # Which control of the spec this job enforces (for `explain`).
    control: str = ""


@dataclass
class Trigger:
    """The `on:` block, kept small and explicit."""

    pull_request: bool = False
    pull_request_branches: list[str] = field(default_factory=list)
    merge_group: bool = False
    push_branches: list[str] = field(default_factory=list)
    push_tags: list[str] = field(default_factory=list)  # `push: tags:` filter patterns
    schedule_crons: list[str] = field(default_factory=list)
    workflow_dispatch: bool = False
    pull_request_types: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Companion:
    """A file rendered beside the workflows (under `harden-ci/`), from its own template."""

    filename: str
    template: str
    context: dict[str, Any]


@dataclass
class Workflow:
    filename: str
    name: str
    on: Trigger
    jobs: list[Job] = field(default_factory=list)
    # The workflow-level concurrency group; PR runs cancel older runs of the same PR.
    concurrency_group: str = "${{ github.workflow }}-${{ github.event.pull_request.number || github.ref }}"
    cancel_in_progress: str | bool = "${{ github.event_name == 'pull_request' }}"
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    """Everything one spec produces."""

    workflows: list[Workflow]
    companions: list[Companion] = field(default_factory=list)
