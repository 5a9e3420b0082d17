"""A real PostgreSQL server on 127.0.0.1 playing a test job's `services: postgres:`
container under act, which runs on the host and starts no container, and the one hand
edit the repository-shape tests make to init's spec: the commented test container, pinned
and uncommented.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# No image is pulled under act; the digest is a fixture's, derived, not a real image's.
IMAGE = ("postgres:16@sha256:"
         + hashlib.sha256(b"harden-ci fixture: no image is pulled").hexdigest())
UNPINNED = "postgres:16@sha256:<digest>"  # what init writes for a tag it cannot resolve


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pin_the_test_container(text: str) -> str:
    """The maintainer's one hand edit of init's spec: the digest in place of `<digest>`, and
    the commented `test_environment` block uncommented."""
    lines = text.splitlines(keepends=True)
    start = lines.index("    # test_environment:\n")
    end = start + 1
    while lines[end].startswith("    #   "):
        end += 1
    block = [line.replace("    # ", "    ", 1) for line in lines[start:end]]
    edited = "".join(lines[:start] + block + lines[end:])
    assert edited.count(UNPINNED) == 1, edited
    return edited.replace(UNPINNED, IMAGE)


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

    def start(self, port: int, password: str, database: str = "postgres") -> None:
        """Start as the container would with POSTGRES_PASSWORD and POSTGRES_DB."""
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
        if database != "postgres":
            self.query(f'CREATE DATABASE "{database}"')
            self.url = f"postgresql://postgres:{password}@127.0.0.1:{port}/{database}"

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
