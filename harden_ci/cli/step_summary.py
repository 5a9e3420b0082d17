"""The job summary the gate commands append to ($GITHUB_STEP_SUMMARY, when it is set)."""

from __future__ import annotations

import click

from harden_ci.errors import SpecError
from harden_ci.gates.llm_report import append_step_summary as _append


def append_step_summary(markdown: str) -> None:
    """Append `markdown` as a paragraph of its own. A gate's verdict stands whatever happens
    here: a summary that cannot be written is a warning, not a failure."""
    try:
        _append(markdown + "\n")
    except SpecError as exc:
        click.echo(f"harden-ci: warning: cannot write $GITHUB_STEP_SUMMARY: {exc}", err=True)
