"""Detect a repository's stack for `harden-ci init`: services (by manifest), Dockerfiles,
OpenAPI documents, Terraform, Kubernetes manifests and Helm charts, and migrations.

Read-only and bounded: the walk skips dependency, build and hidden folders, stops at a
depth and a file count, and reads at most the first 64 KiB of a YAML file. Paths that a
spec could not hold (see `RepoPath`) are left out rather than written into the spec.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from harden_ci.model.types import NAME_PATTERN, _check_repo_path

SKIP_DIRS = frozenset({
    "node_modules", "vendor", "venv", "env", "__pycache__", "dist", "build", "target", "out",
    "coverage", "site-packages", "third_party",
})
# Folders whose manifests are not deployables (docs builds, examples, test fixtures).
NOT_SERVICES = frozenset({"docs", "doc", "examples", "example", "tests", "test", "testdata",
                          "fixtures", "scripts", "tools", "benchmarks", "e2e"})
MAX_DEPTH = 6
MAX_FILES = 20_000
_READ_LIMIT = 64 * 1024
# Which manifest makes a folder a service, strongest first (a Django app with a
# package.json for its assets is a Python service).
MANIFESTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("go", ("go.mod",)),
    ("rust", ("Cargo.toml",)),
    ("java", ("pom.xml",)),
    ("python", ("pyproject.toml", "requirements.txt", "setup.py", "setup.cfg", "Pipfile")),
    ("node", ("package.json",)),
)
_OPENAPI = re.compile(r"^(openapi|swagger)([._-][A-Za-z0-9._-]*)?\.(ya?ml|json)$", re.IGNORECASE)
_K8S_API = re.compile(r"^apiVersion:\s*\S+", re.MULTILINE)
_K8S_KIND = re.compile(r"^kind:\s*[A-Z]\w*", re.MULTILINE)
_SPEC_NAMES = frozenset({"harden-ci.yaml", "harden-ci.yml"})


@dataclass
class DetectedService:
    name: str
    path: str
    language: str | None
    dockerfile: str | None = None
    openapi: str | None = None
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Migrations:
    service: str
    preset: str  # alembic, django or prisma
    evidence: str


@dataclass
class Stack:
    project: str
    services: list[DetectedService]
    terraform: str | None = None
    kubernetes: str | None = None
    helm: str | None = None
    migrations: list[Migrations] = field(default_factory=list)

    @property
    def dockerfiles(self) -> bool:
        return any(s.dockerfile for s in self.services)

    def summary(self) -> str:
        parts = [f"{len(self.services)} service(s)"]
        languages = sorted({s.language for s in self.services if s.language})
        if languages:
            parts.append(", ".join(languages))
        if self.dockerfiles:
            parts.append("Dockerfiles")
        parts += [what for what, on in (("Terraform", self.terraform), ("Kubernetes",
                  self.kubernetes), ("Helm", self.helm)) if on]
        if any(s.openapi for s in self.services):
            parts.append("OpenAPI")
        parts += [f"{m.preset} migrations" for m in self.migrations]
        return "; ".join(parts)


def _plain(path: str) -> bool:
    try:
        return _check_repo_path(path) == path
    except ValueError:
        return False


def _walk(root: Path) -> list[str]:
    """Relative POSIX paths of the files worth looking at, sorted."""
    found: list[str] = []
    for current, dirs, files in os.walk(root):
        rel = Path(current).relative_to(root)
        depth = len(rel.parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS
                         and depth < MAX_DEPTH)
        for name in sorted(files):
            path = (rel / name).as_posix()
            if _plain(path):
                found.append(path)
            if len(found) >= MAX_FILES:
                return sorted(found)
    return sorted(found)


def _parent(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "." if parent in ("", ".") else parent


def _inside(path: str, folder: str) -> bool:
    return folder == "." or path == folder or path.startswith(folder + "/")


def _common(paths: list[str]) -> str | None:
    if not paths:
        return None
    common = os.path.commonpath(paths) if len(paths) > 1 else paths[0]
    return common or "."


def slug(text: str, fallback: str = "app") -> str:
    """A spec name (lower case, letters, digits, `-`, `_`, starting with a letter)."""
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    if name and not name[0].isalpha():
        name = f"svc-{name}"
    name = name[:40].rstrip("-_")
    return name if re.match(NAME_PATTERN, name) else fallback


def _read(root: Path, path: str) -> str:
    try:
        with (root / path).open("rb") as handle:
            return handle.read(_READ_LIMIT).decode("utf-8", errors="replace")
    except OSError:
        return ""


def project_name(root: Path, files: set[str]) -> str:
    """The name from pyproject.toml or package.json at the root, else the folder's name."""
    if "pyproject.toml" in files:
        try:
            data = tomllib.loads(_read(root, "pyproject.toml"))
            name = data.get("project", {}).get("name")
            if isinstance(name, str) and name.strip():
                return name.strip()[:200]
        except tomllib.TOMLDecodeError:
            pass
    if "package.json" in files:
        try:
            name = json.loads(_read(root, "package.json")).get("name")
            if isinstance(name, str) and name.strip():
                return name.strip().lstrip("@").replace("/", "-")[:200]
        except (json.JSONDecodeError, AttributeError):
            pass
    return root.resolve().name or "app"


def _services(files: list[str], project: str) -> list[DetectedService]:
    by_dir: dict[str, list[str]] = {}
    for path in files:
        folder = _parent(path)
        if not NOT_SERVICES & set(PurePosixPath(folder).parts):
            by_dir.setdefault(folder, []).append(PurePosixPath(path).name)
    services: list[DetectedService] = []
    for folder in sorted(by_dir, key=lambda d: (d != ".", d.count("/"), d)):
        names = set(by_dir[folder])
        for language, manifests in MANIFESTS:
            hits = [m for m in manifests if m in names]
            if not hits:
                continue
            # A manifest nested in a (non-root) service of the same language belongs to it.
            if any(s.language == language and s.path != "." and _inside(folder, s.path)
                   for s in services):
                break
            base = project if folder == "." else PurePosixPath(folder).name
            services.append(DetectedService(
                name=slug(base), path=folder, language=language,
                evidence=[f"{folder}/{h}" if folder != "." else h for h in hits]))
            break
    # A root manifest with services of the same language below it is a workspace or tooling
    # root (npm workspaces, a Cargo workspace, shared lint config), not a service.
    root = next((s for s in services if s.path == "."), None)
    if root is not None and any(s.language == root.language for s in services if s is not root):
        services.remove(root)
    return services


def _assign_dockerfiles(files: list[str], services: list[DetectedService]) -> None:
    """`<folder>/Dockerfile` belongs to the service in that folder, or is a container-only
    service of its own (built with the folder as its context)."""
    for path in (p for p in files if PurePosixPath(p).name == "Dockerfile"):
        folder = _parent(path)
        owner = next((s for s in services if s.path == folder and not s.dockerfile), None)
        if owner is None:
            base = PurePosixPath(folder).name if folder != "." else "app"
            owner = DetectedService(name=slug(base), path=folder, language=None)
            services.append(owner)
        owner.dockerfile = path
        owner.evidence.append(path)


def _assign_openapi(files: list[str], services: list[DetectedService]) -> None:
    for path in (p for p in files if _OPENAPI.match(PurePosixPath(p).name)):
        owners = [s for s in services if _inside(path, s.path)]
        owner = max(owners, key=lambda s: len(s.path), default=None)
        if owner is None and len(services) == 1:
            owner = services[0]
        if owner is not None and owner.openapi is None:
            owner.openapi = path
            owner.evidence.append(path)


def _unique_names(services: list[DetectedService]) -> None:
    seen: set[str] = set()
    for service in services:
        name, n = service.name, 2
        while name in seen:
            name = f"{service.name[:36]}-{n}"
            n += 1
        service.name = name
        seen.add(name)


def _kubernetes(root: Path, files: list[str], charts: list[str]) -> list[str]:
    folders = []
    for path in files:
        name = PurePosixPath(path).name
        if (not name.endswith((".yaml", ".yml")) or name in _SPEC_NAMES
                or _OPENAPI.match(name) or name.startswith(("docker-compose", "compose."))
                or any(_inside(path, chart) for chart in charts)):
            continue
        text = _read(root, path)
        if _K8S_API.search(text) and _K8S_KIND.search(text):
            folders.append(_parent(path))
    return sorted(set(folders))


def _migrations(files: list[str], services: list[DetectedService]) -> list[Migrations]:
    found: list[Migrations] = []
    names = set(files)

    def owner(folder: str, language: str) -> DetectedService | None:
        return next((s for s in services if s.path == folder and s.language == language), None)

    for path in files:
        folder, name = _parent(path), PurePosixPath(path).name
        if name == "alembic.ini" and (svc := owner(folder, "python")):
            found.append(Migrations(svc.name, "alembic", path))
        elif name == "manage.py" and (svc := owner(folder, "python")) and any(
                p.endswith("/migrations/__init__.py") and _inside(p, folder) for p in names):
            found.append(Migrations(svc.name, "django", path))
        elif (path.endswith("prisma/schema.prisma") and (svc := owner(_parent(folder), "node"))):
            found.append(Migrations(svc.name, "prisma", path))
    return found


def detect(root: Path) -> Stack:
    files = _walk(root)
    top = {p for p in files if "/" not in p}
    project = project_name(root, top)
    services = _services(files, project)
    _assign_dockerfiles(files, services)
    _assign_openapi(files, services)
    _unique_names(services)
    charts = sorted({_parent(p) for p in files if PurePosixPath(p).name == "Chart.yaml"})
    terraform = sorted({_parent(p) for p in files if p.endswith(".tf")})
    return Stack(
        project=project,
        services=services,
        terraform=_common(terraform),
        kubernetes=_common(_kubernetes(root, files, charts)),
        helm=_common(charts),
        migrations=_migrations(files, services),
    )
