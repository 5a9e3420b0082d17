"""Shadow traffic in the canary job: the new version's answers to mirrored live prompts are
compared with the live version's answers on the same prompts (`gate llm-shadow`), not
scored against gold (live prompts have no gold ids, so scoring them failed every time).

The step runs as rendered, with the real gate behind `$RUNNER_TEMP/harden-ci/bin/harden-ci`
(the path the job's hashed install gives it)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from test_scripts import Runner, rendered, script_step

SPEC: dict[str, Any] = {
    "version": 1, "project": {"name": "tutor", "registry": "ghcr.io/acme"},
    "services": {"chat": {"path": "chat", "language": "node", "kind": "llm",
                          "dockerfile": "chat/Dockerfile"}},
    "gates": {"secret_scan": {}},
    "environments": {"production": {"deploy": "./deploy.sh", "url": "https://example.com"}},
    "delivery": {"canary": {"environment": "production", "shift": "./shift.sh",
                            "rollback": "./rollback.sh", "shadow_traffic": True,
                            "shadow": "python mirror.py", "shadow_similarity": 0.7,
                            "shadow_agreement": 0.75,
                            "metrics": {"prometheus": "https://prom.example.com"}}},
}


def _steps(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    workflows = rendered(spec)
    canary = workflows["harden-ci-release.yml"]["jobs"]["canary"]
    names = [step["name"] for step in canary["steps"]]
    mirror = canary["steps"][names.index("Mirror live prompts to the new version (shadow)")]
    return mirror, script_step(workflows, "llm-shadow.sh", "canary")


def _answers(path: Path, answers: dict[str, str]) -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 9}
    path.write_text("".join(json.dumps({"id": key, "output": value, "usage": usage}) + "\n"
                            for key, value in answers.items()), "utf-8")


@pytest.fixture
def gate(tmp_path: Path) -> Runner:
    runner = Runner(tmp_path)
    runner.install_harden_ci()
    return runner


LIVE = {"p1": "Paris is the capital of France.", "p2": "Water boils at 100 degrees Celsius.",
        "p3": "The Pacific is the largest ocean.", "p4": "Light travels about 300,000 km/s."}


@pytest.mark.parametrize("candidate, passed", [
    ({**LIVE, "p1": "The capital of France is Paris."}, True),  # a paraphrase, three verbatim
    ({**LIVE, "p1": "Berlin.", "p2": "It never boils."}, False),  # half disagree: under 75%
    ({}, False),  # nothing answered: missing data is never a pass
    ({"x1": "unrelated prompt"}, False),  # no prompt answered by both
])
def test_the_shadow_compares_with_the_live_answers(gate: Runner, candidate: dict[str, str],
                                                   passed: bool) -> None:
    mirror, compare = _steps(SPEC)
    assert mirror["env"] == {"HARDEN_CI_SHADOW_LIVE": "shadow-live.jsonl",
                             "HARDEN_CI_SHADOW_CANDIDATE": "shadow-candidate.jsonl",
                             "COMMAND": "python mirror.py"}
    assert (compare["env"]["THRESHOLD"], compare["env"]["MIN_AGREEMENT"]) == ("0.7", "0.75")
    _answers(gate.workspace / "shadow-live.jsonl", LIVE)
    _answers(gate.workspace / "shadow-candidate.jsonl", candidate)
    result = gate.run(compare)
    assert (result.returncode == 0) is passed, result.stdout + result.stderr
    assert result.returncode in (0, 1), result.stderr


def test_the_shadow_needs_no_gold_and_uses_the_llm_checks_schema_when_set(gate: Runner) -> None:
    spec = copy.deepcopy(SPEC)
    spec["tests"] = {"llm": {"command": "python evals/run.py", "gold": "evals/gold.jsonl",
                             "schema": "evals/answer.schema.json"}}
    _, compare = _steps(spec)
    assert "HARDEN_CI_LLM_GOLD" not in compare["env"]
    assert compare["env"]["HARDEN_CI_LLM_SCHEMA"] == "evals/answer.schema.json"
    (gate.workspace / "evals").mkdir()
    (gate.workspace / "evals" / "answer.schema.json").write_text(
        json.dumps({"type": "string", "maxLength": 40}), "utf-8")
    _answers(gate.workspace / "shadow-live.jsonl", LIVE)
    _answers(gate.workspace / "shadow-candidate.jsonl", LIVE)
    assert gate.run(compare).returncode == 0
    # JSON lines whose outputs break the schema fail, however similar
    _answers(gate.workspace / "shadow-candidate.jsonl",
             {key: json.dumps({"answer": value}) for key, value in LIVE.items()})
    assert gate.run(compare).returncode == 1
