"""`workspaces:`: a monorepo root whose one install serves its member services.

A member names its workspace (`workspace: NAME`) and takes the workspace's language,
package manager, lockfile, version and install; its own `test` runs in its own folder (the
package managers find the workspace root themselves: pnpm, yarn, npm and bun workspaces,
uv workspaces, go.work, Cargo workspaces). The spec fills those settings into each member
before validation (`member_defaults`), so every stage sees a member as a plain service.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.managers import PackageManager
from harden_ci.model.services import Service
from harden_ci.model.types import Command, RepoPath, Text

# What each manager's workspace root declares: a change there selects every member.
ROOT_FILES: dict[str, tuple[str, ...]] = {
    "npm": ("package.json",), "pnpm": ("package.json", "pnpm-workspace.yaml"),
    "yarn": ("package.json",), "yarn-berry": ("package.json", ".yarnrc.yml"),
    "bun": ("package.json",), "uv": ("pyproject.toml",), "poetry": ("pyproject.toml",),
    "pdm": ("pyproject.toml",), "pip": (), "go": ("go.work",), "cargo": ("Cargo.toml",),
    "maven": ("pom.xml",), "gradle": ("settings.gradle", "settings.gradle.kts"),
    "dotnet": (), "bundler": ("Gemfile",),
}
# The settings a member takes from its workspace (and may not set itself).
INHERITED = ("language", "package_manager", "lockfile", "version", "version_file", "install")


class Workspace(SpecModel):
    path: RepoPath = "."
    """The workspace root. Its lockfile is here unless `lockfile` says otherwise."""
    language: Literal["python", "node", "go", "java", "rust", "dotnet", "ruby"]
    """The members' language."""
    package_manager: PackageManager | None = None
    """The workspace's package manager (read from `lockfile` or the language when left
    out), as for a service."""
    lockfile: RepoPath | None = None
    """The workspace's one lockfile, from the repository root (default: the manager's
    lockfile in `path`). The install runs in its folder; a change to it runs every member."""
    version: Text | None = None
    """The toolchain version of every member (quoted), or leave it to `version_file`."""
    version_file: RepoPath | None = None
    """The file declaring the toolchain version, as for a service."""
    install: Command | None = None
    """The one install of the workspace (default: the manager's frozen-lockfile install)."""
    watch: list[RepoPath] = Field(default_factory=list)
    """More root files whose change runs every member. The lockfile and the manager's
    root manifests (`package.json`, `pnpm-workspace.yaml`, `pyproject.toml`, `go.work`,
    `Cargo.toml`...) always do."""

    @model_validator(mode="after")
    def _a_valid_toolchain(self) -> Workspace:
        self.as_service()  # the same checks as a service's (manager, lockfile, version file)
        return self

    def as_service(self) -> Service:
        return Service(path=self.path, language=self.language,
                       package_manager=self.package_manager, lockfile=self.lockfile,
                       version=self.version, version_file=self.version_file,
                       install=self.install)

    def member_defaults(self) -> dict[str, Any]:
        """What a member takes: the resolved manager and lockfile, and what is set."""
        root = self.as_service()
        values: dict[str, Any] = {"language": self.language,
                                  "package_manager": root.manager_name,
                                  "lockfile": root.lockfile_path}
        for key in ("version", "version_file", "install"):
            if getattr(self, key) is not None:
                values[key] = getattr(self, key)
        return values

    def selecting_paths(self) -> list[str]:
        """Paths whose change runs every member: lockfile, root manifests, `watch`."""
        root = self.as_service()
        prefix = "" if self.path == "." else self.path + "/"
        manifests = [prefix + name for name in ROOT_FILES.get(root.manager_name or "", ())]
        return list(dict.fromkeys([root.lockfile_path, *manifests, *self.watch]))


def fill_members(data: Any) -> Any:
    """Raw spec data with each member's inherited settings filled in from its workspace.
    Only absent keys are filled: a member that sets one itself is reported afterwards
    (`member_problems`) at that key. Invalid workspaces are left to their own errors."""
    if not isinstance(data, dict):
        return data
    workspaces, services = data.get("workspaces"), data.get("services")
    if not isinstance(workspaces, dict) or not isinstance(services, dict):
        return data
    filled: dict[Any, Any] = {}
    for name, raw in services.items():
        chosen = raw.get("workspace") if isinstance(raw, dict) else None
        try:
            workspace = (Workspace.model_validate(workspaces[chosen])
                         if isinstance(chosen, str) and chosen in workspaces else None)
        except ValidationError:
            workspace = None
        if workspace is None or not isinstance(raw, dict):
            filled[name] = raw
            continue
        defaults = workspace.member_defaults()
        if any(key in raw for key in INHERITED if key != "language"):
            # The member sets some of it itself: that is reported at its key, on a member
            # left as written (filling the rest would only add confusing errors).
            defaults = {"language": defaults["language"]}
        filled[name] = {**defaults, **raw}
    return {**data, "services": filled}


def member_problems(services: dict[str, Service], workspaces: dict[str, Workspace]
                    ) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Members whose workspace is missing, who lie outside it, or who set what the
    workspace decides."""
    problems: list[tuple[tuple[str | int, ...], str, str]] = []
    for name, service in services.items():
        if service.workspace is None:
            continue
        workspace = workspaces.get(service.workspace)
        if workspace is None:
            problems.append((("services", name, "workspace"),
                             f"no workspace named `{service.workspace}`",
                             f"known workspaces: {', '.join(sorted(workspaces)) or 'none defined'}"))
            continue
        inherited = workspace.member_defaults()
        for key in INHERITED:
            value = getattr(service, key)
            if value is not None and value != inherited.get(key):
                problems.append((("services", name, key), f"`{key}` is the workspace's: "
                                 f"members of `{service.workspace}` take it from there",
                                 f"set it in `workspaces.{service.workspace}` or leave the "
                                 "service out of the workspace"))
        root = workspace.path
        if root != "." and not (service.path == root or service.path.startswith(root + "/")):
            problems.append((("services", name, "path"), f"`{service.path}` is outside "
                             f"workspace `{service.workspace}` (`{root}`)",
                             "a member's folder lies under its workspace's `path`"))
    return problems
