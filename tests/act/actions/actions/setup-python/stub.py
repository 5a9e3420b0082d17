"""actions/setup-python stub: a venv of the machine's python3 per requested version in the
tool cache, first on PATH (pip never touches the host), a warning when the machine's version
does not satisfy the request, and the cache inputs failing where the real action fails."""

from __future__ import annotations

import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import cache
import stublib as s

BACKUP = "**/pyproject.toml"


def versions_from_plain(path: str) -> list[str]:
    lines = Path(path).read_text(encoding="utf-8").strip().splitlines()
    out = [line.strip().split("/")[0] for line in lines if line.strip() and not line.startswith("#")]
    s.info(f"Resolved {path} as {', '.join(out)}")
    return out


def versions_from_file(path: str) -> list[str]:
    """src/utils.ts getVersionInputFromFile."""
    if path.endswith(".toml"):
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        keys = ["project", "requires-python"] if "project" in data else \
            ["tool", "poetry", "dependencies", "python"]
        value: object = data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        found = [str(value)] if value is not None else []
        s.info(f"Extracted {','.join(found)} from {path}")
        return [v.replace(",", " ") for v in found]
    if ".tool-versions" in path:
        if not Path(path).exists():
            s.warning(f"File {path} does not exist.")
            return []
        for line in Path(path).read_text(encoding="utf-8").split("\n"):
            if line.strip().startswith("#"):
                continue
            m = re.match(r"^\s*python\s*v?\s*(?P<version>[^\s]+)\s*$", line)
            if m:
                return [m["version"].strip()]
        s.warning(f"No Python version found in {path}")
        return []
    if "Pipfile" in path:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        if "requires" not in data:
            s.warning(f"No Python version found in {path}")
            return []
        req = data["requires"]
        value = req.get("python_full_version", req.get("python_version"))
        s.info(f"Extracted {value} from {path}")
        return [str(value)] if value is not None else []
    return versions_from_plain(path)


def resolve_versions(c: s.Call) -> list[str]:
    versions = c.lines("python-version")
    version_file = c.get("python-version-file")
    if versions:
        if version_file:
            s.warning("Both python-version and python-version-file inputs are specified, only "
                      "python-version will be used.")
        return versions
    if version_file:
        if not os.path.exists(version_file):
            raise s.RunError(f"The specified python version file at: {version_file} doesn't exist.")
        return versions_from_file(version_file)
    s.info("[warning]Neither 'python-version' nor 'python-version-file' inputs were supplied. "
           "Attempting to find '.python-version' file.")
    if os.path.exists(".python-version"):
        return versions_from_plain(".python-version")
    s.info("[warning].python-version doesn't exist.")
    return []


def install(c: s.Call, spec: str, update_env: bool) -> str:
    """A venv of the machine's interpreter stands in for the downloaded CPython."""
    if spec.startswith(("pypy", "graalpy")):
        raise s.RunError(f"act harness: {spec} is not on this machine")
    have = platform.python_version()
    wanted = spec.rstrip("t") if spec.endswith("t") else spec
    if not s.version_matches(wanted, have):
        s.warning(f"act harness: python-version '{spec}' requested, the machine has {have}; using it")
    c.stub("download", f"CPython {spec} comes from the machine ({have})")
    install_dir = s.tool_cache() / "Python" / have / "x64"
    bin_dir = install_dir / "bin"
    install_dir.parent.mkdir(parents=True, exist_ok=True)
    # Jobs of one run share the tool cache and may start at once: one creates the venv.
    with open(install_dir.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (install_dir / ".complete").exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(install_dir)], check=True)
            (install_dir / ".complete").touch()
    if update_env:
        for name in ("pythonLocation", "Python_ROOT_DIR", "Python2_ROOT_DIR", "Python3_ROOT_DIR"):
            s.export_variable(name, str(install_dir))
        s.export_variable("PKG_CONFIG_PATH", f"{install_dir}/lib/pkgconfig")
        lib = f"{install_dir}/lib"
        current = os.environ.get("LD_LIBRARY_PATH", "")
        if lib not in current.split(":"):
            s.export_variable("LD_LIBRARY_PATH", lib + (f":{current}" if current else ""))
        s.add_path(install_dir)
        s.add_path(bin_dir)
    version = have + ("t" if spec.endswith("t") else "")
    s.set_output("python-version", version)
    s.set_output("python-path", str(bin_dir / "python"))
    pip_version = c.get("pip-version")
    if pip_version and not re.fullmatch(r"\d+(\.\d+)?(\.\d+)?", pip_version):
        raise s.RunError(f'Invalid pip-version "{pip_version}". Please specify a version in the '
                         "format major[.minor][.patch].")
    if pip_version:
        c.stub("pip-version", f"pip {pip_version} is not installed over the venv's own pip")
    s.info(f"Successfully set up CPython ({version})")
    return version


def cache_dependencies(c: s.Call, manager: str, version: str) -> None:
    """src/cache-distributions: keys from the dependency files, then the manager's folders."""
    if manager not in ("pip", "pipenv", "poetry"):
        raise s.RunError(f"Caching for '{manager}' is not supported")
    default = {"pip": "**/requirements.txt", "pipenv": "**/Pipfile.lock", "poetry": "**/poetry.lock"}
    dep_path = c.get("cache-dependency-path") or default[manager]
    patterns = dep_path.split("\n")
    digest = s.hash_files(patterns, Path.cwd())
    if not digest and manager == "pip":
        digest = s.hash_files([BACKUP], Path.cwd())
    os_segment = os_key_segment()
    prefix = f"setup-python-{os.environ.get('RUNNER_OS', 'Linux')}-x64{os_segment}-python-{version}-{manager}"
    primary = f"{prefix}-v2-{digest}" if manager == "poetry" else f"{prefix}-{digest}"
    restore_keys = [prefix] if manager == "pip" else []
    if primary.endswith("-"):
        shown = ",".join(patterns) + (f" or {BACKUP}" if manager == "pip" else "")
        raise s.RunError(f"No file in {os.getcwd()} matched to [{shown}], make sure you have "
                         "checked out the target repository")
    if manager == "pip":
        proc = s.run(["pip", "cache", "dir"], check=False)
        if proc.returncode and proc.stderr:
            raise s.RunError("Could not get cache folder path for pip package manager")
        paths = [proc.stdout.strip()]
    elif manager == "pipenv":
        paths = [str(Path.home() / ".local/share/virtualenvs")]
    else:
        paths = poetry_paths(patterns)
    matched = cache.restore(paths, primary, restore_keys)
    s.info(f"Cache restored from key: {matched}" if matched else f"{manager} cache is not found")
    s.set_output("cache-hit", "true" if matched == primary else "false")
    c.note(f"{manager} cache {'hit' if matched == primary else 'miss'} ({primary})")
    c.stub("post-job cache save", "a composite action has no post step")


def poetry_paths(patterns: list[str]) -> list[str]:
    paths: list[str] = []
    for lock in s.glob_patterns(patterns, Path.cwd()):
        if shutil.which("poetry") is None:
            raise s.RunError(s.which_error("poetry"))
        proc = s.run(["poetry", "config", "--list"], cwd=lock.parent, check=False)
        if proc.returncode and proc.stderr:
            raise s.RunError("Could not get cache folder path for poetry package manager")
        config = {}
        for line in proc.stdout.strip().split("\n"):
            key, _, value = re.sub(r"#.*$", "", line).partition("=")
            config[key.strip()] = json.loads(value.strip())
        venvs = str(config["virtualenvs.path"]).replace("{cache-dir}", str(config["cache-dir"]))
        paths.append(venvs)
        if config.get("virtualenvs.in-project"):
            paths.append(str(lock.parent / ".venv"))
    return list(dict.fromkeys(paths))


def os_key_segment() -> str:
    """cache-distributor.ts getLinuxInfoKeySegment: -VERSION-NAME from os-release."""
    try:
        info = dict(line.split("=", 1) for line in
                    Path("/etc/os-release").read_text(encoding="utf-8").splitlines() if "=" in line)
    except OSError:
        return ""
    name = info.get("NAME", "").strip('"').split()[0] if info.get("NAME") else ""
    return f"-{info.get('VERSION_ID', '').strip(chr(34))}-{name}" if name else ""


def main(c: s.Call) -> None:
    versions = resolve_versions(c)
    for name in ("check-latest", "allow-prereleases", "freethreaded"):
        c.boolean(name)
    if not versions:
        s.warning("The `python-version` input is not set.  The version of Python currently in "
                  "`PATH` will be used.")
        return
    update_env = c.boolean("update-environment")
    version = ""
    for spec in versions:
        if spec.startswith("2"):
            s.warning("The support for python 2.7 was removed on June 19, 2023. Related issue: "
                      "https://github.com/actions/setup-python/issues/672")
        version = install(c, spec, update_env)
    c.note(f"python {version} for {', '.join(versions)}")
    cache = c.get("cache")
    if cache:
        cache_dependencies(c, cache, version)


if __name__ == "__main__":
    s.run_stub("actions/setup-python", main, in_workspace=True)
