"""actions/setup-node stub: the machine's Node on PATH (a warning when it does not satisfy the
requested version), and the cache inputs failing exactly where the real action fails."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import cache
import stublib as s

LOCKFILES = {"npm": ["package-lock.json", "npm-shrinkwrap.json", "yarn.lock"],
             "pnpm": ["pnpm-lock.yaml"], "yarn": ["yarn.lock"]}
NPM_FIELD = re.compile(r"^(\^)?npm(@.*)?$")


def version_from_file(path: Path) -> str | None:
    """src/util.ts getNodeVersionFromFile."""
    if not path.exists():
        raise s.RunError(f"The specified node version file at: {path} does not exist")
    contents = path.read_text(encoding="utf-8")
    try:
        manifest = json.loads(contents)
    except ValueError:
        s.info("Node version file is not JSON file")
    else:
        if isinstance(manifest, dict):
            volta = manifest.get("volta") or {}
            if volta.get("node"):
                return str(volta["node"])
            runtime = (manifest.get("devEngines") or {}).get("runtime")
            if runtime:
                for entry in runtime if isinstance(runtime, list) else [runtime]:
                    if str(entry.get("name", "")).lower() == "node" and entry.get("version"):
                        return str(entry["version"])
            if (manifest.get("engines") or {}).get("node"):
                return str(manifest["engines"]["node"])
            if volta.get("extends"):
                return version_from_file((path.parent / volta["extends"]).resolve())
            return None
    found = re.search(r"^(?:node(js)?\s+)?v?(?P<version>[^\s]+)$", contents, re.MULTILINE)
    return found.group("version") if found else contents.strip()


def package_manager_field() -> str | None:
    """src/main.ts getNameFromPackageManagerField: only npm is auto-cached."""
    try:
        manifest = json.loads((s.workspace() / "package.json").read_text(encoding="utf-8"))
        dev = (manifest.get("devEngines") or {}).get("packageManager")
        for entry in (dev if isinstance(dev, list) else [dev]) if dev else []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str) \
                    and NPM_FIELD.match(entry["name"]):
                return "npm"
        top = manifest.get("packageManager")
        if isinstance(top, str) and NPM_FIELD.match(top):
            return "npm"
    except (OSError, ValueError, AttributeError):
        return None
    return None


def command_output(command: list[str], cwd: Path | None = None) -> str:
    """src/cache-utils.ts getCommandOutput (through @actions/exec, which needs the tool)."""
    if shutil.which(command[0]) is None:
        raise s.RunError(s.which_error(command[0]))
    proc = s.run(command, cwd=cwd, check=False)
    if proc.returncode:
        raise s.RunError(proc.stderr if proc.stderr.strip() else
                         f"The '{' '.join(command)}' command failed with exit code: {proc.returncode}")
    return proc.stdout.strip()


def cache_folder(manager: str, project: Path | None = None) -> str:
    if manager == "npm":
        out = command_output(["npm", "config", "get", "cache"])
        error = "Could not get npm cache folder path"
    elif manager == "pnpm":
        out = command_output(["pnpm", "store", "path", "--silent"])
        error = "Could not get pnpm cache folder path"
    else:
        version = command_output(["yarn", "--version"], project)
        if not version:
            raise s.RunError("Could not retrieve version of yarn")
        out = command_output(["yarn", "cache", "dir"] if version.startswith("1.")
                             else ["yarn", "config", "get", "cacheFolder"], project)
        error = f"Could not get yarn cache folder path for {project}"
    if not out:
        raise s.RunError(error)
    return out


def restore_cache(c: s.Call, manager: str, dependency_path: str) -> None:
    """src/cache-restore.ts restoreCache."""
    if manager not in LOCKFILES:
        raise s.RunError(f"Caching for '{manager}' is not supported")
    patterns = [line for line in dependency_path.splitlines() if line.strip()]
    if manager == "yarn" and patterns:
        dirs = sorted({p.parent.resolve() for p in s.glob_patterns(patterns, s.workspace())})
        if not dirs:
            s.warning(f'No existing directories found containing cache-dependency-path="{dependency_path}"')
        paths = sorted({cache_folder(manager, d) for d in dirs})
    else:
        paths = [cache_folder(manager)]
    if not patterns:
        ws = s.workspace()
        root = os.listdir(ws)
        lock = next((name for name in LOCKFILES[manager] if name in root), None)
        if lock is None:
            raise s.RunError(f"Dependencies lock file is not found in {ws}. Supported file patterns: "
                             f"{','.join(LOCKFILES[manager])}")
        patterns = [str(ws / lock)]
    digest = s.hash_files(patterns)
    if not digest:
        raise s.RunError("Some specified paths were not resolved, unable to cache dependencies.")
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    primary = f"node-cache-{os.environ.get('RUNNER_OS', 'Linux')}-{arch}-{manager}-{digest}"
    s.set_output("cache-primary-key", primary)
    matched = cache.restore(paths, primary)
    s.set_output("cache-hit", "true" if matched else "false")
    s.set_output("cache-matched-key", matched)
    s.info(f"Cache restored from key: {matched}" if matched else f"{manager} cache is not found")
    c.note(f"{manager} cache {'hit' if matched else 'miss'} ({primary})")
    c.stub("post-job cache save", "a composite action has no post step")


def main(c: s.Call) -> None:
    version = c.get("node-version")
    version_file = c.get("node-version-file")
    if version and version_file:
        s.warning("Both node-version and node-version-file inputs are specified, "
                  "only node-version will be used")
    if not version and version_file:
        path = Path(os.environ["GITHUB_WORKSPACE"]) / version_file
        version = version_from_file(path) or ""
        if not version:
            s.warning(f"Could not determine node version from {path}. Falling back")
        s.info(f"Resolved {version_file} as {version}")
    arch = c.get("architecture")
    cache = c.get("cache")
    pm_cache = (c.get("package-manager-cache") or "true").upper() == "TRUE"
    if arch and not version:
        s.warning("`architecture` is provided but `node-version` is missing. In this configuration, "
                  "the version/architecture of Node will not be changed. To fix this, provide "
                  "`architecture` in combination with `node-version`")
    node = shutil.which("node")
    if version:
        if node is None:
            raise s.RunError(f"Unable to find Node version '{version}' for platform linux and "
                             "architecture x64.")
        have = s.run([node, "--version"]).stdout.strip()
        if not s.version_matches(version, have):
            s.warning(f"act harness: node-version '{version}' requested, the machine has {have}; "
                      "using it")
        s.add_path(str(Path(node).resolve().parent))
        c.stub("download", f"Node {version} comes from the machine ({have})")
    for tool in ("node", "npm", "yarn"):
        found = shutil.which(tool)
        out = s.run([found, "--version"], check=False).stdout.strip() if found else ""
        if tool == "node":
            s.set_output("node-version", out)
        s.info(f"{tool}: {out}")
    registry = c.get("registry-url")
    if registry:
        write_npmrc(c, registry)
    dependency_path = c.get("cache-dependency-path")
    if cache:
        restore_cache(c, cache, dependency_path)
    elif pm_cache:
        detected = package_manager_field()
        if detected:
            s.info("Detected npm as the package manager from package.json's packageManager field. "
                   "Auto caching has been enabled for npm. If you want to disable it, set "
                   "package-manager-cache input to false")
            restore_cache(c, detected, dependency_path)
    c.note(f"node {version or '(unchanged)'}")


def write_npmrc(c: s.Call, registry: str) -> None:
    """src/authutil.ts configAuthentication."""
    npmrc = Path(os.environ.get("RUNNER_TEMP") or os.getcwd()) / ".npmrc"
    if not registry.endswith("/"):
        registry += "/"
    scope = c.get("scope")
    if not scope and "npm.pkg.github.com" in registry:
        scope = os.environ["GITHUB_REPOSITORY"].split("/")[0]
    if scope and scope[0] != "@":
        scope = "@" + scope
    if scope:
        scope = scope.lower() + ":"
    lines = []
    if npmrc.exists():
        lines = [line for line in npmrc.read_text(encoding="utf-8").split("\n")
                 if not line.lower().startswith(f"{scope}registry")]
    auth = re.sub(r"(^\w+:|^)", "", registry, count=1) + ":_authToken=${NODE_AUTH_TOKEN}"
    npmrc.write_text("".join(line + "\n" for line in lines) + f"{auth}\n{scope}registry={registry}",
                     encoding="utf-8")
    s.export_variable("NPM_CONFIG_USERCONFIG", str(npmrc))
    if "NODE_AUTH_TOKEN" in os.environ:
        s.export_variable("NODE_AUTH_TOKEN", os.environ["NODE_AUTH_TOKEN"])


if __name__ == "__main__":
    s.run_stub("actions/setup-node", main)
