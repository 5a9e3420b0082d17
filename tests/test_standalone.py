"""A clone stands alone: nothing the tests, scripts or build use lies outside the repository.

The facts the pin catalog and the tests are built from are the project's own data in
reference/ (scripts/build_pin_catalog.py --refresh-from DIR copies a newer one in). This
test fails when a tracked file reaches for a folder beside the clone, and runs the catalog
and reference tests in a fresh clone placed where nothing is beside it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The folder above the clone (`REPO.parent`, `ROOT.parent`): out of the clone.
_ABOVE = re.compile(r"\b(?:REPO|ROOT)\.parent\b")


def _outside_patterns() -> re.Pattern[str]:
    """`REPO.parent`, or a `../NAME` string naming a folder that sits beside this clone."""
    beside = sorted(p.name for p in REPO.resolve().parent.iterdir() if p.name != REPO.name)
    names = "|".join(re.escape(name) for name in beside) or "(?!)"
    return re.compile(rf"""{_ABOVE.pattern}|["']\.\./(?:{names})\b""")


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    return [REPO / name for name in out.stdout.decode().split("\0") if name]


def test_no_tracked_code_reaches_outside_the_clone() -> None:
    outside = _outside_patterns()
    offenders = []
    for path in _tracked():
        if path == Path(__file__).resolve():
            continue  # this checker names the patterns it looks for
        if path.suffix not in (".py", ".sh", ".toml", ".cfg", ".ini") and path.name != "run":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if outside.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == [], "paths out of the repository:\n" + "\n".join(offenders)


@pytest.mark.slow
def test_the_reference_tests_pass_in_a_clone_with_nothing_beside_it(tmp_path: Path) -> None:
    clone = tmp_path / "alone" / "harden-ci"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True)
    # The working tree's uncommitted test files are what this run checks, too.
    for rel in ("tests/test_pins.py", "tests/test_standalone.py", "scripts/build_pin_catalog.py"):
        (clone / rel).write_bytes((REPO / rel).read_bytes())
    assert sorted(p.name for p in clone.parent.iterdir()) == ["harden-ci"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pins.py"],
        cwd=clone, env={**env, "PYTHONPATH": str(clone)}, capture_output=True, text=True,
        timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(r"\d+ passed", run.stdout)
    check = subprocess.run([sys.executable, "scripts/build_pin_catalog.py", "--check"],
                           cwd=clone, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
