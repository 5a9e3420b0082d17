"""`harden-ci validate`: load and check the spec, and, when the spec sits in a repository,
that the paths it names exist there."""

from __future__ import annotations

from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path) -> int:
    from harden_ci.errors import SpecErrors
    from harden_ci.load.repository import probe, repository_root
    from harden_ci.model import repo_checks
    from harden_ci.pipeline import load, plan_refusals

    loaded, spec = load(spec_path)
    plan_refusals(spec, loaded, spec_path.name)
    root = repository_root(spec_path)
    if root is not None:
        refs = repo_checks.path_refs(spec)
        problems = repo_checks.repository_problems(refs, probe(root, repo_checks.wanted(refs)))
        if problems:
            raise SpecErrors(repo_checks.repository_errors(loaded, problems))
    checked = "; its paths exist in the repository" if root is not None else ""
    click.echo(f"{spec_path}: valid ({len(spec.services)} service"
               f"{'s' if len(spec.services) != 1 else ''}{checked})")
    return ExitCode.OK
