"""The command line: one module per verb, each returning an exit code.

Heavy libraries (pydantic, jinja2, ruamel.yaml) are imported inside the verbs, so
`--help` and `--version` stay fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from harden_ci import __version__
from harden_ci.errors import ExitCode

SPEC_ARG = click.argument("spec", required=False, default="harden-ci.yaml",
                          type=click.Path(path_type=Path, dir_okay=False))


def _run(verb: Callable[[], int]) -> None:
    """The one handler: SpecError → exit 2 with its message; anything else → exit 3."""
    from harden_ci.errors import SpecError

    try:
        code = verb()
    except SpecError as exc:
        click.echo(f"harden-ci: error: {exc}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: say so briefly, no traceback wall
        click.echo(f"harden-ci: internal error ({type(exc).__name__}): {exc}\n"
                   "This is a bug in harden-ci; please report it with the spec that caused it.",
                   err=True)
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harden-ci")
def cli() -> None:
    """Render hardened GitHub Actions workflows from one reviewed spec (harden-ci.yaml).

    \b
    Exit codes: 0 ok, 1 drift (check), 2 bad input (nothing written), 3 internal error.
    """


@cli.command()
@SPEC_ARG
def validate(spec: Path) -> None:
    """Check the spec; every error names file:line:column, the field and a fix.

    \b
    Example:
      harden-ci validate                       # ./harden-ci.yaml
      harden-ci validate examples/minimal/harden-ci.yaml
    """
    from harden_ci.cli import validate_cmd

    _run(lambda: validate_cmd.run(spec))


@cli.command()
@SPEC_ARG
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the workflows (default: .github/workflows beside the spec).")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
def render(spec: Path, out: Path | None, dry_run: bool) -> None:
    """Write the workflows the spec produces.

    Only files carrying harden-ci's marker are ever overwritten or removed; unchanged
    files are not touched.

    \b
    Example:
      harden-ci render
      harden-ci render examples/learnhub/harden-ci.yaml --dry-run
    """
    from harden_ci.cli import render_cmd

    _run(lambda: render_cmd.run(spec, out, dry_run))


@cli.command()
@SPEC_ARG
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder holding the workflows (default: .github/workflows beside the spec).")
def check(spec: Path, out: Path | None) -> None:
    """Fail (exit 1, with a unified diff) if the workflows on disk differ from a render.

    \b
    Example:
      harden-ci check            # in CI and pre-commit: 0 clean, 1 drift, 2 bad input
    """
    from harden_ci.cli import check_cmd

    _run(lambda: check_cmd.run(spec, out))


@cli.command()
def schema() -> None:
    """Print the spec's JSON Schema (for editors and `# yaml-language-server: $schema=`).

    \b
    Example:
      harden-ci schema > harden-ci.schema.json
    """
    from harden_ci.cli import schema_cmd

    _run(schema_cmd.run)


def _register_gates() -> None:
    from harden_ci.cli.gate_cmd import gate

    cli.add_command(gate)


_register_gates()


def main() -> None:
    cli(prog_name="harden-ci")
