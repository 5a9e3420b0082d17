"""The act stubs (tests/act/actions) stand in for the real actions faithfully.

Static: every stub names the source it follows (file:lines), declares exactly the real
action's inputs (names, required flags, defaults, from reference/actions), the outputs of the
real action, and every action harden-ci's plan code can emit has a stub.

Behaviour under act (a small workflow per stub family, green where the real action succeeds
and red, with its message, where it fails) is in test_act_stubs_toolchains.py,
test_act_stubs_store.py and test_act_stubs_scanners.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
STUBS = REPO / "tests" / "act" / "actions"
REFERENCE = REPO / "reference" / "actions"
PINS: dict[str, Any] = json.loads((REPO / "harden_ci" / "data" / "pins.json")
                                  .read_text(encoding="utf-8"))["pins"]
HEADER = re.compile(r"^# Stub of (?P<action>\S+)@(?P<tag>\S+) for the act harness \(tests/act\)\.\n"
                    r"# Follows: (?P<follows>.+)$", re.MULTILINE)
CITATION = re.compile(r"[\w./-]+\.\w+:\d+(?:-\d+)?")


def stub_actions() -> list[str]:
    return sorted(str(p.parent.relative_to(STUBS)) for p in STUBS.rglob("action.yml")
                  if "_lib" not in p.parts)


def plan_actions() -> set[str]:
    """Catalog names that appear in harden-ci's plan code (what it can emit)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "harden_ci" / "plan").rglob("*.py"))
    return {name for name, pin in PINS.items()
            if f'"{name}"' in text and pin.get("runtime") != "reusable-workflow"
            and not name.endswith(".yml")}


def test_there_are_stubs_to_check() -> None:
    assert len(stub_actions()) >= 10, stub_actions()


@pytest.mark.parametrize("action", stub_actions())
def test_stub_header_names_the_source_it_follows(action: str) -> None:
    text = (STUBS / action / "action.yml").read_text(encoding="utf-8")
    match = HEADER.search(text)
    assert match, f"{action}: no '# Stub of ... / # Follows: ...' header"
    assert match["action"] == action
    assert match["tag"] == PINS[action]["tag"], "the stub follows another tag than the pin"
    assert CITATION.findall(match["follows"]), f"{action}: no file:lines citation"


@pytest.mark.parametrize("action", stub_actions())
def test_stub_declares_the_real_inputs_and_outputs(action: str) -> None:
    stub = yaml.safe_load((STUBS / action / "action.yml").read_text(encoding="utf-8"))
    real = yaml.safe_load((REFERENCE / action / "action.yml").read_text(encoding="utf-8"))
    real_inputs = real.get("inputs") or {}
    stub_inputs = stub.get("inputs") or {}
    assert list(stub_inputs) == list(real_inputs)
    for name, spec in real_inputs.items():
        spec, mine = spec or {}, stub_inputs[name] or {}
        assert bool(mine.get("required", False)) == bool(spec.get("required", False)), name
        assert mine.get("default") == spec.get("default"), name
    assert set(stub.get("outputs") or {}) == set(real.get("outputs") or {})
    assert stub["runs"]["using"] == "composite"


@pytest.mark.parametrize("action", stub_actions())
def test_the_readme_lists_the_stub_with_its_sources(action: str) -> None:
    header = HEADER.search((STUBS / action / "action.yml").read_text(encoding="utf-8"))
    readme = (REPO / "tests" / "act" / "README.md").read_text(encoding="utf-8")
    assert header and f"| `{action}` | {header['tag']} |" in readme and header["follows"] in readme


def test_reusable_workflow_stubs_name_their_source_and_are_listed() -> None:
    readme = (REPO / "tests" / "act" / "README.md").read_text(encoding="utf-8")
    found = sorted(STUBS.glob("*/*/.github/workflows/*.yml"))
    assert found, "no reusable-workflow stub"
    for path in found:
        action = str(path.relative_to(STUBS))
        header = HEADER.search(path.read_text(encoding="utf-8"))
        assert header and header["action"] == action and header["tag"] == PINS[action]["tag"]
        assert CITATION.findall(header["follows"]) and f"| `{action}` |" in readme
        assert "workflow_call" in yaml.safe_load(path.read_text(encoding="utf-8"))[True]


def test_every_action_the_plan_can_emit_has_a_stub() -> None:
    emitted = plan_actions()
    assert {"actions/checkout", "actions/setup-node", "actions/setup-go"} <= emitted
    missing = sorted(a for a in emitted if not (STUBS / a / "action.yml").is_file())
    assert not missing, f"no stub for {missing}"
