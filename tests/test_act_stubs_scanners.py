"""Under act: scanners, docker and API actions check their inputs as the real ones do; what
needs a daemon, a download or the GitHub API is recorded as stubbed.
"""

from __future__ import annotations

import re
from pathlib import Path

import act_harness as h
import pytest
from act_stub_runs import act_run, calls, expect, workflow

pytestmark = pytest.mark.slow


GITLEAKS_JOBS = """\
  deep:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {fetch-depth: 0}
      - uses: gitleaks/gitleaks-action@PIN
        env: {GITHUB_TOKEN: "${{ github.token }}"}
      - run: |
          python3 -c "import json; d = json.load(open('results.sarif')); print('sarif', d['version'])"
  shallow:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: gitleaks/gitleaks-action@PIN
        env: {GITHUB_TOKEN: "${{ github.token }}"}
  no-token:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {fetch-depth: 0}
      - uses: gitleaks/gitleaks-action@PIN
"""


def test_gitleaks_pull_request_needs_history_and_a_token(tmp_path: Path) -> None:
    run = act_run(tmp_path, GITLEAKS_JOBS, event="pull_request")
    expect(run, deep="success", shallow="failure", **{"no-token": "failure"})
    assert "sarif 2.1.0" in run.output("deep")
    assert "ERROR: Unexpected exit code [1]" in run.output("shallow")
    assert "GITHUB_TOKEN is now required to scan pull requests" in run.output("no-token")
    deep = next(r for r in calls(run, "gitleaks/gitleaks-action") if "no leaks" in r["did"])
    assert "secret scan" in deep["stubbed"]


def test_gitleaks_refuses_merge_group(tmp_path: Path) -> None:
    jobs = """\
  scan:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {fetch-depth: 0}
      - uses: gitleaks/gitleaks-action@PIN
        env: {GITHUB_TOKEN: "${{ github.token }}"}
      - run: echo never here
"""
    run = act_run(tmp_path, jobs, event="merge_group")
    expect(run, scan="failure")
    assert "ERROR: The [merge_group] event is not yet supported" in run.output("scan")
    assert not (run.folder.parent / "repo" / "results.sarif").exists()
    assert [r["did"] for r in calls(run, "gitleaks/gitleaks-action")] == [
        "exit 1: ERROR: The [merge_group] event is not yet supported"]


DOCKER_JOBS = """\
  local-build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: docker/setup-buildx-action@PIN
      - id: build
        uses: docker/build-push-action@PIN
        with: {context: ., push: false, load: true, tags: "app:ci", cache-to: "type=gha,mode=max"}
      - run: |
          echo "imageid=$ID digest=$DIGEST"
        env: {ID: "${{ steps.build.outputs.imageid }}", DIGEST: "${{ steps.build.outputs.digest }}"}
  gha-cache-docker-driver:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: docker/build-push-action@PIN
        with: {context: ., load: true, tags: "app:ci", cache-to: "type=gha,mode=max"}
  push-without-login:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: docker/setup-buildx-action@PIN
      - uses: docker/build-push-action@PIN
        with: {context: ., push: true, tags: "ghcr.io/acme/app:1.0.0"}
  push-after-login:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: docker/setup-buildx-action@PIN
      - uses: docker/login-action@PIN
        with: {registry: ghcr.io, username: acme, password: not-a-secret}
      - uses: docker/build-push-action@PIN
        with: {context: ., push: true, tags: "ghcr.io/acme/app:1.0.0", platforms: "linux/amd64,linux/arm64"}
  bad-tag:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: docker/setup-buildx-action@PIN
      - uses: docker/build-push-action@PIN
        with: {context: ., tags: "ghcr.io/Acme/App:1"}
  login-no-password:
    runs-on: ubuntu-24.04
    steps:
      - uses: docker/login-action@PIN
        with: {registry: ghcr.io, username: acme}
"""


def test_docker_actions_validate_and_record_the_build(tmp_path: Path) -> None:
    run = act_run(tmp_path, DOCKER_JOBS, {"Dockerfile": "FROM scratch\n"})
    expect(run, **{"local-build": "success", "gha-cache-docker-driver": "failure",
                   "push-without-login": "failure", "push-after-login": "success",
                   "bad-tag": "failure", "login-no-password": "failure"})
    assert re.search(r"imageid=sha256:[0-9a-f]{64} digest=sha256:[0-9a-f]{64}", run.output("local-build"))
    assert "Cache export is not supported for the docker driver" in run.output("gha-cache-docker-driver")
    assert "failed to push ghcr.io/acme/app:1.0.0: unauthorized" in run.output("push-without-login")
    assert "repository name must be lowercase" in run.output("bad-tag")
    assert "Password required" in run.output("login-no-password")
    builds = calls(run, "docker/build-push-action")
    assert builds and all("build" in rec["stubbed"] for rec in builds if "failed" not in rec["did"])


TRUFFLEHOG_JOBS = """\
  deep:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {fetch-depth: 0}
      - uses: trufflesecurity/trufflehog@PIN
  shallow:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: trufflesecurity/trufflehog@PIN
  same-commits:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {fetch-depth: 0}
      - uses: trufflesecurity/trufflehog@PIN
        with: {base: HEAD, head: HEAD}
"""


def test_trufflehog_range_per_event(tmp_path: Path) -> None:
    run = act_run(tmp_path, TRUFFLEHOG_JOBS, event="pull_request")
    expect(run, deep="success", shallow="failure", **{"same-commits": "failure"})
    assert "unable to resolve --since-commit" in run.output("shallow")
    assert "BASE and HEAD commits are the same" in run.output("same-commits")
    deep = [r for r in calls(run, "trufflesecurity/trufflehog") if r["did"].startswith("range ")]
    assert deep and deep[0]["stubbed"] == ["secret scan"]


TOOL_JOBS = """\
  hadolint-clean:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: hadolint/hadolint-action@PIN
        with: {dockerfile: good.Dockerfile, format: sarif, output-file: hadolint.sarif}
      - run: |
          python3 -c "import json; print('runs', len(json.load(open('hadolint.sarif'))['runs']))"
  hadolint-findings:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: hadolint/hadolint-action@PIN
        with: {dockerfile: bad.Dockerfile}
  attest:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - id: prov
        uses: actions/attest-build-provenance@PIN
        with: {subject-path: "good.Dockerfile"}
      - run: |
          test -f "$BUNDLE"
        env: {BUNDLE: "${{ steps.prov.outputs.bundle-path }}"}
  attest-no-sbom:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: actions/attest-sbom@PIN
        with:
          subject-name: ghcr.io/acme/app
          subject-digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000"
          sbom-path: sbom.json
  attest-two-subjects:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: actions/attest-build-provenance@PIN
        with: {subject-path: good.Dockerfile, subject-checksums: sums.txt}
  cosign-old:
    runs-on: ubuntu-24.04
    steps:
      - uses: sigstore/cosign-installer@PIN
        with: {cosign-release: v1.13.1}
  oasdiff-missing-base:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: oasdiff/oasdiff-action/breaking@PIN
        with: {base: "origin/develop:openapi.yaml", revision: openapi.yaml}
  grype-bad-cutoff:
    runs-on: ubuntu-24.04
    steps:
      - uses: anchore/scan-action@PIN
        with: {image: "app:ci", severity-cutoff: severe}
  trivy-missing-ignorefile:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: aquasecurity/trivy-action@PIN
        with: {image-ref: "app:ci", trivyignores: .trivyignore}
"""


def test_tool_stubs_check_inputs_and_run_what_the_machine_has(tmp_path: Path) -> None:
    files = {"good.Dockerfile": "FROM alpine:3.20\nUSER 65534\n",
             "bad.Dockerfile": "FROM alpine\nRUN cd /tmp && apk add curl\n",
             "sums.txt": "0" * 64 + "  x\n", "openapi.yaml": "openapi: 3.0.0\n"}
    run = act_run(tmp_path, TOOL_JOBS, files)
    expect(run, **{"hadolint-clean": "success", "hadolint-findings": "failure", "attest": "success",
                   "attest-no-sbom": "failure", "attest-two-subjects": "failure", "cosign-old": "failure",
                   "oasdiff-missing-base": "failure", "grype-bad-cutoff": "failure",
                   "trivy-missing-ignorefile": "failure"})
    assert "runs 1" in run.output("hadolint-clean")
    # The real hadolint ran: DL3006 (untagged FROM) and DL3003 (cd) are its own findings.
    assert "DL3006" in run.output("hadolint-findings") and "DL3003" in run.output("hadolint-findings")
    assert "SBOM file not found" in run.output("attest-no-sbom")
    assert "Only one of subject-path, subject-digest, or subject-checksums may be provided" \
        in run.output("attest-two-subjects")
    assert "cosign versions below v2.0.0 are no longer supported" in run.output("cosign-old")
    # The base branch was never fetched into the clone: oasdiff cannot load the base spec.
    assert "failed to load base spec from 'origin/develop:openapi.yaml'" in run.output("oasdiff-missing-base")
    assert "Invalid severity-cutoff value is set to severe" in run.output("grype-bad-cutoff")
    assert "cannot find ignorefile '.trivyignore'" in run.output("trivy-missing-ignorefile")


API_JOBS = """\
  meta:
    runs-on: ubuntu-24.04
    steps:
      - id: meta
        uses: docker/metadata-action@PIN
        with:
          images: ghcr.io/acme/app
          tags: |
            type=ref,event=pr
            type=sha
      - run: |
          echo "tags=$TAGS"
        env: {TAGS: "${{ join(fromJSON(steps.meta.outputs.json).tags, ' ') }}"}
  meta-bad-rule:
    runs-on: ubuntu-24.04
    steps:
      - uses: docker/metadata-action@PIN
        with: {images: ghcr.io/acme/app, tags: "type=ref"}
  script:
    runs-on: ubuntu-24.04
    steps:
      - id: script
        uses: actions/github-script@PIN
        with:
          script: |
            await github.rest.issues.createComment({
              ...context.repo, issue_number: context.issue.number, body: 'hi'})
            core.info(`event=${context.eventName} pr=${context.payload.pull_request.number}`)
            return {ok: true}
      - run: |
          echo "result=$RESULT"
        env: {RESULT: "${{ steps.script.outputs.result }}"}
  script-throws:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/github-script@PIN
        with: {script: "throw new Error('boom')"}
  review:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/dependency-review-action@PIN
"""


def test_metadata_github_script_and_dependency_review(tmp_path: Path) -> None:
    run = act_run(tmp_path, API_JOBS, event="pull_request")
    expect(run, meta="success", **{"meta-bad-rule": "failure", "script-throws": "failure"},
           script="success", review="success")
    assert re.search(r"tags=ghcr.io/acme/app:pr-1 ghcr.io/acme/app:sha-[0-9a-f]{7}\b", run.output("meta"))
    assert "Missing event attribute for type=ref" in run.output("meta-bad-rule")
    assert "event=pull_request pr=1" in run.output("script")
    assert 'result={"ok":true}' in run.output("script")
    script = next(r for r in calls(run, "actions/github-script") if r["did"] == "script exit 0")
    assert script["stubbed"] == ["github.rest.issues.createComment"]
    assert "Unhandled error: Error: boom" in run.output("script-throws")
    review = calls(run, "actions/dependency-review-action")
    assert review and review[0]["stubbed"] == ["dependency graph compare"]


def test_dependency_review_needs_refs_on_push(tmp_path: Path) -> None:
    jobs = """\
  review:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/dependency-review-action@PIN
"""
    run = act_run(tmp_path, jobs)
    expect(run, review="failure")
    assert "Both a base ref and head ref must be provided" in run.output("review")


def test_gitleaks_on_push_walks_the_pushed_commits(tmp_path: Path) -> None:
    # GitHub's push payload lists the pushed commits; gitleaks scans commits[0]^..commits[-1].
    repo = h.FixtureRepo(tmp_path / "repo")
    jobs = """\
  deep:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {fetch-depth: 0}
      - uses: gitleaks/gitleaks-action@PIN
  shallow:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: gitleaks/gitleaks-action@PIN
"""
    base = repo.commit("base", {".github/workflows/harden-ci.yml": workflow("push", jobs)})
    first = repo.commit("first pushed", {"a.txt": "a\n"})
    after = repo.commit("second pushed", {"b.txt": "b\n"})
    payload = {**h.push_event(base, after),
               "commits": [{"id": first, "message": "first"}, {"id": after, "message": "second"}]}
    payload["repository"]["owner"]["type"] = "User"  # a personal repository: no license
    run = h.run_act(repo, "push", payload, sha=after, folder=tmp_path / "run")
    # first^..after needs the parent of the first pushed commit: not in a depth-1 clone.
    expect(run, deep="success", shallow="failure")
    assert f"--log-opts=--no-merges --first-parent {first}^..{after}" in run.output("deep")
    assert "ERROR: Unexpected exit code [1]" in run.output("shallow")


SLSA = "slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml"


def test_the_slsa_container_generator_needs_registry_credentials(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    jobs = f"""\
  provenance:
    permissions: {{id-token: write, actions: read, packages: write}}
    uses: slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@PIN
    with: {{image: ghcr.io/acme/app, digest: "{digest}", registry-username: acme}}
    secrets: {{registry-password: not-a-secret}}
  no-password:
    permissions: {{id-token: write, actions: read, packages: write}}
    uses: slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@PIN
    with: {{image: ghcr.io/acme/app, digest: "{digest}", registry-username: acme}}
"""
    run = act_run(tmp_path, jobs)
    records = calls(run, SLSA)
    outcomes = sorted(r["did"] for r in records)
    assert outcomes == ['{"outcome": "failure"}', '{"outcome": "success"}'], run.explain()
    assert "registry-password is required." in run.output()
