"""The writer: plan every change first, refuse if any is unsafe, then stage and apply.

Who owns a file is read from its first two lines (`harden_ci.marker.owner`):
- a path the spec produces is overwritten only when the file there names this spec with
  well-formed stamps (a hand edit of a generated file is put right); anything else there
  (no marker, a marker without stamps, another spec's file) is refused;
- a file the spec no longer produces is deleted only when it is provably this spec's
  (stamps intact and matching its body); another spec's files and files that merely look
  generated are left alone and listed, so `check` can count them as drift;
- links are never followed inside the output folder: a linked file or a linked
  `harden-ci/` folder is refused, and a linked stale file is not touched.

Every check happens before the first write: planning only reads, and `apply` first
writes every new file to a temporary beside its target (creating the folders it needs);
if any of that fails (a read-only folder, /proc, a full disk) it removes what it made and
refuses, so the folder is exactly as it was. Only then are the files renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harden_ci.errors import Location, SpecError
from harden_ci.layout import owned_candidates
from harden_ci.marker import Owner, owner, stamp_of

Action = Literal["create", "update", "delete", "unchanged"]


@dataclass(frozen=True)
class Change:
    path: Path
    action: Action
    old: str | None
    new: str | None


@dataclass(frozen=True)
class LeftAlone:
    """A marked file in the folder that this spec did not produce and may not delete."""

    path: Path
    owner: Owner
    text: str

    @property
    def spec_file(self) -> str | None:
        stamp = stamp_of(self.text)
        return stamp.spec_file if stamp is not None else None

    @property
    def reason(self) -> str:
        if self.owner == "other-spec":
            return f"it names another spec, {self.spec_file}"
        if self.owner == "edited":
            return "it was edited after rendering and the spec no longer produces it"
        return "its stamps are missing or do not match its body, so it is not provably harden-ci's"


@dataclass
class WritePlan:
    root: Path
    changes: list[Change] = field(default_factory=list)
    left_alone: list[LeftAlone] = field(default_factory=list)

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]


def _refuse(message: str, path: Path, hint: str | None = None) -> SpecError:
    return SpecError(message, location=Location(str(path)), hint=hint)


def _read(path: Path) -> str:
    """The file's text exactly as stored (no newline translation: the comparison with a
    render is byte for byte); "" when it is not UTF-8, so certainly not ours."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return ""
    except OSError as exc:
        raise _refuse(f"cannot read {path}: {exc.strerror}", path) from None


def _safe_target(root: Path, relative: str) -> Path:
    if ".." in Path(relative).parts or Path(relative).is_absolute():
        raise AssertionError(f"rendered path escapes the output folder: {relative}")
    return root / relative


def _check_root(root: Path) -> None:
    """The output folder is a folder, or can become one: its nearest existing ancestor
    must be a folder (the output folder itself may be a link the user chose)."""
    if root.exists() and not root.is_dir():
        raise _refuse("the output path exists and is not a folder", root,
                      "choose another --out folder")
    probe = root
    while not os.path.lexists(probe) and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise _refuse(f"the output folder cannot be created: {probe} is not a folder", root,
                      "choose an --out folder that is not under a file")


def _check_inside(root: Path, target: Path) -> None:
    """No link and no file in the way between the output folder and `target`."""
    folder = root
    for part in target.relative_to(root).parts[:-1]:
        folder = folder / part
        if folder.is_symlink():
            raise _refuse("refusing to write through a link inside the output folder", folder,
                          "replace the link with a real folder")
        if folder.exists() and not folder.is_dir():
            raise _refuse("a file is in the way of a folder harden-ci writes into", folder,
                          "rename or remove it")
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise _refuse("refusing to write through a link or over a non-file", target,
                      "remove it, or choose another --out folder")


def _spec_of(files: dict[str, str]) -> str | None:
    """The spec every rendered file names (None when they carry no stamps)."""
    names = {stamp.spec_file for stamp in map(stamp_of, files.values()) if stamp is not None}
    if len(names) > 1:
        raise AssertionError(f"rendered files name several specs: {sorted(names)}")
    return next(iter(names), None)


def plan_writes(root: Path, files: dict[str, str]) -> WritePlan:
    """Compare rendered files with the folder; refuse (SpecError) if any change is unsafe."""
    plan = WritePlan(root=root)
    spec_file = _spec_of(files)
    _check_root(root)
    for relative, text in sorted(files.items()):
        target = _safe_target(root, relative)
        _check_inside(root, target)
        if not target.exists():
            plan.changes.append(Change(target, "create", None, text))
            continue
        old = _read(target)
        whose = owner(old, spec_file)
        if old == text:
            plan.changes.append(Change(target, "unchanged", old, text))
        elif whose in ("ours", "edited"):
            plan.changes.append(Change(target, "update", old, text))
        elif whose == "other-spec":
            other = LeftAlone(target, whose, old).spec_file
            raise _refuse(f"this file belongs to another spec ({other}), so it will not be "
                          "overwritten", target, "render the specs into different --out folders")
        else:
            raise _refuse("this file was not generated by harden-ci (or its stamps do not "
                          "prove it), so it will not be overwritten", target,
                          "rename or remove it, or choose another --out folder")
    produced = {root / r for r in files}
    try:
        candidates = owned_candidates(root)
    except OSError as exc:
        raise _refuse(f"cannot list the output folder: {exc.strerror or exc}", root) from None
    for path in candidates:
        if path in produced:
            continue
        old = _read(path)
        whose = owner(old, spec_file)
        if whose == "ours":
            plan.changes.append(Change(path, "delete", old, None))
        elif whose != "unmarked":
            plan.left_alone.append(LeftAlone(path, whose, old))
    return plan


def _make_folders(folder: Path, made: list[Path]) -> None:
    """mkdir -p, remembering each folder created (so a refusal can remove it)."""
    missing = []
    while not os.path.lexists(folder):
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        made.append(path)


def _stage(path: Path, text: str) -> str:
    """Write `text` to a temporary beside `path`; return the temporary's name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _undo(staged: list[tuple[str, Path]], made: list[Path]) -> None:
    for tmp, _ in staged:
        Path(tmp).unlink(missing_ok=True)
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()


def apply(plan: WritePlan) -> list[Change]:
    """Carry out a plan made by `plan_writes`; returns the changes made. Raises
    SpecError, with the folder as it was, when a file cannot be staged."""
    pending = plan.pending
    staged: list[tuple[str, Path]] = []
    made: list[Path] = []
    current = plan.root
    try:
        for change in pending:
            current = change.path
            if change.action == "delete":
                continue
            assert change.new is not None
            _check_inside(plan.root, change.path)  # again: a link may have appeared since
            _make_folders(change.path.parent, made)
            staged.append((_stage(change.path, change.new), change.path))
    except SpecError:
        _undo(staged, made)
        raise
    except OSError as exc:
        _undo(staged, made)
        raise _refuse(f"cannot write here ({exc.strerror or exc}); nothing was changed",
                      current, "check that the output folder is writable") from None
    done: list[Change] = []
    try:
        for change in pending:
            current = change.path
            if change.action == "delete":
                change.path.unlink()
            else:
                tmp = next(t for t, target in staged if target == change.path)
                os.replace(tmp, change.path)
            done.append(change)
    except OSError as exc:
        _undo([(t, p) for t, p in staged if p not in {c.path for c in done}], [])
        written = ", ".join(str(c.path) for c in done) or "none"
        raise _refuse(f"cannot replace or remove this file ({exc.strerror or exc}); "
                      f"files already changed: {written}", current) from None
    return done
