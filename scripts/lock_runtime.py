#!/usr/bin/env python3
"""Refresh the hashed locks harden-ci ships (maintainer script; never run by tests or CI).

Each lock in harden_ci/data/locks/ pins one set of requirements, transitive ones included,
with the sha256 of EVERY distribution of each pinned version (all wheels and the sdist), as
the package index lists them. The hashes are read from the index by uv's resolver
(`uv pip compile --generate-hashes --universal`), never typed. The generated jobs install
from these locks with `pip install --require-hashes --no-deps --only-binary :all:`.

    python scripts/lock_runtime.py [--uv PATH]

The index is the one pip is configured with (PIP_INDEX_URL or `pip config` global.index-url),
or uv's default when pip names none. Needs uv 0.13.9 (`pip install uv==0.13.9`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from harden_ci.plan.tools import NPM_TOOLSETS, PIP_TOOLSETS  # noqa: E402  (the tool pins)

LOCKS = ROOT / "harden_ci" / "data" / "locks"
UV_VERSION = "0.13.9"
# The oldest Python harden-ci supports; --universal makes the lock hold for every newer one.
PYTHON = "3.11"


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def runtime_requirements() -> list[str]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    return [str(r) for r in project["dependencies"]]


def build_requirements() -> list[str]:
    build = _pyproject()["build-system"]
    assert isinstance(build, dict)
    return [str(r) for r in build["requires"]]


# lock file name → (what it is for, the requirements it pins)
def lock_inputs() -> dict[str, tuple[str, list[str]]]:
    return {
        "harden-ci.txt": ("harden-ci's runtime dependencies (pyproject.toml [project] "
                          "dependencies)", runtime_requirements()),
        "build.txt": ("the build backend that builds harden-ci from a git commit "
                      "(pyproject.toml [build-system] requires)", build_requirements()),
        **{toolset.lock_file: (f"the {toolset.name} tools a generated job installs "
                               "(harden_ci/plan/tools.py)", toolset.requirements)
           for toolset in PIP_TOOLSETS.values()},
    }


def _pip_index() -> str | None:
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    found = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                           capture_output=True, text=True, check=False)
    return found.stdout.strip() or None if found.returncode == 0 else None


def _check_uv(uv: str) -> None:
    out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
    if out.split()[1] != UV_VERSION:
        sys.exit(f"lock_runtime.py wants uv {UV_VERSION}, found {out.strip()}")


def compile_lock(uv: str, requirements: list[str], index: str | None) -> str:
    """uv's hashed, universal lock of the requirements (no header, no annotations)."""
    command = [uv, "pip", "compile", "-", "--generate-hashes", "--universal",
               "--python-version", PYTHON, "--no-header", "--no-annotate", "--quiet"]
    if index:
        command += ["--index-url", index]
    done = subprocess.run(command, input="\n".join(requirements) + "\n", capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"uv pip compile failed:\n{done.stderr}")
    return done.stdout


def npm_lock(npm: str, name: str, dependencies: dict[str, str]) -> str:
    """npm's lockfile (v3, every package with its integrity hash) of exact dependencies,
    resolved without installing or running any package script."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        package = {"name": f"harden-ci-{name}", "version": "0.0.0", "private": True,
                   "dependencies": dependencies}
        Path(folder, "package.json").write_text(json.dumps(package, indent=2) + "\n", "utf-8")
        done = subprocess.run([npm, "install", "--package-lock-only", "--ignore-scripts",
                               "--no-audit", "--no-fund", "--save-exact"], cwd=folder,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"npm install --package-lock-only failed:\n{done.stderr}")
        text = Path(folder, "package-lock.json").read_text("utf-8")
    lock = json.loads(text)
    missing = [key for key, entry in lock["packages"].items()
               if key and not entry.get("integrity")]
    if missing:
        sys.exit(f"npm lock of {name}: no integrity for {', '.join(missing)}")
    return text


def header(purpose: str, requirements: list[str]) -> str:
    return ("# Hashed lock of " + purpose + ".\n"
            "# Written by scripts/lock_runtime.py (uv " + UV_VERSION + " pip compile "
            "--generate-hashes --universal); do not edit.\n"
            "# Pins: " + ", ".join(requirements) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uv", default=shutil.which("uv") or "uv", help="the uv executable")
    parser.add_argument("--npm", default=shutil.which("npm") or "npm", help="the npm executable")
    args = parser.parse_args(argv)
    _check_uv(args.uv)
    index = _pip_index()
    LOCKS.mkdir(parents=True, exist_ok=True)
    for name, (purpose, requirements) in lock_inputs().items():
        body = compile_lock(args.uv, requirements, index)
        (LOCKS / name).write_text(header(purpose, requirements) + body, "utf-8")
        pins = sum(1 for line in body.splitlines() if line and not line[0].isspace())
        print(f"{LOCKS.relative_to(ROOT) / name}: {pins} pins")
    for toolset in NPM_TOOLSETS.values():
        text = npm_lock(args.npm, toolset.name, toolset.dependencies)
        (LOCKS / toolset.lock_file).write_text(text, "utf-8")
        count = text.count('"integrity"')
        print(f"{LOCKS.relative_to(ROOT) / toolset.lock_file}: {count} packages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
