"""Render workflows: plan → Jinja (StrictUndefined, one quoting filter) → text."""

from harden_ci.marker import MARKER_PREFIX, header
from harden_ci.render.engine import render, render_plan, use_bytecode_cache

__all__ = ["MARKER_PREFIX", "header", "render", "render_plan", "use_bytecode_cache"]
