"""`harden-ci policy`: check the spec against an organisation policy file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(policy_path: Path, spec_path: Path, fmt: str) -> int:
    from harden_ci.pipeline import load
    from harden_ci.report.policy import check_policy, format_text, load_policy

    policy = load_policy(policy_path)
    loaded, spec = load(spec_path)
    result = check_policy(spec, loaded, policy)
    if fmt == "json":
        click.echo(json.dumps({"spec": loaded.source, **result.as_dict()}, indent=2,
                              ensure_ascii=False))
    else:
        click.echo(format_text(result, loaded.source), nl=False)
    return ExitCode.OK if result.passed else ExitCode.DRIFT  # 1: the spec breaks the policy
