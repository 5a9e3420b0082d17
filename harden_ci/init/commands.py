"""Test commands, read where a repository already says how it tests: the `run:` lines
of its own workflows first (what CI really runs), then package.json's `test` script, a
Makefile's `test:` target, and pytest configuration in pyproject.toml.

A workflow line is taken only when it is a plain command: one holding a `${{ }}`
expression or a line continuation is left for the user, since a starter spec must not
carry expressions into `run:`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from harden_ci.init.scan import Tree, join

_TEST_LINE = re.compile(
    r"^(?:(?:uv|poetry|pdm|pipenv|hatch) run |python3? (?:-m )?|\./)?"
    r"(?:pytest\b|tox\b|nox\b|manage\.py test\b|go test\b|cargo (?:test|nextest)\b|make (?:test|check)\b"
    r"|(?:npm|pnpm|yarn|bun)(?: run)? test\b|(?:pnpm|yarn|npm|bun)\b.*\btest\b"
    r"|npx (?:vitest|jest)\b|vitest\b|jest\b|mvn\b.*\b(?:verify|test)\b"
    r"|\./gradlew\b.*\btest\b|gradle\b.*\btest\b|dotnet test\b)")
# Browser and end-to-end suites are not unit tests (they need a running app).
_END_TO_END = re.compile(r"playwright|cypress|\be2e\b|test:e2e|wdio|detox", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"no test specified", re.IGNORECASE)
_RUNNERS = {"uv": "uv run pytest", "poetry": "poetry run pytest", "pdm": "pdm run pytest",
            "pip": "python -m pytest"}


@dataclass(frozen=True)
class WorkflowTest:
    folder: str  # the working directory (`.` for the repository root)
    command: str
    source: str  # the workflow file
    filter: str | None  # a `pnpm --filter NAME` / `yarn workspace NAME` package name


def _lines(run: str) -> list[str]:
    if "\\\n" in run or "${{" in run:
        return []
    return [line.strip() for line in run.splitlines() if line.strip()
            and not line.strip().startswith("#")]


def _split_cd(line: str, folder: str) -> tuple[str, str]:
    """`cd backend && uv run pytest` → (`backend`, `uv run pytest`)."""
    match = re.match(r"^cd\s+(\S+)\s*&&\s*(.+)$", line)
    if not match:
        return folder, line
    target = match.group(1).strip("'\"").removeprefix("./").rstrip("/")
    return (target if folder == "." else join(folder, target)) or ".", match.group(2)


def _filter(command: str) -> str | None:
    match = (re.search(r"(?:--filter|-F)[= ]\s*['\"]?([@\w./-]+?)(?:\.\.\.)?['\"]?(?:\s|$)",
                       command)
             or re.search(r"\byarn workspace\s+(\S+)", command)
             or re.search(r"(?:--workspace|-w)[= ](\S+)", command))
    return match.group(1) if match else None


def workflow_tests(tree: Tree) -> list[WorkflowTest]:
    found: list[WorkflowTest] = []
    for path in tree.files:
        if not (path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml"))):
            continue
        data = tree.yaml(path)
        jobs = data.get("jobs") if isinstance(data, dict) else None
        for job in (jobs.values() if isinstance(jobs, dict) else ()):
            if not isinstance(job, dict):
                continue
            run = job.get("defaults", {}).get("run") if isinstance(job.get("defaults"),
                                                                  dict) else None
            base = _folders(run, job, ["."])
            for step in job.get("steps") or ():
                if not isinstance(step, dict) or not isinstance(step.get("run"), str):
                    continue
                # A working directory init cannot resolve leaves the step out: guessing
                # the root would give the root's service another folder's tests.
                for folder in _folders(step, job, base):
                    for line in _lines(step["run"]):
                        where, command = _split_cd(line, folder)
                        if (_TEST_LINE.match(command) and "&&" not in command
                                and not _END_TO_END.search(command)):
                            found.append(WorkflowTest(where, command, path, _filter(command)))
    return found


def _folders(where: object, job: dict[str, Any], inherited: list[str]) -> list[str]:
    """The `working-directory` of `where` (a step, or a job's `defaults.run`), each value
    of the matrix entry it names (`${{ matrix.dir }}` with `dir: [a, b]`), `inherited`
    when it names none, or nothing when it cannot be resolved."""
    if not isinstance(where, dict) or "working-directory" not in where:
        return inherited
    value = where["working-directory"]
    if isinstance(value, str) and (match := re.fullmatch(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}",
                                                        value.strip())):
        strategy = job.get("strategy")
        matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
        values = matrix.get(match.group(1)) if isinstance(matrix, dict) else None
        return [f for v in (values if isinstance(values, list) else ())
                if (f := _clean(v)) is not None]
    folder = _clean(value)
    return [folder] if folder else []


def _clean(folder: object) -> str | None:
    if not isinstance(folder, str) or "${{" in folder:
        return None
    return folder.strip().removeprefix("./").rstrip("/") or "."


def _script_command(manager: str | None) -> str:
    # `bun test` runs bun's own test runner, not the script; `bun run test` runs the script.
    return {"pnpm": "pnpm test", "yarn": "yarn test", "bun": "bun run test"}.get(
        manager or "npm", "npm test")


def _makefile_test(tree: Tree, folder: str) -> bool:
    for name in ("Makefile", "makefile", "GNUmakefile"):
        if re.search(r"^test\s*:", tree.text(join(folder, name)), re.MULTILINE):
            return True
    return False


def _uses_pytest(tree: Tree, folder: str) -> bool:
    tool = tree.toml(join(folder, "pyproject.toml")).get("tool", {})
    if isinstance(tool, dict) and isinstance(tool.get("pytest"), dict):
        return True
    return any(tree.has(join(folder, f)) for f in ("pytest.ini", "conftest.py")) or (
        "[tool:pytest]" in tree.text(join(folder, "setup.cfg"))
        or "[pytest]" in tree.text(join(folder, "tox.ini")))


def manifest_test(tree: Tree, language: str | None, folder: str,
                  manager: str | None) -> tuple[str, str] | None:
    """The test command a manifest in `folder` declares, and the file that says so."""
    if language == "node":
        scripts = tree.json(join(folder, "package.json")).get("scripts")
        test = scripts.get("test") if isinstance(scripts, dict) else None
        if isinstance(test, str) and test.strip() and not _PLACEHOLDER.search(test):
            return _script_command(manager), join(folder, "package.json")
    if _makefile_test(tree, folder):
        return "make test", join(folder, "Makefile")
    if language == "python" and _uses_pytest(tree, folder):
        return _RUNNERS.get(manager or "pip", "python -m pytest"), join(folder, "pyproject.toml")
    return None


def pick_workflow_test(tests: list[WorkflowTest], folder: str,
                       package: str | None) -> WorkflowTest | None:
    """The workflow line that tests this service: run in its folder, or filtered to it."""
    for test in tests:
        if test.filter and package and test.filter in (package, package.split("/")[-1]):
            return test
    return next((t for t in tests if t.folder == folder and not t.filter), None)


def quote_ok(command: str) -> bool:
    try:
        shlex.split(command)
    except ValueError:
        return False
    return True
