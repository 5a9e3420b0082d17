"""actions/attest-build-provenance stub: actions/attest's checks through tests/act/actions/_lib/attest.py."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import attest
import stublib as s


def main(c: s.Call) -> None:
    attest.attest(c, c.get("predicate-type") or "https://slsa.dev/provenance/v1")


if __name__ == "__main__":
    s.run_stub("actions/attest-build-provenance", main, in_workspace=True)
