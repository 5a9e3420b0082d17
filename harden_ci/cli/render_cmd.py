"""`harden-ci render`: write the workflows (or, with --dry-run, say what would change)."""

from __future__ import annotations

from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path, out: Path | None, dry_run: bool) -> int:
    from harden_ci.pipeline import default_out, render_spec
    from harden_ci.render import use_bytecode_cache
    from harden_ci.write import apply, plan_writes

    use_bytecode_cache()
    rendered = render_spec(spec_path)
    root = out if out is not None else default_out(spec_path)
    plan = plan_writes(root, rendered.files)  # refuses before anything is written
    changes = plan.pending if dry_run else apply(plan)
    verb = "would " if dry_run else ""
    for change in changes:
        click.echo(f"{verb}{change.action} {change.path}")
    if not changes:
        click.echo(f"{root}: up to date ({len(rendered.files)} files)")
    return ExitCode.OK
