"""The lean start-up of `render`, `check` and `validate` (harden_ci.startup): it skips the
field descriptions, pydantic's plugin scan and the interpreter's teardown, and changes
nothing a user sees: output (complete, also through a pipe), exit codes and files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "examples" / "minimal" / "harden-ci.yaml"
OLD_PATH = "import sys; from harden_ci.cli import main; main()"  # click alone, no startup


def run(cwd: Path, *args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["-c", code] if code else ["-m", "harden_ci"]
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    return subprocess.run([sys.executable, *prefix, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=300)


def probe(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    shutil.copyfile(MINIMAL, tmp_path / "harden-ci.yaml")
    return tmp_path


def test_prepare_skips_descriptions_and_plugins_only_for_the_model_it_builds() -> None:
    lean = json.loads(probe(
        "import json, os; from harden_ci import startup; startup.prepare(); "
        "from harden_ci.model import Spec; "
        "print(json.dumps([Spec.model_fields['services'].description, "
        "os.environ.get('PYDANTIC_DISABLE_PLUGINS')]))"))
    assert lean == [None, "__all__"]
    full = probe("from harden_ci.model import Spec; print(Spec.model_fields['services'].description)")
    assert full and full != "None", "without prepare() the model keeps its descriptions"
    late = probe("import pydantic; from harden_ci import startup; startup.prepare(); "
                 "print(startup.FIELD_DESCRIPTIONS)")
    assert late == "True", "prepare() after pydantic is imported must change nothing"


def test_schema_and_explain_keep_their_descriptions(repo: Path) -> None:
    schema = run(repo, "schema")
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout)["properties"]["services"].get("description")
    assert schema.stdout == (ROOT / "harden-ci.schema.json").read_text("utf-8")


@pytest.mark.parametrize("example", ["minimal", "learnhub"])
def test_render_writes_the_same_bytes_as_the_plain_cli(tmp_path: Path, example: str) -> None:
    spec = ROOT / "examples" / example / "harden-ci.yaml"
    lean, plain = tmp_path / "lean", tmp_path / "plain"
    a = run(ROOT, "render", str(spec), "--out", str(lean))
    b = run(ROOT, "render", str(spec), "--out", str(plain), code=OLD_PATH)
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    files = sorted(p.relative_to(lean).as_posix() for p in lean.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(plain).as_posix() for p in plain.rglob("*") if p.is_file())
    for name in files:
        assert (lean / name).read_bytes() == (plain / name).read_bytes(), name
    assert a.stdout.replace(str(lean), "OUT") == b.stdout.replace(str(plain), "OUT")


def test_exit_codes_and_output_are_the_plain_clis(repo: Path) -> None:
    """0 (render, clean check), 1 (drift, with the whole diff through the pipe), 2 (bad
    spec, with its located message), each as the click CLI alone gives it."""
    assert run(repo, "render").returncode == 0
    workflow = repo / ".github" / "workflows" / "harden-ci.yml"
    workflow.write_text(workflow.read_text("utf-8") + "".join(f"# edit {i}\n" for i in range(20000)),
                        encoding="utf-8")
    lean, plain = run(repo, "check"), run(repo, "check", code=OLD_PATH)
    assert lean.returncode == plain.returncode == 1
    assert lean.stdout == plain.stdout and len(lean.stdout) > 200_000, "output cut short"
    assert lean.stderr == plain.stderr
    (repo / "harden-ci.yaml").write_text("version: 1\nproject: {name: x}\nservices: {}\n",
                                         encoding="utf-8")
    for verb in ("validate", "render", "check"):
        lean, plain = run(repo, verb), run(repo, verb, code=OLD_PATH)
        assert lean.returncode == plain.returncode == 2, (verb, lean.stderr)
        assert lean.stderr == plain.stderr and "harden-ci.yaml:3:" in lean.stderr
    assert run(repo, "render", "--help").stdout == run(repo, "render", "--help", code=OLD_PATH).stdout


def test_a_closed_pipe_is_an_error_not_a_success(repo: Path) -> None:
    """When stdout cannot be flushed, the exit status says so (as Python's own does)."""
    proc = subprocess.Popen([sys.executable, "-m", "harden_ci", "render", "--dry-run"], cwd=repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()
    proc.wait(timeout=120)
    assert proc.returncode != 0
