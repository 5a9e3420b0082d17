"""Versions from files: `version_file` reaches the setup actions' `*-version-file` inputs,
contradictions are located spec errors, and Rust's toolchain script installs a toolchain
only for an explicit version (run for real with the machine's cargo and a recording
stand-in for rustup, which would need the network)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harden_ci.errors import SpecErrors
from harden_ci.load.yaml_source import load_spec_text
from harden_ci.model import Spec
from harden_ci.model.validate import parse_spec
from harden_ci.plan.context import make_context
from harden_ci.plan.stages import changes
from harden_ci.render import render

SCRIPT = Path(__file__).resolve().parent.parent / "templates" / "scripts" / "toolchain.sh"


def _spec(services: dict[str, Any], **extra: Any) -> Spec:
    return Spec.model_validate({"version": 1, "project": {"name": "demo"},
                                "services": services, **extra})


def _settings(**service: Any) -> dict[str, Any]:
    return changes.service_config(make_context(_spec({"svc": service}), "harden-ci.yaml"))["svc"]


@pytest.mark.parametrize(("language", "version_file", "action_input"), [
    ("node", "web/.nvmrc", "node-version-file"),
    ("node", "package.json", "node-version-file"),
    ("python", "web/.python-version", "python-version-file"),
    ("python", "web/pyproject.toml", "python-version-file"),
    ("go", "web/go.mod", "go-version-file"),
    ("java", "web/.java-version", "java-version-file"),
])
def test_version_file_reaches_the_setup_action(language: str, version_file: str,
                                                action_input: str) -> None:
    settings = _settings(path="web", language=language, version_file=version_file)
    assert (settings["version"], settings["version_file"]) == ("", version_file)
    job = yaml.safe_load(render(_spec({"svc": {"path": "web", "language": language,
                                                "version_file": version_file}}))
                         ["harden-ci.yml"])["jobs"]["unit-tests"]
    setups = [s for s in job["steps"] if action_input in (s.get("with") or {})]
    assert len(setups) == 1
    assert setups[0]["with"][action_input] == "${{ steps.service.outputs.version_file }}"


def test_explicit_version_and_default_leave_the_file_empty() -> None:
    assert (_settings(language="node", version="20")["version"],
            _settings(language="node", version="20")["version_file"]) == ("20", "")
    assert _settings(language="python")["version"] == "3.12"
    assert _settings(language="rust")["version"] == ""  # the runner's toolchain


def test_per_service_jobs_pass_only_the_file() -> None:
    """The schema-drift job sets up its service statically: the file, and no version."""
    spec = _spec({"api": {"path": "api", "language": "python",
                          "version_file": "api/.python-version"}},
                 gates={"schema_drift": {"service": "api", "preset": "alembic"}})
    job = yaml.safe_load(render(spec)["harden-ci.yml"])["jobs"]["schema-drift"]
    setup = next(s for s in job["steps"] if s.get("name") == "Set up Python")
    assert setup["with"]["python-version-file"] == "api/.python-version"
    assert "python-version" not in setup["with"]


@pytest.mark.parametrize(("service", "message"), [
    ({"language": "node", "version": "22", "version_file": ".nvmrc"},
     "give `version` or `version_file`, not both"),
    ({"language": "node", "version_file": ".python-version"},
     "is not a node version file (.nvmrc, .node-version, package.json, .tool-versions)"),
    ({"language": "dotnet", "version_file": "global.json"},
     "`version_file` is for node, python, go, java and rust; dotnet takes `version`"),
    ({"path": "crates/a", "language": "rust", "version_file": "crates/b/rust-toolchain.toml"},
     "rustup reads the toolchain file from the service's folder or above it"),
])
def test_version_file_contradictions_are_located(service: dict[str, Any], message: str) -> None:
    text = "version: 1\nproject: {name: demo}\nservices:\n  svc: " + json.dumps(service) + "\n"
    with pytest.raises(SpecErrors) as caught:
        parse_spec(load_spec_text(text.encode(), "harden-ci.yaml"))
    assert any(message in str(e) for e in caught.value.errors), \
        [str(e) for e in caught.value.errors]
    assert all(e.location is not None and e.location.line == 4 for e in caught.value.errors)


def test_rust_toolchain_file_above_the_service_is_accepted() -> None:
    assert _settings(path="crates/a", language="rust",
                     version_file="rust-toolchain.toml")["version_file"] == "rust-toolchain.toml"


needs_cargo = pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")


def _fake_rustup(folder: Path, log: Path) -> None:
    folder.mkdir()
    fake = folder / "rustup"
    fake.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n', "utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)


@needs_cargo
@pytest.mark.parametrize(("version", "rustup_calls"), [
    ("", []),
    ("1.80.0", ["toolchain install 1.80.0 --profile minimal", "override set 1.80.0"]),
])
def test_rust_installs_a_toolchain_only_for_an_explicit_version(
        tmp_path: Path, version: str, rustup_calls: list[str]) -> None:
    log = tmp_path / "rustup.log"
    log.write_text("")
    _fake_rustup(tmp_path / "bin", log)
    proc = subprocess.run(["bash", "-e", str(SCRIPT)], cwd=tmp_path, capture_output=True,
                          text=True, check=False,
                          env={**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
                               "LANGUAGE": "rust", "TOOLCHAIN_VERSION": version,
                               "SETUP_COMMAND": ""})
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == rustup_calls
    assert proc.stdout.startswith("cargo ")  # the toolchain in use, printed
