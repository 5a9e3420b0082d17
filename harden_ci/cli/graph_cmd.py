"""`harden-ci graph`: the generated workflows' job graph (Mermaid or DOT)."""

from __future__ import annotations

from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path, fmt: str) -> int:
    from harden_ci.pipeline import load
    from harden_ci.report.facts import plan_workflows
    from harden_ci.report.graph import render_graph

    _, spec = load(spec_path)
    click.echo(render_graph(plan_workflows(spec, spec_path.name), fmt), nl=False)
    return ExitCode.OK
