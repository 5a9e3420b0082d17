"""`services.<name>.docker`: context, target, build args, build secrets, platforms and image
name reach docker/build-push-action in both image jobs (inputs checked against the action's
own action.yml in reference/), secrets only in the release, and a change under the build
context or to the Dockerfile selects the service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_affected import git, make_repo, run_changes_step

from harden_ci.errors import SpecError
from harden_ci.model import Spec
from harden_ci.pipeline import load
from harden_ci.render import render

REPO = Path(__file__).resolve().parent.parent
ACTION_YML = REPO / "reference" / "actions" / "docker" / "build-push-action" / "action.yml"
DOCKER = {"context": ".", "target": "runtime", "args": {"APP_VERSION": "1.2", "LABEL": "a b"},
          "secrets": ["NPM_TOKEN"], "platforms": ["linux/amd64", "linux/arm64"],
          "image": "acme-api"}
SPEC: dict[str, Any] = {
    "version": 1, "project": {"name": "docker", "registry": "ghcr.io/acme"},
    "services": {
        "api": {"path": "services/api", "language": "python",
                "dockerfile": "docker/api.Dockerfile", "docker": DOCKER},
        "web": {"path": "web", "dockerfile": "web/Dockerfile"},
    },
}


def _files(spec: dict[str, Any]) -> dict[str, str]:
    return dict(render(Spec.model_validate(spec), "harden-ci.yaml"))


def _workflows(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: yaml.safe_load(t) for n, t in _files(spec).items() if n.endswith(".yml")}


def _builds(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action@")]


def _action_inputs() -> set[str]:
    return set(yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))["inputs"])


def _service_settings(tmp_path: Path, files: dict[str, str], name: str) -> dict[str, str]:
    """Run the companion script as the image job's first step does: `--service NAME`."""
    script = tmp_path / "affected.py"
    script.write_text(files["harden-ci/affected.py"], encoding="utf-8")
    output = tmp_path / "output"
    output.write_text("")
    subprocess.run([sys.executable, str(script), "--service", name], check=True,
                   env={**os.environ, "GITHUB_OUTPUT": str(output)}, capture_output=True)
    from test_affected import parse_github_output

    return parse_github_output(output.read_text(encoding="utf-8"))


def test_pull_request_build_gets_the_settings_but_never_the_secrets(tmp_path: Path) -> None:
    files = _files(SPEC)
    ci = yaml.safe_load(files["harden-ci.yml"])
    job = ci["jobs"]["images"]
    steps = {s["name"]: s for s in job["steps"]}
    qemu = steps["Set up QEMU (multi-arch)"]
    assert qemu["uses"].startswith("docker/setup-qemu-action@")
    assert qemu["if"] == "${{ steps.service.outputs.platforms != '' }}"
    native, every = _builds(job)
    inputs = _action_inputs()
    for step in (native, every):
        assert set(step["with"]) <= inputs, set(step["with"]) - inputs
        assert step["with"]["context"] == "${{ steps.service.outputs.context }}"
        assert step["with"]["target"] == "${{ steps.service.outputs.target }}"
        assert step["with"]["build-args"] == "${{ steps.service.outputs.build_args }}"
        assert step["with"]["push"] is False
        assert "secrets" not in step["with"] and "secret-envs" not in step["with"]
        assert "env" not in step
    assert native["with"]["load"] is True and "platforms" not in native["with"]
    assert every["with"]["platforms"] == "${{ steps.service.outputs.platforms }}"
    assert every["if"] == qemu["if"] and "load" not in every["with"]
    # No pull-request workflow names the build secret at all.
    for name, text in files.items():
        if name.endswith(".yml") and "pull_request" in (yaml.safe_load(text).get(True) or {}):
            assert "NPM_TOKEN" not in text, name
    # What the job reads: the companion script's settings for each service.
    api = _service_settings(tmp_path, files, "api")
    assert (api["context"], api["target"], api["platforms"]) == (
        ".", "runtime", "linux/amd64,linux/arm64")
    assert api["build_args"].splitlines() == ["APP_VERSION=1.2", "LABEL=a b"]
    assert api["dockerfile"] == "docker/api.Dockerfile"
    web = _service_settings(tmp_path, files, "web")
    assert (web["context"], web["target"], web["build_args"], web["platforms"]) == (
        "web", "", "", "")


def test_release_build_gets_settings_secrets_and_image_name() -> None:
    release = _workflows(SPEC)["harden-ci-release.yml"]
    # The release runs on pushes only (trusted), so it alone may name build secrets.
    assert "pull_request" not in release[True] and "pull_request_target" not in release[True]
    jobs = {jid: j for jid, j in release["jobs"].items() if jid.startswith("publish")}
    assert len(jobs) == 2, "services with other build secrets publish from their own job"
    by_service = {j["strategy"]["matrix"]["include"][0]["service"]: j for j in jobs.values()}
    api, web = by_service["api"], by_service["web"]
    (row,) = api["strategy"]["matrix"]["include"]
    assert row["image"] == "ghcr.io/acme/acme-api"
    assert (row["context"], row["target"], row["platforms"]) == (
        ".", "runtime", "linux/amd64,linux/arm64")
    assert row["build_args"] == "APP_VERSION=1.2\nLABEL=a b"
    (build,) = _builds(api)
    assert set(build["with"]) <= _action_inputs()
    for name in ("context", "target", "platforms"):
        assert build["with"][name] == "${{ matrix." + name + " }}"
    assert build["with"]["build-args"] == "${{ matrix.build_args }}"
    assert build["with"]["secret-envs"] == "NPM_TOKEN=NPM_TOKEN"
    assert build["env"] == {"NPM_TOKEN": "${{ secrets.NPM_TOKEN }}"}
    assert any(str(s.get("uses", "")).startswith("docker/setup-qemu-action@")
               for s in api["steps"])
    (web_build,) = _builds(web)
    assert "env" not in web_build and "secret-envs" not in web_build["with"]
    assert not any(str(s.get("uses", "")).startswith("docker/setup-qemu-action@")
                   for s in web["steps"])
    (web_row,) = web["strategy"]["matrix"]["include"]
    assert web_row["image"] == "ghcr.io/acme/web" and web_row["context"] == "web"


def test_no_docker_settings_render_no_qemu_and_the_service_path_as_context() -> None:
    spec = {**SPEC, "services": {"web": {"path": "web", "dockerfile": "web/Dockerfile"}}}
    wfs = _workflows(spec)
    job = wfs["harden-ci.yml"]["jobs"]["images"]
    assert len(_builds(job)) == 1
    assert not any("setup-qemu-action" in str(s.get("uses", "")) for s in job["steps"])


@pytest.mark.parametrize("changed, selected", [
    ("docker/api.Dockerfile", ["api"]),          # the Dockerfile, outside the service path
    ("shared/lib/util.py", ["api"]),             # under the build context (`.`)
    ("web/index.html", ["api", "web"]),          # the root context holds web/ too
])
def test_dockerfile_and_context_select_the_service(tmp_path: Path, changed: str,
                                                   selected: list[str]) -> None:
    spec = {**SPEC, "services": {
        "api": {**SPEC["services"]["api"], "docker": {**DOCKER, "context": "shared"}},
        "web": SPEC["services"]["web"]}}
    if changed == "web/index.html":
        spec["services"]["api"]["docker"]["context"] = "."
    repo = make_repo(tmp_path / "repo", yaml.safe_dump(spec), {
        "services/api/app.py": "x\n", "docker/api.Dockerfile": "FROM scratch\n",
        "shared/lib/util.py": "x\n", "web/Dockerfile": "FROM scratch\n", "web/index.html": "x\n"})
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "change")
    (repo / changed).write_text("changed\n", encoding="utf-8")
    git(repo, "commit", "-qam", "change")
    run = run_changes_step(repo, "pull_request", base, git(repo, "rev-parse", "HEAD"))
    assert sorted(yaml.safe_load(run.outputs["services"])) == selected


@pytest.mark.parametrize("docker, message", [
    ({"platforms": ["windows/amd64"]}, "platforms"),
    ({"args": {"X": "${{ github.token }}"}}, "`${{` is not allowed"),
    ({"args": {"X": "a\nb"}}, "args"),
    ({"target": "-bad"}, "target"),
    ({"secrets": ["GITHUB_TOKEN"]}, "secrets"),
    ({"image": "Upper/Case"}, "image"),
])
def test_bad_docker_settings_are_located_errors(tmp_path: Path, docker: dict[str, Any],
                                                message: str) -> None:
    spec = {**SPEC, "services": {"web": {"path": "web", "dockerfile": "web/Dockerfile",
                                         "docker": docker}}}
    path = tmp_path / "harden-ci.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(SpecError) as error:
        load(path)
    assert message in str(error.value)


def test_docker_settings_need_a_dockerfile(tmp_path: Path) -> None:
    spec = {**SPEC, "services": {"api": {"path": "api", "language": "python",
                                         "docker": {"target": "runtime"}}}}
    path = tmp_path / "harden-ci.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(SpecError) as error:
        load(path)
    assert "`docker` settings need the service's `dockerfile`" in str(error.value)
