"""gitleaks/gitleaks-action stub: the event gate, license and token checks as src/index.js
has them; the scan's git history walk is run for real (a shallow clone fails it as it fails
gitleaks), the secret scan itself is recorded as stubbed, and results.sarif is written only
where the real action's gitleaks writes it."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

SUPPORTED = ["push", "pull_request", "workflow_dispatch", "schedule"]
EMPTY_SARIF = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
               "runs": [{"tool": {"driver": {"name": "gitleaks", "semanticVersion": "8.24.3",
                                             "informationUri": "https://github.com/gitleaks/gitleaks",
                                             "rules": []}}, "results": []}]}


def error_exit(c: s.Call, message: str, code: int = 1) -> NoReturn:
    """core.error + process.exit: the message, then the exit code, no setFailed."""
    c.note(f"exit {code}: {message}")
    print(f"::error::{message}", flush=True)
    c.exit(code)


def scan(c: s.Call, event: str, base: str = "", head: str = "") -> int:
    """src/gitleaks.js Scan: `gitleaks detect` over `git log <log-opts>` in the workspace."""
    log_opts: list[str] = []
    if event in ("push", "pull_request"):
        log_opts = ["-1"] if event == "push" and base == head else \
            ["--no-merges", "--first-parent", f"{base}^..{head}"]
    opts = f" --log-opts={' '.join(log_opts)}" if log_opts else ""
    s.info("gitleaks cmd: gitleaks detect --redact -v --exit-code=2 --report-format=sarif "
           f"--report-path=results.sarif --log-level=debug{opts}")
    walk = s.run(["git", "log", "-p", "-U0", *log_opts], check=False)
    if walk.returncode:
        # gitleaks stops with its error exit code when git log fails (missing history).
        s.info(walk.stderr.strip())
        s.info("[git] fatal: git log failed")
        exit_code = 1
    else:
        c.stub("secret scan", f"the history walk ran ({len(walk.stdout.splitlines())} lines); "
               "no gitleaks binary here")
        Path("results.sarif").write_text(json.dumps(EMPTY_SARIF, indent=2) + "\n", encoding="utf-8")
        exit_code = 0
    s.set_output("exit-code", str(exit_code))
    if os.environ.get("GITLEAKS_ENABLE_UPLOAD_ARTIFACT") not in ("false", "0") and exit_code != 1:
        target = s.artifacts_dir() / "gitleaks-results.sarif"
        if not target.exists():
            (target / "files").mkdir(parents=True)
            shutil.copy2("results.sarif", target / "files" / "results.sarif")
            (target / "artifact.json").write_text(json.dumps(
                {"id": s.next_id("artifact"), "name": "gitleaks-results.sarif", "size": 0,
                 "digest": "", "files": ["results.sarif"]}), encoding="utf-8")
    return exit_code


def main(c: s.Call) -> None:
    event_name = os.environ.get("GITHUB_EVENT_NAME", "")
    payload = s.event()
    if event_name not in SUPPORTED:
        error_exit(c, f"ERROR: The [{event_name}] event is not yet supported")
    owner = payload.get("repository", {}).get("owner", {}) if event_name != "schedule" else {}
    # GET /users/{owner} is answered from the payload's repository.owner.type (the same
    # fact the API returns); an absent type counts as a personal account.
    c.stub("GET /users/{username}", "owner type read from the event payload")
    owner_type = owner.get("type", "User") if event_name != "schedule" else "User"
    if owner_type != "User" and not os.environ.get("GITLEAKS_LICENSE"):
        error_exit(c, "🛑 missing gitleaks license. Go grab one at gitleaks.io and store it as a GitHub "
                   "Secret named GITLEAKS_LICENSE. For more info about the recent breaking update, see "
                   "[here](https://github.com/gitleaks/gitleaks-action#-announcement).")
    version = os.environ.get("GITLEAKS_VERSION") or "8.24.3"
    s.info(f"gitleaks version: {version}")
    c.stub("gitleaks install", f"gitleaks {version} is not downloaded")
    s.info(f"event type: {event_name}")
    if event_name == "push":
        commits = payload.get("commits")
        if commits is None:
            # eventJSON.commits.length on a payload without commits: the script crashes.
            error_exit(c, "TypeError: Cannot read properties of undefined (reading 'length')")
        if not commits:
            s.info("No commits to scan")
            c.note("no commits to scan")
            c.exit(0)
        base, head = commits[0]["id"], commits[-1]["id"]
        if os.environ.get("BASE_REF"):
            base = os.environ["BASE_REF"]
            s.info(f"Overriding baseRef for scan with {base}.")
        code = scan(c, event_name, base, head)
    elif event_name == "pull_request":
        if not os.environ.get("GITHUB_TOKEN"):
            error_exit(c, "🛑 GITHUB_TOKEN is now required to scan pull requests. You can use the "
                       "automatically created token as shown in the [README](https://github.com/gitleaks/"
                       "gitleaks-action#usage-example). For more info about the recent breaking update, "
                       "see [here](https://github.com/gitleaks/gitleaks-action#-announcement).")
        pr = payload["pull_request"]
        # GET /pulls/{n}/commits, answered by the fixture: the PR's commits, oldest first.
        listed = s.run(["git", "-C", os.environ["HARDEN_CI_ACT_ORIGIN"], "rev-list", "--reverse",
                        f"{pr['base']['sha']}..{pr['head']['sha']}"]).stdout.split()
        c.stub("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", "read from the fixture repository")
        base, head = listed[0], listed[-1]
        if os.environ.get("BASE_REF"):
            base = os.environ["BASE_REF"]
            s.info(f"Overriding baseRef for scan with {base}.")
        code = scan(c, event_name, base, head)
    else:
        code = scan(c, event_name)
    if os.environ.get("GITLEAKS_ENABLE_SUMMARY") not in ("false", "0"):
        c.stub("job summary", "not written")
    if code == 0:
        s.info("✅ No leaks detected")
        c.note("no leaks detected")
    else:
        error_exit(c, f"ERROR: Unexpected exit code [{code}]", code)


if __name__ == "__main__":
    s.run_stub("gitleaks/gitleaks-action", main, in_workspace=True)
