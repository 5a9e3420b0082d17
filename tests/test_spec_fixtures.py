"""Every spec under tests/fixtures/specs/ goes through the real command line.

valid/*.yaml      `validate` and `render --dry-run` both exit 0.
invalid/X.yaml    `validate`, `render` and `check` exit 2; stderr holds every non-empty line
                  of invalid/X.expected (file:line:col, field path, hint), no traceback,
                  and stdout stays empty.

Both folders are discovered by glob, so adding a case is adding a file. Nothing under the
fixtures folder may change while the CLI runs on it (bad input means nothing is written;
a dry run writes nothing).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "specs"
VALID = FIXTURES / "valid"
INVALID = FIXTURES / "invalid"

VALID_SPECS = sorted(VALID.glob("*.yaml"))
INVALID_SPECS = sorted(INVALID.glob("*.yaml"))


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "harden_ci", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          check=False)


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` (files with their bytes, folders as None)."""
    snap: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        snap[rel] = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return snap


@pytest.fixture
def untouched_fixtures() -> Iterator[None]:
    before = _snapshot(FIXTURES)
    yield
    after = _snapshot(FIXTURES)
    assert sorted(after) == sorted(before), (
        f"files appeared or vanished: {sorted(set(after) ^ set(before))}")
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"fixture files changed: {changed}"


def _expected_lines(spec: Path) -> list[str]:
    expected = spec.with_suffix(".expected")
    lines = [line for line in expected.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


# --- the fixture sets themselves ---------------------------------------------------------

def test_fixture_folders_are_populated() -> None:
    assert len(VALID_SPECS) >= 6, f"expected at least 6 valid specs in {VALID}"
    assert len(INVALID_SPECS) >= 25, f"expected at least 25 invalid specs in {INVALID}"


def test_every_invalid_spec_has_expectations_and_vice_versa() -> None:
    specs = {p.stem for p in INVALID_SPECS}
    expectations = {p.stem for p in INVALID.glob("*.expected")}
    assert specs - expectations == set(), f"invalid specs without .expected: {specs - expectations}"
    assert expectations - specs == set(), f".expected without a spec: {expectations - specs}"
    for spec in INVALID_SPECS:
        lines = _expected_lines(spec)
        assert lines, f"{spec.name}.expected is empty: it would assert nothing"
        # Each case pins the place of its (first) error, in the file:line:col form.
        assert any(re.fullmatch(rf"{re.escape(spec.name)}:\d+:\d+:", line) for line in lines), (
            f"{spec.stem}.expected names no `{spec.name}:LINE:COL:` location")


# --- valid specs ------------------------------------------------------------------------

@pytest.mark.usefixtures("untouched_fixtures")
@pytest.mark.parametrize("spec", VALID_SPECS, ids=lambda p: p.stem)
def test_valid_spec_validates(spec: Path) -> None:
    result = _run("validate", spec.name, cwd=spec.parent)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{spec.name}: valid" in result.stdout


@pytest.mark.usefixtures("untouched_fixtures")
@pytest.mark.parametrize("spec", VALID_SPECS, ids=lambda p: p.stem)
def test_valid_spec_renders_in_a_dry_run(spec: Path) -> None:
    # No --out: the default folder (.github/workflows beside the spec) does not exist, so
    # a dry run reports it would create the workflow, and must not create anything.
    result = _run("render", "--dry-run", spec.name, cwd=spec.parent)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "would create" in result.stdout
    assert "harden-ci.yml" in result.stdout
    assert not (spec.parent / ".github").exists()


# --- invalid specs ----------------------------------------------------------------------

@pytest.mark.usefixtures("untouched_fixtures")
@pytest.mark.parametrize("verb", ["validate", "render", "check"])
@pytest.mark.parametrize("spec", INVALID_SPECS, ids=lambda p: p.stem)
def test_invalid_spec_is_refused_with_a_precise_message(spec: Path, verb: str) -> None:
    result = _run(verb, spec.name, cwd=spec.parent)
    assert result.returncode == 2, (
        f"exit {result.returncode}, expected 2\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    assert "Traceback" not in result.stderr
    assert result.stdout == "", f"stdout must stay empty on bad input, got:\n{result.stdout}"
    assert result.stderr.startswith("harden-ci: error: "), result.stderr
    missing = [line for line in _expected_lines(spec) if line not in result.stderr]
    assert not missing, f"stderr lacks {missing}\nstderr:\n{result.stderr}"
    # Every line of the message is one error that names its place: file:line:col.
    body = result.stderr.removeprefix("harden-ci: error: ")
    place = re.compile(rf"^{re.escape(spec.name)}:\d+:\d+: ")
    stray = [line for line in body.splitlines() if line.strip() and not place.match(line)]
    assert not stray, f"lines that name no {spec.name}:LINE:COL: {stray}\n{result.stderr}"
