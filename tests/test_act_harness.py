"""The act harness itself: what it refuses, how it maps pins, what its events carry.

These run without act; tests/test_act_pipelines.py runs the workflows.
"""

from __future__ import annotations

import json
from pathlib import Path

import act_harness as act
import pytest

CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"


def _pins() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(act.PINS.read_text(encoding="utf-8"))["pins"]
    return data


def test_an_action_without_a_stub_is_refused_before_anything_runs(tmp_path: Path) -> None:
    workflow = ("jobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
                f"      - uses: {CHECKOUT} # v7.0.1\n"
                "      - uses: someone/unknown-action@0123456789abcdef0123456789abcdef01234567\n"
                "      - uses: ./local-action\n")
    assert act.missing_stubs([workflow]) == [
        "someone/unknown-action@0123456789abcdef0123456789abcdef01234567"]
    repo = act.FixtureRepo(tmp_path / "repo")
    repo.commit("base", {".github/workflows/harden-ci.yml": workflow})
    with pytest.raises(AssertionError, match="no stub under tests/act/actions for: someone/"):
        act.run_act(repo, "push", act.push_event(repo.sha("HEAD"), repo.sha("HEAD")),
                    sha=repo.sha("HEAD"), folder=tmp_path / "run")


def test_every_stubbed_pin_is_mapped_by_its_exact_commit() -> None:
    mappings = act.local_repositories()
    pins = _pins()
    for mapping in mappings:
        key, folder = mapping.split("=", 1)
        owner_repo, sha = key.split("@")
        assert Path(folder) == act.STUBS / owner_repo and Path(folder).is_dir()
        assert any(a.startswith(owner_repo) and sha == (p["tag"] if p.get("ref_style") == "tag"
                                                        else p["sha"]) for a, p in pins.items())
    assert len(mappings) == len(set(mappings))


def test_the_pull_request_event_carries_what_the_workflows_read(tmp_path: Path) -> None:
    repo = act.FixtureRepo(tmp_path / "repo")
    base = repo.commit("base", {"a.txt": "1\n"})
    pr = repo.open_pull_request({"a.txt": "2\n"}, number=7)
    event = act.pull_request_event(pr)
    assert event["number"] == 7 and event["pull_request"]["number"] == 7
    assert event["pull_request"]["base"]["sha"] == base == pr.base_sha
    assert event["pull_request"]["head"]["sha"] == pr.head_sha
    assert event["pull_request"]["head"]["repo"]["full_name"] == act.FULL_NAME
    fork = act.pull_request_event(pr, fork=True)["pull_request"]["head"]["repo"]
    assert fork["fork"] is True and fork["full_name"] != act.FULL_NAME
    # GitHub's refs for the pull request: its head, and the test merge into the base.
    assert repo.sha("refs/pull/7/head") == pr.head_sha
    assert repo.git("rev-list", "--parents", "-n1", "refs/pull/7/merge").split()[1:] == [
        base, pr.head_sha]


def test_the_merge_group_event_and_its_queue_branch(tmp_path: Path) -> None:
    repo = act.FixtureRepo(tmp_path / "repo")
    repo.commit("base", {"a.txt": "1\n"})
    pr = repo.open_pull_request({"a.txt": "2\n"})
    queue = repo.queue_ref(pr)
    event = act.merge_group_event(pr, queue)["merge_group"]
    assert event["base_sha"] == pr.base_sha and event["head_sha"] == pr.merge_sha
    assert queue.startswith("refs/heads/gh-readonly-queue/main/pr-1-")
    assert repo.sha(queue) == pr.merge_sha


def test_landing_moves_the_default_branch_to_the_merge(tmp_path: Path) -> None:
    repo = act.FixtureRepo(tmp_path / "repo")
    base = repo.commit("base", {"a.txt": "1\n"})
    pr = repo.open_pull_request({"a.txt": "2\n"})
    assert repo.land(pr) == (base, pr.merge_sha)
    assert repo.sha("main") == pr.merge_sha
    push = act.push_event(base, pr.merge_sha)
    assert push["ref"] == "refs/heads/main" and push["before"] == base


def test_runner_labels_cover_every_literal_runs_on() -> None:
    text = ("jobs:\n  a: {runs-on: ubuntu-22.04}\n  b: {runs-on: [self-hosted, gpu]}\n"
            "  c: {runs-on: '${{ matrix.runs_on }}'}\n")
    assert {"ubuntu-22.04", "self-hosted", "gpu", "ubuntu-24.04"} <= act.runner_labels([text])
    assert not any("${{" in label for label in act.runner_labels([text]))


def test_a_failed_runs_account_ends_with_the_failing_step(tmp_path: Path) -> None:
    """A cut assertion message keeps its end: the failing step's own lines go there."""
    def rec(msg: str, **extra: object) -> dict[str, object]:
        return {"jobID": "unit-tests", "matrix": {"shard": 1}, "msg": msg, **extra}
    records = [rec("⭐ Run Main Check out"), rec("  ✅  Success - Main Check out"),
               rec("⭐ Run Main Install dependencies"), rec("ERR_PNPM_OUTDATED_LOCKFILE"),
               rec("LocalRepositoryCache read cachedir actions/cache"),
               rec("  ❌  Failure - Main Install dependencies"),
               rec("⭐ Run Post Check out"), rec("", jobResult="failure")]
    run = act.ActRun(returncode=1, records=records, stderr="", stub_log=[], folder=tmp_path)
    account = run.explain()
    failed = account.split("--- failed steps ---\n", 1)[1]
    assert failed.splitlines() == ['[unit-tests {"shard": 1}]', "⭐ Run Main Install dependencies",
                                   "ERR_PNPM_OUTDATED_LOCKFILE",
                                   "  ❌  Failure - Main Install dependencies"]
    healthy = act.ActRun(returncode=0, records=records[:2], stderr="", stub_log=[],
                         folder=tmp_path)
    assert healthy.failed_steps() == []
