"""sigstore/cosign-installer stub: the version checks of the composite's script; the
checksum-verified download cannot happen here, so the machine's cosign is used if there is
one, otherwise the install is recorded as stubbed and install-dir stays empty."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

BOOTSTRAP = "v3.0.6"
SEMVER = re.compile(r"^v([0-9]+\.){0,2}(\*|[0-9]+)(-?r?c?)(\.[0-9]+)$")


def main(c: s.Call) -> None:
    release = c.get("cosign-release")
    if release != "main":
        number = release.removeprefix("v")
        if s.version_tuple(number) < (2, 0, 0):
            print(f"::error::cosign versions below v2.0.0 are no longer supported.\n"
                  f"::error::Requested version: {release}")
            c.fail("Please use cosign v2.6.0 or later.")
    if release != BOOTSTRAP and not SEMVER.match(release):
        c.fail(f"Unable to validate requested cosign version: '{release}'")
    install_dir = Path(os.path.expandvars(c.get("install-dir")))
    install_dir.mkdir(parents=True, exist_ok=True)
    tool = s.machine_tool("cosign")
    if tool:
        link = install_dir / "cosign"
        if not link.exists():
            link.symlink_to(tool)
        c.note(f"cosign from {tool}")
    else:
        c.stub("download", f"cosign {release}: no download here and no cosign on this machine")
    s.add_path(install_dir)


if __name__ == "__main__":
    s.run_stub("sigstore/cosign-installer", main)
