"""The validator harness is not a hollow pass.

A deliberately bad workflow gets findings from every validator, a small hardened one is
clean under all of them, broken inputs and missing tools raise instead of passing, and the
zizmor pedantic and auditor requirements written down in validators.py still hold.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import validators
from validators import ValidatorError

pytestmark = pytest.mark.slow

CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"

GOOD = f"""\
name: ci
on:
  pull_request:
  push:
    branches: [main]
permissions: {{}}
concurrency:
  group: ${{{{ github.workflow }}}}-${{{{ github.ref }}}}
  cancel-in-progress: ${{{{ github.event_name == 'pull_request' }}}}
jobs:
  test:
    name: test
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    permissions:
      contents: read
    steps:
      - name: Check out
        uses: {CHECKOUT}
        with:
          persist-credentials: false
      - name: Say hello
        run: echo "hello"
"""

# Unpinned action, event data in run:, no permissions anywhere, unquoted $X, and a
# schema violation (`timeout-minute`, a typo) that zizmor's own loader tolerates.
BAD = """\
on: pull_request
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minute: 10
    steps:
      - uses: actions/checkout@v4
      - name: greet
        run: |
          echo "${{ github.event.pull_request.title }}"
          rm $X
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _idents(findings: list[str]) -> set[str]:
    return {f.split("zizmor[", 1)[1].split("]", 1)[0] for f in findings if "zizmor[" in f}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository-shaped directory holding the bad workflow."""
    _write(tmp_path / ".github" / "workflows" / "bad.yml", BAD)
    return tmp_path


# --------------------------------------------------------------------------- the two fixtures


def test_bad_workflow_gets_findings_from_every_validator(repo: Path) -> None:
    results = validators.all_validators(repo)
    assert list(results) == list(validators.VALIDATORS)
    for name, findings in results.items():
        assert findings, f"{name} found nothing in a bad workflow\n{validators.report(results)}"

    regular = _idents(results["zizmor-regular"])
    assert {"unpinned-uses", "template-injection", "excessive-permissions"} <= regular
    assert "artipacked" in regular
    pedantic = _idents(results["zizmor-pedantic"])
    assert regular | {"anonymous-definition", "concurrency-limits"} <= pedantic
    assert pedantic <= _idents(results["zizmor-auditor"])

    actionlint = "\n".join(results["actionlint"])
    assert '"timeout-minute"' in actionlint
    assert "github.event.pull_request.title" in actionlint

    assert any("timeout-minute" in f for f in results["workflow-schema"])

    (shellcheck,) = results["shellcheck"]
    assert "bad.yml:11:" in shellcheck  # the `rm $X` line of the workflow
    assert "SC2086" in shellcheck
    assert "job 'build' step 'greet'" in shellcheck


@pytest.mark.parametrize("layout", ["repo", "bare-dir", "file"])
def test_known_good_workflow_is_clean_under_every_validator(tmp_path: Path, layout: str) -> None:
    if layout == "repo":
        _write(tmp_path / ".github" / "workflows" / "ci.yml", GOOD)
        target: Path = tmp_path
    elif layout == "bare-dir":
        _write(tmp_path / "ci.yml", GOOD)
        target = tmp_path
    else:
        target = _write(tmp_path / "ci.yml", GOOD)
    results = validators.all_validators(target)
    assert not any(results.values()), validators.report(results)


def test_directory_collects_every_workflow(tmp_path: Path) -> None:
    _write(tmp_path / "a.yml", GOOD)
    _write(tmp_path / "b.yaml", BAD)
    _write(tmp_path / "notes.txt", "not a workflow")
    assert [p.name for p in validators.workflow_files(tmp_path)] == ["a.yml", "b.yaml"]
    assert validators.actionlint(tmp_path)  # b.yaml was linted
    assert all("b.yaml" in f for f in validators.zizmor(tmp_path, "regular"))


def test_fast_schema_launch_gives_the_same_verdicts(tmp_path: Path) -> None:
    _write(tmp_path / "bad.yml", BAD)
    _write(tmp_path / "good.yml", GOOD)
    _write(tmp_path / "broken.yml", "on: [push\njobs: {")
    assert validators.schema_command(fast=True) != validators.schema_command(fast=False)
    fast = validators.workflow_schema(tmp_path, fast=True)
    assert fast == validators.workflow_schema(tmp_path, fast=False)
    assert len(fast) == 2 and not any("good.yml" in f for f in fast)


# --------------------------------------------------------------------------- never a silent pass


@pytest.mark.parametrize(
    "check",
    [
        lambda p: validators.zizmor(p, "regular"),
        lambda p: validators.zizmor(p, "pedantic"),
        lambda p: validators.zizmor(p, "auditor"),
        validators.actionlint,
        validators.workflow_schema,
        validators.shellcheck_run_blocks,
        validators.all_validators,
    ],
    ids=["zizmor-regular", "zizmor-pedantic", "zizmor-auditor", "actionlint", "schema",
         "shellcheck", "all"],
)
def test_missing_inputs_raise(tmp_path: Path, check: Callable[[validators.Paths], object]) -> None:
    with pytest.raises(ValidatorError, match="no such"):
        check([tmp_path / "missing.yml"])
    with pytest.raises(ValidatorError, match=r"no \*\.yml"):
        check(tmp_path)  # an empty directory
    with pytest.raises(ValidatorError):
        check([])


def test_missing_tool_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workflow = _write(tmp_path / "ci.yml", GOOD)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    checks: list[Callable[[], list[str]]] = [
        lambda: validators.zizmor(workflow, "regular"),
        lambda: validators.actionlint(workflow),
        lambda: validators.workflow_schema(workflow),
        lambda: validators.shellcheck_run_blocks(workflow),
    ]
    for check in checks:
        with pytest.raises(ValidatorError, match="not found"):
            check()


def test_workflow_zizmor_cannot_load_is_a_finding_and_the_rest_are_audited(
    tmp_path: Path,
) -> None:
    # Without --strict-collection zizmor 1.32 skips such a file with a log line only.
    _write(tmp_path / "a-broken.yml", GOOD.replace("timeout-minutes: 10", "timeout-minutes: ten"))
    _write(tmp_path / "b-unpinned.yml", GOOD.replace(CHECKOUT, "actions/checkout@v4"))
    _write(tmp_path / "c-good.yml", GOOD)
    findings = validators.zizmor(tmp_path, "regular")
    assert any("a-broken.yml" in f and "zizmor[load]" in f for f in findings), findings
    assert any("b-unpinned.yml" in f and "unpinned-uses" in f for f in findings), findings
    assert not any("c-good.yml" in f for f in findings)


def test_ignore_comments_do_not_hide_findings_by_default(tmp_path: Path) -> None:
    workflow = _write(
        tmp_path / "ci.yml",
        GOOD.replace(
            f"uses: {CHECKOUT}\n        with:\n          persist-credentials: false\n",
            f"uses: {CHECKOUT.split(' #')[0]} # zizmor: ignore[artipacked]\n",
        ),
    )
    (finding,) = validators.zizmor(workflow, "regular")
    assert "artipacked" in finding and "ignore comment" in finding
    assert validators.zizmor(workflow, "regular", honor_ignores=True) == []


def test_zizmor_rejects_other_personas(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        validators.zizmor(tmp_path, "strict")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- lint.cjs contract


def _lint(*args: str) -> subprocess.CompletedProcess[str]:
    node = validators.find_tool("node")
    return subprocess.run(
        [node, str(validators.LINT_CJS), *args], capture_output=True, text=True, check=False
    )


def test_lint_cjs_exit_codes(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.yml", GOOD)
    bad = _write(tmp_path / "bad.yml", BAD)
    assert _lint().returncode == 2
    assert _lint(str(tmp_path / "missing.yml")).returncode == 2
    assert _lint(str(good), str(tmp_path / "missing.yml")).returncode == 2
    assert _lint(str(tmp_path)).returncode == 2  # a directory is not a file
    assert _lint("--bogus-option").returncode == 2
    clean = _lint(str(good))
    assert (clean.returncode, clean.stdout.strip()) == (0, "[]")
    dirty = _lint(str(good), str(bad))
    assert dirty.returncode == 1
    assert '"path": "' + str(bad) in dirty.stdout
    assert str(good) not in dirty.stdout


# --------------------------------------------------------------------------- run: extraction


def test_shellcheck_sees_scripts_as_github_runs_them(tmp_path: Path) -> None:
    workflow = _write(
        tmp_path / "ci.yml",
        """\
name: ci
on: push
env:
  mode: fast
jobs:
  a:
    name: a
    runs-on: ubuntu-24.04
    steps:
      - name: expressions become a placeholder
        run: echo "${{ github.sha }}" ${{ matrix.x }}
      - name: env names count as assigned
        env:
          target_dir: out
        run: |
          mkdir -p "$target_dir" "$mode"
      - name: pwsh is skipped
        shell: pwsh
        run: rm $X
      - id: explicit-bash
        shell: bash
        run: |
          true
          cd $DIR
      - name: sh
        shell: sh
        run: |
          [[ -n "$A" ]]
  b:
    name: b
    runs-on: windows-2022
    steps:
      - name: default shell on windows is pwsh
        run: rm $X
""",
    )
    blocks = validators.run_blocks(workflow)
    assert [(b.job, b.step, b.shell, b.pipefail) for b in blocks] == [
        ("a", "expressions become a placeholder", "bash", False),
        ("a", "env names count as assigned", "bash", False),
        ("a", "explicit-bash", "bash", True),
        ("a", "sh", "sh", False),
    ]
    findings = validators.shellcheck_run_blocks(workflow)
    assert len(findings) == 2, findings
    cd, sh = findings
    assert "ci.yml:24:" in cd and "step 'explicit-bash'" in cd and "SC2086" in cd
    assert "ci.yml:28:" in sh and "step 'sh'" in sh and "SC3010" in sh  # [[ ]] in sh


# --------------------------------------------------------------------------- pedantic requirements


def _without(text: str, *lines: str) -> str:
    for line in lines:
        assert line in text, line
        text = text.replace(line, "", 1)
    return text


WRITE_SCOPE = "      contents: read\n      id-token: write"

PEDANTIC_CASES = {
    # mutation of GOOD -> the pedantic-only finding it causes (None: still clean)
    "no workflow name": (_without(GOOD, "name: ci\n"), "anonymous-definition"),
    "no job name": (_without(GOOD, "    name: test\n"), "anonymous-definition"),
    "no step names": (
        GOOD.replace("- name: Check out\n        uses:", "- uses:").replace(
            "- name: Say hello\n        run:", "- run:"
        ),
        None,
    ),
    "no concurrency": (
        _without(GOOD, GOOD[GOOD.index("concurrency:") : GOOD.index("jobs:")]),
        "concurrency-limits",
    ),
    "string concurrency": (
        GOOD.replace(GOOD[GOOD.index("concurrency:") : GOOD.index("jobs:")], "concurrency: ci\n"),
        "concurrency-limits",
    ),
    "no timeout-minutes": (_without(GOOD, "    timeout-minutes: 10\n"), None),
    "no workflow permissions": (_without(GOOD, "permissions: {}\n"), "excessive-permissions"),
    "write scope, inline comment": (
        GOOD.replace("      contents: read", WRITE_SCOPE + "  # keyless signing"),
        None,
    ),
    "write scope, no comment": (
        GOOD.replace("      contents: read", WRITE_SCOPE),
        "undocumented-permissions",
    ),
    "write scope, comment above": (
        GOOD.replace("      contents: read", "      # keyless signing\n" + WRITE_SCOPE),
        "undocumented-permissions",
    ),
    "safe context in run": (
        GOOD.replace('run: echo "hello"', 'run: echo "${{ github.sha }}"'),
        "template-injection",
    ),
    "container by tag": (
        GOOD.replace("    timeout-minutes: 10\n", "    timeout-minutes: 10\n    container: node:22\n"),
        "unpinned-images",
    ),
    "runs-on ubuntu-latest": (GOOD.replace("ubuntu-24.04", "ubuntu-latest"), None),
}


@pytest.mark.parametrize("case", list(PEDANTIC_CASES))
def test_zizmor_pedantic_requirements(tmp_path: Path, case: str) -> None:
    text, expected = PEDANTIC_CASES[case]
    workflow = _write(tmp_path / "ci.yml", text)
    assert validators.zizmor(workflow, "regular") == []
    pedantic = _idents(validators.zizmor(workflow, "pedantic"))
    assert pedantic == (set() if expected is None else {expected})


# --------------------------------------------------------------------------- auditor requirements

SECRET_STEP = '      - name: Say hello\n        run: echo "hello"\n'


def _reading(value: str, job_keys: str = "") -> str:
    """GOOD with its run step reading `value` through env:, and `job_keys` on the job."""
    text = GOOD.replace(SECRET_STEP, SECRET_STEP + f"        env:\n          TOKEN: {value}\n")
    return text.replace("    timeout-minutes: 10\n", "    timeout-minutes: 10\n" + job_keys)


FORK = "github.event.pull_request.head.repo.full_name != github.repository"
AUDITOR_CASES = {
    # a job reading a secret -> the auditor-only finding it causes (None: clean)
    "secret, no environment": (_reading('"${{ secrets.API_KEY }}"'), "secrets-outside-env"),
    "secret withheld from forks, no environment": (
        _reading(f"\"${{{{ !({FORK}) && secrets.API_KEY || '' }}}}\""), "secrets-outside-env"),
    "secret, environment by name": (_reading('"${{ secrets.API_KEY }}"', "    environment: ci\n"),
                                    None),
    "secret, environment mapping": (
        _reading('"${{ secrets.API_KEY }}"', '    environment:\n      name: "ci"\n'), None),
    "secret withheld from forks, environment": (
        _reading(f"\"${{{{ !({FORK}) && secrets.API_KEY || '' }}}}\"",
                 '    environment:\n      name: "ci"\n'), None),
    "GITHUB_TOKEN, no environment": (_reading('"${{ secrets.GITHUB_TOKEN }}"'), None),
    "github.token, no environment": (_reading('"${{ github.token }}"'), None),
}


@pytest.mark.parametrize("case", list(AUDITOR_CASES))
def test_zizmor_auditor_requirements(tmp_path: Path, case: str) -> None:
    text, expected = AUDITOR_CASES[case]
    workflow = _write(tmp_path / "ci.yml", text)
    assert validators.zizmor(workflow, "regular") == []
    assert validators.zizmor(workflow, "pedantic") == []
    findings = validators.zizmor(workflow, "auditor")
    assert _idents(findings) == (set() if expected is None else {expected}), findings
    # The rest of the toolchain accepts every form written here, so each can be generated.
    assert validators.actionlint(workflow) == []
    assert validators.workflow_schema(workflow) == []


def test_tools_resolve_next_to_the_interpreter_first() -> None:
    beside = Path(sys.executable).parent / "zizmor"
    if beside.is_file() and os.access(beside, os.X_OK):
        assert validators.find_tool("zizmor") == str(beside)
    else:
        pytest.fail(f"zizmor is not installed next to {sys.executable}")
