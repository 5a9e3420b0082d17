"""What init reads about one service's toolchain: its package manager (from the lockfile,
found in the service's folder or up at its workspace root), and its toolchain version
(from the file the ecosystem's setup action reads)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harden_ci.init.scan import Tree, ancestors, join

if TYPE_CHECKING:
    from harden_ci.init.test_containers import FoundEnvironment


@dataclass
class Detected:
    """Facts init read for one service, each with the file it came from; the starter spec
    writes each as its spec field (`package_manager`, `lockfile`, `version`, `workspace`,
    `docker.context`, `test`, `lint`, `typecheck`, `test_environment`) with that file in a
    comment."""

    package_manager: str | None = None
    """npm, pnpm, yarn, bun; pip, uv, poetry, pdm; go, cargo, maven, gradle, dotnet."""
    variant: str | None = None
    """yarn only: `classic` (v1) or `berry` (v2 and later)."""
    lockfile: str | None = None
    version: str | None = None
    version_file: str | None = None
    test: str | None = None
    test_source: str | None = None
    lint: str | None = None
    lint_source: str | None = None
    typecheck: str | None = None
    typecheck_source: str | None = None
    workspace: str | None = None
    """The workspace root this service is a member of (its install runs there)."""
    docker_context: str | None = None
    test_environment: FoundEnvironment | None = None
    """The containers (and env) of the workflow job the test command was read from."""


# Lockfile → manager, strongest first within a folder.
_NODE_LOCKS = (("pnpm-lock.yaml", "pnpm"), ("bun.lock", "bun"), ("bun.lockb", "bun"),
               ("yarn.lock", "yarn"), ("package-lock.json", "npm"),
               ("npm-shrinkwrap.json", "npm"))
_PYTHON_LOCKS = (("uv.lock", "uv"), ("poetry.lock", "poetry"), ("pdm.lock", "pdm"))
_VERSION = re.compile(r"(\d+(?:\.\d+){0,2})")


def _node_manager(tree: Tree, folder: str, stop: str, found: Detected) -> None:
    for where in _up_to(folder, stop):
        for lock, manager in _NODE_LOCKS:
            path = join(where, lock)
            if tree.has(path):
                found.package_manager, found.lockfile = manager, path
                if manager == "yarn":
                    berry = (tree.has(join(where, ".yarnrc.yml"))
                             or "__metadata:" in tree.text(path)[:4096])
                    found.variant = "berry" if berry else "classic"
                return
        # `packageManager: pnpm@9.1.0` (corepack) names it even without a lockfile.
        declared = tree.json(join(where, "package.json")).get("packageManager")
        if isinstance(declared, str) and (name := declared.split("@")[0]) in (
                "npm", "pnpm", "yarn", "bun"):
            found.package_manager = name
            return
    found.package_manager = "npm"


def _python_manager(tree: Tree, folder: str, stop: str, found: Detected) -> None:
    for where in _up_to(folder, stop):
        for lock, manager in _PYTHON_LOCKS:
            if tree.has(join(where, lock)):
                found.package_manager, found.lockfile = manager, join(where, lock)
                return
    tool = tree.toml(join(folder, "pyproject.toml")).get("tool", {})
    for manager in ("poetry", "pdm", "uv"):
        if isinstance(tool, dict) and manager in tool:
            found.package_manager = manager
            return
    requirements = sorted(p for p in tree.children(folder)
                          if re.fullmatch(r"requirements[\w.-]*\.txt", p.rsplit("/", 1)[-1]))
    found.package_manager = "pip"
    found.lockfile = requirements[0] if requirements else None


def _up_to(folder: str, stop: str) -> list[str]:
    """`folder` and its parents up to `stop` (the workspace root, or the repository's)."""
    chain = ancestors(folder)
    return chain[:chain.index(stop) + 1] if stop in chain else chain


def package_manager(tree: Tree, language: str, folder: str, workspace: str | None,
                    found: Detected) -> None:
    stop = workspace or "."
    if language == "node":
        _node_manager(tree, folder, stop, found)
    elif language == "python":
        _python_manager(tree, folder, stop, found)
    elif language == "go":
        found.package_manager = "go"
        # A go.work root installs every module at once; its go.work.sum is the workspace's.
        if workspace is not None and tree.has(join(workspace, "go.work.sum")):
            found.lockfile = join(workspace, "go.work.sum")
            return
        found.lockfile = next((join(w, "go.sum") for w in _up_to(folder, stop)
                               if tree.has(join(w, "go.sum"))), None)
    elif language == "rust":
        found.package_manager = "cargo"
        found.lockfile = next((join(w, "Cargo.lock") for w in _up_to(folder, stop)
                               if tree.has(join(w, "Cargo.lock"))), None)
    elif language == "java":
        gradle = any(tree.has(join(folder, f)) for f in (
            "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"))
        found.package_manager = "gradle" if gradle else "maven"
    elif language == "dotnet":
        found.package_manager = "dotnet"


def _first_version(text: str) -> str | None:
    match = _VERSION.search(text)
    return match.group(1) if match else None


def _tool_versions(tree: Tree, where: str, tool: str, found: Detected) -> bool:
    """asdf's and mise's `.tool-versions` (`nodejs 20.10.0`), which setup actions read too."""
    path = join(where, ".tool-versions")
    match = re.search(rf"^{tool}\s+(\S+)", tree.text(path), re.MULTILINE)
    if match and (version := _first_version(match.group(1))):
        found.version, found.version_file = version, path
        return True
    return False


def _node_version(tree: Tree, folder: str, found: Detected) -> None:
    for where in ancestors(folder):
        for name in (".nvmrc", ".node-version"):
            path = join(where, name)
            if tree.has(path):
                found.version_file = path
                found.version = _first_version(tree.text(path).strip().splitlines()[0]
                                               if tree.text(path).strip() else "")
                return
        engines = tree.json(join(where, "package.json")).get("engines")
        node = engines.get("node") if isinstance(engines, dict) else None
        if isinstance(node, str) and (version := _first_version(node)):
            found.version, found.version_file = version, join(where, "package.json")
            return
        if _tool_versions(tree, where, "nodejs", found):
            return


def _python_version(tree: Tree, folder: str, found: Detected) -> None:
    for where in ancestors(folder):
        path = join(where, ".python-version")
        if tree.has(path) and (version := _first_version(tree.text(path))):
            found.version, found.version_file = version, path
            return
        project = tree.toml(join(where, "pyproject.toml")).get("project", {})
        requires = project.get("requires-python") if isinstance(project, dict) else None
        if isinstance(requires, str) and (version := _first_version(requires)):
            # The lowest version the project supports is the one CI must prove.
            found.version, found.version_file = version, join(where, "pyproject.toml")
            return
        if _tool_versions(tree, where, "python", found):
            return


def _go_version(tree: Tree, folder: str, found: Detected) -> None:
    path = join(folder, "go.mod")
    match = re.search(r"^go\s+(\d+\.\d+(?:\.\d+)?)\s*$", tree.text(path), re.MULTILINE)
    if match:
        found.version, found.version_file = match.group(1), path


def _rust_version(tree: Tree, folder: str, found: Detected) -> None:
    for where in ancestors(folder):
        toml_path = join(where, "rust-toolchain.toml")
        if tree.has(toml_path):
            toolchain = tree.toml(toml_path).get("toolchain")
            channel = toolchain.get("channel") if isinstance(toolchain, dict) else None
            if isinstance(channel, str) and channel.strip():
                found.version, found.version_file = channel.strip(), toml_path
                return
        plain_path = join(where, "rust-toolchain")
        if tree.has(plain_path) and (channel := tree.text(plain_path).strip()):
            found.version, found.version_file = channel.splitlines()[0].strip(), plain_path
            return


_JAVA = (("build.gradle", r"JavaLanguageVersion\.of\(\s*(\d+)\s*\)"),
         ("build.gradle.kts", r"JavaLanguageVersion\.of\(\s*(\d+)\s*\)"),
         ("pom.xml", r"<(?:maven\.compiler\.release|java\.version|maven\.compiler\.source)>"
                     r"\s*(\d+)"),
         (".java-version", r"^(\d+)"), (".sdkmanrc", r"^java=(\d+)"))


def _java_version(tree: Tree, folder: str, found: Detected) -> None:
    for where in ancestors(folder):
        for name, pattern in _JAVA:
            path = join(where, name)
            match = re.search(pattern, tree.text(path), re.MULTILINE)
            if match:
                found.version, found.version_file = match.group(1), path
                return
        if _tool_versions(tree, where, "java", found):
            return


def toolchain_version(tree: Tree, language: str, folder: str, found: Detected) -> None:
    readers = {"node": _node_version, "python": _python_version, "go": _go_version,
               "rust": _rust_version, "java": _java_version}
    if language in readers:
        readers[language](tree, folder, found)
