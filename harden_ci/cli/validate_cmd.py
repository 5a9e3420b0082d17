"""`harden-ci validate`: load and check the spec."""

from __future__ import annotations

from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path) -> int:
    from harden_ci.pipeline import load

    _, spec = load(spec_path)
    click.echo(f"{spec_path}: valid ({len(spec.services)} service"
               f"{'s' if len(spec.services) != 1 else ''})")
    return ExitCode.OK
