"""`harden-ci schema`: the spec's JSON Schema."""

from __future__ import annotations

import click

from harden_ci.errors import ExitCode


def run() -> int:
    from harden_ci.model import spec_json_schema

    click.echo(spec_json_schema(), nl=False)
    return ExitCode.OK
