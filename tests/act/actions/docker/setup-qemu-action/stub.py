"""docker/setup-qemu-action stub: the inputs are read as src/context.ts reads them (a
boolean that is not one fails as @actions/core's getBooleanInput fails); pulling the
binfmt image and installing emulators need a Docker daemon and are recorded as stubbed.
The platforms output lists what was asked for (the real one lists what binfmt reports)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def main(c: s.Call) -> None:
    image = c.get("image") or "docker.io/tonistiigi/binfmt:latest"
    platforms = ",".join(s.input_list(c.get("platforms"))) or "all"
    c.boolean("reset")
    c.boolean("cache-image")
    s.set_output("platforms", platforms)
    c.stub("binfmt", f"no Docker daemon here: {image} not pulled, emulators for {platforms} "
                     "not installed")
    c.note(f"qemu platforms {platforms}")


if __name__ == "__main__":
    s.run_stub("docker/setup-qemu-action", main)
