"""`harden-ci gate` subcommands for the llm gate (being written)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
