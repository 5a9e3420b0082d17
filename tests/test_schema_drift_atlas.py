"""`gates.schema_drift` with `preset: atlas`: what the job installs, how, and what its
check does when the migrations reach the desired schema and when they do not.

The scripts run as the runner runs them (see test_scripts.py), with a recording fake
`atlas` and `go` (tests/fixtures/scripts/bin): Atlas is built from source in CI and cannot
be built here.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_scripts import Runner, rendered, script_step

from harden_ci.model import Spec
from harden_ci.plan.pins import catalog
from harden_ci.plan.stages.schema_drift import ATLAS_DEV_URLS
from harden_ci.plan.tools import ATLAS_COMMIT, TOOLS

SHA = re.compile(r"[0-9a-f]{40}")
IMAGE = "postgres:17-alpine@sha256:" + "ab" * 32


def _spec(**drift: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "project": {"name": "ledger"},
        "services": {"api": {"path": "services/api", "language": "go"}},
        "gates": {"schema_drift": {"service": "api", "preset": "atlas", "database": "postgres",
                                   "database_image": IMAGE, **drift}},
    }


def _job(spec: dict[str, Any]) -> dict[str, Any]:
    (job,) = [wf["jobs"]["schema-drift"] for wf in rendered(spec).values()
              if "schema-drift" in wf.get("jobs", {})]
    return dict(job)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


# ---------------------------------------------------------------- what the job installs

def test_atlas_job_uses_only_catalog_pins_and_a_pinned_source_commit() -> None:
    steps = _job(_spec())["steps"]
    pins = {pin.action: pin for pin in catalog()}
    uses = [str(s["uses"]) for s in steps if "uses" in s]
    assert uses, "the atlas job uses no action"
    for ref in uses:
        action, _, sha = ref.partition("@")
        assert SHA.fullmatch(sha), f"{ref} is not pinned to a commit"
        assert sha == pins[action].sha, f"{ref} is not the catalog's pin"
    (source,) = [s for s in steps if s.get("with", {}).get("repository") == "ariga/atlas"]
    assert source["with"]["ref"] == ATLAS_COMMIT and SHA.fullmatch(ATLAS_COMMIT)
    assert source["with"]["persist-credentials"] is False
    assert ATLAS_COMMIT in TOOLS["atlas"].source  # the provenance is recorded with the version
    # Nothing is fetched unpinned: no installer script, no download piped to a shell.
    runs = "\n".join(str(s.get("run", "")) for s in steps)
    assert "atlasgo.sh" not in runs and "curl" not in runs and "wget" not in runs


def test_atlas_is_built_with_the_go_its_module_names_and_its_go_sum() -> None:
    steps = {s["name"]: s for s in _job(_spec())["steps"]}
    go = steps["Set up Go for Atlas"]["with"]
    assert go["go-version-file"] == ".harden-ci-atlas/cmd/atlas/go.mod"
    assert go["cache-dependency-path"] == ".harden-ci-atlas/cmd/atlas/go.sum"
    build = steps["Build Atlas"]
    assert build["working-directory"] == ".harden-ci-atlas/cmd/atlas"
    assert build["env"] == {"GO_TOOL": "atlas", "GO_TOOL_PACKAGE": ".", "GOTOOLCHAIN": "local",
                            "GO_TOOL_VERSION": f"{TOOLS['atlas'].version} (community edition)"}
    assert "-mod=readonly" in build["run"]


def test_default_atlas_check_needs_no_language_toolchain() -> None:
    names = [s["name"] for s in _job(_spec())["steps"]]
    assert names == ["Check out the repository", "Check out Atlas v1.2.3 source",
                     "Set up Go for Atlas", "Build Atlas", "Check models against migrations"]


@pytest.mark.parametrize("database", ["postgres", "mysql"])
def test_dev_url_points_at_the_service_container(database: str) -> None:
    spec = _spec(database=database, database_image=f"{database}:8@sha256:" + "cd" * 32)
    job = _job(spec)
    assert list(job["services"]) == [database]
    port = job["services"][database]["ports"][0].split(":")[0]
    env = script_step(rendered(spec), "atlas-drift.sh", "schema-drift")["env"]
    assert env["ATLAS_DEV_URL"] == ATLAS_DEV_URLS[database]
    assert f":{port}/ci" in env["ATLAS_DEV_URL"]
    assert env["DATABASE_URL"].endswith(f":{port}/ci")


def test_paths_default_beside_the_service_and_can_be_set() -> None:
    env = script_step(rendered(_spec()), "atlas-drift.sh", "schema-drift")["env"]
    assert (env["ATLAS_MIGRATIONS"], env["ATLAS_SCHEMA"]) == (
        "services/api/migrations", "services/api/schema.hcl")
    env = script_step(rendered(_spec(migrations="db/migrations", desired_schema="db/schema")),
                      "atlas-drift.sh", "schema-drift")["env"]
    assert (env["ATLAS_MIGRATIONS"], env["ATLAS_SCHEMA"]) == ("db/migrations", "db/schema")


def test_a_command_replaces_the_atlas_check_but_atlas_is_still_installed() -> None:
    spec = _spec(command='atlas migrate diff --env ci --dev-url "$ATLAS_DEV_URL"')
    step = script_step(rendered(spec), "schema-check.sh", "schema-drift")
    assert step["env"]["SCHEMA_CHECK"].startswith("atlas migrate diff --env ci")
    assert step["env"]["ATLAS_DEV_URL"] == ATLAS_DEV_URLS["postgres"]
    assert step["working-directory"] == "services/api"
    names = [s["name"] for s in _job(spec)["steps"]]
    assert "Build Atlas" in names and "Set up Go" in names  # the service's own Go too


@pytest.mark.parametrize(("drift", "message"), [
    ({"database": "none", "database_image": None}, "`preset: atlas` needs a dev database"),
    ({"preset": "alembic", "migrations": "m"}, "are for `preset: atlas`"),
    ({"desired_schema": "models.py"}, "Atlas reads `.hcl` or `.sql` files"),
    ({"migrations": "db/my migrations"}, "Atlas reads these paths as file:// URLs"),
    ({"desired_schema": "user@host/schema.hcl"}, "Atlas reads these paths as file:// URLs"),
])
def test_atlas_settings_are_checked(drift: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Spec.model_validate(_spec(**drift))


# ------------------------------------------------------------------ the scripts, run

@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    runner = Runner(tmp_path)
    runner.fake("atlas", "go")
    return runner


def _atlas_step() -> dict[str, Any]:
    return script_step(rendered(_spec()), "atlas-drift.sh", "schema-drift")


def _project(runner: Runner) -> Path:
    """An Atlas project as the checkout holds it: a migration directory and a schema."""
    service = runner.workspace / "services" / "api"
    migrations = service / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250101000000_init.sql").write_text("CREATE TABLE users (id int);\n")
    (migrations / "atlas.sum").write_text("h1:abc=\n20250101000000_init.sql h1:def=\n")
    (service / "schema.hcl").write_text('table "users" { schema = schema.public }\n')
    return migrations


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_build_puts_the_atlas_binary_on_path(runner: Runner) -> None:
    steps = {s["name"]: s for s in _job(_spec())["steps"]}
    result = runner.run(steps["Build Atlas"])
    assert result.returncode == 0, _output(result)
    (call,) = runner.calls("go")
    assert call == ["build", "-mod=readonly", "-trimpath", "-o",
                    str(runner.temp / "atlas" / "atlas"), "."]
    assert runner.path_file.read_text().splitlines() == [str(runner.temp / "atlas")]
    assert (runner.temp / "atlas" / "atlas").is_file()
    assert "Built atlas v1.2.3 (community edition) from source" in result.stdout


def test_check_passes_when_the_migrations_reach_the_schema(runner: Runner) -> None:
    migrations = _project(runner)
    before = _snapshot(migrations)
    result = runner.run(_atlas_step())
    assert result.returncode == 0, _output(result)
    assert "::error" not in result.stdout
    validate, diff = runner.calls("atlas")
    dev = ATLAS_DEV_URLS["postgres"]
    assert validate == ["migrate", "validate", "--dir", "file://services/api/migrations",
                        "--dev-url", dev]
    assert diff[:2] == ["migrate", "diff"] and diff[-3:] == ["--dev-url", dev, "harden_ci_drift"]
    assert diff[diff.index("--to") + 1] == "file://services/api/schema.hcl"
    # The diff is planned on a scratch copy: the checkout's directory is never written.
    scratch = diff[diff.index("--dir") + 1].removeprefix("file://")
    assert scratch.startswith(str(runner.temp))
    assert _snapshot(migrations) == before


def test_check_fails_and_shows_the_missing_migration(runner: Runner) -> None:
    migrations = _project(runner)
    before = _snapshot(migrations)
    (runner.bin / "atlas-drift.sql").write_text("ALTER TABLE users ADD COLUMN email text;\n")
    result = runner.run(_atlas_step())
    assert result.returncode == 1, _output(result)
    assert "::error title=Schema drift::Models and migrations disagree" in result.stdout
    assert "ALTER TABLE users ADD COLUMN email text;" in result.stdout
    assert _snapshot(migrations) == before


def test_check_fails_when_the_directory_does_not_validate(runner: Runner) -> None:
    _project(runner)
    (runner.bin / "atlas-validate-exit").write_text("1")
    result = runner.run(_atlas_step())
    assert result.returncode == 1, _output(result)
    assert "does not validate" in result.stdout
    assert len(runner.calls("atlas")) == 1  # no diff after a broken directory


@pytest.mark.parametrize(("missing", "message"), [
    ("migrations", "No migration directory at services/api/migrations"),
    ("schema.hcl", "No desired schema at services/api/schema.hcl"),
])
def test_check_names_a_missing_path(runner: Runner, missing: str, message: str) -> None:
    _project(runner)
    target = runner.workspace / "services" / "api" / missing
    if target.is_dir():
        for child in target.iterdir():
            child.unlink()
        target.rmdir()
    else:
        target.unlink()
    result = runner.run(_atlas_step())
    assert result.returncode == 1, _output(result)
    assert f"::error title=Schema drift::{message}" in result.stdout
    assert runner.calls("atlas") == []
