"""actions/checkout stub: clone the fixture ($HARDEN_CI_ACT_ORIGIN) as the real action fetches
from GitHub: the event's ref and sha, fetch-depth, fetch-tags, path, clean, persist-credentials."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sys
import uuid
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

TAGS = "+refs/tags/*:refs/tags/*"
PR_REF = re.compile(r"^refs/pull/[0-9]+/(?:head|merge)$")


def refspec(ref: str, commit: str, fetch_tags: bool) -> list[str]:
    """src/ref-helper.ts getRefSpec."""
    up = ref.upper()
    out = [TAGS] if fetch_tags else []
    if commit:
        if up.startswith("REFS/HEADS/"):
            out.append(f"+{commit}:refs/remotes/origin/{ref[len('refs/heads/'):]}")
        elif up.startswith("REFS/PULL/"):
            out.append(f"+{commit}:refs/remotes/pull/{ref[len('refs/pull/'):]}")
        elif up.startswith("REFS/TAGS/"):
            if not fetch_tags:
                out.append(f"+{ref}:{ref}")
        else:
            out.append(commit)
    elif not up.startswith("REFS/"):
        out.append(f"+refs/heads/{ref}*:refs/remotes/origin/{ref}*")
        if not fetch_tags:
            out.append(f"+refs/tags/{ref}*:refs/tags/{ref}*")
    elif up.startswith("REFS/HEADS/"):
        out.append(f"+{ref}:refs/remotes/origin/{ref[len('refs/heads/'):]}")
    elif up.startswith("REFS/PULL/"):
        out.append(f"+{ref}:refs/remotes/pull/{ref[len('refs/pull/'):]}")
    elif up.startswith("REFS/TAGS/"):
        if not fetch_tags:
            out.append(f"+{ref}:{ref}")
    else:
        out.append(f"+{ref}:{ref}")
    return out


def refspec_all(ref: str, commit: str) -> list[str]:
    """src/ref-helper.ts getRefSpecForAllHistory."""
    out = ["+refs/heads/*:refs/remotes/origin/*", TAGS]
    if ref.upper().startswith("REFS/PULL/"):
        out.append(f"+{commit or ref}:refs/remotes/pull/{ref[len('refs/pull/'):]}")
    return out


def git(repo: Path, *args: str, check: bool = True) -> str:
    return s.run(["git", *args], cwd=repo, check=check).stdout.strip()


def test_ref(repo: Path, ref: str, commit: str) -> bool:
    """src/ref-helper.ts testRef."""
    if not commit:
        return True
    if not ref:
        return s.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=repo,
                     check=False).returncode == 0
    up = ref.upper()
    if up.startswith("REFS/HEADS/"):
        got = s.run(["git", "rev-parse", "--verify", "-q", f"refs/remotes/origin/{ref[11:]}"],
                    cwd=repo, check=False).stdout.strip()
        return got == commit
    if up.startswith("REFS/TAGS/"):
        got = s.run(["git", "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"],
                    cwd=repo, check=False).stdout.strip()
        return got == commit
    return True


def checkout_info(repo: Path, ref: str, commit: str) -> tuple[str, str]:
    """src/ref-helper.ts getCheckoutInfo: (ref, startPoint)."""
    up = ref.upper()
    if not ref:
        return commit, ""
    if up.startswith("REFS/HEADS/"):
        branch = ref[len("refs/heads/"):]
        return branch, f"refs/remotes/origin/{branch}"
    if up.startswith("REFS/PULL/"):
        return f"refs/remotes/pull/{ref[len('refs/pull/'):]}", ""
    if up.startswith("REFS/TAGS/"):
        return ref, ""
    if up.startswith("REFS/"):
        return (commit or ref), ""
    if s.run(["git", "rev-parse", "--verify", "-q", f"refs/remotes/origin/{ref}"],
             cwd=repo, check=False).returncode == 0:
        return ref, f"refs/remotes/origin/{ref}"
    if s.run(["git", "rev-parse", "--verify", "-q", f"refs/tags/{ref}"],
             cwd=repo, check=False).returncode == 0:
        return f"refs/tags/{ref}", ""
    raise s.RunError(f"A branch or tag with the name '{ref}' could not be found")


def checkout_standin(c: s.Call, path: Path, qualified: str, served: dict[str, str],
                     wanted: str) -> None:
    """Another repository, served by the harness at the one commit harden-ci pins it to
    (tests/act_harness.py `sources`). Any other ref is missing there, as a ref that does
    not exist is on GitHub (src/ref-helper.ts testRef: the ref must resolve)."""
    if wanted != served["commit"]:
        print(f"fatal: couldn't find remote ref {wanted}")
        c.fail("The process '/usr/bin/git' failed with exit code 1")
    git(path, "config", "--local", "gc.auto", "0")
    git(path, "fetch", "--no-tags", "--depth=1", f"file://{served['path']}", "HEAD")
    git(path, "checkout", "--progress", "--force", "FETCH_HEAD")
    s.set_output("commit", wanted)
    s.set_output("ref", "")
    c.stub("repository", f"{qualified} at {wanted} is the harness's stand-in "
                         f"({served['path']}), not the real source")


def main(c: s.Call) -> None:
    ws = s.workspace()
    own = os.environ["GITHUB_REPOSITORY"]
    qualified = c.get("repository") or own
    parts = qualified.split("/")
    if len(parts) != 2 or not all(parts):
        c.fail(f"Invalid repository '{qualified}'. Expected format {{owner}}/{{repo}}.")
    path = Path(os.path.normpath(ws / (c.get("path") or ".")))
    if not (str(path) + os.sep).startswith(str(ws) + os.sep):
        c.fail(f"Repository path '{path}' is not under '{ws}'")
    is_workflow_repo = qualified.upper() == own.upper()
    ref, commit = c.get("ref"), ""
    raw_ref = c.get("ref", trim=False).strip("\t\n\v\f\r ")
    if not ref:
        if is_workflow_repo:
            ref, commit = os.environ.get("GITHUB_REF", ""), os.environ.get("GITHUB_SHA", "")
            if commit and ref and not ref.startswith("refs/"):
                ref = f"refs/heads/{ref}"
    elif re.fullmatch(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}", raw_ref):
        ref, commit = "", raw_ref
    clean = (c.get("clean") or "true").upper() == "TRUE"
    try:
        depth = int(float(c.get("fetch-depth") or "1"))
    except ValueError:
        depth = 0
    depth = max(depth, 0)
    fetch_tags = (c.get("fetch-tags") or "false").upper() == "TRUE"
    lfs = (c.get("lfs") or "false").upper() == "TRUE"
    submodules = (c.get("submodules") or "").upper() in ("TRUE", "RECURSIVE")
    token = c.get("token", required=True)
    persist = (c.get("persist-credentials") or "false").upper() == "TRUE"
    allow_unsafe = (c.get("allow-unsafe-pr-checkout") or "false").upper() == "TRUE"
    if not (is_workflow_repo and not c.get("ref")):
        refuse_fork_checkout(c, qualified, ref, commit, allow_unsafe)

    server = (c.get("github-server-url") or os.environ.get("GITHUB_SERVER_URL")
              or "https://github.com").rstrip("/")
    url = f"{server}/{qualified}"
    print(f"Syncing repository: {qualified}")
    if path.is_file():
        path.unlink()
    existing = path.is_dir()
    path.mkdir(parents=True, exist_ok=True)
    if existing:
        prepare_existing(path, url, clean)
    if not (path / ".git").is_dir():
        git(path, "init", "-q")
        git(path, "remote", "add", "origin", url)
    if not is_workflow_repo:
        served = json.loads(os.environ.get("HARDEN_CI_ACT_SOURCES") or "{}").get(qualified)
        if served is None:
            # Only the fixture and the harness's stand-ins are reachable: any other repository
            # fails the way an unreachable or private one does on GitHub (git exits 128).
            print(f"remote: Repository not found.\nfatal: repository '{url}/' not found")
            c.fail("The process '/usr/bin/git' failed with exit code 128")
        checkout_standin(c, path, qualified, served, commit or ref)
        return
    # The "remote" is the fixture: fetches, here and in later steps, go to it.
    git(path, "config", "--local", f"url.file://{os.environ['HARDEN_CI_ACT_ORIGIN']}.insteadOf", url)
    git(path, "config", "--local", "gc.auto", "0")
    configure_auth(path, ws, server, token)
    c.note(f"fetch-depth {depth}")
    for name in ("filter", "sparse-checkout", "ssh-key"):
        if c.get(name):
            c.stub(name, "the fixture is cloned whole over file://")
    if lfs:
        c.stub("lfs", "no Git LFS server")
    fetch = ["-c", "protocol.version=2", "fetch", "--no-tags", "--prune", "--no-recurse-submodules"]
    if depth > 0:
        fetch.append(f"--depth={depth}")
    elif (path / ".git" / "shallow").is_file():
        fetch.append("--unshallow")
    if not ref and not commit:
        ref = "refs/heads/" + (s.event().get("repository", {}).get("default_branch") or "main")
    if depth <= 0:
        git(path, *fetch, "origin", *refspec_all(ref, commit))
        if not test_ref(path, ref, commit):
            git(path, *fetch, "origin", *refspec(ref, commit, False))
            if not test_ref(path, ref, commit):
                c.fail(f"The ref '{ref}' does not point to the expected commit '{commit}'. "
                       "The ref may have been updated after the workflow was triggered.")
    else:
        git(path, *fetch, "origin", *refspec(ref, commit, fetch_tags))
        if not test_ref(path, ref, commit):
            c.fail(f"The ref '{ref}' does not point to the expected commit '{commit}'. "
                   "The ref may have been updated after the workflow was triggered.")
    co_ref, start = checkout_info(path, ref, commit)
    if start:
        git(path, "checkout", "--progress", "--force", "-B", co_ref, start)
    else:
        git(path, "checkout", "--progress", "--force", co_ref)
    if submodules:
        c.stub("submodules", "only the fixture repository is reachable")
    sha = git(path, "log", "-1", "--format=%H")
    s.set_output("commit", sha)
    s.set_output("ref", ref)
    c.note(f"checked out {ref or commit} at {sha} into {path}")
    if persist:
        c.note("persisted credentials (http.https://github.com/.extraheader)")
        c.stub("post-job auth removal", "a composite action has no post step")
    else:
        remove_auth(path)
        c.note("removed auth")


def refuse_fork_checkout(c: s.Call, qualified: str, ref: str, commit: str, allow: bool) -> None:
    """src/unsafe-pr-checkout-helper.ts assertSafePrCheckout."""
    name = os.environ.get("GITHUB_EVENT_NAME", "")
    if allow or name not in ("pull_request_target", "workflow_run"):
        return
    ev = s.event()
    base_id = ev.get("repository", {}).get("id")
    if not isinstance(base_id, int):
        return
    shas: list[str] = []
    if name == "pull_request_target":
        pr = ev.get("pull_request", {})
        head_repo = pr.get("head", {}).get("repo", {})
        shas += [x.lower() for x in (pr.get("head", {}).get("sha"), pr.get("merge_commit_sha")) if x]
    else:
        wr = ev.get("workflow_run", {})
        if not str(wr.get("event", "")).startswith("pull_request"):
            return
        head_repo = wr.get("head_repository", {})
        shas += [x.lower() for x in (wr.get("head_commit", {}).get("id"),) if x]
        if wr.get("event") != "pull_request_target" and wr.get("head_sha"):
            shas.append(wr["head_sha"].lower())
    head_id = head_repo.get("id")
    if not isinstance(head_id, int) or head_id == base_id:
        return
    matches = (qualified.lower() == str(head_repo.get("full_name", "")).lower()
               or PR_REF.match(ref) or (commit and commit.lower() in shas))
    if matches:
        c.fail(f"Refusing to check out fork pull request code from a '{name}' workflow. "
               "This workflow runs with the base repository's GITHUB_TOKEN, secrets, default-branch "
               "cache scope, and runner access. Fetching and executing a fork's code in that trusted "
               'context commonly leads to "pwn request" vulnerabilities. To opt in, review the risks '
               "at https://gh.io/securely-using-pull_request_target and set "
               "'allow-unsafe-pr-checkout: true' on the actions/checkout step.")


def prepare_existing(path: Path, url: str, clean: bool) -> None:
    """src/git-directory-helper.ts: reuse a matching clone (cleaned), else empty the folder."""
    fetch_url = s.run(["git", "config", "--get", "remote.origin.url"], cwd=path, check=False)
    if (path / ".git").is_dir() and fetch_url.stdout.strip() == url:
        if clean:
            git(path, "clean", "-ffdx")
            git(path, "reset", "--hard", "HEAD")
        return
    for child in path.iterdir():
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()


def configure_auth(path: Path, ws: Path, server: str, token: str) -> None:
    """src/git-auth-helper.ts configureToken: the extraheader lives in a credentials file
    under RUNNER_TEMP, included from .git/config by includeIf.gitdir entries."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    temp = Path(os.environ["RUNNER_TEMP"])
    temp.mkdir(parents=True, exist_ok=True)
    creds = temp / f"git-credentials-{uuid.uuid4()}.config"
    s.run(["git", "config", "--file", str(creds), f"http.{server}/.extraheader",
           f"AUTHORIZATION: basic {basic}"])
    gitdir = str(path / ".git")
    rel = os.path.relpath(path, ws).replace("\\", "/")
    container = "/".join(p for p in ("/github/workspace", "" if rel == "." else rel, ".git") if p)
    for key, value in ((f"includeIf.gitdir:{gitdir}.path", str(creds)),
                       (f"includeIf.gitdir:{gitdir}/worktrees/*.path", str(creds)),
                       (f"includeIf.gitdir:{container}.path", f"/github/runner_temp/{creds.name}"),
                       (f"includeIf.gitdir:{container}/worktrees/*.path",
                        f"/github/runner_temp/{creds.name}")):
        git(path, "config", "--local", key, value)


def remove_auth(path: Path) -> None:
    """src/git-auth-helper.ts removeAuth: the includeIf entries and the credentials file go."""
    listing = s.run(["git", "config", "--local", "--name-only", "--get-regexp", r"^includeif\.gitdir:"],
                    cwd=path, check=False).stdout.split()
    for key in dict.fromkeys(listing):
        for value in s.run(["git", "config", "--local", "--get-all", key], cwd=path,
                           check=False).stdout.split("\n"):
            if value.startswith(os.environ["RUNNER_TEMP"]):
                Path(value).unlink(missing_ok=True)
        s.run(["git", "config", "--local", "--unset-all", key], cwd=path, check=False)


if __name__ == "__main__":
    s.run_stub("actions/checkout", main)
