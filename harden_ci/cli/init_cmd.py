"""`harden-ci init`: detect the repository's stack and write a commented starter spec."""

from __future__ import annotations

from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path, force: bool) -> int:
    from harden_ci.init import detect, starter_spec, write_spec

    root = spec_path.parent if spec_path.parent != Path("") else Path(".")
    stack = detect(root)
    write_spec(spec_path, starter_spec(stack), force=force)
    click.echo(f"wrote {spec_path}: {stack.summary()}")
    click.echo("next: review it, then `harden-ci validate` and `harden-ci render`")
    return ExitCode.OK
