"""Workspaces (one install at the root shared by its members) and the packages that are
not deployables: docs sites, config-only packages and shared libraries.

Workspace members come from the tool's own file: `pnpm-workspace.yaml`, package.json
`workspaces` (npm, yarn, bun), `go.work`, Cargo's `[workspace]` and uv's
`[tool.uv.workspace]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harden_ci.init.scan import Tree, glob_regex, join, parent

# A package depending on one of these builds a documentation site.
_DOCS_DEPS = frozenset({"@docusaurus/core", "vitepress", "vuepress", "nextra", "nextra-theme-docs",
                        "@astrojs/starlight", "docsify-cli", "@vuepress/core", "mintlify"})
_CONFIG_NAME = re.compile(
    r"(^|[/-])(eslint-config|eslint-plugin|prettier-config|stylelint-config|tsconfig|"
    r"typescript-config|tailwind-config|tailwind-preset|jest-config|vitest-config|"
    r"commitlint-config|babel-config|postcss-config|config-[\w-]+|[\w-]+-config|config)$")
# Folders that hold shared libraries in a monorepo (apps and services hold deployables).
LIBRARY_FOLDERS = frozenset({"packages", "libs", "lib", "shared", "common", "crates",
                             "internal", "pkg"})


@dataclass
class Workspace:
    root: str
    tool: str  # pnpm, npm/yarn/bun (package.json), go, cargo, uv
    patterns: list[str] = field(default_factory=list)

    def has_member(self, folder: str) -> bool:
        if folder == self.root:
            relative = "."
        elif self.root == ".":
            relative = folder
        elif folder.startswith(self.root + "/"):
            relative = folder.removeprefix(self.root + "/")
        else:
            return False
        included = [p for p in self.patterns if not p.startswith("!")]
        negated = [p[1:] for p in self.patterns if p.startswith("!")]
        return (any(glob_regex(p).fullmatch(relative) for p in included)
                and not any(glob_regex(p).fullmatch(relative) for p in negated))


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def find_workspaces(tree: Tree) -> list[Workspace]:
    found: list[Workspace] = []
    for path in tree.files:
        folder, name = parent(path), path.rsplit("/", 1)[-1]
        if name == "pnpm-workspace.yaml":
            data = tree.yaml(path)
            found.append(Workspace(folder, "pnpm", _strings(
                data.get("packages") if isinstance(data, dict) else None)))
        elif name == "package.json":
            members = tree.json(path).get("workspaces")
            if isinstance(members, dict):
                members = members.get("packages")
            if _strings(members) and not tree.has(join(folder, "pnpm-workspace.yaml")):
                found.append(Workspace(folder, "package.json", _strings(members)))
        elif name == "go.work":
            uses = re.findall(r"^\s*(?:use\s+)?(\./[^\s()]*|\.)\s*$", tree.text(path),
                              re.MULTILINE)
            found.append(Workspace(folder, "go", [u.removeprefix("./") or "." for u in uses]))
        elif name == "Cargo.toml":
            workspace = tree.toml(path).get("workspace")
            if isinstance(workspace, dict):
                found.append(Workspace(folder, "cargo", _strings(workspace.get("members"))
                                       + [f"!{e}" for e in _strings(workspace.get("exclude"))]))
        elif name == "pyproject.toml":
            tool = tree.toml(path).get("tool")
            uv = tool.get("uv") if isinstance(tool, dict) else None
            workspace = uv.get("workspace") if isinstance(uv, dict) else None
            if isinstance(workspace, dict):
                found.append(Workspace(folder, "uv", _strings(workspace.get("members"))
                                       + [f"!{e}" for e in _strings(workspace.get("exclude"))]))
    return found


def workspace_of(workspaces: list[Workspace], folder: str) -> Workspace | None:
    """The innermost workspace listing `folder` as a member."""
    members = [w for w in workspaces if w.has_member(folder)]
    return max(members, key=lambda w: len(w.root), default=None)


def is_workspace_root(workspaces: list[Workspace], folder: str) -> bool:
    # `use .` in go.work, or `members = ["."]`, makes the root a member too.
    return any(w.root == folder and not w.has_member(folder) for w in workspaces)


def _node_deps(manifest: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for key in ("dependencies", "devDependencies", "peerDependencies"):
        deps = manifest.get(key)
        if isinstance(deps, dict):
            names.update(k for k in deps if isinstance(k, str))
    return names


def not_a_deployable(tree: Tree, language: str, folder: str) -> str | None:
    """Why the package in `folder` is not a service (a docs site, config only), or None."""
    if language == "node":
        manifest = tree.json(join(folder, "package.json"))
        if _DOCS_DEPS & _node_deps(manifest):
            return "a docs site"
        name = manifest.get("name")
        if isinstance(name, str) and _CONFIG_NAME.search(name):
            return "a config-only package"
        if not manifest.get("scripts") and all(_config_file(p) for p in tree.under(folder)):
            return "a config-only package"
    if any(tree.has(join(folder, f)) for f in ("mkdocs.yml", "mkdocs.yaml", "docusaurus.config.js",
                                               "docusaurus.config.ts")):
        return "a docs site"
    return None


def _config_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return (name.endswith((".json", ".md", ".txt")) or name.startswith(("license", ".eslintrc",
            ".prettierrc")) or bool(re.search(r"(^|[.-])(config|preset|rc)\.[cm]?[jt]s$", name)))


def is_library(tree: Tree, language: str, folder: str, in_workspace: bool) -> bool:
    """A workspace member under `packages/`, `libs/`... with no Dockerfile, nothing to
    start and no tests of its own: a shared library, watched by the services using it."""
    if not in_workspace or folder == "." or not LIBRARY_FOLDERS & set(folder.split("/")[:-1]):
        return False
    if any(p.rsplit("/", 1)[-1].startswith("Dockerfile") for p in tree.children(folder)):
        return False
    if language == "node":
        scripts = tree.json(join(folder, "package.json")).get("scripts")
        scripts = scripts if isinstance(scripts, dict) else {}
        return not ({"start", "test"} & set(scripts))
    if language == "rust":
        return not (tree.has(join(folder, "src/main.rs")) or tree.is_folder(join(folder, "src/bin")))
    return True


def go_has_main(tree: Tree, folder: str, nested: list[str]) -> bool:
    """Whether a Go module holds a `package main` (outside its nested modules), or is
    not known to be a library (no Go files seen, or kept under `services/`, `apps/`)."""
    if not any(p.endswith(".go") for p in tree.under(folder)) or (
            {"services", "apps", "cmd"} & set(folder.split("/"))):
        return True
    for path in tree.under(folder):
        # main packages sit in main.go or under cmd/ by convention; reading only those
        # keeps the walk cheap on large modules.
        if not (path.endswith("/main.go") or path == "main.go" or "cmd/" in path):
            continue
        if (path.endswith(".go")
                and not any(path.startswith(n + "/") for n in nested if n != folder)
                and re.search(r"^package main\b", tree.text(path)[:2048], re.MULTILINE)):
            return True
    return False
