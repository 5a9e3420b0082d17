"""The one-way flow, as functions: load → model → plan/render → verify.

No side effects here beyond reading the spec file; writing is the writer's job and
printing the CLI's.
"""

from __future__ import annotations

import hashlib
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from harden_ci import __version__
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
    try:
        files = render(spec, spec_path.name, loaded.raw, wheel_sha256(spec, spec_path, loaded))
    except SpecError as err:
        raise located(err, loaded) from None
    verify(files)
    return Rendered(spec=spec, loaded=loaded, files=files)


def located(err: SpecError, loaded: LoadedSpec) -> SpecError:
    """A refusal from the plan (which sees no file) placed at the spec field it names."""
    if err.location is not None or not err.field:
        return err
    return SpecError(err.message, location=loaded.location(tuple(err.field.split("."))),
                     field=err.field, hint=err.hint)


def plan_refusals(spec: Spec, loaded: LoadedSpec, spec_file: str) -> None:
    """What only planning finds (a job longer than its runner allows), for `validate`,
    which reads no wheel: the wheel's digest changes no refusal, so a stand-in serves."""
    from harden_ci.plan.workflows import plan

    stand_in = "0" * 64 if spec.harden_ci is not None and spec.harden_ci.wheel else None
    try:
        plan(spec, spec_file, stand_in)
    except SpecError as err:
        raise located(err, loaded) from None


_WHEEL_LIMIT = 64 * 1024 * 1024


def wheel_sha256(spec: Spec, spec_path: Path, loaded: LoadedSpec) -> str | None:
    """The sha256 of the wheel `harden_ci.wheel` names (None when it names none): an input of
    the render like the spec itself, read here so plan code reads no files."""
    wheel = spec.harden_ci.wheel if spec.harden_ci else None
    if wheel is None:
        return None
    path = spec_path.parent / wheel
    where = loaded.location(("harden_ci", "wheel"))
    hint = "build it with `python -m build --wheel` and commit it there"
    root = spec_path.parent.resolve()
    try:
        # Never through a link out of the repository, never a FIFO or a device.
        resolved = path.resolve(strict=True)
        info = resolved.stat()
    except OSError as err:
        raise SpecError(f"the harden-ci wheel `{wheel}` cannot be read ({err.strerror})",
                        location=where, field="harden_ci.wheel", hint=hint) from None
    if not resolved.is_relative_to(root) or not stat.S_ISREG(info.st_mode):
        raise SpecError(f"`{wheel}` is not a regular file inside the repository",
                        location=where, field="harden_ci.wheel", hint=hint)
    if info.st_size > _WHEEL_LIMIT:
        raise SpecError(f"`{wheel}` is larger than {_WHEEL_LIMIT // 2**20} MiB; that is not a "
                        "harden-ci wheel", location=where, field="harden_ci.wheel", hint=hint)
    version = wheel.rsplit("/", 1)[-1].split("-")[1]
    if version != __version__:
        # The drift guard renders with the wheel's harden-ci: another version would
        # always report drift.
        raise SpecError(f"`{wheel}` is harden-ci {version}, but this is harden-ci "
                        f"{__version__}", location=where, field="harden_ci.wheel",
                        hint="build the wheel from the harden-ci you render with")
    with resolved.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def default_out(spec_path: Path) -> Path:
    return spec_path.parent / WORKFLOWS_DIR
