"""Small helpers shared by test modules: golden files, the gate CLI, a quiet JSON
handler, and a scripted REST API on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from harden_ci.cli import cli as cli_group

GOLDEN = Path(__file__).resolve().parent / "golden"


def assert_golden(name: str, text: str) -> None:
    """`text` equals tests/golden/NAME; UPDATE_GOLDEN=1 rewrites the file instead."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), (f"{name} is missing: run UPDATE_GOLDEN=1 pytest "
                            "tests/test_explain.py tests/test_graph.py")
    assert text == path.read_text("utf-8"), (
        f"{name} differs from a fresh run; if the change is intended, run "
        "UPDATE_GOLDEN=1 pytest tests/test_explain.py tests/test_graph.py and review the diff")


def gate_process(cwd: Path, *args: str, env: dict[str, str] | None = None,
                 ) -> subprocess.CompletedProcess[str]:
    """`harden-ci gate ARGS` as a real process, in `cwd`."""
    return subprocess.run([sys.executable, "-m", "harden_ci", "gate", *args], cwd=cwd,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          encoding="utf-8", timeout=60, check=False)


def gate_invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """In process (fast), from the current directory; exit codes as the real CLI's."""
    return CliRunner().invoke(cli_group, ["gate", *args], env=env, catch_exceptions=False)


ROOT = Path(__file__).resolve().parent.parent


def render_in_process(spec: Path) -> None:
    """`harden-ci render SPEC` as a user runs it, in a process of its own."""
    done = subprocess.run([sys.executable, "-m", "harden_ci", "render", str(spec)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def build_wheel(tmp_path: Path) -> Path:
    """Build harden-ci's wheel from a copy of the tree (no build/ or egg-info lands in the
    repository): offline from the installed backend first, else with the backend's own
    requirements from the package index."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "harden_ci", src / "harden_ci", ignore=ignore)
    shutil.copytree(ROOT / "templates", src / "templates", ignore=ignore)
    dist = tmp_path / "dist"
    attempts = [
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
         "-w", str(dist)],
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)],
    ]
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSAFEPATH")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    log = []
    for args in attempts:
        result = subprocess.run(args, cwd=src, env=env, capture_output=True, text=True,
                                timeout=900, check=False)
        wheels = sorted(dist.glob("harden_ci-*.whl"))
        if result.returncode == 0 and wheels:
            return wheels[0]
        log.append(f"$ {' '.join(args[1:])}\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    raise AssertionError("could not build a wheel:\n" + "\n".join(log))


class QuietJSONHandler(http.server.BaseHTTPRequestHandler):
    """A request handler for test servers on 127.0.0.1: JSON answers, no access log."""

    def send_json(self, status: int, body: Any) -> None:
        """`body` as JSON, or as it is when already text."""
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(server: socketserver.BaseServer, poll_interval: float = 0.5,
            ) -> Iterator[socketserver.BaseServer]:
    """`server` answering from a thread of its own until the block ends, then closed."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


Reply = tuple[int, str]  # HTTP status, body


@dataclass
class ScriptedApi:
    """Answers each GET with the next scripted reply; the last one repeats."""

    replies: list[Reply]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def next_reply(self, path: str, headers: dict[str, str]) -> Reply:
        self.requests.append((path, headers))
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@contextlib.contextmanager
def scripted_api(first: Reply) -> Iterator[ScriptedApi]:
    """A real HTTP server on 127.0.0.1 answering JSON the way GitHub's REST API does."""
    state = ScriptedApi(replies=[first])

    class Handler(QuietJSONHandler):
        def do_GET(self) -> None:
            self.send_json(*state.next_reply(self.path, dict(self.headers.items())))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield state
