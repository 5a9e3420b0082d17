"""astral-sh/setup-uv stub: uv from the package index at the requested version (pip install
--target into the tool cache) instead of the GitHub release download, then PATH, the
environment, activate-environment and the cache restore as setup-uv does them."""

from __future__ import annotations

import fcntl
import os
import platform
import re
import subprocess
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import cache
import stublib as s


def requested_version(c: s.Call, workdir: Path) -> str:
    version = c.get("version")
    if version:
        return version
    files = [c.get("version-file")] if c.get("version-file") else ["uv.toml", "pyproject.toml"]
    for name in files:
        path = workdir / name
        if path.is_file() and name.endswith(".toml"):
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            tool = data.get("tool", {}).get("uv", {}) if name.endswith("pyproject.toml") else data
            if tool.get("required-version"):
                return str(tool["required-version"])
    return "latest"


def pip_requirement(version: str) -> str:
    if version == "latest":
        return "uv"
    if re.fullmatch(r"\d+(\.\d+)*", version):
        return f"uv=={version}"
    if version.endswith((".x", ".*")):
        return f"uv=={version[:-2]}.*"
    return f"uv{version}"


def install(c: s.Call, version: str) -> tuple[Path, str]:
    folder = s.tool_cache() / "uv" / re.sub(r"[^\w.]", "_", version) / "x86_64"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "bin" / "uv").exists():
            proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                                   "--disable-pip-version-check", "--target", str(folder),
                                   pip_requirement(version)], capture_output=True, text=True)
            if proc.returncode:
                sys.stdout.write(proc.stdout + proc.stderr)
                raise s.RunError(f"act harness: uv {version} could not be installed from the package index")
    c.stub("download", f"uv {version} installed from the package index, not the GitHub release")
    found = s.run([str(folder / "bin" / "uv"), "--version"]).stdout.split()[1]
    return folder / "bin", found


def main(c: s.Call) -> None:
    workdir = Path(c.get("working-directory") or os.environ["GITHUB_WORKSPACE"])
    activate = c.boolean("activate-environment")
    no_project = c.boolean("no-project")
    venv_input = c.get("venv-path")
    if venv_input and not activate:
        s.info("[warning]venv-path is only used when activate-environment is true")
    venv = os.path.normpath(workdir / os.path.expanduser(venv_input or ".venv"))
    enable_input = c.get("enable-cache")
    # The runs-on labels the harness maps are GitHub-hosted ones: act leaves
    # RUNNER_ENVIRONMENT unset, which stands for github-hosted here.
    hosted = os.environ.get("RUNNER_ENVIRONMENT", "github-hosted") == "github-hosted"
    event, ref = os.environ.get("GITHUB_EVENT_NAME", ""), os.environ.get("GITHUB_REF", "")
    if enable_input == "auto":
        enable = hosted and not (event == "push" and ref.startswith("refs/tags/")) and \
            event not in ("pull_request_target", "workflow_run", "release")
    else:
        enable = enable_input == "true"
    if workdir.is_dir() and not any(workdir.iterdir()):
        if c.get("ignore-empty-workdir") == "true":
            s.info("Empty workdir detected. Ignoring because ignore-empty-workdir is enabled")
        else:
            s.warning("Empty workdir detected. This may cause unexpected behavior. You can enable "
                      "ignore-empty-workdir to mute this warning.")
    if platform.machine() not in ("x86_64", "aarch64"):
        raise s.RunError(f"Unsupported architecture: {platform.machine()}")
    uv_dir, version = install(c, requested_version(c, workdir))
    home = os.environ.get("HOME", "")
    if os.environ.get("UV_NO_MODIFY_PATH") is None:
        s.add_path(os.environ.get("XDG_BIN_HOME") or f"{home}/.local/bin")
    s.set_output("uv-path", str(uv_dir / "uv"))
    s.set_output("uvx-path", str(uv_dir / "uvx"))
    if os.environ.get("UV_NO_MODIFY_PATH") is None:
        s.add_path(uv_dir)
    python_dir = os.environ.get("UV_PYTHON_INSTALL_DIR") or str(s.tool_cache() / "uv-python")
    s.export_variable("UV_PYTHON_INSTALL_DIR", python_dir)
    python = c.get("python-version")
    if python:
        s.export_variable("UV_PYTHON", python)
    if activate:
        args = [str(uv_dir / "uv"), "venv", venv, "--directory", str(workdir), "--clear"]
        proc = subprocess.run(args + (["--no-project"] if no_project else []), text=True)
        if proc.returncode:
            raise s.RunError(f"The process '{uv_dir / 'uv'}' failed with exit code {proc.returncode}")
        s.add_path(os.path.abspath(f"{venv}/bin"))
        s.export_variable("VIRTUAL_ENV", venv)
        s.set_output("venv", venv)
    cache_path = c.get("cache-local-path") or os.environ.get("UV_CACHE_DIR") or (
        f"{os.environ.get('RUNNER_TEMP')}/setup-uv-cache" if enable else "")
    if cache_path:
        s.export_variable("UV_CACHE_DIR", cache_path)
    s.set_output("uv-version", version)
    s.info(f"Successfully installed uv version {version}")
    found = s.run([str(uv_dir / "uv"), "python", "find", "--directory", str(workdir)], check=False)
    detected = "unknown"
    if found.returncode == 0:
        detected = s.run([found.stdout.strip(), "--version"], check=False).stdout.split(" ")[-1].strip()
    s.set_output("python-version", detected)
    if enable:
        restore(c, cache_path, detected)
    c.note(f"uv {version}, cache {'on' if enable else 'off'}")


def restore(c: s.Call, cache_path: str, python: str) -> None:
    """src/cache/restore-cache.ts restoreCache and computeKeys."""
    glob_input = c.get("cache-dependency-glob")
    suffix = "-no-dependency-glob"
    if glob_input:
        shown = ",".join(glob_input.split("\n"))
        s.info(f"Searching files using cache dependency glob: {shown}")
        digest = s.hash_files([line for line in glob_input.split("\n") if line.strip()])
        if digest:
            suffix = f"-{digest}"
        else:
            s.info(f"[warning]No file matched to [{shown}]. The cache will never get invalidated. Make sure "
                   "you have checked out the target repository and configured the cache-dependency-glob "
                   "input correctly.")
    extra = c.get("cache-suffix")
    key = (f"setup-uv-2-x86_64-unknown-linux-gnu-{platform.freedesktop_os_release().get('ID', 'linux')}-"
           f"{python}{'-pruned' if c.get('prune-cache') == 'true' else ''}"
           f"{'-py' if c.get('cache-python') == 'true' else ''}{suffix}{'-' + extra if extra else ''}")
    s.set_output("cache-key", key)
    if c.get("restore-cache") != "true":
        s.info("restore-cache is false. Skipping restore cache step.")
        s.set_output("python-cache-hit", "false")
        return
    s.info(f"Trying to restore cache from GitHub Actions cache with key: {key}")
    matched = cache.restore([cache_path], key)
    s.info(f"cache restored from GitHub Actions cache with key: {matched}" if matched
           else f"No GitHub Actions cache found for key: {key}")
    s.set_output("cache-hit", "true" if matched else "false")
    s.set_output("python-cache-hit", "false")
    c.stub("post-job cache save", "a composite action has no post step")


if __name__ == "__main__":
    s.run_stub("astral-sh/setup-uv", main)
