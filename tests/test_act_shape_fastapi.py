"""A repository shape from the field, end to end: a FastAPI + Next.js monorepo that `init`
reads, `render` writes the pipeline of, and act (tests/act_harness.py) runs.

The shape (tests/fixtures/shapes/fastnext): `backend/` is a FastAPI app managed with uv
(pyproject.toml, a uv.lock written by uv from PyPI, .python-version) whose pytest suite
talks to PostgreSQL through psycopg at DATABASE_URL; `frontend/` is a Next.js-style app
managed with pnpm (`packageManager`, a pnpm-lock.yaml written by pnpm) whose pages' logic
lives in plain modules tested with `node --test`; `infra/` is the Terraform for the image
registry; each app has its Dockerfile; and the project's own .github/workflows/ci.yml says
how it is tested, with a `services: postgres:` container beside the backend's job. The
front end leaves `next` itself out: its install (with the platform's SWC binary) would be
most of every run's download, and no test here builds the app.

The spec is init's, with the one hand edit a maintainer makes (tests/postgres_standin.py):
init writes the PostgreSQL container and DATABASE_URL of ci.yml's backend job as a commented
`test_environment` (the spec wants each image pinned by digest, and ci.yml names a tag,
`postgres:16`); the test uncomments it and fills in a fixture's digest. act on the host
starts no `services:` and pulls no image: a real PostgreSQL server (Debian's) plays the
container on 127.0.0.1, on a free port the test writes into the fixture's ci.yml before
init reads it. The offline changes are the other shapes' (tests/shape_adoption.py). The
Terraform job runs: checkov by hash from the registry, tflint built from its release commit,
served under act by a stand-in source (tests/act/sources/tflint).

Redis is left out of this shape: tests/test_act_test_environment.py covers a second kind of
test container, and one more server per run would only cost time here.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import act_harness as act
import pytest
import yaml
from helpers import build_wheel
from postgres_standin import IMAGE, Postgres, free_port, pin_the_test_container
from postgres_standin import postgres as postgres  # the fixture
from shape_adoption import adopt

SHAPE = Path(__file__).resolve().parent / "fixtures" / "shapes" / "fastnext"
BACKEND_JOB = "unit-tests-backend"  # a service with a test_environment gets its own job
TERRAFORM_JOB = "iac-terraform"
NODE_PASS = r"(?:#|\u2139) pass 3\b"
OFFLINE = {"BC_SKIP_MAPPING": "TRUE"}  # checkov asks no guidelines API (test_act_iac_lint)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@dataclass
class Shape:
    repo: act.FixtureRepo
    init_spec: str  # the spec as init wrote it
    port: int  # the runner port the spec publishes for the postgres container


def _fastnext(wheel: Path, tmp_path: Path) -> Shape:
    for tool in ("node", "npm", "go"):  # go: the secret scan and tflint are built
        if shutil.which(tool) is None:
            pytest.fail(f"the FastAPI + Next.js shape needs {tool} (scripts/test.sh installs it)")
    repo = act.FixtureRepo(tmp_path / "repo")
    shutil.copytree(SHAPE, repo.path, dirs_exist_ok=True)
    port = free_port()
    ci = repo.path / ".github/workflows/ci.yml"
    workflow = ci.read_text(encoding="utf-8")
    moved = (workflow.replace('["5432:5432"]', f'["{port}:5432"]')
             .replace("@localhost:5432/", f"@localhost:{port}/"))
    assert moved.count(str(port)) == 2, "the fixture's workflow changed shape"
    ci.write_text(moved, encoding="utf-8")
    repo.write({".gitignore": ".venv/\n__pycache__/\n.pytest_cache/\nnode_modules/\n"})
    repo.commit("The notes monorepo as it was before harden-ci")
    text = adopt(repo, wheel, pin_the_test_container)
    return Shape(repo, text, port)


def _start(postgres: Postgres, shape: Shape) -> None:
    """The server as the spec's container: its port, POSTGRES_PASSWORD and POSTGRES_DB."""
    spec = yaml.safe_load((shape.repo.path / "harden-ci.yaml").read_text(encoding="utf-8"))
    env = spec["services"]["backend"]["test_environment"]["services"]["postgres"]["env"]
    postgres.start(shape.port, env["POSTGRES_PASSWORD"], env["POSTGRES_DB"])


def _main_py(repo: act.FixtureRepo) -> str:
    return (repo.path / "backend/app/main.py").read_text(encoding="utf-8")


def _assert_the_backend_tests_ran_against_the_server(run: act.ActRun,
                                                     postgres: Postgres) -> None:
    assert run.result(BACKEND_JOB) == "success", run.explain()
    log = run.output(BACKEND_JOB)
    assert re.search(r"\b5 passed\b", log), run.explain()
    # The server saw the suite: the lifespan's table, and the notes it inserted.
    assert postgres.query("SELECT to_regclass('public.notes') IS NOT NULL") == ["t"]
    (inserted,) = postgres.query(
        "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'notes'")
    assert int(inserted) >= 2, inserted


def test_init_reads_both_apps_and_the_terraform(wheel: Path, tmp_path: Path) -> None:
    shape = _fastnext(wheel, tmp_path)
    spec = yaml.safe_load(shape.init_spec)
    backend, frontend = spec["services"]["backend"], spec["services"]["frontend"]
    assert set(spec["services"]) == {"backend", "frontend"}
    assert backend == {"path": "backend", "language": "python", "version": "3.11",
                       "package_manager": "uv", "test": "uv run pytest",
                       "dockerfile": "backend/Dockerfile"}
    assert frontend == {"path": "frontend", "language": "node", "version": "20",
                        "package_manager": "pnpm", "test": "pnpm test",
                        "dockerfile": "frontend/Dockerfile"}
    text = shape.init_spec
    assert 'version: "3.11"      # from backend/.python-version' in text
    assert 'test: "uv run pytest"   # from .github/workflows/ci.yml' in text
    assert 'test: "pnpm test"   # from .github/workflows/ci.yml' in text
    assert spec["gates"]["iac_lint"]["terraform"] == "infra"
    # ci.yml's container and DATABASE_URL, to pin: its image is a tag, the spec wants a digest.
    backend_text = text.split("  frontend:")[0].split("  backend:")[1]
    assert "#   env: {\"DATABASE_URL\": \"postgresql://postgres:postgres@localhost:" \
        f"{shape.port}/notes\"}}" in backend_text, text
    assert "docker buildx imagetools inspect postgres:16" in backend_text
    # The rendered pipeline: the backend's own job with the container and DATABASE_URL.
    workflow = yaml.safe_load((shape.repo.path / ".github/workflows/harden-ci.yml").read_text())
    job = workflow["jobs"][BACKEND_JOB]
    assert job["services"]["postgres"]["image"] == IMAGE
    assert job["services"]["postgres"]["ports"] == [f"{shape.port}:5432"]
    assert job["env"]["DATABASE_URL"] == \
        f"postgresql://postgres:postgres@localhost:{shape.port}/notes"
    assert TERRAFORM_JOB in workflow["jobs"]


def test_a_backend_pull_request_is_green_against_postgres(
        wheel: Path, tmp_path: Path, postgres: Postgres) -> None:
    shape = _fastnext(wheel, tmp_path)
    _start(postgres, shape)
    repo = shape.repo
    pr = repo.open_pull_request({"backend/app/main.py": _main_py(repo).replace(
        '"""The notes API."""', '"""The notes API: notes kept in PostgreSQL."""')})
    assert postgres.query("SELECT to_regclass('public.notes') IS NULL") == ["t"]
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run", env=OFFLINE)
    assert run.returncode == 0, run.explain()
    assert run.result("required") == "success", run.explain()
    _assert_the_backend_tests_ran_against_the_server(run, postgres)
    # harden-ci's own install of a uv project (`--locked`: the lock must match
    # pyproject.toml), then ci.yml's test command.
    assert "Running: uv sync --locked" in run.output(BACKEND_JOB), run.explain()
    assert "Running: uv run pytest" in run.output(BACKEND_JOB), run.explain()
    # Only the touched app: the front end's tests do not run.
    assert not re.search(NODE_PASS, run.output()), run.explain()


def test_a_failing_backend_test_turns_it_red(wheel: Path, tmp_path: Path,
                                             postgres: Postgres) -> None:
    shape = _fastnext(wheel, tmp_path)
    _start(postgres, shape)
    repo = shape.repo
    pr = repo.open_pull_request({"backend/app/main.py": _main_py(repo).replace(
        'return " ".join(title.split())', "return title.strip()")})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run", env=OFFLINE)
    assert run.returncode != 0, run.explain()
    assert run.result(BACKEND_JOB) == "failure", run.explain()
    assert run.result("required") == "failure", run.explain()
    log = run.output(BACKEND_JOB)
    assert re.search(r"FAILED tests/test_notes\.py::"
                     r"test_titles_are_stored_with_whitespace_collapsed", log), run.explain()
    assert re.search(r"\b1 failed, 4 passed\b", log), run.explain()


def test_a_push_to_main_is_green_for_both_apps_and_the_terraform(
        wheel: Path, tmp_path: Path, postgres: Postgres) -> None:
    shape = _fastnext(wheel, tmp_path)
    _start(postgres, shape)
    repo = shape.repo
    pr = repo.open_pull_request({"README.md": "# notes\n\nA notes service.\n"})
    before, after = repo.land(pr)
    run = act.run_act(repo, "push", act.push_event(before, after,
                                                   commits=repo.pushed(before, after)),
                      sha=after, folder=tmp_path / "run", env=OFFLINE)
    assert run.returncode == 0, run.explain()
    assert run.result("required") == "success", run.explain()
    _assert_the_backend_tests_ran_against_the_server(run, postgres)
    assert run.result("unit-tests") == "success", run.explain()
    assert re.search(NODE_PASS, run.output("unit-tests")), run.explain()
    # The Terraform job: checkov installed by hash, tflint built from its release commit.
    assert run.result(TERRAFORM_JOB) == "success", run.explain()
    terraform = run.output(TERRAFORM_JOB)
    assert "All plugins are already installed" in terraform, run.explain()
    assert "Built tflint v0.64.0 from source" in terraform, run.explain()


def test_an_untyped_terraform_variable_turns_the_terraform_job_red(
        wheel: Path, tmp_path: Path) -> None:
    repo = _fastnext(wheel, tmp_path).repo
    main_tf = (repo.path / "infra/main.tf").read_text(encoding="utf-8")
    pr = repo.open_pull_request({"infra/main.tf": main_tf.replace(
        'variable "kms_key_arn" {\n  type        = string\n', 'variable "kms_key_arn" {\n')})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run", job=TERRAFORM_JOB, env=OFFLINE)
    assert run.result(TERRAFORM_JOB) == "failure", run.explain()
    assert "infra/main.tf:22:1: Warning - `kms_key_arn` variable has no type " \
        "(terraform_typed_variables)" in run.output(TERRAFORM_JOB), run.explain()
