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

import glob
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import act_harness as act
import pytest
import yaml
from helpers import build_wheel

SHAPE = Path(__file__).resolve().parent / "fixtures" / "shapes" / "rustsvc"
WHEEL_DIR = "ci"
JOB = "unit-tests-rustsvc"
# No image is pulled under act; the digest is a fixture's, derived, not a real image's.
IMAGE = ("postgres:16@sha256:"
         + hashlib.sha256(b"harden-ci fixture: no image is pulled").hexdigest())

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Postgres:
    """A real PostgreSQL server on 127.0.0.1, standing in for the job's container."""

    def __init__(self, tmp_path: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
        if not found:
            pytest.fail("this test needs PostgreSQL's server binaries "
                        "(/usr/lib/postgresql/*/bin; Debian's postgresql package)")
        self.bin = Path(found[-1]).parent
        # The server refuses to run as root: then it runs as the `postgres` user, in a
        # folder of its own (pytest's tmp_path is private to root).
        self.user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="harden-ci-pg-")) if self.user else tmp_path / "pg"
        self.root.mkdir(exist_ok=True)
        if self.user:
            shutil.chown(self.root, user=self.user)
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, port: int, password: str) -> None:
        (self.root / "pw").write_text(password + "\n", encoding="utf-8")
        if self.user:
            shutil.chown(self.root / "pw", user=self.user)
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.root / "data"), "-U", "postgres",
                        "--auth=scram-sha-256", f"--pwfile={self.root / 'pw'}", "-E", "UTF8"],
                       user=self.user, check=True, capture_output=True, timeout=120)
        log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.root / "data"), "-k", str(self.root),
             "-p", str(port), "-h", "127.0.0.1", "-c", "log_statement=all"],
            user=self.user, stdout=log, stderr=subprocess.STDOUT)
        self.url = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 60
        while subprocess.run([str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1",
                              "-p", str(port)], check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"PostgreSQL did not start:\n{self.log()}")
            time.sleep(0.3)

    def query(self, sql: str) -> list[str]:
        done = subprocess.run(["psql", self.url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                               "-c", sql], capture_output=True, text=True, check=True,
                              timeout=60)
        return done.stdout.splitlines()

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # a smart shutdown: clients are gone by now
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.user:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[Postgres]:
    server = Postgres(tmp_path)
    yield server
    server.stop()


def _harden_ci(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harden_ci", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=300)


def _pin_the_test_container(text: str) -> str:
    """The one hand edit: the digest in place of `<digest>`, and the block uncommented."""
    lines = text.splitlines(keepends=True)
    start = lines.index("    # test_environment:\n")
    end = start + 1
    while lines[end].startswith("    #   "):
        end += 1
    block = [line.replace("    # ", "    ", 1) for line in lines[start:end]]
    edited = "".join(lines[:start] + block + lines[end:])
    assert edited.count("postgres:16@sha256:<digest>") == 1, edited
    return edited.replace("postgres:16@sha256:<digest>", IMAGE)


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
    port = _free_port()
    ci = repo.path / ".github/workflows/ci.yml"
    workflow = ci.read_text(encoding="utf-8")
    moved = (workflow.replace("- 5432:5432\n", f"- {port}:5432\n")
             .replace("@localhost:5432/", f"@localhost:{port}/"))
    assert moved.count(str(port)) == 2, "the fixture's workflow changed shape"
    ci.write_text(moved, encoding="utf-8")
    repo.commit("The Rust service as it was before harden-ci")
    done = _harden_ci("init", cwd=repo.path)
    assert done.returncode == 0, done.stdout + done.stderr
    spec = repo.path / "harden-ci.yaml"
    text = spec.read_text(encoding="utf-8")
    edited = _pin_the_test_container(text)
    offline = (edited.replace("    workflows: true\n", "    workflows: false\n")
               .replace("  vulnerabilities: {fail_on: high}\n", ""))
    assert offline.count("\n") == text.count("\n") - 1, "init's spec changed shape"
    (repo.path / WHEEL_DIR).mkdir()
    shutil.copy2(wheel, repo.path / WHEEL_DIR / wheel.name)
    spec.write_text(offline + f"harden_ci: {{wheel: {WHEEL_DIR}/{wheel.name}}}\n",
                    encoding="utf-8")
    done = _harden_ci("render", str(spec), cwd=repo.path)
    assert done.returncode == 0, done.stdout + done.stderr
    repo.commit("Adopt harden-ci")
    container = yaml.safe_load(offline)["services"]["rustsvc"]["test_environment"][
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
    bare.write_text(_pin_the_test_container(spec).replace(IMAGE, "postgres:16@sha256:<digest>"),
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
