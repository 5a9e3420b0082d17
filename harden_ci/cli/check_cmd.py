"""`harden-ci check`: render in memory and compare, byte for byte, with the files on disk.

Drift is any difference: a file that differs or is missing, a stale file of this spec, and
any other file carrying harden-ci's marker, whatever stamps it carries (two specs cannot
share a folder: both write `harden-ci.yml`, and the writer refuses the second)."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path, out: Path | None) -> int:
    from harden_ci.cli.rendered import render_and_record
    from harden_ci.pipeline import default_out
    from harden_ci.write import plan_writes

    rendered = render_and_record(spec_path)
    root = out if out is not None else default_out(spec_path)
    plan = plan_writes(root, rendered.files)
    drift = plan.pending
    for change in drift:
        old = (change.old or "").splitlines(keepends=True)
        new = (change.new or "").splitlines(keepends=True)
        label = str(change.path)
        click.echo("".join(difflib.unified_diff(
            old, new, fromfile=f"{label} (on disk)", tofile=f"{label} (from the spec)")), nl=False)
    strays = plan.left_alone
    for item in strays:
        click.echo(f"harden-ci: {item.path}: carries harden-ci's marker but {spec_path} does "
                   f"not produce it ({item.reason}); remove it.", err=True)
    if drift or strays:
        click.echo(f"harden-ci: {len(drift) + len(strays)} file(s) differ from the spec; "
                   "run `harden-ci render` and commit the result.", err=True)
        return ExitCode.DRIFT
    click.echo(f"{root}: matches {spec_path} ({len(rendered.files)} files)")
    return ExitCode.OK
