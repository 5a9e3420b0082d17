"""Run a rendered unit-tests job's shell steps for one service, on this machine.

The job reads its service's settings with the companion `affected.py --service NAME`, as
in CI; then each step whose `if:` holds runs in order: `run:` steps under `bash -e` with
their env and working directory (expressions over the settings and the matrix row filled
in), with what earlier steps appended to $GITHUB_PATH first on PATH. `uses:` steps are not
run (the toolchain is the machine's node, python and npm); they are returned with their
evaluated inputs so tests can assert on them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_OUTPUT = re.compile(r"^steps\.service\.outputs\.([a-z_]+)$")
_COMPARE = re.compile(r"^steps\.service\.outputs\.([a-z_]+) (==|!=) '([^']*)'$")
_HASH = re.compile(r"^hashFiles\(steps\.service\.outputs\.([a-z_]+)\)$")
_CONTAINS = re.compile(r"^contains\(fromJSON\('(\[.*?\])'\), steps\.service\.outputs\.([a-z_]+)\)$")


def parse_output(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT's `key<<DELIM` blocks (affected.py writes only those)."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if "<<" in lines[i]:
            key, delimiter = lines[i].split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[key] = "\n".join(lines[i + 1:end])
            i = end
        i += 1
    return values


@dataclass
class JobRun:
    settings: dict[str, str]
    uses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    output: str = ""
    returncode: int = 0


def _hash_files(pattern: str, repo: Path) -> str:
    # GitHub's hashFiles: a SHA-256 over the matched files, "" when none matches.
    matched = sorted(p for p in repo.glob(pattern) if p.is_file())
    if not matched:
        return ""
    digest = hashlib.sha256()
    for path in matched:
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _evaluate(expr: str, settings: dict[str, str], row: dict[str, Any], repo: Path) -> Any:
    if m := _HASH.match(expr):
        return _hash_files(settings[m.group(1)], repo)
    if expr == "runner.os":
        return "Linux"
    if m := _OUTPUT.match(expr):
        return settings[m.group(1)]
    if m := _COMPARE.match(expr):
        equal = settings[m.group(1)] == m.group(3)
        return equal if m.group(2) == "==" else not equal
    if m := _CONTAINS.match(expr):
        return settings[m.group(2)] in json.loads(m.group(1))
    if expr.startswith("matrix."):
        return row[expr.removeprefix("matrix.")]
    if expr == "!cancelled()":
        return True
    raise AssertionError(f"unit_job cannot evaluate `{expr}`")


def _fill(value: Any, settings: dict[str, str], row: dict[str, Any], repo: Path) -> Any:
    if not isinstance(value, str):
        return value
    found = list(_EXPR.finditer(value))
    if len(found) == 1 and found[0].group(0) == value.strip():
        return _evaluate(found[0].group(1), settings, row, repo)
    return _EXPR.sub(lambda m: str(_evaluate(m.group(1), settings, row, repo)), value)


def run_unit_job(repo: Path, service: str, tmp: Path, *, job_id: str = "unit-tests",
                 shard: int = 1, shards: int = 1) -> JobRun:
    workflow = yaml.safe_load((repo / ".github/workflows/harden-ci.yml").read_text("utf-8"))
    steps = workflow["jobs"][job_id]["steps"]
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    github_path, github_output = tmp / "github_path", tmp / "github_output"
    github_path.write_text("")
    github_output.write_text("")
    base_env = {**os.environ, "RUNNER_TEMP": str(runner_temp), "GITHUB_PATH": str(github_path),
                "GITHUB_OUTPUT": str(github_output), "GITHUB_WORKSPACE": str(repo)}
    subprocess.run([sys.executable, ".github/workflows/harden-ci/affected.py", "--service",
                    service], cwd=repo, env=base_env, check=True)
    run = JobRun(settings=parse_output(github_output.read_text("utf-8")))
    row = {"service": service, "shard": shard, "shards": shards}
    chunks: list[str] = []
    for step in steps[2:]:  # after checkout and the settings step
        if "if" in step and not _fill(step["if"], run.settings, row, repo):
            continue
        if "uses" in step:
            inputs = {k: _fill(v, run.settings, row, repo)
                      for k, v in (step.get("with") or {}).items()}
            run.uses.append((step["uses"].split("@")[0], inputs))
            continue
        env = {k: str(_fill(v, run.settings, row, repo))
               for k, v in (step.get("env") or {}).items()}
        added = [line for line in github_path.read_text("utf-8").splitlines() if line]
        path = os.pathsep.join([*reversed(added), base_env["PATH"]])
        cwd = repo / str(_fill(step.get("working-directory", "."), run.settings, row, repo))
        proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd,
                              env={**base_env, **env, "PATH": path}, capture_output=True,
                              text=True, timeout=600, check=False)
        run.ran.append(step["name"])
        chunks.append(f"== {step['name']}\n{proc.stdout}{proc.stderr}")
        run.output = "\n".join(chunks)
        if proc.returncode != 0:
            run.returncode = proc.returncode
            break
    return run


def render_into(repo: Path, files: dict[str, str]) -> None:
    """Rendered files (by path under .github/workflows) written into a repository."""
    for name, text in files.items():
        target = repo / ".github" / "workflows" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")


def install_manager(repo: Path, name: str, tmp: Path) -> Path:
    """The hashed package-manager companion, run as the job runs it; returns the bin
    folder it put on PATH (for a test to write a fixture's lockfile with the same tool).
    It uses the job's RUNNER_TEMP under `tmp`, as a second install in the same job would."""
    github_path = tmp / "path-from-setup"
    subprocess.run([sys.executable, ".github/workflows/harden-ci/package-managers.py", name],
                   cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "RUNNER_TEMP": str(tmp / "runner-temp"),
                        "GITHUB_PATH": str(github_path)})
    return Path(github_path.read_text("utf-8").strip())
