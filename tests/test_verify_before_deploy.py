"""Verify before deploy (issue 13, point 5): every job that deploys the release's images
first verifies each digest's keyless signature (exact identity and issuer) and provenance.
The script runs for real, with recording fakes of cosign and gh that fail for chosen refs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_scripts import LEARNHUB_SPEC, REPOSITORY, Runner, _output, rendered, script_step

SCRIPT = "verify-images.sh"
RELEASE = "harden-ci-release.yml"
REF = "refs/heads/main"
IDENTITY = f"https://github.com/{REPOSITORY}/.github/workflows/{RELEASE}@{REF}"
ISSUER = "https://token.actions.githubusercontent.com"
API, CHAT = "sha256:" + "a" * 64, "sha256:" + "b" * 64
DIGESTS = json.dumps({"api": API, "chat": CHAT})
# The generator's workflow at the tag the catalog pins (harden_ci/data/pins.json).
GENERATOR = "slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml"
_PINS = json.loads((Path(__file__).resolve().parent.parent / "harden_ci" / "data" / "pins.json")
                   .read_text(encoding="utf-8"))["pins"]
SLSA_IDENTITY = ("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/"
                 f"generator_container_slsa3.yml@refs/tags/{_PINS[GENERATOR]['tag']}")

# Logs its argv (shell-quoted, one line a call) and fails when the argv names a ref listed
# in NAME.bad beside it (a bad signature or attestation for that image), or when the line
# is `SUBCOMMAND REF` and this call is that subcommand on that ref.
_FAKE = """#!/usr/bin/env bash
here=$(cd "$(dirname "$0")" && pwd)
printf '%q ' "$@" >> "$here/NAME.calls"; echo >> "$here/NAME.calls"
for arg in "$@"; do
  if [ -f "$here/NAME.bad" ] && { grep -qxF -- "${arg#oci://}" "$here/NAME.bad" ||
      grep -qxF -- "$1 ${arg#oci://}" "$here/NAME.bad"; }; then
    echo "NAME: no matching signatures" >&2; exit 1
  fi
done
exit 0
"""


def _spec(**chain: Any) -> dict[str, Any]:
    spec = yaml.safe_load(LEARNHUB_SPEC.read_text(encoding="utf-8"))
    spec["supply_chain"] = {**spec["supply_chain"], **chain}
    return dict(spec)


@pytest.fixture(scope="module")
def learnhub() -> dict[str, dict[str, Any]]:
    return rendered(_spec())


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    r = Runner(tmp_path)
    for name in ("cosign", "gh"):
        fake = r.bin / name
        fake.write_text(_FAKE.replace("NAME", name), encoding="utf-8")
        fake.chmod(0o755)
    return r


def _bad(runner: Runner, tool: str, ref: str) -> None:
    (runner.bin / f"{tool}.bad").write_text(ref + "\n", encoding="utf-8")


# image-digests' `names` output: the images the legs recorded (a service may name its own).
NAMES = json.dumps({"api": "ghcr.io/acme/api", "chat": "ghcr.io/acme/learnhub-chat"})


def _run(runner: Runner, step: dict[str, Any], digests: str = DIGESTS) -> Any:
    expressions = {"DIGESTS": digests, "IDENTITY": IDENTITY,
                   "SIGNER_WORKFLOW": f"{REPOSITORY}/.github/workflows/{RELEASE}",
                   "GH_TOKEN": "token"}
    if "${{" in str(step["env"].get("IMAGES", "")):
        assert step["env"]["IMAGES"] == "${{ needs.image-digests.outputs.names }}"
        expressions["IMAGES"] = NAMES
    expressions = {k: v for k, v in expressions.items() if k in step["env"]}
    return runner.run(step, expressions)


def _deploying(workflows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    jobs = workflows[RELEASE]["jobs"]
    return {job_id: job for job_id, job in jobs.items()
            if any(key.startswith("HARDEN_CI_DIGEST_") for step in job.get("steps", [])
                   for key in step.get("env") or {})}


def test_every_digest_verified_passes_with_the_exact_identity(
        runner: Runner, learnhub: dict[str, dict[str, Any]]) -> None:
    step = script_step(learnhub, SCRIPT, "deploy-staging")
    assert step["env"]["IDENTITY"] == ("https://github.com/${{ github.repository }}/"
                                       f".github/workflows/{RELEASE}@${{{{ github.ref }}}}")
    result = _run(runner, step)
    assert result.returncode == 0, _output(result)
    cosign = runner.calls("cosign")
    refs = [f"ghcr.io/acme/api@{API}", f"ghcr.io/acme/learnhub-chat@{CHAT}"]
    signatures = [call for call in cosign if call[0] == "verify"]
    assert sorted(call[1] for call in signatures) == refs
    for call in signatures:
        assert call[call.index("--certificate-identity") + 1] == IDENTITY
        assert call[call.index("--certificate-oidc-issuer") + 1] == ISSUER
    # learnhub has supply_chain.slsa: the generator's provenance, by the generator's
    # workflow at the pinned tag, for each digest.
    slsa = [call for call in cosign if call[0] == "verify-attestation"]
    assert len(cosign) == 4 and sorted(call[1] for call in slsa) == refs
    for call in slsa:
        assert call[call.index("--type") + 1] == "slsaprovenance"
        assert call[call.index("--certificate-identity") + 1] == SLSA_IDENTITY
        assert call[call.index("--certificate-oidc-issuer") + 1] == ISSUER
    gh = runner.calls("gh")
    assert sorted(call[2] for call in gh) == [f"oci://ghcr.io/acme/api@{API}",
                                              f"oci://ghcr.io/acme/learnhub-chat@{CHAT}"]
    for call in gh:
        assert call[:2] == ["attestation", "verify"]
        assert call[call.index("--repo") + 1] == REPOSITORY
        assert call[call.index("--signer-workflow") + 1] == \
            f"{REPOSITORY}/.github/workflows/{RELEASE}"


def test_the_registry_login_is_dropped(runner: Runner,
                                      learnhub: dict[str, dict[str, Any]]) -> None:
    step = script_step(learnhub, "registry-logout.sh", "deploy-staging")
    docker = runner.bin / "docker"
    docker.write_text(_FAKE.replace("NAME", "docker"), encoding="utf-8")
    docker.chmod(0o755)
    result = runner.run(step)
    assert result.returncode == 0, _output(result)
    assert runner.calls("docker") == [["logout", "ghcr.io"]]


@pytest.mark.parametrize("tool", ["cosign", "gh"])
def test_one_bad_image_fails_and_is_named(runner: Runner, learnhub: dict[str, dict[str, Any]],
                                          tool: str) -> None:
    bad = f"ghcr.io/acme/learnhub-chat@{CHAT}"
    _bad(runner, tool, bad)
    result = _run(runner, script_step(learnhub, SCRIPT, "canary"))
    assert result.returncode != 0
    assert f"::error::{bad}" in result.stdout
    assert f"ghcr.io/acme/api@{API}: " not in result.stdout


def test_an_image_without_the_generators_provenance_fails(
        runner: Runner, learnhub: dict[str, dict[str, Any]]) -> None:
    """Signed, but no SLSA provenance by the generator (or one by another identity)."""
    bad = f"ghcr.io/acme/learnhub-chat@{CHAT}"
    _bad(runner, "cosign", f"verify-attestation {bad}")
    step = script_step(learnhub, SCRIPT, "canary")
    assert step["env"]["SLSA_IDENTITY"] == SLSA_IDENTITY
    result = _run(runner, step)
    assert result.returncode != 0, _output(result)
    assert f"::error::{bad}: no valid SLSA provenance by {SLSA_IDENTITY}" in result.stdout
    assert "nothing is deployed" in result.stdout


@pytest.mark.parametrize("digests", ["", "{}x", "[]", "null", '"sha256:abc"'])
def test_a_malformed_digest_map_fails(runner: Runner, learnhub: dict[str, dict[str, Any]],
                                      digests: str) -> None:
    result = _run(runner, script_step(learnhub, SCRIPT, "deploy-staging"), digests)
    assert result.returncode != 0, _output(result)
    assert runner.calls("cosign") == []


@pytest.mark.parametrize("digests", [json.dumps({"api": API}),
                                     json.dumps({"api": API, "chat": "sha256:short"}),
                                     json.dumps({"api": API, "chat": 7})])
def test_a_missing_digest_fails(runner: Runner, learnhub: dict[str, dict[str, Any]],
                                digests: str) -> None:
    result = _run(runner, script_step(learnhub, SCRIPT, "deploy-staging"), digests)
    assert result.returncode != 0, _output(result)
    assert "chat: no well-formed digest" in result.stdout


@pytest.mark.parametrize("images", ["", "{}", "[]", "not json"])
def test_an_empty_or_malformed_image_map_fails(
        runner: Runner, learnhub: dict[str, dict[str, Any]], images: str) -> None:
    step = dict(script_step(learnhub, SCRIPT, "deploy-staging"))
    step["env"] = {**step["env"], "IMAGES": images}
    result = _run(runner, step)
    assert result.returncode != 0, _output(result)
    assert runner.calls("cosign") == []


def _first(job: dict[str, Any], match: Any) -> int:
    return next(i for i, step in enumerate(job["steps"]) if match(step))


def test_learnhub_verifies_before_every_deploy(learnhub: dict[str, dict[str, Any]]) -> None:
    jobs = _deploying(learnhub)
    assert {"deploy-staging", "canary"} <= set(jobs)
    for job_id, job in jobs.items():
        verify = _first(job, lambda s: s.get("name", "").startswith("Verify the images"))
        deploy = _first(job, lambda s: any(k.startswith("HARDEN_CI_DIGEST_")
                                           for k in s.get("env") or {})
                        or s.get("name", "").startswith(("Deploy", "Give the Rollout")))
        assert verify < deploy, job_id
        logout = _first(job, lambda s: s.get("name") == "Log out of the registry")
        assert verify < logout < deploy, job_id
        checkout = _first(job, lambda s: "actions/checkout@" in s.get("uses", ""))
        assert logout < checkout, "no repository code runs while the registry login is in place"
        installer = _first(job, lambda s: "sigstore/cosign-installer@" in s.get("uses", ""))
        assert installer < verify
        assert {"sign", "slsa", "image-digests"} <= set(job["needs"]), job_id
        assert job["permissions"]["packages"] == "read"
        assert job["permissions"]["attestations"] == "read"
        # Verifying needs no OIDC token; only a cloud login (production's `cloud:`) does.
        logs_in = any("configure-aws-credentials@" in s.get("uses", "") for s in job["steps"])
        assert ("id-token" in job["permissions"]) == logs_in, job_id


def test_without_signing_no_verification_and_explain_says_so() -> None:
    from harden_ci.model import Spec
    from harden_ci.plan.workflows import plan
    from harden_ci.report.explain import _deploys

    workflows = rendered(_spec(sign="none", slsa=False))
    for job in _deploying(workflows).values():
        assert not any(s.get("name", "").startswith("Verify the images") for s in job["steps"])
        assert "sign" not in job["needs"]
    planned = plan(Spec.model_validate(_spec(sign="none", slsa=False)), "harden-ci.yaml")
    assert _deploys(planned.workflows).startswith("Deploys are unverified")
    signed = plan(Spec.model_validate(_spec()), "harden-ci.yaml")
    assert _deploys(signed.workflows).startswith("Deploys verify")


def test_grants_follow_the_registry_and_the_provenance() -> None:
    spec = _spec(provenance=False, sbom="none", slsa=False)
    spec["project"] = {**spec["project"], "registry": "registry.internal:5000/acme"}
    job = rendered(spec)[RELEASE]["jobs"]["deploy-staging"]
    # No GitHub Packages to read, no attestation to fetch: only the checkout's read.
    assert job["permissions"] == {"contents": "read"}
    assert {"sign", "image-digests"} <= set(job["needs"]) and "slsa" not in job["needs"]
    (verify,) = [s for s in job["steps"] if s.get("name", "").startswith("Verify the images")]
    assert verify["env"]["PROVENANCE"] == "" and "GH_TOKEN" not in verify["env"]
    (logout,) = [s for s in job["steps"] if s.get("name") == "Log out of the registry"]
    assert logout["env"]["REGISTRY"] == "registry.internal:5000"


def test_without_provenance_only_the_signature_is_checked(runner: Runner) -> None:
    workflows = rendered(_spec(provenance=False, sbom="none", slsa=False))
    step = script_step(workflows, SCRIPT, "deploy-staging")
    result = runner.run(step, {"DIGESTS": DIGESTS, "IDENTITY": IDENTITY, "IMAGES": NAMES})
    assert result.returncode == 0, _output(result)
    assert len(runner.calls("cosign")) == 2 and runner.calls("gh") == []
    assert "SLSA_IDENTITY" not in step["env"]  # no generator, no provenance of its to ask for
