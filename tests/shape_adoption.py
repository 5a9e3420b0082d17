"""How the repository-shape tests adopt harden-ci in a fixture, as its maintainer would:
`init` reads the repository, the spec is init's with only the changes this offline
harness needs, then `render` writes the pipeline (tests/test_act_repo_shapes.py says why).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import act_harness as act

WHEEL_DIR = "ci"


def harden_ci(*args: str, cwd: Path) -> str:
    run = subprocess.run([sys.executable, "-m", "harden_ci", *args], cwd=cwd,
                         capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout + run.stderr


def adopt(repo: act.FixtureRepo, wheel: Path,
          hand_edit: Callable[[str], str] | None = None) -> str:
    """init, the maintainer's `hand_edit` of its spec if any, the offline changes (no
    workflow lint: it builds actionlint from its source repository; no dependency review:
    it asks GitHub's dependency-graph API; harden-ci from a wheel of this checkout), render,
    and commit. Returns the spec as init wrote it."""
    harden_ci("init", cwd=repo.path)
    spec = repo.path / "harden-ci.yaml"
    (repo.path / WHEEL_DIR).mkdir()
    shutil.copy2(wheel, repo.path / WHEEL_DIR / wheel.name)
    written = spec.read_text(encoding="utf-8")
    text = hand_edit(written) if hand_edit else written
    offline = (text.replace("    workflows: true\n", "    workflows: false\n")
               .replace("  vulnerabilities: {fail_on: high}\n", ""))
    assert offline.count("\n") == text.count("\n") - 1, "init's spec changed shape"
    spec.write_text(offline + f"harden_ci: {{wheel: {WHEEL_DIR}/{wheel.name}}}\n",
                    encoding="utf-8")
    harden_ci("render", str(spec), cwd=repo.path)
    repo.commit("Adopt harden-ci")
    return written
