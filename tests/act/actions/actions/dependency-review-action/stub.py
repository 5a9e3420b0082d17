"""actions/dependency-review-action stub: the base and head refs are resolved as
src/git-refs.ts resolves them (and fail the same way on other events); the comparison is the
dependency graph API's, recorded as stubbed."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def main(c: s.Call) -> None:
    base, head = c.get("base-ref"), c.get("head-ref")
    event, payload = os.environ.get("GITHUB_EVENT_NAME", ""), s.event()
    if not base and not head:
        if event in ("pull_request", "pull_request_target"):
            base, head = payload["pull_request"]["base"]["sha"], payload["pull_request"]["head"]["sha"]
        elif event == "merge_group":
            base, head = payload["merge_group"]["base_sha"], payload["merge_group"]["head_sha"]
    if not base and not head:
        raise s.RunError("Both a base ref and head ref must be provided, either via the `base_ref`/"
                         "`head_ref` config options, `base-ref`/`head-ref` workflow action options, or by "
                         "running a `pull_request`/`pull_request_target`/`merge_group` workflow.")
    if not base:
        raise s.RunError("A base ref must be provided, either via the `base_ref` config option, "
                         "`base-ref` workflow action option, or by running a "
                         "`pull_request`/`pull_request_target`/`merge_group` workflow.")
    if not head:
        raise s.RunError("A head ref must be provided, either via the `head_ref` config option, "
                         "`head-ref` workflow action option, or by running a or by running a "
                         "`pull_request`/`pull_request_target`/`merge_group` workflow.")
    c.stub("dependency graph compare", f"{base}...{head}: no GitHub API here")
    c.note(f"refs {base}..{head}")


if __name__ == "__main__":
    s.run_stub("actions/dependency-review-action", main)
