"""oasdiff/oasdiff-action/breaking stub: both specs must load (a file path, or REV:PATH from
the clone's git history as oasdiff reads it, or a URL); a missing one fails as oasdiff's load
error (exit 2 and up) fails the entrypoint. The comparison itself needs the oasdiff image
and is recorded as stubbed: the breaking output stays empty."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def loadable(spec: str) -> bool:
    if spec.startswith(("http://", "https://")):
        return True
    if Path(spec).is_file():
        return True
    if ":" in spec:
        return s.run(["git", "cat-file", "-e", spec], check=False).returncode == 0
    return False


def main(c: s.Call) -> None:
    base = c.get("base", required=True)
    revision = c.get("revision", required=True)
    s.info(f"running oasdiff breaking... base: {base}, revision: {revision}, fail_on: {c.get('fail-on')}")
    for which, spec in (("base", base), ("revision", revision)):
        if not loadable(spec):
            c.fail(f"Error: failed to load {which} spec from {spec!r}: open {spec}: no such file or "
                   "directory")
    c.stub("oasdiff breaking", "the comparison needs the oasdiff image; no breaking output")
    output = c.get("output-to-file")
    if output:
        c.stub("output-to-file", f"{output} not written")
    c.note(f"loaded {base} and {revision}")


if __name__ == "__main__":
    s.run_stub("oasdiff/oasdiff-action/breaking", main, in_workspace=True)
