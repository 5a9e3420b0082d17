"""Azure/setup-kubectl stub: the version input checked and resolved as src/run.ts does
('latest', major.minor, or major.minor.patch with a v added), and kubectl put in the tool
cache folder the source uses (kubectl/<version>/x64), on PATH, with the kubectl-path output.
The download from dl.k8s.io (and the stable or latest-patch lookups) cannot happen here: the
machine's kubectl is linked in if there is one, else a stand-in that answers only
`kubectl version --client` and fails on anything else."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

VERSION = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?$")
SEMVER = re.compile(r"^[=v\s]*(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
STAND_IN = """#!/bin/sh
# kubectl stand-in written by the act stub of Azure/setup-kubectl (tests/act).
if [ "$1" = version ] && { [ "$2" = --client ] || [ "$2" = --client=true ]; } && [ $# -eq 2 ]; then
  echo "Client Version: {version}"
  exit 0
fi
echo "kubectl (act stub of Azure/setup-kubectl): kubectl {version} was not downloaded (no network" \\
  "in the act harness) and this machine has none; only 'kubectl version --client' answers here," \\
  "not 'kubectl $*'" >&2
exit 1
"""


def resolve(c: s.Call, version: str) -> str:
    """src/run.ts:17-23 and resolveKubectlVersion."""
    if version.lower() == "latest":
        c.stub("stable version", "https://dl.k8s.io/release/stable.txt is not reachable here")
        return version
    m = VERSION.match(version.strip())
    if not m:
        raise s.RunError(f'Invalid version format: "{version}". Version must be in "major.minor" or '
                         '"major.minor.patch" format (e.g., "1.27" or "v1.27.15").')
    if m["patch"]:
        return version.strip() if version.strip().startswith("v") else f"v{version.strip()}"
    c.stub("latest patch version", f"https://dl.k8s.io/release/stable-{m['major']}.{m['minor']}.txt "
           "is not reachable here")
    return f"v{m['major']}.{m['minor']}"


def main(c: s.Call) -> None:
    version = c.get("version")
    if not version:
        raise s.RunError("Input required and not supplied: version")
    version = resolve(c, version)
    # @actions/tool-cache: <tool cache>/kubectl/<semver.clean(version) or version>/x64, done
    # when the .complete marker sits beside it (find, cacheFile).
    clean = SEMVER.match(version)
    folder = s.tool_cache() / "kubectl" / (clean[1] if clean else version) / "x64"
    kubectl = folder / "kubectl"
    marker = Path(f"{folder}.complete")
    if marker.exists() and kubectl.exists():
        c.note(f"kubectl {version} found in the tool cache")
    else:
        folder.mkdir(parents=True, exist_ok=True)
        kubectl.unlink(missing_ok=True)
        machine = s.machine_tool("kubectl")
        if machine:
            kubectl.symlink_to(Path(machine).resolve())
            c.stub("download", f"https://dl.k8s.io/release/{version}/bin/linux/amd64/kubectl: the machine's "
                   f"kubectl ({machine}) is linked in instead, whatever its version")
        else:
            kubectl.write_text(STAND_IN.replace("{version}", version), encoding="utf-8")
            kubectl.chmod(0o775)
            c.stub("download", f"https://dl.k8s.io/release/{version}/bin/linux/amd64/kubectl: no kubectl "
                   "on this machine; a stand-in answers only 'kubectl version --client'")
        marker.write_text("", encoding="utf-8")
    s.add_path(folder)
    s.set_output("kubectl-path", str(kubectl))


if __name__ == "__main__":
    s.run_stub("Azure/setup-kubectl", main, error_prefix="Error: ")
