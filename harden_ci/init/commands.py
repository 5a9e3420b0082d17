"""Test, lint and type-check commands, read where a repository already says how it runs
them: the `run:` lines of its own workflows first (what CI really runs), then
package.json's scripts (`test`, `lint`, `typecheck`), a Makefile's targets (`test:`,
`lint:`), and pytest, ruff and mypy configuration in pyproject.toml (ruff and mypy only
when the project also lists them as a dependency, so the install provides them).

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
_LINT_LINE = re.compile(
    r"^(?:(?:uv|poetry|pdm|pipenv|hatch) run |python3? -m |npx |pnpm (?:exec |dlx )?|yarn |bunx )?"
    r"(?:ruff (?:check|format --check)\b|flake8\b|pylint\b|black --check\b|eslint\b"
    r"|(?:npm|pnpm|yarn|bun) (?:run )?lint\b|golangci-lint run\b|go vet\b|cargo clippy\b"
    r"|cargo fmt (?:--all )?(?:-- )?--check\b|biome (?:check|lint|ci)\b|next lint\b"
    r"|make lint\b)")
_TYPECHECK_LINE = re.compile(
    r"^(?:(?:uv|poetry|pdm|pipenv|hatch) run |python3? -m |npx |pnpm (?:exec )?|yarn |bunx )?"
    r"(?:mypy\b|pyright\b|basedpyright\b|tsc\b|vue-tsc\b"
    r"|(?:npm|pnpm|yarn|bun) (?:run )?(?:typecheck|type-check|check-types|types|tsc)\b"
    r"|make (?:typecheck|type-check)\b)")
KIND_PATTERNS = {"test": _TEST_LINE, "lint": _LINT_LINE, "typecheck": _TYPECHECK_LINE}
_SCRIPT_NAMES = {"test": ("test",), "lint": ("lint",),
                 "typecheck": ("typecheck", "type-check", "check-types", "types", "tsc")}
_MAKE_TARGETS = {"test": ("test",), "lint": ("lint",), "typecheck": ("typecheck", "type-check")}
# A watcher never ends: `jest --watch`, `tsc --watch` are for a terminal, not CI.
_WATCH = re.compile(r"(?:^|\s)--watch\b")
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
    kind: str = "test"  # test, lint or typecheck
    job: str = ""  # the workflow job it runs in
    step: int = -1  # its step's index in that job


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
        for job_id, job in (jobs.items() if isinstance(jobs, dict) else ()):
            if not isinstance(job, dict):
                continue
            run = job.get("defaults", {}).get("run") if isinstance(job.get("defaults"),
                                                                  dict) else None
            base = _folders(run, job, ["."])
            for index, step in enumerate(job.get("steps") or ()):
                if not isinstance(step, dict) or not isinstance(step.get("run"), str):
                    continue
                # A working directory init cannot resolve leaves the step out: guessing
                # the root would give the root's service another folder's tests.
                for folder in _folders(step, job, base):
                    for line in _lines(step["run"]):
                        where, command = _split_cd(line, folder)
                        if ("&&" in command or _END_TO_END.search(command)
                                or _WATCH.search(command)):
                            continue
                        kind = next((k for k, pattern in KIND_PATTERNS.items()
                                     if pattern.match(command)), None)
                        if kind is not None:
                            found.append(WorkflowTest(where, command, path, _filter(command),
                                                      kind, str(job_id), index))
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


def _script_command(manager: str | None, script: str = "test") -> str:
    # `bun test` runs bun's own test runner, not the script; `bun run test` runs the script.
    # `npm test` is npm's alias for `npm run test`; other scripts need `run`.
    if script == "test":
        return {"pnpm": "pnpm test", "yarn": "yarn test", "bun": "bun run test"}.get(
            manager or "npm", "npm test")
    return {"pnpm": f"pnpm {script}", "yarn": f"yarn {script}", "bun": f"bun run {script}"}.get(
        manager or "npm", f"npm run {script}")


def _makefile_target(tree: Tree, folder: str, targets: tuple[str, ...]) -> str | None:
    for name in ("Makefile", "makefile", "GNUmakefile"):
        text = tree.text(join(folder, name))
        for target in targets:
            if re.search(rf"^{re.escape(target)}\s*:", text, re.MULTILINE):
                return target
    return None


def _makefile_test(tree: Tree, folder: str) -> bool:
    return _makefile_target(tree, folder, ("test",)) is not None


def _python_tool(tree: Tree, folder: str, tool: str) -> bool:
    """`tool` is configured in pyproject.toml (`[tool.ruff]`) and named as a requirement
    (a dependency group, an extra, poetry's dev group), so the install provides it."""
    text = tree.text(join(folder, "pyproject.toml"))
    config = tree.toml(join(folder, "pyproject.toml")).get("tool", {})
    configured = isinstance(config, dict) and isinstance(config.get(tool), dict)
    listed = re.search(rf"""(?:["']{tool}\b|^{tool}\s*=)""", text, re.MULTILINE)
    return configured and listed is not None


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


def manifest_command(tree: Tree, kind: str, language: str | None, folder: str,
                     manager: str | None) -> tuple[str, str] | None:
    """The lint or type-check command a manifest in `folder` declares, and its file."""
    if kind == "test":
        return manifest_test(tree, language, folder, manager)
    if language == "node":
        scripts = tree.json(join(folder, "package.json")).get("scripts")
        for script in _SCRIPT_NAMES[kind]:
            body = scripts.get(script) if isinstance(scripts, dict) else None
            if isinstance(body, str) and body.strip() and not _WATCH.search(body):
                return _script_command(manager, script), join(folder, "package.json")
    if target := _makefile_target(tree, folder, _MAKE_TARGETS[kind]):
        return f"make {target}", join(folder, "Makefile")
    if language == "python":
        tool, command = ("ruff", "ruff check .") if kind == "lint" else ("mypy", "mypy .")
        if _python_tool(tree, folder, tool):
            runner = {"uv": "uv run ", "poetry": "poetry run ",
                      "pdm": "pdm run "}.get(manager or "pip", "")
            return runner + command, join(folder, "pyproject.toml")
    return None


def pick_workflow_test(tests: list[WorkflowTest], folder: str,
                       package: str | None, kind: str = "test") -> WorkflowTest | None:
    """The workflow line of `kind` for this service: run in its folder, or filtered to it."""
    tests = [t for t in tests if t.kind == kind]
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
