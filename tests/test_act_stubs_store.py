"""Under act: cache, artifacts and code-scanning uploads, kept in the harness store, behave as
the real actions and their services do (keys, globs, name collisions, SARIF checks).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import act_harness as h
import pytest
from act_stub_runs import act_run, calls, expect, workflow

pytestmark = pytest.mark.slow


CACHE_JOBS = """\
  seed:
    runs-on: ubuntu-24.04
    steps:
      - run: |
          mkdir -p deps && echo "built once" > deps/lib.txt
      - uses: actions/cache@PIN
        with: {path: deps, key: deps-v1-abc}
  exact:
    needs: seed
    runs-on: ubuntu-24.04
    steps:
      - id: cache
        uses: actions/cache@PIN
        with: {path: deps, key: deps-v1-abc}
      - run: |
          echo "hit=$HIT content=$(cat deps/lib.txt)"
        env: {HIT: "${{ steps.cache.outputs.cache-hit }}"}
  partial:
    needs: seed
    runs-on: ubuntu-24.04
    steps:
      - id: cache
        uses: actions/cache@PIN
        with: {path: deps, key: deps-v1-def, restore-keys: deps-v1-}
      - run: |
          echo "hit=$HIT"
        env: {HIT: "${{ steps.cache.outputs.cache-hit }}"}
  strict:
    needs: seed
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/cache@PIN
        with: {path: x, key: other-key, fail-on-cache-miss: true}
  no-key:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/cache@PIN
        with: {path: x, key: ""}
"""


def test_cache_restores_by_key_and_restore_keys(tmp_path: Path) -> None:
    run = act_run(tmp_path, CACHE_JOBS)
    expect(run, seed="success", exact="success", partial="success", strict="failure",
           **{"no-key": "failure"})
    assert "hit=true content=built once" in run.output("exact")
    assert "hit=false" in run.output("partial")
    assert "Cache restored from key: deps-v1-abc" in run.output("partial")
    assert ("Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: other-key"
            in run.output("strict"))
    assert "Input required and not supplied: key" in run.output("no-key")
    seeded = [rec for rec in calls(run, "actions/cache") if "saved deps-v1-abc" in rec["did"]]
    assert len(seeded) == 1 and seeded[0]["stubbed"] == ["post-step save at the end of the job"]


ARTIFACT_JOBS = """\
  up:
    runs-on: ubuntu-24.04
    steps:
      - run: |
          mkdir -p dist/sub && echo a > dist/a.txt && echo b > dist/sub/b.txt
          echo h > dist/.hidden && echo l > dist/skip.log && echo r > report.json
      - id: up
        uses: actions/upload-artifact@PIN
        with:
          name: dist
          path: |
            dist/
            !dist/*.log
      - uses: actions/upload-artifact@PIN
        with: {name: report, path: report.json}
      - run: |
          echo "id=$ID url=$URL"
        env: {ID: "${{ steps.up.outputs.artifact-id }}", URL: "${{ steps.up.outputs.artifact-url }}"}
  up-again:
    needs: up-overwrite
    runs-on: ubuntu-24.04
    steps:
      - run: |
          echo again > again.txt
      - uses: actions/upload-artifact@PIN
        with: {name: dist, path: again.txt}
  up-overwrite:
    needs: up
    runs-on: ubuntu-24.04
    steps:
      - run: |
          mkdir -p dist && echo new > dist/a.txt
      - uses: actions/upload-artifact@PIN
        with: {name: dist, path: dist/a.txt, overwrite: true}
  none-error:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/upload-artifact@PIN
        with: {name: nothing, path: "build/**/*.xml", if-no-files-found: error}
  none-warn:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/upload-artifact@PIN
        with: {name: nothing, path: "build/**/*.xml"}
  bad-option:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/upload-artifact@PIN
        with: {name: nothing, path: x, if-no-files-found: fail}
  bad-name:
    runs-on: ubuntu-24.04
    steps:
      - run: |
          echo x > x.txt
      - uses: actions/upload-artifact@PIN
        with: {name: "reports/unit", path: x.txt}
  down:
    needs: up-overwrite
    runs-on: ubuntu-24.04
    steps:
      - id: one
        uses: actions/download-artifact@PIN
        with: {name: dist, path: one}
      - uses: actions/download-artifact@PIN
        with: {path: all}
      - uses: actions/download-artifact@PIN
        with: {pattern: "*", path: merged, merge-multiple: true}
      - run: |
          echo "one=$(cat one/a.txt) path=$DOWNLOAD"
          ls all/dist/a.txt all/report/report.json merged/a.txt merged/report.json
        env: {DOWNLOAD: "${{ steps.one.outputs.download-path }}"}
  down-missing:
    needs: up
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/download-artifact@PIN
        with: {name: nope}
"""


def test_upload_and_download_artifact(tmp_path: Path) -> None:
    run = act_run(tmp_path, ARTIFACT_JOBS)
    expect(run, up="success", **{"up-again": "failure", "up-overwrite": "success",
                                 "none-error": "failure", "none-warn": "success",
                                 "bad-option": "failure", "down-missing": "failure",
                                 "bad-name": "failure"}, down="success")
    first = next(r for r in calls(run, "actions/upload-artifact")
                 if r["inputs"]["name"] == "dist" and r["inputs"]["path"].startswith("dist/\n"))
    # The exclusion and the hidden-file default both hold; the root is dist/.
    assert first["did"].startswith("uploaded dist: a.txt, sub/b.txt"), first
    assert re.search(r"id=\d+ url=https://github.com/acme/fixture/actions/runs/\d+/artifacts/\d+",
                     run.output("up"))
    assert "(409) Conflict: an artifact with this name already exists" in run.output("up-again")
    assert ("No files were found with the provided path: build/**/*.xml. No artifacts will be uploaded."
            in run.output("none-error"))
    assert "No files were found with the provided path" in run.output("none-warn")
    assert "Unrecognized if-no-files-found input. Provided: fail" in run.output("bad-option")
    assert ("The artifact name is not valid: reports/unit. Contains the following character:  Forward "
            "slash /") in run.output("bad-name")
    assert re.search(r"one=new path=/\S+/one", run.output("down")), run.output("down")
    assert "Artifact not found for name: nope" in run.output("down-missing")


SARIF_OK = json.dumps({"version": "2.1.0", "runs": [
    {"tool": {"driver": {"name": "hadolint"}}, "results": []}]})
SARIF_JOBS = """\
  valid:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - id: up
        uses: github/codeql-action/upload-sarif@PIN
        with: {sarif_file: ok.sarif, category: hadolint}
      - run: |
          echo "sarif-id=$ID"
        env: {ID: "${{ steps.up.outputs.sarif-id }}"}
      - uses: github/codeql-action/upload-sarif@PIN
        with: {sarif_file: ok.sarif, category: hadolint}
  missing:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: github/codeql-action/upload-sarif@PIN
        with: {sarif_file: results.sarif}
  not-sarif:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: github/codeql-action/upload-sarif@PIN
        with: {sarif_file: bad.sarif}
"""


def test_upload_sarif_checks_the_file_and_the_category(tmp_path: Path) -> None:
    bad = json.dumps({"version": "2.0.0", "runs": [{"results": []}]})
    run = act_run(tmp_path, SARIF_JOBS, {"ok.sarif": SARIF_OK, "bad.sarif": bad}, event="pull_request")
    expect(run, valid="failure", missing="failure", **{"not-sarif": "failure"})
    # The first upload passes; the second of the same category and tool in one job aborts.
    assert re.search(r"sarif-id=act-stub-\d+", run.output("valid"))
    assert "only one run of the codeql/analyze or codeql/upload-sarif actions is allowed per job" \
        in run.output("valid")
    assert "Path does not exist: results.sarif" in run.output("missing")
    assert 'Unable to upload "bad.sarif" as it is not valid SARIF' in run.output("not-sarif")


def test_upload_sarif_from_a_fork_pull_request_is_refused(tmp_path: Path) -> None:
    repo = h.FixtureRepo(tmp_path / "repo")
    jobs = """\
  scan:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: github/codeql-action/upload-sarif@PIN
        with: {sarif_file: ok.sarif}
"""
    repo.commit("base", {".github/workflows/harden-ci.yml": workflow("pull_request", jobs),
                         "ok.sarif": SARIF_OK})
    pr = repo.open_pull_request({"x.txt": "x\n"})
    run = h.run_act(repo, "pull_request", h.pull_request_event(pr, fork=True), sha=pr.merge_sha,
                    folder=tmp_path / "run")
    expect(run, scan="failure")
    assert "Resource not accessible by integration" in run.output("scan")


_STUB_LIB = Path(__file__).parent / "act" / "actions" / "_lib"


def _save_at_once(args: tuple[str, str, str, int]) -> tuple[bool, str]:
    """One test shard's post-step save: its own workspace, the shared store, one key."""
    import io
    import sys
    from contextlib import redirect_stdout
    store, work, key, _ = args
    sys.path.insert(0, str(_STUB_LIB))
    os.environ.update(HARDEN_CI_ACT_STORE=store, GITHUB_WORKSPACE=work,
                      GITHUB_REF="refs/heads/main")
    import cache  # the stub library's module, as the cache stubs import it
    out = io.StringIO()
    with redirect_stdout(out):
        saved = cache.save(["deps"], key)
    return saved, out.getvalue()


def test_two_jobs_saving_one_key_at_once_reserve_it_once(tmp_path: Path) -> None:
    """Two shards with one lockfile save one key at the same moment: one saves, the other
    is told the key is reserved, and neither step fails (the stub once raised
    FileExistsError here and failed both legs)."""
    from concurrent.futures import ProcessPoolExecutor
    store = tmp_path / "store"
    works = []
    for leg in range(8):
        work = tmp_path / f"leg{leg}"
        (work / "deps" / "lib").mkdir(parents=True)
        for index in range(200):  # enough files that the copies overlap in time
            (work / "deps" / "lib" / f"{index}.txt").write_text(f"leg {leg}\n", encoding="utf-8")
        works.append(str(work))
    for round_ in range(5):
        key = f"pnpm-Linux-{round_}"
        with ProcessPoolExecutor(max_workers=len(works)) as pool:
            results = list(pool.map(_save_at_once,
                                    [(str(store), work, key, i) for i, work in enumerate(works)]))
        saved = [out for ok, out in results if ok]
        refused = [out for ok, out in results if not ok]
        assert len(saved) == 1, results
        assert f"Cache saved with key: {key}" in saved[0]
        assert all(f"Unable to reserve cache with key {key}" in out for out in refused)
        entry = store / "cache" / "refs%2Fheads%2Fmain" / key
        manifest = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["key"] == key
        assert sorted(manifest["files"]) == sorted(f"deps/lib/{i}.txt" for i in range(200))
        # Every file of the entry comes from the one leg that won the reservation.
        contents = {p.read_text(encoding="utf-8") for p in (entry / "files").iterdir()}
        assert len(contents) == 1, contents
        assert not (entry / "manifest.json.partial").exists()
    # A key saved before is taken too (entries are immutable), and nothing in it changes.
    with ProcessPoolExecutor(max_workers=1) as pool:  # its own process: it sets env vars
        ok, out = pool.submit(_save_at_once, (str(store), works[0], "pnpm-Linux-0", 0)).result()
    assert not ok and "Unable to reserve cache with key pnpm-Linux-0" in out
