"""Detect a repository's stack for `harden-ci init`: services (by manifest) with their
package manager, toolchain version and test command, Dockerfiles and their build contexts,
workspaces and the libraries they share, the default branch, OpenAPI documents,
Terraform, Kubernetes manifests and Helm charts, and migrations.

Read-only and bounded (see `scan`). Docs sites, config-only packages, examples,
templates and test fixtures are left out, and said so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from harden_ci.init import commands, docker
from harden_ci.init.git import default_branch
from harden_ci.init.scan import (
    Tree,
    basename,
    excluded,
    excluded_by,
    hidden,
    inside,
    join,
    parent,
    walk,
)
from harden_ci.init.test_containers import read_test_environment
from harden_ci.init.toolchain import Detected, package_manager, toolchain_version
from harden_ci.init.workspaces import (
    Workspace,
    find_workspaces,
    go_has_main,
    is_library,
    is_workspace_root,
    not_a_deployable,
    workspace_of,
)
from harden_ci.model.types import NAME_PATTERN

# Which manifest makes a folder a service, strongest first (a Django app with a
# package.json for its assets is a Python service).
MANIFESTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("go", ("go.mod",)),
    ("rust", ("Cargo.toml",)),
    ("java", ("pom.xml", "build.gradle", "build.gradle.kts")),
    ("python", ("pyproject.toml", "requirements.txt", "setup.py", "setup.cfg", "Pipfile")),
    ("node", ("package.json",)),
)
_MANIFEST_NAMES = frozenset(name for _, names in MANIFESTS for name in names)
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
    detected: Detected = field(default_factory=Detected)


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
    default_branch: str = "main"
    branch_source: str | None = None
    """Where the default branch was read (`origin/HEAD`...), None when git did not say."""
    workspaces: list[Workspace] = field(default_factory=list)
    shared_paths: list[str] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    """(folder, why) for each package that is not a service."""

    @property
    def dockerfiles(self) -> bool:
        return any(s.dockerfile for s in self.services)

    def summary(self) -> str:
        parts = [f"{len(self.services)} service(s)"]
        languages = sorted({s.language for s in self.services if s.language})
        if languages:
            parts.append(", ".join(languages))
        managers = sorted({s.detected.package_manager for s in self.services
                           if s.detected.package_manager})
        if managers:
            parts.append("managed by " + ", ".join(managers))
        if self.dockerfiles:
            parts.append("Dockerfiles")
        parts += [what for what, on in (("Terraform", self.terraform), ("Kubernetes",
                  self.kubernetes), ("Helm", self.helm)) if on]
        if any(s.openapi for s in self.services):
            parts.append("OpenAPI")
        parts += [f"{m.preset} migrations" for m in self.migrations]
        parts.append(f"default branch {self.default_branch}"
                     + (f" (from {self.branch_source})" if self.branch_source else
                        " (assumed: git named none)"))
        return "; ".join(parts)


def slug(text: str, fallback: str = "app") -> str:
    """A spec name (lower case, letters, digits, `-`, `_`, starting with a letter)."""
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    if name and not name[0].isalpha():
        name = f"svc-{name}"
    name = name[:40].rstrip("-_")
    return name if re.match(NAME_PATTERN, name) else fallback


def project_name(tree: Tree) -> str:
    """The name from the root manifest (pyproject, package.json, Cargo, go.mod), else the
    folder's name."""
    project = tree.toml("pyproject.toml").get("project")
    candidates: list[object] = [project.get("name") if isinstance(project, dict) else None]
    name = tree.json("package.json").get("name")
    candidates.append(name.lstrip("@").replace("/", "-") if isinstance(name, str) else None)
    package = tree.toml("Cargo.toml").get("package")
    candidates.append(package.get("name") if isinstance(package, dict) else None)
    module = re.search(r"^module\s+(\S+)", tree.text("go.mod"), re.MULTILINE)
    candidates.append(module.group(1).rstrip("/").rsplit("/", 1)[-1] if module else None)
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:200]
    return tree.root.resolve().name or "app"


@dataclass
class _Found:
    services: list[DetectedService] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)


def _deployable_root(tree: Tree, service: DetectedService) -> bool:
    """A root manifest that is a program of its own, not only a tooling or workspace root."""
    if service.language == "go":
        return True
    if service.language == "rust":
        return isinstance(tree.toml("Cargo.toml").get("package"), dict)
    return False


def _classify(tree: Tree, language: str, folder: str, workspaces: list[Workspace],
              go_modules: list[str], found: _Found) -> bool:
    """Whether `folder` (holding a `language` manifest) is a service; records why not."""
    member = workspace_of(workspaces, folder) is not None
    if is_workspace_root(workspaces, folder) and not (language == "rust" and isinstance(
            tree.toml(join(folder, "Cargo.toml")).get("package"), dict)):
        found.left_out.append((folder, "a workspace root"))
        return False
    why = not_a_deployable(tree, language, folder)
    if why:
        found.left_out.append((folder, why))
        return False
    if is_library(tree, language, folder, member):
        found.libraries.append(folder)
        return False
    if language == "go" and folder != "." and not member and not go_has_main(
            tree, folder, go_modules):
        found.left_out.append((folder, "a Go library module"))
        return False
    return True


def _services(tree: Tree, project: str, workspaces: list[Workspace]) -> _Found:
    by_dir: dict[str, set[str]] = {}
    found = _Found()
    for path in tree.files:
        if hidden(path):
            continue
        if (under := excluded_by(path)) is None:
            by_dir.setdefault(parent(path), set()).add(basename(path))
        elif basename(path) in _MANIFEST_NAMES or docker.is_dockerfile(path):
            # Said, so a reader sees what was passed over and why.
            found.left_out.append((path, f"under `{under}/`"))
    go_modules = sorted(d for d, names in by_dir.items() if "go.mod" in names)
    for folder in sorted(by_dir, key=lambda d: (d != ".", d.count("/"), d)):
        names = by_dir[folder]
        for language, manifests in MANIFESTS:
            hits = [m for m in manifests if m in names]
            if not hits:
                continue
            # A manifest nested in a (non-root) service of the same language belongs to it.
            if any(s.language == language and s.path != "." and inside(folder, s.path)
                   for s in found.services):
                break
            if _classify(tree, language, folder, workspaces, go_modules, found):
                base = project if folder == "." else basename(folder)
                found.services.append(DetectedService(
                    name=slug(base), path=folder, language=language,
                    evidence=[join(folder, h) for h in hits]))
            break
    # A root manifest with services of the same language below it is a workspace or tooling
    # root (shared lint config, a Cargo workspace), unless it is a program itself.
    root = next((s for s in found.services if s.path == "."), None)
    if root is not None and not _deployable_root(tree, root) and any(
            s.language == root.language for s in found.services if s is not root):
        found.services.remove(root)
        found.left_out.append((".", "a workspace or tooling root"))
    return found


def _owner(tree: Tree, dockerfile: docker.Dockerfile,
           services: list[DetectedService]) -> DetectedService | None:
    free = [s for s in services if not s.dockerfile]
    here = next((s for s in free if s.path == dockerfile.folder), None)
    if here is not None:
        return here
    # A Dockerfile kept elsewhere (`.docker/api/Dockerfile`, `docker/api.Dockerfile`)
    # belongs to the service whose folder it copies, or that has its name.
    copied = docker.copied_folders(tree, dockerfile)
    by_copy = [s for s in free if s.path != "." and any(inside(c, s.path) for c in copied)]
    if by_copy:
        return max(by_copy, key=lambda s: len(s.path))
    label = slug(dockerfile.label or basename(dockerfile.folder), fallback="")
    return next((s for s in free if label and s.name == label), None)


def _assign_dockerfiles(tree: Tree, services: list[DetectedService]) -> None:
    """Each Dockerfile belongs to a service, or is a container-only service of its own."""
    # Dockerfiles in a service's own folder first, so one kept elsewhere cannot take it.
    found = sorted(docker.dockerfiles(tree),
                   key=lambda d: not any(s.path == d.folder for s in services))
    for dockerfile in found:
        owner = _owner(tree, dockerfile, services)
        if owner is None:
            if any(s.dockerfile and s.path == dockerfile.folder for s in services):
                continue  # a second Dockerfile in a folder whose service has one
            base = dockerfile.label or (basename(dockerfile.folder).lstrip(".")
                                        if dockerfile.folder != "." else "app")
            owner = DetectedService(name=slug(base), path=dockerfile.folder, language=None)
            services.append(owner)
        owner.dockerfile = dockerfile.path
        owner.detected.docker_context = dockerfile.context
        owner.evidence.append(dockerfile.path)


def _toolchains(tree: Tree, services: list[DetectedService], workspaces: list[Workspace]) -> None:
    tests = commands.workflow_tests(tree)
    for service in services:
        if service.language is None:
            continue
        found = service.detected
        workspace = workspace_of(workspaces, service.path)
        found.workspace = workspace.root if workspace else None
        package_manager(tree, service.language, service.path, found.workspace, found)
        toolchain_version(tree, service.language, service.path, found)
        package = tree.json(join(service.path, "package.json")).get("name")
        for kind in ("test", "lint", "typecheck"):
            chosen = commands.pick_workflow_test(
                tests, service.path, package if isinstance(package, str) else None, kind)
            if chosen is not None and commands.quote_ok(chosen.command):
                setattr(found, kind, chosen.command)
                setattr(found, f"{kind}_source", chosen.source)
                if kind == "test":
                    found.test_environment = read_test_environment(tree, chosen)
            elif declared := commands.manifest_command(tree, kind, service.language,
                                                       service.path, found.package_manager):
                setattr(found, kind, declared[0])
                setattr(found, f"{kind}_source", declared[1])


def _shared_paths(tree: Tree, found: _Found) -> list[str]:
    """Libraries the services use, and a workspace lockfile they install from."""
    shared: set[str] = set()
    used: set[str] = set()
    for service in found.services:
        manifest = tree.json(join(service.path, "package.json"))
        for key in ("dependencies", "devDependencies"):
            deps = manifest.get(key)
            used.update(deps if isinstance(deps, dict) else ())
    for library in found.libraries:
        name = tree.json(join(library, "package.json")).get("name")
        # A node library no service depends on changes nothing they run.
        if not isinstance(name, str) or name in used:
            shared.add(library)
    for service in found.services:
        lock, root = service.detected.lockfile, service.detected.workspace
        if lock and root is not None and parent(lock) == root and not inside(lock, service.path):
            shared.add(lock)
    return sorted(shared)


def _assign_openapi(files: list[str], services: list[DetectedService]) -> None:
    for path in (p for p in files if _OPENAPI.match(basename(p))):
        if hidden(path) or excluded(path):
            continue
        owners = [s for s in services if inside(path, s.path)]
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


def _kubernetes(tree: Tree, charts: list[str]) -> list[str]:
    folders = []
    for path in tree.files:
        name = basename(path)
        if (not name.endswith((".yaml", ".yml")) or name in _SPEC_NAMES or hidden(path)
                or excluded(path) or _OPENAPI.match(name)
                or name.startswith(("docker-compose", "compose.", "pnpm-"))
                or any(inside(path, chart) for chart in charts)):
            continue
        text = tree.text(path)
        if _K8S_API.search(text) and _K8S_KIND.search(text):
            folders.append(parent(path))
    return sorted(set(folders))


def _migrations(tree: Tree, services: list[DetectedService]) -> list[Migrations]:
    found: list[Migrations] = []

    def owner(folder: str, language: str) -> DetectedService | None:
        return next((s for s in services if s.path == folder and s.language == language), None)

    for path in tree.files:
        folder, name = parent(path), basename(path)
        if name == "alembic.ini" and (svc := owner(folder, "python")):
            found.append(Migrations(svc.name, "alembic", path))
        elif name == "manage.py" and (svc := owner(folder, "python")) and any(
                p.endswith("/migrations/__init__.py") and inside(p, folder) for p in tree.files):
            found.append(Migrations(svc.name, "django", path))
        elif path.endswith("prisma/schema.prisma") and (
                svc := owner(parent(folder), "node") or _user_of(tree, parent(folder), services)):
            found.append(Migrations(svc.name, "prisma", path))
    return found


def _user_of(tree: Tree, library: str, services: list[DetectedService]) -> DetectedService | None:
    """The first node service depending on the workspace package in `library` (a shared
    `packages/database` holding the Prisma schema)."""
    name = tree.json(join(library, "package.json")).get("name")
    if not isinstance(name, str):
        return None
    for service in services:
        manifest = tree.json(join(service.path, "package.json"))
        if service.language == "node" and any(
                isinstance(manifest.get(k), dict) and name in manifest[k]
                for k in ("dependencies", "devDependencies")):
            return service
    return None


def _common(paths: list[str]) -> str | None:
    if not paths:
        return None
    common = os.path.commonpath(paths) if len(paths) > 1 else paths[0]
    return common or "."


def detect(root: Path) -> Stack:
    tree = walk(root)
    project = project_name(tree)
    workspaces = find_workspaces(tree)
    found = _services(tree, project, workspaces)
    services = found.services
    _assign_dockerfiles(tree, services)
    _assign_openapi(tree.files, services)
    _unique_names(services)
    _toolchains(tree, services, workspaces)
    charts = sorted({parent(p) for p in tree.files
                     if basename(p) == "Chart.yaml" and not excluded(p)})
    terraform = sorted({parent(p) for p in tree.files
                        if p.endswith(".tf") and not excluded(p) and not hidden(p)})
    branch, source = default_branch(root)
    return Stack(
        project=project,
        services=services,
        terraform=_common(terraform),
        kubernetes=_common(_kubernetes(tree, charts)),
        helm=_common(charts),
        migrations=_migrations(tree, services),
        default_branch=branch,
        branch_source=source,
        workspaces=workspaces,
        shared_paths=_shared_paths(tree, found),
        left_out=found.left_out,
    )
