"""`harden-ci sbom`: a CycloneDX BOM of the pipeline's own supply chain."""

from __future__ import annotations

from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path) -> int:
    from harden_ci.pipeline import load
    from harden_ci.report.facts import plan_workflows
    from harden_ci.report.pipeline_sbom import build_bom, to_json

    loaded, spec = load(spec_path)
    bom = build_bom(plan_workflows(spec, spec_path.name), loaded.raw, spec.project.name)
    click.echo(to_json(bom), nl=False)
    return ExitCode.OK
