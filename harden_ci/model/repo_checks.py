"""Does the repository hold what the spec names? Pure: the paths to look at come from the
spec (`path_refs`), what is there comes from the edge (`harden_ci.load.repository`), and
`repository_problems` says what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

from harden_ci.errors import SpecError
from harden_ci.load import LoadedSpec
from harden_ci.load.repository import Kind, Probe
from harden_ci.model.spec import Spec

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class PathRef:
    loc: Loc
    path: str
    kind: Kind
    within: str | None = None
    """A service folder: the path may have been written relative to it by mistake."""

    @property
    def guess(self) -> str | None:
        if self.within in (None, ".") or self.path.startswith(f"{self.within}/"):
            return None
        return f"{self.within}/{self.path}"


def path_refs(spec: Spec) -> list[PathRef]:
    """Every path in the spec that must exist in the repository, with where it is written."""
    refs: list[PathRef] = []
    for name, service in spec.services.items():
        at: Loc = ("services", name)
        refs.append(PathRef((*at, "path"), service.path, "folder"))
        for key in ("dockerfile", "openapi"):
            value = getattr(service, key)
            if value is not None:
                refs.append(PathRef((*at, key), value, "file", within=service.path))
    gates = spec.gates
    if gates and gates.schema_drift:
        drift = gates.schema_drift
        owner = spec.services.get(drift.service)
        within = owner.path if owner else None
        if drift.migrations:
            refs.append(PathRef(("gates", "schema_drift", "migrations"), drift.migrations,
                                "folder", within))
        if drift.desired_schema:
            refs.append(PathRef(("gates", "schema_drift", "desired_schema"),
                                drift.desired_schema, "any", within))
    if gates and gates.iac_lint:
        for key in ("terraform", "kubernetes", "helm"):
            value = getattr(gates.iac_lint, key)
            if value is not None:
                refs.append(PathRef(("gates", "iac_lint", key), value, "folder"))
    return refs


def wanted(refs: list[PathRef]) -> list[tuple[str, Kind]]:
    """The (path, kind) pairs the edge must look at: each path, and each likely meant one."""
    pairs = [(r.path, r.kind) for r in refs]
    pairs += [(r.guess, r.kind) for r in refs if r.guess]
    return pairs


def _kind_name(kind: str) -> str:
    return {"file": "a file", "folder": "a folder"}.get(kind, "a file or folder")


def repository_problems(refs: list[PathRef],
                        probes: dict[str, Probe]) -> list[tuple[Loc, str, str | None]]:
    problems: list[tuple[Loc, str, str | None]] = []
    for ref in refs:
        found = probes[ref.path]
        if found.found is not None and ref.kind in ("any", found.found):
            continue
        if found.found is not None:
            problems.append((ref.loc, f"`{ref.path}` is {_kind_name(found.found)}, not "
                             f"{_kind_name(ref.kind)}", None))
            continue
        guess = probes.get(ref.guess) if ref.guess else None
        if ref.guess and guess and guess.found is not None and ref.kind in ("any", guess.found):
            hint = (f"paths are from the repository root, not the service's folder: did you "
                    f"mean `{ref.guess}`?")
        elif found.close:
            hint = f"did you mean `{found.close}`?"
        else:
            hint = "paths are relative to the repository root, the spec's folder"
        problems.append((ref.loc, f"`{ref.path}` does not exist in the repository", hint))
    return problems


def repository_errors(loaded: LoadedSpec, problems: list[tuple[Loc, str, str | None]],
                      ) -> list[SpecError]:
    """Each problem as a located error: file:line:column of the field that names the path."""
    return [SpecError(message, location=loaded.location(loc), field=".".join(map(str, loc)),
                      hint=hint) for loc, message, hint in problems]
