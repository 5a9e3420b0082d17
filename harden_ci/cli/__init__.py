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

    When the spec's folder is a git repository's root, the paths it names (service
    folders, Dockerfiles, OpenAPI documents, migrations and IaC folders) must exist there.

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

    Only this spec's files are overwritten, and a file is removed only when its marker
    and stamps prove harden-ci wrote it; unchanged files are not touched, no link inside
    the folder is followed, and a refused write changes nothing (exit 2).

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

    The comparison is byte for byte with a fresh render (locally, with the record of
    this machine's last render of the same inputs; never with the stamps a file carries).
    Any other file carrying harden-ci's marker is drift too.

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


FORMAT_REPORT = click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md",
                             show_default=True, help="Markdown for people, JSON for tools.")


@cli.command()
@SPEC_ARG
@FORMAT_REPORT
@click.option("--policy", "policy", type=click.Path(path_type=Path, dir_okay=False),
              help="An organisation policy file; its gaps are listed too.")
def explain(spec: Path, fmt: str, policy: Path | None) -> None:
    """The security review: controls and the jobs enforcing them, permissions with reasons,
    secrets and OIDC, environments, budgets and rollback rules, pinned actions and tools,
    exceptions, what is off, required checks, Scorecard and SLSA predictions.

    JSON output follows docs/explain-schema.json. Plain text, no colour.

    \b
    Example:
      harden-ci explain > SECURITY-REVIEW.md
      harden-ci explain --format json --policy org-policy.yaml | jq .scorecard
    """
    from harden_ci.cli import explain_cmd

    _run(lambda: explain_cmd.run(spec, fmt, policy))


@cli.command()
@SPEC_ARG
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True, help="Mermaid (GitHub renders it) or Graphviz DOT.")
def graph(spec: Path, fmt: str) -> None:
    """Print the job graph of the generated workflows (edges from `needs`).

    \b
    Example:
      harden-ci graph                          # paste into Markdown in a ```mermaid block
      harden-ci graph --format dot | dot -Tsvg > pipeline.svg
    """
    from harden_ci.cli import graph_cmd

    _run(lambda: graph_cmd.run(spec, fmt))


@cli.command()
@SPEC_ARG
def sbom(spec: Path) -> None:
    """Print a CycloneDX 1.6 BOM of the pipeline's own supply chain: every action by pinned
    commit, every tool version the workflows install, every image by digest.

    The output is deterministic (serial number derived from the spec, no timestamp).

    \b
    Example:
      harden-ci sbom > pipeline.cdx.json
    """
    from harden_ci.cli import sbom_cmd

    _run(lambda: sbom_cmd.run(spec))


@cli.command()
@click.argument("policy_file", metavar="POLICY", type=click.Path(path_type=Path, dir_okay=False))
@SPEC_ARG
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="One line per violation, or JSON.")
def policy(policy_file: Path, spec: Path, fmt: str) -> None:
    """Check the spec against an organisation policy file.

    Each violation names the spec location (file:line:column) and the policy rule.
    Exit 0 when the spec meets the policy, 1 on violations, 2 on a bad spec or policy.

    \b
    Example:
      harden-ci policy org-policy.yaml
      harden-ci policy org-policy.yaml services/harden-ci.yaml --format json
    """
    from harden_ci.cli import policy_cmd

    _run(lambda: policy_cmd.run(policy_file, spec, fmt))


@cli.command()
@SPEC_ARG
@click.option("--force", is_flag=True, help="Overwrite an existing spec.")
def init(spec: Path, force: bool) -> None:
    """Detect the stack and write a commented starter spec; refuses to overwrite one (exit 2).

    Reads services with their package manager, toolchain version and test command
    (from lockfiles, version files, manifests, Makefiles and existing workflows),
    workspaces, Dockerfiles and their build contexts, the default branch (from git),
    Terraform, Kubernetes/Helm, OpenAPI and migrations; leaves out docs sites,
    config-only packages, examples, templates and test fixtures.

    \b
    Example:
      harden-ci init && harden-ci validate && harden-ci render
    """
    from harden_ci.cli import init_cmd

    _run(lambda: init_cmd.run(spec, force))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="A table, or JSON.")
def pins(fmt: str) -> None:
    """List the pin catalog this release renders with: action, tag, commit, release date and
    notes (offline). Upgrade pins by upgrading harden-ci and re-rendering.

    \b
    Example:
      harden-ci pins --format json | jq '.pins[] | select(.action == "actions/checkout")'
    """
    from harden_ci.cli import pins_cmd

    _run(lambda: pins_cmd.run(fmt))


def _register_gates() -> None:
    from harden_ci.cli.gate_cmd import gate

    cli.add_command(gate)


_register_gates()


def main() -> None:
    cli(prog_name="harden-ci")
