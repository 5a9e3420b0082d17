"""A repository shape from the field, end to end: a Rust web service whose integration
tests talk to PostgreSQL. `init` reads it, `render` writes its pipeline, and the pipeline
runs under act (tests/act_harness.py) against a real PostgreSQL.

The shape (tests/fixtures/shapes/rustsvc) is one crate at the repository root: a tiny HTTP
handler over std::net in front of a users repository, SQL migrations the tests apply, a
rust-toolchain.toml, a Dockerfile, and its own workflow whose test job runs clippy and
`cargo test` beside a `services: postgres:` container (postgres:16, POSTGRES_PASSWORD, a
published port, a pg_isready health check) with DATABASE_URL pointing at it. Two things are
shaped by this machine being offline, and said in the fixture: the crate has no
dependencies (crates.io cannot be reached), so it reaches PostgreSQL through the `psql`
client instead of a driver crate; and its toolchain file names the `stable` channel, the
toolchain the machine has (a pinned release would be a rustup download).

init carries the workflow's test container into the spec, but the spec runs images only
pinned by digest and the workflow names a tag, which init cannot turn into a digest: it
writes the block commented out with `<digest>` to fill in. Putting the digest in and
uncommenting it is the one documented hand edit made here. The other changes are the Go
shape's (tests/test_act_repo_shapes.py): where harden-ci itself comes from (a wheel built
from this checkout), and two jobs off because they reach GitHub itself, which this offline
harness cannot stand in for: the workflow lint builds actionlint from its source
repository, and the dependency review asks GitHub's dependency-graph API.

act runs on the host here and does not start a job's `services:`: a real PostgreSQL
(Debian's, initdb into a temporary folder) plays the container on 127.0.0.1, on the runner
port the spec publishes, with the password the spec gives the container. The fixture's
workflow publishes 5432; each test moves it to a free port first (`<port>:5432`, and
DATABASE_URL with it), so runs on a shared machine never meet another server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import act_harness as act
import pytest
import yaml
from helpers import build_wheel
from postgres_standin import IMAGE, UNPINNED, Postgres, free_port, pin_the_test_container
from postgres_standin import postgres as postgres  # the fixture
from shape_adoption import adopt

SHAPE = Path(__file__).resolve().parent / "fixtures" / "shapes" / "rustsvc"
JOB = "unit-tests-rustsvc"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def _harden_ci(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harden_ci", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=300)


@dataclass
class Service:
    repo: act.FixtureRepo
    init_spec: str  # the spec as init wrote it
    port: int  # the runner port the spec publishes for the postgres container
    password: str  # the container's POSTGRES_PASSWORD


def _rust_service(wheel: Path, tmp_path: Path) -> Service:
    if shutil.which("cargo") is None or shutil.which("psql") is None:
        pytest.fail("the Rust service shape needs cargo and psql on this machine")
    repo = act.FixtureRepo(tmp_path / "repo")
    shutil.copytree(SHAPE, repo.path, dirs_exist_ok=True)
    port = free_port()
    ci = repo.path / ".github/workflows/ci.yml"
    workflow = ci.read_text(encoding="utf-8")
    moved = (workflow.replace("- 5432:5432\n", f"- {port}:5432\n")
             .replace("@localhost:5432/", f"@localhost:{port}/"))
    assert moved.count(str(port)) == 2, "the fixture's workflow changed shape"
    ci.write_text(moved, encoding="utf-8")
    repo.commit("The Rust service as it was before harden-ci")
    text = adopt(repo, wheel, pin_the_test_container)
    adopted = (repo.path / "harden-ci.yaml").read_text(encoding="utf-8")
    container = yaml.safe_load(adopted)["services"]["rustsvc"]["test_environment"][
        "services"]["postgres"]
    (published,) = container["ports"]
    runner_port, _ = published.split(":")
    return Service(repo, text, int(runner_port), container["env"]["POSTGRES_PASSWORD"])


def _repo_layer(service: Service) -> str:
    return (service.repo.path / "src/repo.rs").read_text(encoding="utf-8")


def test_init_reads_the_rust_service_as_it_is(wheel: Path, tmp_path: Path) -> None:
    service = _rust_service(wheel, tmp_path)
    spec = service.init_spec
    assert "    language: rust\n" in spec
    assert "    package_manager: cargo   # from Cargo.lock\n" in spec
    assert '    version_file: "rust-toolchain.toml"   # rustup reads it: stable\n' in spec
    assert ('    lint: "cargo clippy --all-targets -- -D warnings"   # from '
            ".github/workflows/ci.yml\n") in spec
    assert ('    test: "cargo test --locked --no-fail-fast"   # from '
            ".github/workflows/ci.yml\n") in spec
    assert '    dockerfile: "Dockerfile"\n' in spec
    port = service.port
    assert (
        "    # From .github/workflows/ci.yml (job `test`): the containers its tests run beside.\n"
        "    # Images run only pinned by digest: put each one's in place of <digest>\n"
        "    # (`docker buildx imagetools inspect postgres:16`), then uncomment:\n"
        "    # test_environment:\n"
        "    #   services:\n"
        "    #     postgres:\n"
        '    #       image: "postgres:16@sha256:<digest>"\n'
        f'    #       ports: ["{port}:5432"]\n'
        '    #       env: {"POSTGRES_PASSWORD": "postgres"}\n'
        '    #       health: "pg_isready"\n'
        f'    #   env: {{"DATABASE_URL": "postgres://postgres:postgres@localhost:{port}/postgres"}}\n'
    ) in spec
    # Uncommented without its digest, the spec is refused, and says why.
    bare = service.repo.path / "bare.yaml"
    bare.write_text(pin_the_test_container(spec).replace(IMAGE, UNPINNED),
                    encoding="utf-8")
    refused = _harden_ci("validate", str(bare), cwd=service.repo.path)
    assert refused.returncode != 0
    assert "image" in refused.stdout + refused.stderr
    workflow = yaml.safe_load((service.repo.path / ".github/workflows/harden-ci.yml").read_text(
        encoding="utf-8"))
    job = workflow["jobs"][JOB]
    assert job["services"]["postgres"]["image"] == IMAGE
    assert job["services"]["postgres"]["ports"] == [f"{port}:5432"]
    assert "--health-cmd \"pg_isready\"" in job["services"]["postgres"]["options"]
    assert job["env"] == {"DATABASE_URL": f"postgres://postgres:postgres@localhost:{port}/postgres"}


def test_a_pull_request_is_green_with_the_tests_against_postgres(
        wheel: Path, tmp_path: Path, postgres: Postgres) -> None:
    service = _rust_service(wheel, tmp_path)
    postgres.start(service.port, service.password)
    assert postgres.query("SELECT to_regclass('public.users') IS NULL") == ["t"]
    repo = service.repo
    pr = repo.open_pull_request({"src/repo.rs": _repo_layer(service).replace(
        "every query the service makes", "every query the service sends")})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run")
    assert run.returncode == 0, run.explain()
    assert run.result(JOB) == "success" and run.result("required") == "success", run.explain()
    tests = run.output(JOB)
    assert "Running: cargo clippy --all-targets -- -D warnings" in tests, run.explain()
    assert re.search(r"Running tests/users\.rs", tests), run.explain()
    assert re.search(r"test result: ok\. 6 passed; 0 failed", tests), run.explain()  # users.rs
    assert re.search(r"test result: ok\. 4 passed; 0 failed", tests), run.explain()  # http.rs
    assert "test result: FAILED" not in tests
    # The server saw the tests' queries: the migrations and the users they wrote are there.
    assert postgres.query("SELECT version FROM schema_migrations ORDER BY version") == [
        "0001_users", "0002_users_email_lower"]
    assert postgres.query("SELECT count(*) FROM users") == ["5"]  # 3 by users.rs, 2 by http.rs
    assert postgres.query("SELECT count(*) FROM users WHERE name = "
                          "'Robert''); DROP TABLE users; --'") == ["1"]
    assert "INSERT INTO users (email, name) VALUES (lower(" in postgres.log()


def test_a_broken_query_turns_the_pull_request_red(
        wheel: Path, tmp_path: Path, postgres: Postgres) -> None:
    service = _rust_service(wheel, tmp_path)
    postgres.start(service.port, service.password)
    repo = service.repo
    broken = _repo_layer(service).replace(
        '"SELECT id, email, name FROM users WHERE id = ', '"SELECT id, mail, name FROM users WHERE id = ')
    assert broken != _repo_layer(service)
    pr = repo.open_pull_request({"src/repo.rs": broken})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run")
    assert run.returncode != 0, run.explain()
    assert run.result(JOB) == "failure", run.explain()
    assert run.result("required") == "failure", run.explain()
    tests = run.output(JOB)
    assert re.search(r"test result: FAILED\. \d+ passed; [1-9]\d* failed", tests), run.explain()
    assert "panicked at tests/users.rs" in tests, run.explain()
    # psql's error, as the panic shows it (Debug-quoted: `column \"mail\" does not exist`)
    assert re.search(r'column \\?"mail\\?" does not exist', tests), run.explain()
    assert 'column "mail" does not exist' in postgres.log()  # the server refused it itself


def test_a_push_to_main_is_green(wheel: Path, tmp_path: Path, postgres: Postgres) -> None:
    service = _rust_service(wheel, tmp_path)
    postgres.start(service.port, service.password)
    repo = service.repo
    pr = repo.open_pull_request({"README.md": "# rustsvc\n\nA small user service.\n"})
    before, after = repo.land(pr)
    run = act.run_act(repo, "push", act.push_event(before, after, commits=repo.pushed(before, after)),
                      sha=after, folder=tmp_path / "run")
    assert run.returncode == 0, run.explain()
    assert run.result(JOB) == "success" and run.result("required") == "success", run.explain()
    assert re.search(r"test result: ok\. 6 passed; 0 failed", run.output(JOB)), run.explain()
    assert postgres.query("SELECT count(*) FROM schema_migrations") == ["2"]
