"""`harden-ci render`: write the workflows (or, with --dry-run, say what would change)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path, out: Path | None, dry_run: bool) -> int:
    from harden_ci.cli.rendered import render_and_record
    from harden_ci.fastcheck import up_to_date_message
    from harden_ci.pipeline import default_out
    from harden_ci.write import apply, plan_writes

    rendered = render_and_record(spec_path)
    root = out if out is not None else default_out(spec_path)
    plan = plan_writes(root, rendered.files)  # refuses before anything is written
    changes = plan.pending if dry_run else apply(plan)
    verb = "would " if dry_run else ""
    for change in changes:
        click.echo(f"{verb}{change.action} {change.path}")
    strays = plan.left_alone
    for item in strays:
        click.echo(f"harden-ci: left alone: {item.path} carries harden-ci's marker, but "
                   f"{item.reason}; remove it by hand if it is stale.", err=True)
    if not changes and not strays:
        click.echo(up_to_date_message(root, len(rendered.files)))
    elif not changes:
        # Not "up to date": a marked file this spec did not write is still there.
        click.echo(f"{root}: nothing written, {len(rendered.files)} files already current")
    else:
        # One summary line: where the files are and what happened to them.
        past = {"create": "created", "update": "updated", "delete": "deleted"}
        counts: Counter[str] = Counter(change.action for change in changes)
        done = ", ".join(f"{counts[a]} {verb}{a if dry_run else past[a]}" for a in past if counts[a])
        current = sum(1 for change in plan.changes if change.action == "unchanged")
        click.echo(f"{root}: {done}, {current} already current")
    return ExitCode.OK
