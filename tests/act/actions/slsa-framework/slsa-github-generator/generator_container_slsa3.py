"""slsa-framework/slsa-github-generator generator_container_slsa3 stub (a reusable workflow):
the login step's checks (the registry from the image name, username and password required,
a sha256 digest); building the generator, cosign login and `cosign attest` need the network
and Sigstore, and are recorded as stubbed."""

from __future__ import annotations

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def main(c: s.Call) -> None:
    image, digest = os.environ.get("UNTRUSTED_IMAGE", ""), os.environ.get("UNTRUSTED_DIGEST", "")
    c.inputs = {"image": image, "digest": digest}
    first = image.split("/")[0]
    registry = first if ("." in first or ":" in first) and "/" in image else "docker.io"
    username = os.environ.get("UNTRUSTED_SECRET_USERNAME") or os.environ.get("UNTRUSTED_INPUT_USERNAME")
    ok = True
    if not username:
        print("registry-username is required.", file=sys.stderr)
        ok = False
    elif not os.environ.get("UNTRUSTED_PASSWORD"):
        print("registry-password is required.", file=sys.stderr)
        ok = False
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest) or re.search(r"[:@]", image.split("/")[-1]):
        print(f"invalid image or digest: {image}@{digest}", file=sys.stderr)
        ok = False
    c.stub("generate builder, cosign login and attest", f"provenance of {image}@{digest} on {registry}")
    outcome = "success" if ok else "failure"
    s.set_output("outcome", outcome)
    c.note(json.dumps({"outcome": outcome}))
    if not ok and os.environ.get("CONTINUE_ON_ERROR") != "true":
        c.exit(1)


if __name__ == "__main__":
    s.run_stub("slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml", main)
