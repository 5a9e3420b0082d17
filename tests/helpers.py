"""Small helpers shared by test modules: golden files and the gate CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
