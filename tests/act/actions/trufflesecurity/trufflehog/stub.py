"""trufflesecurity/trufflehog stub: the composite action's own script up to `docker run`
(the commit range it picks per event and its errors), then the range is checked against the
clone's history as trufflehog's git source walks it; the scan in the image (no Docker daemon
here) is recorded as stubbed."""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def rev(name: str) -> str:
    proc = s.run(["git", "rev-parse", name], check=False)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def main(c: s.Call) -> None:
    if s.run(["git", "status"], check=False).returncode:
        raise s.RunError("fatal: not a git repository (or any of the parent directories): .git")
    base, head = c.get("base"), c.get("head")
    event, payload = os.environ.get("GITHUB_EVENT_NAME", ""), s.event()
    if base or head:
        if (rev(base) if base else "") == (rev(head) if head else ""):
            c.fail("BASE and HEAD commits are the same. TruffleHog won't scan anything. Please see "
                   "documentation (https://github.com/trufflesecurity/trufflehog#octocat-trufflehog-"
                   "github-action).")
    elif event == "push":
        commits = json.loads(os.environ.get("COMMIT_IDS") or "null")
        if not commits:
            s.info("No commits to scan")
            c.note("no commits to scan")
            return
        head = payload.get("after", "")
        before = payload.get("before", "")
        base = "" if before == "0" * 40 else before
    elif event in ("workflow_dispatch", "schedule"):
        base, head = "", ""
    elif event == "pull_request":
        base, head = payload["pull_request"]["base"]["sha"], payload["pull_request"]["head"]["sha"]
    image = f"{c.get('image')}:{c.get('version')}"
    empty = "''"
    s.info(f"docker run --rm -v .:/tmp -w /tmp {image} git file:///tmp/ --since-commit {base or empty} "
           f"--branch {head or empty} --fail --no-update --github-actions {c.get('extra_args') or empty}")
    for name, value in (("since-commit", base), ("branch", head)):
        if value and not rev(f"{value}^{{commit}}"):
            # The git source cannot resolve a commit a shallow clone does not hold.
            raise s.RunError(f"trufflehog: unable to resolve --{name} {value} in the repository "
                             "(the checkout lacks that history)")
    c.stub("secret scan", f"{image} needs a Docker daemon")
    c.note(f"range {base or '(start)'}..{head or '(all)'} on {event}")


if __name__ == "__main__":
    s.run_stub("trufflesecurity/trufflehog", main)
