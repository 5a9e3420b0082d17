"""actions/setup-go stub: the machine's Go (Debian's golang-go) on PATH, a warning when it
does not satisfy the request; no Go on the machine fails as the real action fails when it
cannot provide the version. Cache restore problems are warnings, as in the source."""

from __future__ import annotations

import glob
import os
import platform
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import cache
import stublib as s


def machine_go() -> str | None:
    found = shutil.which("go")
    if found:
        return found
    candidates = [*sorted(glob.glob("/usr/lib/go-*/bin/go"), key=s.version_tuple), "/usr/lib/go/bin/go"]
    return next((c for c in reversed(candidates) if os.access(c, os.X_OK)), None)


def version_from_file(path: str) -> str:
    """src/installer.ts parseGoVersionFile."""
    contents = Path(path).read_text(encoding="utf-8")
    name = os.path.basename(path)
    if name in ("go.mod", "go.work"):
        if os.environ.get("GOTOOLCHAIN") != "local":
            m = re.search(r"^toolchain go(1\.\d+(?:\.\d+|rc\d+)?)", contents, re.MULTILINE)
            if m:
                return m[1]
        m = re.search(r"^go (\d+(\.\d+)*)", contents, re.MULTILINE)
        return m[1] if m else ""
    if name == ".tool-versions":
        m = re.search(r"^golang\s+([^\n#]+)", contents, re.MULTILINE)
        return m[1].strip() if m else ""
    return contents.strip()


def restore_cache(c: s.Call, go: str, version: str) -> None:
    """src/cache-restore.ts restoreCache (its errors become a warning in main.ts)."""
    paths = []
    for var in ("GOMODCACHE", "GOCACHE"):
        proc = s.run([go, "env", var], check=False)
        if proc.returncode:
            s.info(f"[warning]getting cache directory path failed: {proc.stderr.strip()}")
        elif proc.stdout.strip():
            paths.append(proc.stdout.strip())
    if not paths:
        raise s.RunError("Could not get cache folder paths.")
    dep = c.get("cache-dependency-path")
    if dep:
        patterns = dep.split("\n")
    else:
        ws = s.workspace()
        if "go.mod" not in os.listdir(ws):
            raise s.RunError(f"Dependencies file is not found in {ws}. Supported file pattern: go.mod")
        patterns = [str(ws / "go.mod")]
    digest = s.hash_files(patterns)
    if not digest:
        raise s.RunError("Some specified paths were not resolved, unable to cache dependencies.")
    image_os = os.environ.get("ImageOS")  # noqa: SIM112 (the runner's own spelling)
    image = f"{image_os}-" if os.environ.get("RUNNER_OS", "Linux") == "Linux" else ""
    primary = f"setup-go-{os.environ.get('RUNNER_OS', 'Linux')}-x64-{image}go-{version}-{digest}"
    matched = cache.restore(paths, primary)
    s.set_output("cache-hit", "true" if matched else "false")
    s.info(f"Cache restored from key: {matched}" if matched else "Cache is not found")
    c.note(f"go cache {'hit' if matched else 'miss'} ({primary})")
    c.stub("post-job cache save", "a composite action has no post step")


def main(c: s.Call) -> None:
    spec = c.get("go-version")
    version_file = c.get("go-version-file")
    if spec and version_file:
        s.warning("Both go-version and go-version-file inputs are specified, only go-version will be used")
    if not spec and version_file:
        if not os.path.exists(version_file):
            raise s.RunError(f"The specified go version file at: {version_file} does not exist")
        spec = version_from_file(version_file)
    s.export_variable("GOTOOLCHAIN", "local")
    cache = c.boolean("cache")
    s.info(f"Setup go version spec {spec}")
    go = machine_go()
    if spec:
        c.boolean("check-latest")
        c.stub("download", "Go comes from the machine")
        if go is None:
            raise s.RunError(f"Unable to find Go version '{spec}' for platform linux and architecture "
                             f"{'x64' if platform.machine() == 'x86_64' else platform.machine()}.")
        s.add_path(str(Path(go).resolve().parent))
        s.info(f"Successfully set up Go version {spec}")
    else:
        s.info("[warning]go-version input was not specified. The action will try to use "
               "pre-installed version.")
        if go is None:
            raise s.RunError("Command failed:  version\n/bin/sh: 1: version: not found")
    gopath = s.run([go, "env", "GOPATH"]).stdout.strip()
    if gopath:
        Path(gopath, "bin").mkdir(parents=True, exist_ok=True)
        s.add_path(str(Path(gopath, "bin")))
    line = s.run([go, "version"]).stdout
    version = line.split(" ")[2][len("go"):]
    if spec and not s.version_matches(spec, version):
        s.warning(f"act harness: go-version '{spec}' requested, the machine has {version}; using it")
    if cache:
        try:
            restore_cache(c, go, version)
        except s.RunError as err:
            s.warning(f"Restore cache failed: {err}")
            c.note(f"cache restore failed: {err}")
    s.info(line.strip())
    s.set_output("go-version", version)
    c.note(f"go {version}")


if __name__ == "__main__":
    s.run_stub("actions/setup-go", main, in_workspace=True)
