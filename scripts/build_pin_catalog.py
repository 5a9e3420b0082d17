#!/usr/bin/env python3
"""Build harden_ci/data/pins.json, the pin catalog, from the project's reference folder.

The catalog is derived, never typed: every tag, SHA, date, runtime and note comes from
`action-pins.tsv`, every input and output name from the action's own `action.yml`. The only
policy written here is which pins may be used and how they are referenced:

- a release whose runtime is node20 or older is excluded (Node 20 is gone from hosted runners);
- slsa-framework reusable workflows are referenced by full tag, as their README requires;
- aquasecurity/trivy-action is SHA-only, because its tags were hijacked.

The reference folder (`reference/`: `action-pins.tsv` and each action's `action.yml`) is
data this repository owns; `--refresh-from DIR` replaces it with a newer reference folder
of the same layout (for example one a maintainer read from the actions' repositories) and
then rebuilds the catalog.

Usage:
    python scripts/build_pin_catalog.py                       # (re)write harden_ci/data/pins.json
    python scripts/build_pin_catalog.py --check               # exit 1 with a diff if it is stale
    python scripts/build_pin_catalog.py --refresh-from DIR    # copy DIR into reference/, rebuild
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = REPO / "reference"
DEFAULT_OUTPUT = REPO / "harden_ci" / "data" / "pins.json"

COLUMNS = ["action", "tag", "sha", "date", "major_tag", "runtime", "note"]
SHA_RE = re.compile(r"[0-9a-f]{40}")
NODE_RE = re.compile(r"node(\d+)")
OLDEST_ALLOWED_NODE = 24  # node20 and older no longer run on GitHub-hosted runners
REUSABLE = "reusable-workflow"
TAG_STYLE_OWNER = "slsa-framework/"
TRIVY = "aquasecurity/trivy-action"
TRIVY_ADVISORY = "GHSA-69fq-xp46-6x23"


class ReferenceError(Exception):
    """The reference is missing or inconsistent; the catalog is not written."""


def read_rows(reference: Path) -> list[dict[str, str]]:
    tsv = reference / "action-pins.tsv"
    if not tsv.is_file():
        raise ReferenceError(f"{tsv} not found (pass --reference DIR)")
    with tsv.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if reader.fieldnames != COLUMNS:
            raise ReferenceError(f"{tsv}: expected columns {COLUMNS}, got {reader.fieldnames}")
        return list(reader)


def read_metadata(reference: Path, action: str) -> dict[str, Any]:
    folder = reference / "actions" / action
    for name in ("action.yml", "action.yaml"):
        if (folder / name).is_file():
            data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ReferenceError(f"{folder / name}: not a mapping")
            return data
    raise ReferenceError(f"{folder}: no action.yml or action.yaml")


def is_required(spec: object) -> bool:
    """`required: true` with no default: the caller must pass it."""
    if not isinstance(spec, dict):
        return False
    required = spec.get("required")
    flagged = required is True or str(required).lower() == "true"
    return flagged and spec.get("default") is None


def policy(row: dict[str, str]) -> dict[str, Any]:
    """How a pin may be used: allowed/excluded_reason, ref_style/exception, note."""
    action, runtime, tag = row["action"], row["runtime"], row["tag"]
    allowed, excluded_reason = True, None
    node = NODE_RE.fullmatch(runtime)
    if node and int(node.group(1)) < OLDEST_ALLOWED_NODE:
        allowed = False
        excluded_reason = (
            f"runs on {runtime}: Node 20 and older were removed from GitHub-hosted runners, "
            f"so {tag} cannot run there; pin a node{OLDEST_ALLOWED_NODE} release instead"
        )
    ref_style, exception = "sha", None
    if runtime == REUSABLE and action.startswith(TAG_STYLE_OWNER):
        ref_style = "tag"
        exception = (
            f"referenced by its full release tag @{tag}, not by SHA: the slsa-github-generator "
            "README requires reusable workflows to be called by full tag @vX.Y.Z (not by SHA "
            "or @vX) because slsa-verifier checks the ref; the SHA is for cross-checking only"
        )
    note = row["note"]
    if action == TRIVY:
        if ref_style != "sha":
            raise ReferenceError(f"{TRIVY} must be SHA-pinned")
        note = (
            f"SHA-only: its tags were hijacked ({TRIVY_ADVISORY}); never reference it by tag. "
            + note
        )
    return {
        "allowed": allowed,
        "excluded_reason": excluded_reason,
        "ref_style": ref_style,
        "exception": exception,
        "note": note,
    }


def entry(reference: Path, row: dict[str, str]) -> dict[str, Any]:
    action, runtime = row["action"], row["runtime"]
    if not SHA_RE.fullmatch(row["sha"]):
        raise ReferenceError(f"{action}: sha {row['sha']!r} is not 40 lowercase hex digits")
    inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    if runtime != REUSABLE:  # reusable workflows have no action.yml
        meta = read_metadata(reference, action)
        using = str((meta.get("runs") or {}).get("using", ""))
        if using != runtime:
            raise ReferenceError(f"{action}: tsv runtime {runtime!r} != runs.using {using!r}")
        inputs = meta.get("inputs") or {}
        outputs = meta.get("outputs") or {}
    return {
        "tag": row["tag"],
        "sha": row["sha"],
        "date": row["date"],
        "runtime": runtime,
        "inputs": sorted(inputs),
        "required_inputs": sorted(k for k, v in inputs.items() if is_required(v)),
        "outputs": sorted(outputs),
        **policy(row),
    }


def build(reference: Path) -> str:
    """The catalog's exact text for this reference."""
    pins: dict[str, Any] = {}
    for row in read_rows(reference):
        if row["action"] in pins:
            raise ReferenceError(f"{row['action']}: listed twice")
        pins[row["action"]] = entry(reference, row)
    catalog = {
        "comment": "Generated by scripts/build_pin_catalog.py from reference/; "
        "do not edit by hand.",
        "pins": pins,
    }
    return json.dumps(catalog, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def refresh(source: Path, reference: Path) -> None:
    """Replace the project's reference folder with `source` (same layout), after checking
    that `source` builds a catalog at all."""
    build(source)
    if source.resolve() == reference.resolve():
        return
    if reference.exists():
        shutil.rmtree(reference / "actions", ignore_errors=True)
    (reference / "actions").parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "action-pins.tsv", reference / "action-pins.tsv")
    shutil.copytree(source / "actions", reference / "actions")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff if stale")
    parser.add_argument("--refresh-from", type=Path, metavar="DIR",
                        help="copy a newer reference folder into --reference first")
    args = parser.parse_args(argv)
    try:
        if args.refresh_from is not None:
            refresh(args.refresh_from, args.reference)
        fresh = build(args.reference)
    except (ReferenceError, OSError, yaml.YAMLError) as exc:
        print(f"build_pin_catalog: {exc}", file=sys.stderr)
        return 2
    output: Path = args.output
    current = output.read_text(encoding="utf-8") if output.is_file() else ""
    if args.check:
        if current == fresh:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True), fresh.splitlines(keepends=True),
            f"{output} (committed)", f"{output} (fresh build)",
        )
        sys.stdout.writelines(diff)
        print(f"{output} is stale: run python scripts/build_pin_catalog.py", file=sys.stderr)
        return 1
    if current != fresh:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
