"""`harden-ci init`: detect the repository's stack and write a commented starter spec."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from harden_ci.errors import ExitCode

if TYPE_CHECKING:
    from harden_ci.init.detect import DetectedService


def _facts(service: DetectedService) -> str:
    """One line of what init read for a service, and from where."""
    found = service.detected
    parts = [service.path, service.language or "container-only"]
    if found.package_manager:
        parts.append(found.package_manager + (f" ({found.variant})" if found.variant else ""))
    if found.version:
        parts.append(f"version {found.version} from {found.version_file}")
    if found.test:
        parts.append(f"test `{found.test}` from {found.test_source}")
    if service.dockerfile:
        parts.append(f"{service.dockerfile} (context {found.docker_context})")
    return f"  {service.name}: " + ", ".join(parts)


def run(spec_path: Path, force: bool) -> int:
    from harden_ci.init import detect, starter_spec, write_spec

    root = spec_path.parent if spec_path.parent != Path("") else Path(".")
    stack = detect(root)
    write_spec(spec_path, starter_spec(stack), force=force)
    click.echo(f"wrote {spec_path}: {stack.summary()}")
    for service in stack.services:
        click.echo(_facts(service))
    for path, why in stack.left_out:
        click.echo(f"  left out {path}: {why}")
    click.echo("next: review it, then `harden-ci validate` and `harden-ci render`")
    return ExitCode.OK
