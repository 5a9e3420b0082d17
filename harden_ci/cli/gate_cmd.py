"""`harden-ci gate …`: the runtime gates the generated workflows call.

Budgets and rollback rules are decided here, in tested Python, not in shell one-liners:
each subcommand reads its inputs (files, URLs, env), prints a verdict, writes a Markdown
table to $GITHUB_STEP_SUMMARY when set, and exits 0 (pass) or 1 (the gate failed);
bad input is exit 2 like every other verb.
"""

from __future__ import annotations

import click


class _LazyGates(click.Group):
    """Registers the gate subcommands on first use: their modules (and what they import)
    cost every other verb ~30 ms of start-up otherwise."""

    def _ensure(self) -> None:
        if not self.commands:
            _register()

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGates)
def gate() -> None:
    """Runtime gates used by the generated workflows (LLM scoring, auth probes, soak
    budgets, canary analysis).

    \b
    Example:
      harden-ci gate --help
    """


def _register() -> None:
    # Each module lists its subcommands in COMMANDS; their heavy imports stay inside them.
    from harden_ci.cli import gate_auth, gate_canary, gate_llm, gate_soak

    for module in (gate_llm, gate_auth, gate_soak, gate_canary):
        for command in module.COMMANDS:
            gate.add_command(command)
