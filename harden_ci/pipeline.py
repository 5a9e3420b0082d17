"""The one-way flow, as functions: load → model → plan/render → verify.

No side effects here beyond reading the spec file; writing is the writer's job and
printing the CLI's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harden_ci.errors import Location, SpecError
from harden_ci.load import LoadedSpec, load_spec_file
from harden_ci.model import Spec, parse_spec
from harden_ci.render import render
from harden_ci.verify import verify

DEFAULT_SPEC = "harden-ci.yaml"
WORKFLOWS_DIR = Path(".github") / "workflows"


@dataclass(frozen=True)
class Rendered:
    spec: Spec
    loaded: LoadedSpec
    files: dict[str, str]


def load(spec_path: Path) -> tuple[LoadedSpec, Spec]:
    loaded = load_spec_file(spec_path)
    return loaded, parse_spec(loaded)


_SPEC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def render_spec(spec_path: Path) -> Rendered:
    """Load, validate, render and verify; raises SpecError for bad input."""
    # The file name is written into every generated file and the drift guard's env.
    if not _SPEC_NAME.fullmatch(spec_path.name):
        raise SpecError("the spec's file name may hold only letters, digits, `.`, `_` and `-`",
                        location=Location(spec_path.as_posix()),
                        hint="rename it, e.g. harden-ci.yaml")
    loaded, spec = load(spec_path)
    # The spec's folder is the repository root; the marker and the drift guard name the
    # spec relative to it.
    files = render(spec, spec_path.name, loaded.raw)
    verify(files)
    return Rendered(spec=spec, loaded=loaded, files=files)


def default_out(spec_path: Path) -> Path:
    return spec_path.parent / WORKFLOWS_DIR
