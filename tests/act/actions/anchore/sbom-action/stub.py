"""anchore/sbom-action stub: the source the action would hand syft is resolved as the source
does; syft itself is downloaded by the real action and is run here only if the machine has
one. Without syft no SBOM is written and that is recorded as stubbed (a later step that needs
the SBOM fails, rather than consuming a made-up one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def main(c: s.Call) -> None:
    image, file, path = c.get("image"), c.get("file"), c.get("path")
    if image:
        source = f"registry:{image}" if c.get("registry-username") else image
    elif file:
        source = f"file:{file}"
    elif path:
        source = f"dir:{path}"
    else:
        raise s.RunError("Invalid input, no image or path specified")
    fmt = c.get("format") or "spdx-json"
    if source.startswith("dir:") and not Path(source[4:]).is_dir():
        raise s.RunError("An error occurred running Syft")
    tool = s.machine_tool("syft")
    if tool is None:
        c.stub("syft", f"no syft on this machine: no SBOM of {source} ({fmt}) written")
        return
    proc = subprocess.run([tool, "scan", source, "-o", fmt], capture_output=True, text=True)
    if proc.returncode or not proc.stdout:
        sys.stdout.write(proc.stderr)
        raise s.RunError("An error occurred running Syft" if proc.returncode else "No Syft output")
    if c.get("output-file"):
        Path(c.get("output-file")).write_text(proc.stdout, encoding="utf-8")
    if c.get("upload-artifact") != "false":
        c.stub("artifact upload", "the SBOM artifact is not uploaded")
    c.note(f"syft {source} -o {fmt}")


if __name__ == "__main__":
    s.run_stub("anchore/sbom-action", main, in_workspace=True)
