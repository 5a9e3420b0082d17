"""The examples are golden files: what each commits under .github/workflows/ is exactly what
its spec renders today, and rendering is deterministic (same spec, same bytes, whatever the
process or its hash seed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harden_ci.pipeline import render_spec
from harden_ci.render import MARKER_PREFIX

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "examples").glob("*/harden-ci.yaml"))
WORKFLOWS = Path(".github") / "workflows"


def cli(cwd: Path, *args: str, seed: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if seed is not None:
        env["PYTHONHASHSEED"] = seed
    return subprocess.run([sys.executable, "-m", "harden_ci", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          check=False)


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_examples_exist() -> None:
    names = {spec.parent.name for spec in SPECS}
    assert {"minimal", "learnhub"} <= names


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.parent.name)
def test_check_passes_on_the_committed_example(spec: Path) -> None:
    before = files_under(spec.parent)
    result = cli(spec.parent, "check")
    assert result.returncode == 0, (
        f"{spec.parent.name}: committed workflows differ from a fresh render "
        f"(run `harden-ci render {spec.relative_to(ROOT)}`):\n{result.stdout}{result.stderr}")
    assert files_under(spec.parent) == before, "check changed files"


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.parent.name)
def test_committed_workflows_equal_a_fresh_render(spec: Path) -> None:
    rendered = render_spec(spec).files
    assert rendered, "the spec rendered no files"
    committed_dir = spec.parent / WORKFLOWS
    for name, text in sorted(rendered.items()):
        path = committed_dir / name
        assert path.is_file(), f"{name} is rendered but not committed"
        assert path.read_bytes() == text.encode("utf-8"), f"{name} differs from a fresh render"
    # Workflows sit at the top of the folder, companion files in harden-ci/.
    candidates = [*committed_dir.iterdir(), *(committed_dir / "harden-ci").glob("*")]
    generated = {p.relative_to(committed_dir).as_posix() for p in candidates
                 if p.is_file() and p.read_bytes().startswith(MARKER_PREFIX.encode())}
    assert generated == set(rendered), (
        f"committed generated files the spec no longer produces: {generated - set(rendered)}")


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.parent.name)
def test_rendering_twice_in_one_process_is_identical(spec: Path) -> None:
    first = render_spec(spec).files
    second = render_spec(spec).files
    assert first == second
    assert list(first) == list(second)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.parent.name)
def test_rendering_in_separate_processes_is_byte_identical(spec: Path, tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "4242"):
        out = tmp_path / f"seed-{seed}"
        result = cli(spec.parent, "render", "--out", str(out), seed=seed)
        assert result.returncode == 0, result.stderr
        outputs.append(files_under(out))
    assert outputs[0], "nothing was rendered"
    assert outputs[0] == outputs[1]
