"""Jinja templates and scripts of the generated workflows, shipped as harden_ci.templates."""
