"""actions/attest-sbom stub: actions/attest's checks through tests/act/actions/_lib/attest.py."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import attest
import stublib as s


def main(c: s.Call) -> None:
    s.warning("actions/attest-sbom has been deprecated, please use actions/attest instead")
    sbom = c.get("sbom-path", required=True)
    attest.attest(c, attest.sbom_predicate(sbom))


if __name__ == "__main__":
    s.run_stub("actions/attest-sbom", main, in_workspace=True)
