"""The Python SBOM of a published image describes the environment the service's own
package manager builds: uv installs into the project's `.venv` unless told otherwise, so
the SBOM step points it at the SBOM's venv (UV_PROJECT_ENVIRONMENT); poetry and pdm use
the active venv. An install that leaves the SBOM's venv empty fails instead of producing
an SBOM of pip and setuptools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_scripts import Runner, _output, rendered, rendered_files, script_steps

SPEC: dict[str, Any] = {
    "version": 1, "project": {"name": "shop", "registry": "ghcr.io/acme"},
    "services": {"api": {"path": "api", "language": "python", "package_manager": "uv",
                         "dockerfile": "api/Dockerfile"},
                 "books": {"path": "books", "language": "python", "package_manager": "poetry",
                           "dockerfile": "books/Dockerfile"}},
    "gates": {"secret_scan": {}},
    "supply_chain": {"sbom": "cyclonedx"},
}
UV = Path(sys.executable).parent / "uv"


def _publish_steps() -> list[dict[str, Any]]:
    jobs = rendered(SPEC)["harden-ci-release.yml"]["jobs"]
    publish = next(job for job_id, job in jobs.items() if job_id.startswith("publish"))
    steps: list[dict[str, Any]] = publish["steps"]
    return steps


def test_the_publish_job_installs_each_manager_without_a_cache() -> None:
    steps = {step.get("name"): step for step in _publish_steps()}
    uv = steps["Set up uv"]
    assert uv["with"]["enable-cache"] is False and uv["if"] == "${{ matrix.manager == 'uv' }}"
    manager = steps["Install the package manager (exact version, hash-checked)"]
    assert "poetry" in manager["if"] and manager["env"] == {"PACKAGE_MANAGER": "${{ matrix.manager }}"}
    sbom = steps["SBOM of the Python environment (cyclonedx-py)"]
    assert sbom["env"]["PACKAGE_MANAGER"] == "${{ matrix.manager }}"
    jobs = rendered(SPEC)["harden-ci-release.yml"]["jobs"]
    rows = {row["service"]: row for job_id, job in jobs.items() if job_id.startswith("publish")
            for row in job["strategy"]["matrix"]["include"]}
    assert (rows["api"]["manager"], rows["books"]["manager"]) == ("uv", "poetry")
    assert rows["api"]["install"] == "uv sync --locked"


def _uv_project(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "api"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["six==1.17.0"]\n', "utf-8")
    done = subprocess.run([str(UV), "lock"], cwd=folder, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _sbom_step(runner: Runner) -> dict[str, Any]:
    """The api leg's SBOM step, its matrix values filled in as the runner would."""
    legs = script_steps(rendered(SPEC), "python-sbom.sh")
    step = next(leg for job_id, leg in legs.items() if job_id.endswith("[api]"))
    lock = runner.workspace / step["env"]["CYCLONEDX_LOCK"]
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(rendered_files(SPEC)["harden-ci/tools-cyclonedx.txt"], encoding="utf-8")
    # The machine's trust store, as a runner has one (uv reads SSL_CERT_FILE).
    trust = {k: os.environ[k] for k in ("SSL_CERT_FILE", "SSL_CERT_DIR") if k in os.environ}
    return {**step, "env": {**step["env"], **trust}}


@pytest.mark.slow
def test_a_uv_project_s_sbom_lists_its_locked_dependencies(tmp_path: Path) -> None:
    if not UV.exists():
        pytest.fail(f"uv is part of the test extra and should be at {UV}")
    runner = Runner(tmp_path)
    (runner.bin / "uv").symlink_to(UV)
    _uv_project(runner.workspace / "api")
    step = _sbom_step(runner)
    assert (step["env"]["INSTALL_COMMAND"], step["env"]["PACKAGE_MANAGER"]) == (
        "uv sync --locked", "uv")
    result = runner.run(step, timeout=900)
    assert result.returncode == 0, _output(result)
    sbom = json.loads((runner.workspace / step["env"]["SBOM_FILE"]).read_text("utf-8"))
    components = {(c.get("name"), c.get("version")) for c in sbom.get("components", [])}
    assert ("six", "1.17.0") in components, components
    assert not (runner.workspace / "api" / ".venv").exists()  # not the project's own venv


@pytest.mark.slow
def test_an_install_that_fills_another_environment_fails(tmp_path: Path) -> None:
    runner = Runner(tmp_path)
    (runner.workspace / "api").mkdir(parents=True)
    step = _sbom_step(runner)
    # an install that puts its packages elsewhere (here: nowhere) leaves the venv empty
    step = {**step, "env": {**step["env"], "INSTALL_COMMAND": "true"}}
    result = runner.run(step, timeout=900)
    assert result.returncode == 1, _output(result)
    assert "left the SBOM's environment empty" in result.stdout
