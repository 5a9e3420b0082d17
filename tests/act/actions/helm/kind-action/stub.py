"""helm/kind-action stub: a kind cluster needs a Docker daemon, and kind and kubectl come
from downloads: neither is possible here. The machine's kubectl is put on PATH if there is
one; the cluster is recorded as stubbed (with install_only nothing is missing)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def main(c: s.Call) -> None:
    for name in ("version", "kubectl_version", "cluster_name", "wait"):
        if not c.get(name):
            raise s.RunError(f"ERROR: '--{name.replace('_', '-')}' cannot be empty.")
    kubectl = s.machine_tool("kubectl")
    if kubectl:
        s.add_path(Path(kubectl).resolve().parent)
    c.stub("install kind and kubectl", f"kind {c.get('version')}, kubectl {c.get('kubectl_version')}"
           f"{'; the machine kubectl is on PATH' if kubectl else ''}")
    if c.get("install_only") != "true":
        c.stub("cluster", f"kind cluster {c.get('cluster_name')} needs a Docker daemon")
    if c.get("registry") == "true":
        c.stub("registry", f"{c.get('registry_name')}:{c.get('registry_port')}")


if __name__ == "__main__":
    s.run_stub("helm/kind-action", main)
