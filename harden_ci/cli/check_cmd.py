"""`harden-ci check`: render in memory and compare with the files on disk."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path, out: Path | None) -> int:
    from harden_ci.pipeline import default_out, render_spec
    from harden_ci.render import use_bytecode_cache
    from harden_ci.write import plan_writes

    use_bytecode_cache()
    rendered = render_spec(spec_path)
    root = out if out is not None else default_out(spec_path)
    plan = plan_writes(root, rendered.files)
    drift = plan.pending
    for change in drift:
        old = (change.old or "").splitlines(keepends=True)
        new = (change.new or "").splitlines(keepends=True)
        label = str(change.path)
        click.echo("".join(difflib.unified_diff(
            old, new, fromfile=f"{label} (on disk)", tofile=f"{label} (from the spec)")), nl=False)
    if drift:
        click.echo(f"harden-ci: {len(drift)} file(s) differ from the spec; "
                   "run `harden-ci render` and commit the result.", err=True)
        return ExitCode.DRIFT
    click.echo(f"{root}: matches {spec_path} ({len(rendered.files)} files)")
    return ExitCode.OK
