"""Files derived from the code (spec reference, JSON Schema, --help pages) are committed;
they must match what the code produces now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_are_fresh() -> None:
    result = subprocess.run([sys.executable, "scripts/gen_docs.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_committed_schema_is_what_the_cli_prints() -> None:
    printed = subprocess.run([sys.executable, "-m", "harden_ci", "schema"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert printed == (ROOT / "harden-ci.schema.json").read_text("utf-8")
