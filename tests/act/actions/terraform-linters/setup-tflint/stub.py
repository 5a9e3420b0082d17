"""terraform-linters/setup-tflint stub: the version inputs are resolved as the source does;
the release download cannot happen here, so the machine's tflint is put on PATH if there is
one, and otherwise the install is recorded as stubbed and nothing is put on PATH (a later
`tflint` step then fails instead of passing without linting)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def main(c: s.Call) -> None:
    version = c.get("tflint_version")
    version_file = c.get("tflint_version_file")
    if version_file:
        if version and version != "latest":
            s.warning("Both tflint_version and tflint_version_file are set; using tflint_version and "
                      "ignoring tflint_version_file.")
        else:
            if not Path(version_file).exists():
                raise s.RunError(f"tflint_version_file not found: {version_file}")
            found = re.search(r"v?(\d+\.\d+\.\d+)", Path(version_file).read_text(encoding="utf-8"))
            if not found:
                raise s.RunError(f"Could not parse a TFLint version from tflint_version_file: {version_file}")
            version = found[1]
            s.info(f"Resolved TFLint version {version} from {version_file}")
    tool = s.machine_tool("tflint")
    if tool is None:
        c.stub("download", f"TFLint {version or 'latest'}: no release download here and no tflint on "
               "this machine; nothing put on PATH")
        return
    s.add_path(Path(tool).resolve().parent)
    out = s.run([tool, "--version"], check=False).stdout.split("\n")[0]
    m = re.search(r"TFLint version (.+)", out)
    if m:
        s.set_output("tflint-version", m[1])
        if version not in ("", "latest") and m[1].lstrip("v") != version.lstrip("v"):
            s.warning(f"act harness: TFLint {version} requested, the machine has {m[1]}; using it")
    c.note(f"tflint from {tool}")


if __name__ == "__main__":
    s.run_stub("terraform-linters/setup-tflint", main, in_workspace=True)
