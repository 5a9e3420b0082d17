"""Run a small workflow of stubbed actions under act (tests/test_act_stubs_*.py).

A job list written with `uses: OWNER/REPO@PIN` gets the catalog's SHA for each action, so
act maps it to the stub exactly as it maps a rendered workflow's pin.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import act_harness as h

PINS: dict[str, Any] = json.loads((h.PINS).read_text(encoding="utf-8"))["pins"]


PIN_REF = re.compile(r"uses: ([\w.-]+/[\w./-]+)@PIN")


def _ref(pin: dict[str, Any]) -> str:
    """The ref harden-ci writes: the SHA, or the release tag for tag-style pins."""
    return str(pin["tag"] if pin.get("ref_style") == "tag" else pin["sha"])


def workflow(on: str, jobs: str) -> str:
    """A workflow whose `uses: OWNER/REPO@PIN` take the catalog's SHA, so act maps them
    to the stubs exactly as it maps the rendered workflows' pins."""
    body = PIN_REF.sub(lambda m: f"uses: {m[1]}@{_ref(PINS[m[1]])}", jobs)
    return f"on: {on}\npermissions: {{}}\njobs:\n{body}"


def act_run(tmp_path: Path, jobs: str, files: dict[str, str] | None = None, *,
            event: str = "push", pr_files: dict[str, str] | None = None,
            env: dict[str, str] | None = None) -> Any:
    """Commit `files` and a workflow of `jobs` in a fixture repository, run it for `event`."""
    repo = h.FixtureRepo(tmp_path / "repo")
    base = repo.commit("base", {".github/workflows/harden-ci.yml": workflow(event, jobs),
                                **(files or {})})
    if event == "push":
        after = repo.commit("second", {"second.txt": "2\n", **(pr_files or {})})
        payload, sha = h.push_event(base, after), after
    else:
        pr = repo.open_pull_request(pr_files or {"change.txt": "changed\n"})
        if event == "pull_request":
            payload, sha = h.pull_request_event(pr), pr.merge_sha
        else:
            payload, sha = h.merge_group_event(pr, repo.queue_ref(pr)), pr.merge_sha
    # These small workflows stand in a personal repository: gitleaks-action asks for no
    # license there (the pipeline fixtures are an organisation's, and carry one).
    payload["repository"]["owner"]["type"] = "User"
    return h.run_act(repo, event, payload, sha=sha, folder=tmp_path / "run", env=env)


def calls(run: Any, action: str) -> list[dict[str, Any]]:
    return [rec for rec in run.stub_log if rec["action"] == action]


def expect(run: Any, **results: str) -> None:
    got = {job: run.result(job) for job in results}
    assert got == results, run.explain()


