"""`harden-ci init` on fixture repositories of each stack: what it detects, that the starter
spec validates and renders with zero findings from the real validators, and that it never
overwrites a spec without --force. Also the ecosystem files adopters use: the pre-commit
hooks and the composite action."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harden_ci import __version__
from harden_ci.cli import cli
from harden_ci.init import detect, starter_spec
from harden_ci.init.detect import slug
from harden_ci.pipeline import load
from harden_ci.plan.pins import catalog

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "init"
STACKS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def repo(tmp_path: Path, stack: str) -> Path:
    target = tmp_path / stack
    shutil.copytree(FIXTURES / stack, target)
    return target


def harden(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harden_ci", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def services(root: Path) -> dict[str, Any]:
    _, spec = load(root / "harden-ci.yaml")
    return {name: s for name, s in spec.services.items()}


def test_every_stack_has_a_fixture() -> None:
    assert set(STACKS) == {"python", "node", "go", "java", "monorepo", "empty"}


@pytest.mark.parametrize("stack", STACKS)
def test_init_writes_a_spec_that_validates_and_renders(stack: str, tmp_path: Path) -> None:
    root = repo(tmp_path, stack)
    for verb in (("init",), ("validate",), ("render",), ("check",)):
        result = harden(root, *verb)
        assert result.returncode == 0, f"{stack}: {' '.join(verb)}: {result.stderr}"
    text = (root / "harden-ci.yaml").read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=https://")
    assert (root / ".github" / "workflows" / "harden-ci.yml").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("stack", STACKS)
def test_the_rendered_starter_has_zero_validator_findings(stack: str, tmp_path: Path) -> None:
    import validators

    root = repo(tmp_path, stack)
    for verb in ("init", "render"):
        assert harden(root, verb).returncode == 0
    results = validators.all_validators([root])
    assert all(not findings for findings in results.values()), validators.report(results)


def test_python_stack(tmp_path: Path) -> None:
    root = repo(tmp_path, "python")
    stack = detect(root)
    assert stack.project == "orders-api"
    (svc,) = stack.services
    assert (svc.name, svc.path, svc.language, svc.dockerfile) == (
        "orders-api", ".", "python", "Dockerfile")
    assert stack.terraform == "infra"
    assert [(m.service, m.preset) for m in stack.migrations] == [("orders-api", "alembic")]
    text = starter_spec(stack, schema="x.json")
    # alembic needs a database image pinned by digest: suggested, not guessed.
    assert "# schema_drift: {service: orders-api, preset: alembic" in text
    assert 'terraform: "infra"' in text and "dockerfiles: true" in text


def test_node_stack_with_openapi(tmp_path: Path) -> None:
    stack = detect(repo(tmp_path, "node"))
    assert stack.project == "acme-storefront"
    (svc,) = stack.services
    assert (svc.language, svc.openapi, svc.dockerfile) == ("node", "api/openapi.yaml", None)


@pytest.mark.parametrize(("stack", "language"), [("go", "go"), ("java", "java")])
def test_single_language_stacks(stack: str, language: str, tmp_path: Path) -> None:
    found = detect(repo(tmp_path, stack))
    assert [(s.path, s.language) for s in found.services] == [(".", language)]
    assert found.terraform is None and found.kubernetes is None and not found.migrations


def test_monorepo_with_several_services(tmp_path: Path) -> None:
    root = repo(tmp_path, "monorepo")
    stack = detect(root)
    got = {s.name: (s.path, s.language, s.dockerfile, s.openapi) for s in stack.services}
    assert got == {
        "api": ("services/api", "python", "services/api/Dockerfile", None),
        "billing": ("services/billing", "java", None, None),
        "engine": ("services/engine", "rust", None, None),
        "web": ("services/web", "node", None, "services/web/openapi.yml"),
        "worker": ("services/worker", "go", None, None),
        "gateway": ("services/gateway", None, "services/gateway/Dockerfile", None),
    }
    # docs/requirements.txt is not a service; chart templates are not plain manifests.
    assert (stack.kubernetes, stack.helm) == ("deploy/k8s", "charts/shop")
    assert [(m.service, m.preset) for m in stack.migrations] == [("api", "django"),
                                                                ("web", "prisma")]
    assert harden(root, "init").returncode == 0
    _, spec = load(root / "harden-ci.yaml")
    assert spec.gates is not None and spec.gates.schema_drift is not None
    assert (spec.gates.schema_drift.service, spec.gates.schema_drift.preset) == ("api", "django")
    assert spec.gates.iac_lint is not None and spec.gates.iac_lint.helm == "charts/shop"


def test_empty_repository_gets_a_placeholder_that_fails_until_edited(tmp_path: Path) -> None:
    root = repo(tmp_path, "empty")
    assert detect(root).services == []
    assert harden(root, "init").returncode == 0
    (svc,) = services(root).values()
    assert svc.language == "custom" and "exit 1" in (svc.test or "")


def test_a_workspace_root_is_not_a_service(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    for folder in ("apps/a", "apps/b", "packages/lib"):
        (root / folder).mkdir(parents=True)
        (root / folder / "index.js").write_text("export {}\n", encoding="utf-8")
    for app in ("a", "b"):
        (root / "apps" / app / "package.json").write_text(
            json.dumps({"name": app, "dependencies": {"lib": "*"}}), encoding="utf-8")
    (root / "packages/lib/package.json").write_text('{"name": "lib"}', encoding="utf-8")
    (root / "package.json").write_text('{"name": "ws", "workspaces": ["apps/*", "packages/*"]}',
                                       encoding="utf-8")
    stack = detect(root)
    assert [s.path for s in stack.services] == ["apps/a", "apps/b"]
    # A library the services use is a shared path, not a service of its own.
    assert stack.shared_paths == ["packages/lib"]
    assert (".", "a workspace root") in stack.left_out


def test_odd_file_names_never_reach_the_spec(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    (root / 'we"ird: name').mkdir(parents=True)
    (root / 'we"ird: name' / "go.mod").write_text("module x\n", encoding="utf-8")
    (root / "ok").mkdir()
    (root / "ok" / "go.mod").write_text("module y\n", encoding="utf-8")
    assert [s.path for s in detect(root).services] == ["ok"]


def test_slug_makes_valid_names() -> None:
    assert slug("Orders API") == "orders-api"
    assert slug("@acme/web") == "acme-web"
    assert slug("9lives") == "svc-9lives"
    assert slug("___") == "app"
    assert len(slug("x" * 100)) == 40


def test_init_refuses_to_overwrite_a_spec_without_force(tmp_path: Path) -> None:
    root = repo(tmp_path, "go")
    (root / "harden-ci.yaml").write_text("# mine\n", encoding="utf-8")
    result = harden(root, "init")
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert "Traceback" not in result.stderr
    assert (root / "harden-ci.yaml").read_text("utf-8") == "# mine\n"
    assert harden(root, "init", "--force").returncode == 0
    assert (root / "harden-ci.yaml").read_text("utf-8").startswith("# yaml-language-server:")


def test_init_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["init", "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout


# --- fitting the ecosystem: pre-commit hooks and the composite action -------------------------

def test_pre_commit_hooks_parse_and_name_real_entry_points() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert {h["id"] for h in hooks} == {"harden-ci-check", "harden-ci-validate"}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook)
        program, verb = hook["entry"].split()
        assert program in scripts, f"{program} is not a console script"
        assert verb in cli.commands, f"`harden-ci {verb}` is not a verb"
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        files = re.compile(hook["files"])
        assert files.search("harden-ci.yaml") and files.search("deploy/harden-ci.yml")
        assert not files.search("README.md")
    check = next(h for h in hooks if h["id"] == "harden-ci-check")
    assert re.search(check["files"], ".github/workflows/harden-ci.yml")


def _action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
    return data


def test_the_action_installs_this_release_and_runs_check() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["version"]["default"] == __version__
    runs = "\n".join(step.get("run", "") for step in action["runs"]["steps"])
    assert 'harden-ci==$HARDEN_CI_VERSION' in runs and "harden-ci\" check" in runs
    assert "${{" not in runs  # inputs reach scripts through env only


def test_the_action_uses_only_catalog_pins() -> None:
    for step in _action()["runs"]["steps"]:
        if "uses" not in step:
            continue
        action, ref = step["uses"].split("@")
        pin = catalog().get(action)
        assert ref == pin.sha
    text = (ROOT / "action.yml").read_text("utf-8")
    for action, ref, tag in re.findall(r"uses: (\S+)@(\S+) # (\S+)", text):
        assert (ref, tag) == (catalog().get(action).sha, catalog().get(action).tag)


@pytest.mark.slow
def test_the_action_passes_zizmor_and_its_schema() -> None:
    import validators

    zizmor = validators.find_tool("zizmor")
    for persona in ("regular", "pedantic", "auditor"):
        result = subprocess.run([zizmor, "--offline", "--persona", persona, "action.yml"],
                                cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    checker = validators.find_tool("check-jsonschema")
    result = subprocess.run([checker, "--builtin-schema", "vendor.github-actions", "action.yml"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
