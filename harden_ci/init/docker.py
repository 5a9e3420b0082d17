"""Dockerfiles anywhere in the repository (hidden folders too) and the context each is
built from.

The context is read where the repository says it: a compose file's `build:` or a
workflow's docker/build-push-action `context`/`file`; else from the Dockerfile itself,
as the nearest folder (the Dockerfile's own, or one above it) in which its `COPY` and
`ADD` sources exist: an `apps/web/Dockerfile` that copies `pnpm-lock.yaml` and
`apps/web/` is built from the repository root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harden_ci.init.scan import Tree, ancestors, basename, excluded, join, parent

_NAME = re.compile(r"^(?:Dockerfile(?:\.([\w-]+))?|([\w-]+)\.[Dd]ockerfile)$")
# Variants that build a developer or test image, not the one that ships.
_VARIANTS = frozenset({"dev", "development", "local", "test", "tests", "ci", "debug"})
_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(.+)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Dockerfile:
    path: str
    context: str
    source: str  # where the context was read: a compose file, a workflow, or the Dockerfile
    label: str | None  # `api` for Dockerfile.api or api.Dockerfile

    @property
    def folder(self) -> str:
        return parent(self.path)


def _copy_sources(text: str) -> list[str]:
    sources: list[str] = []
    for match in _COPY.finditer(text):
        args = match.group(1).strip()
        if args.startswith("["):
            parts = re.findall(r'"([^"]*)"', args)
        else:
            parts = [a for a in args.split() if not a.startswith("--")]
        if re.search(r"--from[= ]", args) or len(parts) < 2:
            continue
        sources += [s.removeprefix("./").rstrip("/") for s in parts[:-1]
                    if "$" not in s and "://" not in s and s not in (".", "./")]
    return sources


def _exists_under(tree: Tree, context: str, source: str) -> bool:
    path = join(context, source) if source else context
    if "*" in source or "?" in source:
        pattern = re.compile(re.escape(path).replace(r"\*", "[^/]*").replace(r"\?", "[^/]"))
        return any(pattern.fullmatch(p) for p in tree.files)
    return tree.has(path) or tree.is_folder(path)


def _guess_context(tree: Tree, path: str) -> str:
    sources = _copy_sources(tree.text(path))
    candidates = ancestors(parent(path))
    if not sources:
        # `COPY . .` from a folder that holds only Dockerfiles (`docker/api.Dockerfile`)
        # copies the repository: nothing else there is worth building.
        alone = all(is_dockerfile(p) or basename(p).endswith(".dockerignore")
                    for p in tree.children(candidates[0]))
        return "." if alone and candidates[0] != "." else candidates[0]
    scores = [sum(_exists_under(tree, c, s) for s in sources) for c in candidates]
    best = max(scores)
    return candidates[scores.index(best)] if best else candidates[0]


def _norm(folder: str, relative: object) -> str | None:
    if not isinstance(relative, str) or "${{" in relative or "$" in relative:
        return None
    parts: list[str] = [] if folder == "." else folder.split("/")
    for part in relative.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or "."


def _declared(tree: Tree) -> dict[str, tuple[str, str]]:
    """Dockerfile → (context, where it is said) from compose files and workflows."""
    found: dict[str, tuple[str, str]] = {}
    for path in tree.files:
        name = path.rsplit("/", 1)[-1]
        folder = parent(path)
        if re.fullmatch(r"(docker-)?compose[\w.-]*\.ya?ml", name):
            data = tree.yaml(path)
            services = data.get("services") if isinstance(data, dict) else None
            for service in (services.values() if isinstance(services, dict) else ()):
                build = service.get("build") if isinstance(service, dict) else None
                _add(found, folder, build, path)
        elif path.startswith(".github/workflows/") and name.endswith((".yml", ".yaml")):
            data = tree.yaml(path)
            jobs = data.get("jobs") if isinstance(data, dict) else None
            for job in (jobs.values() if isinstance(jobs, dict) else ()):
                for step in (job.get("steps") or () if isinstance(job, dict) else ()):
                    if isinstance(step, dict) and "build-push-action" in str(step.get("uses")):
                        given = step.get("with")
                        if isinstance(given, dict):
                            _add(found, ".", {"context": given.get("context", "."),
                                              "dockerfile": given.get("file")}, path,
                                 from_root=True)
    return found


def _add(found: dict[str, tuple[str, str]], folder: str, build: Any, source: str,
         from_root: bool = False) -> None:
    if isinstance(build, str):
        build = {"context": build}
    if not isinstance(build, dict):
        return
    context = _norm(folder, build.get("context", "."))
    if context is None:
        return
    dockerfile = build.get("dockerfile") or "Dockerfile"
    # compose reads `dockerfile` relative to the context; build-push-action's `file`
    # relative to the workspace (the repository root).
    path = _norm("." if from_root and build.get("dockerfile") else context, dockerfile)
    if path is not None:
        found.setdefault(path, (context, source))


def is_dockerfile(path: str) -> bool:
    return _NAME.match(basename(path)) is not None


def dockerfiles(tree: Tree) -> list[Dockerfile]:
    declared = _declared(tree)
    found: list[Dockerfile] = []
    for path in tree.files:
        match = _NAME.match(basename(path))
        if not match or excluded(path):
            continue
        label = match.group(1) or match.group(2)
        if label and label.lower() in _VARIANTS:
            continue
        if path in declared:
            context, source = declared[path]
        else:
            context, source = _guess_context(tree, path), path
        found.append(Dockerfile(path, context, source, label))
    return found


def copied_folders(tree: Tree, dockerfile: Dockerfile) -> list[str]:
    """The folders a Dockerfile copies from, relative to the repository root."""
    return [join(dockerfile.context, s) for s in _copy_sources(tree.text(dockerfile.path))]
