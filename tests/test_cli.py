"""The command-line contract: verbs, exit codes (0 ok, 1 drift, 2 bad input, 3 internal
error), messages, `--help`, `--version` and `schema`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import harden_ci
from harden_ci import pipeline
from harden_ci.cli import cli as cli_group
from harden_ci.load import load_spec_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "specs"
WORKFLOW = Path(".github") / "workflows" / "harden-ci.yml"
VERBS = sorted(cli_group.commands)


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harden_ci", *args], cwd=cwd,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          check=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with the minimal example's spec, rendered."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copyfile(EXAMPLES / "minimal" / "harden-ci.yaml", root / "harden-ci.yaml")
    result = cli(root, "render")
    assert result.returncode == 0, result.stderr
    return root


def test_the_expected_verbs_exist() -> None:
    assert {"validate", "render", "check", "schema"} <= set(VERBS)


# --- check --------------------------------------------------------------------------------

def test_check_on_clean_output_exits_0(repo: Path) -> None:
    result = cli(repo, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches" in result.stdout


def test_check_after_a_hand_edit_exits_1_with_a_unified_diff(repo: Path) -> None:
    workflow = repo / WORKFLOW
    edited = workflow.read_text("utf-8") + "# hand edit\n"
    workflow.write_text(edited, encoding="utf-8")

    result = cli(repo, "check")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("--- ") and "harden-ci.yml" in line for line in lines), result.stdout
    assert any(line.startswith("+++ ") and "harden-ci.yml" in line for line in lines)
    assert any(line.startswith("@@ ") for line in lines)
    removed = [line for line in lines if line.startswith("-") and not line.startswith("---")]
    assert "-# hand edit" in removed
    assert "harden-ci render" in result.stderr
    # check reads only.
    assert workflow.read_text("utf-8") == edited


def test_check_after_a_spec_change_exits_1(repo: Path) -> None:
    spec = repo / "harden-ci.yaml"
    spec.write_text(spec.read_text("utf-8").replace("tiny-app", "renamed-app"), encoding="utf-8")
    before = (repo / WORKFLOW).read_bytes()
    result = cli(repo, "check")
    assert result.returncode == 1
    assert any(line.startswith("+") and "renamed-app" in line
               for line in result.stdout.splitlines()), result.stdout
    assert (repo / WORKFLOW).read_bytes() == before


def test_check_with_a_missing_workflow_exits_1(repo: Path) -> None:
    (repo / WORKFLOW).unlink()
    result = cli(repo, "check")
    assert result.returncode == 1
    assert "harden-ci.yml" in result.stdout
    assert not (repo / WORKFLOW).exists()


def test_check_with_a_stale_generated_file_exits_1(repo: Path) -> None:
    stale = repo / WORKFLOW.parent / "retired.yml"
    stale.write_text((repo / WORKFLOW).read_text("utf-8"), encoding="utf-8")
    result = cli(repo, "check")
    assert result.returncode == 1
    assert "retired.yml" in result.stdout
    assert stale.exists()


def test_check_with_a_bad_spec_exits_2(repo: Path) -> None:
    spec = repo / "harden-ci.yaml"
    original = spec.read_text("utf-8")
    spec.write_text(original + "surprise: 1\n", encoding="utf-8")
    line = len(original.splitlines()) + 1
    result = cli(repo, "check")
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"harden-ci.yaml:{line}:1:" in result.stderr and "surprise" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_refuses_a_symlinked_workflow(repo: Path, tmp_path: Path) -> None:
    workflow = repo / WORKFLOW
    outside = tmp_path / "elsewhere.yml"
    outside.write_bytes(workflow.read_bytes())
    workflow.unlink()
    workflow.symlink_to(outside)
    result = cli(repo, "check")
    assert result.returncode == 2
    assert "harden-ci.yml" in result.stderr


# --- missing or odd spec paths ------------------------------------------------------------

@pytest.mark.parametrize("verb", ["validate", "render", "check"])
def test_missing_spec_exits_2_with_a_hint_to_init(tmp_path: Path, verb: str) -> None:
    result = cli(tmp_path, verb)
    assert result.returncode == 2
    assert "harden-ci.yaml" in result.stderr
    assert "harden-ci init" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("verb", ["validate", "render", "check"])
def test_missing_named_spec_exits_2(tmp_path: Path, verb: str) -> None:
    result = cli(tmp_path, verb, "nested/missing.yaml")
    assert result.returncode == 2
    assert "nested/missing.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_spec_path_that_is_a_folder_exits_2(tmp_path: Path) -> None:
    (tmp_path / "harden-ci.yaml").mkdir()
    result = cli(tmp_path, "validate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


NON_REGULAR_VERBS = ["validate", "render", "check", "explain", "graph", "sbom"]


@pytest.mark.parametrize("verb", NON_REGULAR_VERBS)
def test_a_fifo_as_the_spec_is_refused_at_once(tmp_path: Path, verb: str) -> None:
    """Nobody writes to the FIFO: opening it for reading in the usual way would block
    forever (the subprocess timeout would fail the test)."""
    os.mkfifo(tmp_path / "harden-ci.yaml")
    result = subprocess.run([sys.executable, "-m", "harden_ci", verb], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "harden-ci.yaml" in result.stderr and "FIFO" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["harden-ci.yaml"]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
@pytest.mark.parametrize("verb", ["validate", "render", "check"])
def test_a_device_as_the_spec_is_refused(tmp_path: Path, device: str, verb: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    result = cli(tmp_path, verb, device)
    assert result.returncode == 2, result.stdout + result.stderr
    assert device in result.stderr and "character device" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_huge_spec_is_refused_by_its_size_before_reading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harden_ci import regular_file

    spec = tmp_path / "harden-ci.yaml"
    with spec.open("wb") as handle:  # sparse: 9 MiB that take no space
        handle.truncate(9 * 1024 * 1024)
    reads: list[int] = []
    real_read = os.read
    monkeypatch.setattr(regular_file.os, "read",
                        lambda fd, n: reads.append(n) or real_read(fd, n))
    result = CliRunner().invoke(cli_group, ["validate", str(spec)])
    assert result.exit_code == 2, result.output
    assert "over the 8388608-byte limit" in result.stderr
    assert reads == [], "the file was read before its size was checked"


def test_a_spec_that_grows_past_the_limit_is_still_refused(tmp_path: Path) -> None:
    from harden_ci.errors import SpecError
    from harden_ci.regular_file import read_regular_file

    spec = tmp_path / "spec.yaml"
    spec.write_bytes(b"x" * 100)
    assert read_regular_file(spec, 100) == b"x" * 100
    spec.write_bytes(b"x" * 101)
    with pytest.raises(SpecError, match="over the 100-byte limit"):
        read_regular_file(spec, 100)


def test_a_socket_as_the_spec_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "harden-ci.yaml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        result = cli(tmp_path, "validate")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "socket" in result.stderr


def test_spec_in_another_folder_renders_beside_it(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copyfile(EXAMPLES / "minimal" / "harden-ci.yaml", project / "harden-ci.yaml")
    result = cli(tmp_path, "render", "project/harden-ci.yaml")
    assert result.returncode == 0, result.stderr
    assert (project / WORKFLOW).is_file()
    assert not (tmp_path / ".github").exists()
    assert cli(tmp_path, "check", "project/harden-ci.yaml").returncode == 0


# --- help, version, unknown verbs ---------------------------------------------------------

@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_an_example(tmp_path: Path, verb: str, flag: str) -> None:
    result = cli(tmp_path, verb, flag)
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout
    assert "harden-ci " + verb in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_top_level_help_lists_the_verbs_and_exit_codes(tmp_path: Path) -> None:
    result = cli(tmp_path, "--help")
    assert result.returncode == 0
    for verb in VERBS:
        assert verb in result.stdout
    assert "Exit codes" in result.stdout


def test_version(tmp_path: Path) -> None:
    result = cli(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"harden-ci, version {harden_ci.__version__}"


def test_unknown_verb_is_a_usage_error(tmp_path: Path) -> None:
    result = cli(tmp_path, "frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


# --- internal errors ----------------------------------------------------------------------

@pytest.mark.parametrize("verb", ["validate", "render", "check"])
def test_internal_error_exits_3_without_a_traceback(repo: Path, verb: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom in the pipeline")

    # Every verb that reads a spec goes through pipeline.load (render_spec calls it too).
    monkeypatch.setattr(pipeline, "load", explode)
    before = (repo / WORKFLOW).read_bytes()
    result = CliRunner().invoke(cli_group, [verb, str(repo / "harden-ci.yaml")],
                                catch_exceptions=False)
    assert result.exit_code == 3, result.output
    assert "internal error (RuntimeError)" in result.stderr
    assert "kaboom in the pipeline" in result.stderr
    assert "report" in result.stderr
    assert "Traceback" not in result.output
    assert (repo / WORKFLOW).read_bytes() == before


def test_keyboard_interrupt_exits_130(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "load", interrupted)
    result = CliRunner().invoke(cli_group, ["validate", str(repo / "harden-ci.yaml")],
                                catch_exceptions=False)
    assert result.exit_code == 130
    assert "Traceback" not in result.output


# --- schema -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    result = subprocess.run([sys.executable, "-m", "harden_ci", "schema"], capture_output=True,
                            text=True, encoding="utf-8", timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_schema_is_json_with_closed_objects(schema: dict[str, object]) -> None:
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"version", "project", "services"}  # type: ignore[arg-type]
    defs = schema.get("$defs", {})
    assert isinstance(defs, dict) and defs
    open_objects = [name for name, d in defs.items()
                    if d.get("type") == "object" and d.get("additionalProperties") is not False]
    assert not open_objects, f"definitions that accept unknown keys: {open_objects}"


def test_schema_is_a_valid_2020_12_schema(schema: dict[str, object]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("spec", sorted((FIXTURES / "valid").glob("*.yaml"))
                         + sorted(EXAMPLES.glob("*/harden-ci.yaml")),
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_schema_accepts_every_valid_spec(schema: dict[str, object], spec: Path) -> None:
    # Editors use the schema: it may not flag a spec that harden-ci accepts.
    data = load_spec_file(spec).data
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data),
                    key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("case", ["unknown_key", "wrong_enum", "several_errors"])
def test_schema_rejects_unknown_keys_and_bad_enums(schema: dict[str, object], case: str) -> None:
    data = load_spec_file(FIXTURES / "invalid" / f"{case}.yaml").data
    assert not jsonschema.Draft202012Validator(schema).is_valid(data)
