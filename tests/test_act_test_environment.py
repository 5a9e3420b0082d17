"""A service whose unit tests need a container, env and a secret, with lint and type check:
its own unit-test job runs under act on a fixture project (tests/fixtures/projects/
python-redis, a rate limiter kept in Redis).

act runs on the host here, without a container engine, and does not start a job's
`services:`; a real server on 127.0.0.1 plays the Redis container (it speaks the part of
the Redis protocol the fixture uses, and records what it was asked), on the runner port
the spec publishes. What is asserted: the push runs lint, type check and the tests against
that server with the secret; a fork's pull request runs them without the secret and says
so; a lint finding turns the pull request red before any test runs.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import act_harness as act
import pytest
import yaml
from helpers import build_wheel

PROJECT = Path(__file__).resolve().parent / "fixtures" / "projects" / "python-redis"
JOB = "unit-tests-ratecache"
TOKEN = "rc-fixture-token"
SECRETS = {"RATECACHE_API_TOKEN": TOKEN}
# No image is pulled under act; the digest is a fixture's, derived, not a real image's.
IMAGE = "redis:7.4@sha256:" + hashlib.sha256(b"harden-ci fixture: no image is pulled").hexdigest()

pytestmark = pytest.mark.slow


class _Resp(socketserver.StreamRequestHandler):
    """PING, INCR and EXPIRE of the Redis protocol (RESP arrays of bulk strings)."""

    def handle(self) -> None:
        server: _RedisStandIn = self.server  # type: ignore[assignment]
        while True:
            header = self.rfile.readline()
            if not header:
                return
            if not header.startswith(b"*"):
                self.wfile.write(b"-ERR protocol error\r\n")
                return
            args = []
            for _ in range(int(header[1:])):
                size = int(self.rfile.readline()[1:])
                args.append(self.rfile.read(size + 2)[:-2].decode())
            server.commands.append(args)
            name = args[0].upper()
            if name == "PING":
                self.wfile.write(b"+PONG\r\n")
            elif name == "INCR":
                with server.lock:
                    server.counters[args[1]] = server.counters.get(args[1], 0) + 1
                    self.wfile.write(b":%d\r\n" % server.counters[args[1]])
            elif name == "EXPIRE":
                self.wfile.write(b":1\r\n")
            else:
                self.wfile.write(b"-ERR unknown command\r\n")


class _RedisStandIn(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Resp)
        self.commands: list[list[str]] = []
        self.counters: dict[str, int] = {}
        self.lock = threading.Lock()


@pytest.fixture
def redis() -> Iterator[_RedisStandIn]:
    server = _RedisStandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def _spec(wheel: Path, port: int) -> str:
    return f"""\
version: 1
project: {{name: ratecache}}
harden_ci: {{wheel: ci/{wheel.name}}}
services:
  ratecache:
    language: python
    lint: ruff check .
    typecheck: mypy
    timeout_minutes: 15
    test_environment:
      services:
        redis:
          image: "{IMAGE}"
          ports: ["{port}:6379"]
          health: redis-cli ping
      env: {{REDIS_URL: "redis://127.0.0.1:{port}/0"}}
      secrets: [RATECACHE_API_TOKEN]
gates: {{secret_scan: {{tool: gitleaks}}}}
"""


def _repo(wheel: Path, tmp_path: Path, port: int) -> act.FixtureRepo:
    if shutil.which("python3") is None:
        pytest.fail("python3 is needed on this machine")
    repo = act.FixtureRepo(tmp_path / "repo")
    shutil.copytree(PROJECT, repo.path, dirs_exist_ok=True)
    (repo.path / "ci").mkdir()
    shutil.copy2(wheel, repo.path / "ci" / wheel.name)
    repo.write({"harden-ci.yaml": _spec(wheel, port),
                ".gitignore": "__pycache__/\n.mypy_cache/\n.ruff_cache/\n"})
    done = subprocess.run([sys.executable, "-m", "harden_ci", "render",
                           str(repo.path / "harden-ci.yaml")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    repo.commit("Initial import with harden-ci workflows")
    return repo


def _job(repo: act.FixtureRepo) -> dict[str, object]:
    workflow = yaml.safe_load((repo.path / ".github/workflows/harden-ci.yml").read_text())
    job: dict[str, object] = workflow["jobs"][JOB]
    return job


def test_the_rendered_job_declares_what_the_spec_asks(wheel: Path, tmp_path: Path) -> None:
    repo = _repo(wheel, tmp_path, 16379)
    job = _job(repo)
    assert job["timeout-minutes"] == 15
    assert job["services"] == {"redis": {
        "image": IMAGE, "ports": ["16379:6379"],
        "options": '--health-cmd "redis-cli ping" --health-interval 5s --health-timeout 5s '
                   "--health-retries 20"}}
    assert job["env"] == {"REDIS_URL": "redis://127.0.0.1:16379/0"}
    steps = {step.get("name"): step for step in job["steps"]}  # type: ignore[attr-defined]
    assert "secrets.RATECACHE_API_TOKEN" in steps["Run unit tests"]["env"]["RATECACHE_API_TOKEN"]
    assert not any("secrets." in str(step.get("env", {})) for name, step in steps.items()
                   if name != "Run unit tests")


def test_a_push_runs_lint_typecheck_and_tests_against_the_container(
        wheel: Path, tmp_path: Path, redis: _RedisStandIn) -> None:
    repo = _repo(wheel, tmp_path, redis.server_address[1])
    pr = repo.open_pull_request({"README.md": "# ratecache\n"})
    before, after = repo.land(pr)
    run = act.run_act(repo, "push", act.push_event(before, after, commits=repo.pushed(before, after)),
                      sha=after, folder=tmp_path / "run", secrets=SECRETS)
    assert run.returncode == 0, run.explain()
    assert run.result(JOB) == "success" and run.result("required") == "success", run.explain()
    log = run.output(JOB)
    assert "All checks passed!" in log, run.explain()  # ruff
    assert re.search(r"Success: no issues found in 1 source file", log), run.explain()  # mypy
    assert re.search(r"\b3 passed\b", log), run.explain()
    assert ["PING"] in redis.commands and redis.counters == {"rate:client-a": 5}
    assert TOKEN not in log  # act masks secrets as GitHub does


def test_a_fork_pull_request_runs_without_the_secret_and_says_so(
        wheel: Path, tmp_path: Path, redis: _RedisStandIn) -> None:
    repo = _repo(wheel, tmp_path, redis.server_address[1])
    pr = repo.open_pull_request({"README.md": "# ratecache\n"})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr, fork=True),
                      sha=pr.merge_sha, folder=tmp_path / "run", secrets=SECRETS)
    assert run.returncode == 0, run.explain()
    log = run.output(JOB)
    assert re.search(r"\b2 passed, 1 skipped\b", log), run.explain()
    assert "the tests run without RATECACHE_API_TOKEN" in log, run.explain()
    assert redis.counters == {"rate:client-a": 5}


def test_a_lint_finding_turns_the_pull_request_red_before_the_tests(
        wheel: Path, tmp_path: Path, redis: _RedisStandIn) -> None:
    repo = _repo(wheel, tmp_path, redis.server_address[1])
    module = repo.path / "ratecache" / "__init__.py"
    pr = repo.open_pull_request({"ratecache/__init__.py": module.read_text().replace(
        "import socket\n", "import os\nimport socket\n")})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run", secrets=SECRETS)
    assert run.returncode != 0, run.explain()
    assert run.result(JOB) == "failure" and run.result("required") == "failure", run.explain()
    assert "F401" in run.output(JOB), run.explain()
    assert redis.commands == []  # the tests never ran


def test_the_stand_in_speaks_the_protocol(redis: _RedisStandIn) -> None:
    """The stand-in is not a pass-through: it answers as Redis does, and refuses junk."""
    with socket.create_connection(redis.server_address, timeout=5) as sock:
        sock.sendall(b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n*1\r\n$3\r\nGET\r\n")
        answer = b""
        while answer.count(b"\r\n") < 3:
            answer += sock.recv(100)
    assert answer == b":1\r\n+PONG\r\n-ERR unknown command\r\n"
