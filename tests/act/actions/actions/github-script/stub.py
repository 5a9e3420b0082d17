"""actions/github-script stub: the script runs for real in the machine's node as an async
function, with `context` from the event and a `core` that writes the runner's files; every
call through `github`/`octokit` (the REST and GraphQL API) is recorded as stubbed and
answers {data: {}}. exec, glob and io are not provided (a script that uses them fails)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def main(c: s.Call) -> None:
    c.get("github-token", required=True)
    c.boolean("debug")
    script = c.get("script", required=True)
    encoding = c.get("result-encoding") or "json"
    node = shutil.which("node")
    if node is None:
        raise s.RunError("act harness: no node on this machine")
    calls = Path(os.environ.get("RUNNER_TEMP", "/tmp")) / "github-script-calls.json"
    proc = subprocess.run([node, str(Path(__file__).with_name("runner.js"))],
                          env={**os.environ, "STUB_SCRIPT": script, "STUB_ENCODING": encoding,
                               "STUB_CALLS": str(calls)})
    if calls.exists():
        for api in json.loads(calls.read_text(encoding="utf-8")):
            c.stub(f"github.{api}", "no GitHub API here")
    c.note(f"script exit {proc.returncode}")
    if proc.returncode:
        c.exit(proc.returncode)


if __name__ == "__main__":
    s.run_stub("actions/github-script", main)
