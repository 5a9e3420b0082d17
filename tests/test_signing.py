"""Signing isolated from building (plan/stages/signing.py).

The jobs that hold `id-token: write` or `attestations: write` check out nothing, set up no
toolchain and install nothing: they cannot run the repository's code. The build jobs that
do run it hold neither. And the signing job signs only after checking, for real
(check-sboms.sh through test_scripts' Runner), that the SBOMs it attests are the ones the
build made for exactly this digest.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_scripts import Runner, learnhub, rendered, script_step

RELEASE = "harden-ci-release.yml"
BASE: dict[str, Any] = {
    "version": 1,
    "project": {"name": "signing", "default_branch": "main", "registry": "ghcr.io/acme"},
    "services": {
        "api": {"path": "services/api", "language": "python",
                "dockerfile": "services/api/Dockerfile"},
        "web": {"path": "services/web", "language": "node",
                "dockerfile": "services/web/Dockerfile"},
    },
    "supply_chain": {"sbom": "cyclonedx", "sign": "keyless", "provenance": True},
}
CHAINS = {
    "keyless": {},
    "slsa": {"slsa": True},
    "sbom-only": {"sign": "none", "provenance": False},
    "no-sbom": {"sbom": "none"},
    "unsigned": {"sbom": "none", "sign": "none", "provenance": False},
}
INSTALLS = re.compile(r"\b(pip3?|npm|npx|pnpm|yarn|curl|wget|uv|apt-get|go)\s+(install|i|add|get|ci)?\b"
                      r"|\bcurl\b|\bwget\b")


def _release(chain: str, registry: str = "ghcr.io/acme") -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    spec["supply_chain"].update(CHAINS[chain])
    spec["project"]["registry"] = registry
    jobs: dict[str, Any] = rendered(spec)[RELEASE]["jobs"]
    return jobs


def _cases() -> list[tuple[str, dict[str, Any]]]:
    cases = [(f"{chain}@{registry}", _release(chain, registry)) for chain in CHAINS
             for registry in ("ghcr.io/acme", "registry.example.com/acme")]
    return [*cases, ("learnhub", learnhub()[RELEASE]["jobs"])]


CASES = _cases()


def _writes(job: dict[str, Any], scope: str) -> bool:
    return (job.get("permissions") or {}).get(scope) == "write"


def _action(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@", 1)[0]


CLOUD_LOGINS = {"aws-actions/configure-aws-credentials", "google-github-actions/auth",
                "Azure/login"}


def _cloud_login(job: dict[str, Any]) -> bool:
    return not _writes(job, "attestations") and any(
        _action(step) in CLOUD_LOGINS for step in job.get("steps") or [])


@pytest.mark.parametrize(("case", "jobs"), CASES, ids=[c for c, _ in CASES])
def test_no_job_that_can_sign_runs_repository_code(case: str, jobs: dict[str, Any]) -> None:
    # A deploy job holds id-token only for its cloud login (tests/test_cloud_oidc.py proves
    # no other job gets it); it runs the user's deploy command by design, never a build.
    signers = {job_id: job for job_id, job in jobs.items()
               if (_writes(job, "id-token") and not _cloud_login(job))
               or _writes(job, "attestations")}
    for job_id, job in signers.items():
        if "uses" in job:  # the SLSA generator's reusable workflow: its own isolated jobs
            assert "slsa-github-generator" in job["uses"], job_id
            assert not _writes(job, "attestations"), job_id
            continue
        for step in job["steps"]:
            where = f"{case}: {job_id}: {step.get('name')}"
            assert _action(step) not in {"actions/checkout", "actions/setup-python",
                                         "actions/setup-node", "actions/setup-go",
                                         "docker/build-push-action"}, where
            assert not INSTALLS.search(str(step.get("run", ""))), where
            assert "working-directory" not in step, where
        assert set(job["permissions"]) <= {"id-token", "packages", "attestations"}, job_id
    builders = {job_id: job for job_id, job in jobs.items()
                if any(_action(s) == "docker/build-push-action" for s in job.get("steps") or [])}
    assert builders, case
    for job_id, job in builders.items():
        assert job["permissions"] == ({"contents": "read", "packages": "write"}
                                      if "ghcr.io" in case or case == "learnhub"
                                      else {"contents": "read"}), f"{case}: {job_id}"
        assert not any("cosign" in str(s.get("run", "")) or "attest" in _action(s)
                       for s in job["steps"]), f"{case}: {job_id} signs"
    if case.startswith("unsigned"):
        assert not signers
    else:
        assert [j for j in signers if j.startswith("sign")], case


@pytest.mark.parametrize(("case", "jobs"), CASES, ids=[c for c, _ in CASES])
def test_the_signing_job_checks_the_sboms_before_signing(case: str, jobs: dict[str, Any]) -> None:
    for job_id, job in jobs.items():
        if not job_id.startswith("sign"):
            continue
        assert job["needs"] == ["image-digests"]
        names = [str(s.get("name", "")) for s in job["steps"]]
        check = names.index("Check the SBOMs are about this digest")
        writes = [i for i, s in enumerate(job["steps"])
                  if "cosign" in str(s.get("run", "")) or "attest" in _action(s)]
        assert writes and check < min(writes), f"{case}: {job_id}: {names}"


# ----------------------------------------------- record-sbom-sums.sh + check-sboms.sh

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def _syft_sbom(digest: str) -> str:
    """What syft's CycloneDX encoder writes for an image scanned by digest: the source is
    the descriptor component, of type container, its version the reference's digest."""
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {
        "component": {"bom-ref": "1a2b", "type": "container", "name": "ghcr.io/acme/api",
                      "version": digest}}, "components": []})


class Legs:
    """The api legs of learnhub's build job and signing job, and the artifacts between."""

    def __init__(self, tmp: Path) -> None:
        workflows = learnhub()
        self.record = script_step(workflows, "record-digest.sh", "publish-1[api]")
        self.sums = script_step(workflows, "record-sbom-sums.sh", "publish-1[api]")
        # the signing matrix is filled at run time: its step runs with matrix={"service": ...}
        self.check = script_step(workflows, "check-sboms.sh", "sign")
        self.build = Runner(tmp / "build")
        self.sign = Runner(tmp / "sign")

    def build_leg(self, image_sbom: str, python_sbom: str | None = "{}") -> None:
        assert self.build.run(self.record, {"DIGEST": DIGEST}).returncode == 0, \
            self.build.run(self.record, {"DIGEST": DIGEST}).stdout
        (self.build.workspace / "sbom-api.cdx.json").write_text(image_sbom)
        if python_sbom is not None:
            (self.build.workspace / "sbom-api-python.cdx.json").write_text(python_sbom)
        result = self.build.run(self.sums)
        assert result.returncode == 0, result.stdout + result.stderr

    def download(self) -> None:
        """The two artifacts, as download-artifact puts them in the signing job."""
        shutil.copytree(self.build.temp / "digests", self.sign.temp / "recorded")
        (self.sign.temp / "sbom").mkdir()
        for path in self.build.workspace.glob("sbom-api*.cdx.json"):
            shutil.copy(path, self.sign.temp / "sbom" / path.name)

    def run_check(self, digest: str = DIGEST, digests: str | None = None) -> tuple[int, str]:
        env = self.check["env"]
        assert env["RECORDED"] == "${{ runner.temp }}/recorded"
        assert env["SBOM_DIR"] == "${{ runner.temp }}/sbom"
        result = self.sign.run(self.check, {
            "DIGESTS": digests if digests is not None else json.dumps({"api": digest, "web": OTHER}),
            "RECORDED": str(self.sign.temp / "recorded"),
            "SBOM_DIR": str(self.sign.temp / "sbom"), "IMAGE_SBOM": "sbom-api.cdx.json"},
            matrix={"service": "api"})
        outputs = self.sign.outputs() if self.sign.output_file.exists() else {}
        if result.returncode == 0:
            assert outputs == {"digest": digest, "python_sbom": "true"}
        else:
            assert "digest" not in outputs, "a digest handed on by a failed check"
        return result.returncode, result.stdout + result.stderr


@pytest.fixture
def legs(tmp_path: Path) -> Legs:
    return Legs(tmp_path)


def test_matching_sboms_pass(legs: Legs) -> None:
    assert legs.check["env"]["DIGESTS"] == "${{ needs.image-digests.outputs.digests }}"
    legs.build_leg(_syft_sbom(DIGEST))
    legs.download()
    code, output = legs.run_check()
    assert code == 0, output
    assert DIGEST in legs.sign.summary.read_text()


def test_an_image_sbom_of_another_digest_fails(legs: Legs) -> None:
    legs.build_leg(_syft_sbom(OTHER))
    legs.download()
    code, output = legs.run_check()
    assert code == 1
    assert f"the image SBOM describes '{OTHER}', not {DIGEST}" in output


def test_an_sbom_swapped_after_the_build_fails(legs: Legs) -> None:
    legs.build_leg(_syft_sbom(DIGEST), python_sbom='{"components": []}')
    legs.download()
    (legs.sign.temp / "sbom" / "sbom-api-python.cdx.json").write_text('{"components": [1]}')
    code, output = legs.run_check()
    assert code == 1
    assert "sbom-api-python.cdx.json is not the SBOM the build job made for" in output


@pytest.mark.parametrize("missing", ["sbom-api.cdx.json", "sbom-api-python.cdx.json"])
def test_a_missing_sbom_fails(legs: Legs, missing: str) -> None:
    legs.build_leg(_syft_sbom(DIGEST))
    legs.download()
    (legs.sign.temp / "sbom" / missing).unlink()
    code, output = legs.run_check()
    assert code == 1
    assert f"the SBOM {missing} the build job made is missing" in output


def test_an_sbom_the_build_never_recorded_fails(legs: Legs) -> None:
    legs.build_leg(_syft_sbom(DIGEST))
    legs.download()
    (legs.sign.temp / "sbom" / "sbom-api-extra.cdx.json").write_text("{}")
    code, output = legs.run_check()
    assert code == 1
    assert "sbom-api-extra.cdx.json was not recorded by the build job" in output


def test_no_recorded_hashes_or_another_digest_fails(legs: Legs) -> None:
    legs.build_leg(_syft_sbom(DIGEST))
    legs.download()
    code, output = legs.run_check(OTHER)  # the map's digest is not the one recorded
    assert code == 1 and f"the digest the build job recorded is not {OTHER}" in output
    for digests in ("", "{}", "not json", '["sha256:' + "ab" * 32 + '"]', '{"web": "x"}'):
        code, output = legs.run_check(digests=digests)
        assert code == 1 and "no well-formed digest" in output, digests
    (legs.sign.temp / "recorded" / "api.sbom.sha256").unlink()
    code, output = legs.run_check()
    assert code == 1 and "the build job recorded no SBOM hashes" in output


def test_an_image_sbom_that_is_not_cyclonedx_fails(legs: Legs) -> None:
    legs.build_leg("not json")
    legs.download()
    code, output = legs.run_check()
    assert code == 1 and "is not CycloneDX JSON" in output


def test_the_build_leg_needs_an_sbom_to_record(legs: Legs) -> None:
    assert legs.build.run(legs.record, {"DIGEST": DIGEST}).returncode == 0
    result = legs.build.run(legs.sums)
    assert result.returncode == 1 and "no SBOM was made for api" in result.stdout


def test_the_legs_are_the_rows_image_digests_gathered() -> None:
    """The signing matrix is image-digests' rows (service, image, digest), filled at run
    time: the same images the build matrices pushed, and nothing per image in the file."""
    jobs = learnhub()[RELEASE]["jobs"]
    sign = jobs["sign"]
    include = sign["strategy"]["matrix"]["include"]
    assert include == "${{ fromJSON(needs.image-digests.outputs.images-1) }}"
    assert sign["needs"] == ["image-digests"]
    assert "images-1" in jobs["image-digests"]["outputs"]
