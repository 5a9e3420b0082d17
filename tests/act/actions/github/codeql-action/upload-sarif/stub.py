"""github/codeql-action/upload-sarif stub: the SARIF checks the action makes before it
uploads (path exists, JSON, SARIF 2.1.0 with runs and results, one upload per category and
tool per job), and the fork pull request's read-only token refusing the upload. The upload
itself (code scanning API) is recorded as stubbed; the processed SARIF is kept in the store."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def sarif_files(path: str) -> list[Path]:
    target = Path(path)
    if not target.exists():
        raise s.RunError(f"Path does not exist: {path}")
    if target.is_dir():
        found = sorted(p for p in target.rglob("*.sarif") if p.is_file())
        if not found:
            raise s.RunError(f'No SARIF files found to upload in "{path}".')
        return found
    return [target]


def validate(log: dict[str, Any], path: Path) -> None:
    """The parts of the SARIF 2.1.0 schema a log most often breaks, then the results count."""
    errors = []
    if log.get("version") != "2.1.0":
        errors.append('- instance.version is not one of enum values: 2.1.0')
    if not isinstance(log.get("runs"), list):
        errors.append('- instance requires property "runs"')
    for index, run in enumerate(log.get("runs") or []):
        driver = (run.get("tool") or {}).get("driver") if isinstance(run, dict) else None
        if not isinstance(driver, dict) or not isinstance(driver.get("name"), str):
            errors.append(f'- instance.runs[{index}] requires property "tool" with tool.driver.name')
    if errors:
        raise s.RunError(f'Unable to upload "{path}" as it is not valid SARIF:\n' + "\n".join(errors))
    if not isinstance(log.get("runs"), list):
        raise s.RunError("Invalid SARIF. Missing 'runs' array.")
    for run in log["runs"]:
        if not isinstance(run.get("results"), list):
            raise s.RunError("Invalid SARIF. Missing 'results' array in run.")


def main(c: s.Call) -> None:
    sarif_path = c.get("sarif_file", required=True)
    checkout = c.get("checkout_path", required=True)
    category = c.get("category") or None
    wait = c.get("wait-for-processing", required=True)
    files = sarif_files(sarif_path)
    runs: list[dict[str, Any]] = []
    for path in files:
        try:
            log = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise s.RunError(f"Invalid SARIF. JSON syntax error: {err}") from err
        if not isinstance(log, dict):
            raise s.RunError(f'Unable to upload "{path}" as it is not valid SARIF:\n'
                             "- instance is not of a type(s) object")
        validate(log, path)
        runs.extend(log["runs"])
    if category is not None:
        automation = category if category.endswith("/") else category + "/"
        for run in runs:
            run.setdefault("automationDetails", {"id": automation})
    for run in runs:
        run_id = (run.get("automationDetails") or {}).get("id")
        tool = run.get("tool", {}).get("driver", {}).get("name")
        key = "CODEQL_UPLOAD_SARIF_" + "_".join(
            re.sub(r"[^a-zA-Z0-9_]", "_", v if v is not None else "_").upper() for v in (run_id, tool))
        if os.environ.get(key):
            raise s.RunError(
                "Aborting upload: only one run of the codeql/analyze or codeql/upload-sarif actions is "
                "allowed per job per tool/category. The easiest fix is to specify a unique value for the "
                "`category` input. If .runs[].automationDetails.id is specified in the sarif file, that "
                f"will take precedence over your configured `category`. Category: ({run_id or 'none'}) "
                f"Tool: ({tool or 'none'})")
        s.export_variable(key, key)
    payload = s.event()
    head = (payload.get("pull_request") or {}).get("head", {}).get("repo", {})
    if os.environ.get("GITHUB_EVENT_NAME") == "pull_request" and (
            head.get("fork") or head.get("full_name", os.environ["GITHUB_REPOSITORY"])
            != os.environ["GITHUB_REPOSITORY"]):
        # A fork's pull_request run gets a read-only token: the API answers 403.
        s.warning("Resource not accessible by integration")
        raise s.RunError("Resource not accessible by integration")
    c.stub("code scanning upload", f"{len(runs)} run(s) from {', '.join(map(str, files))}")
    target = s.store() / "sarif" / f"{s.next_id('sarif')}.sarif"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"version": "2.1.0", "runs": runs, "checkout_path": checkout}),
                      encoding="utf-8")
    sarif_id = f"act-stub-{target.stem}"
    s.info("Successfully uploaded results")
    s.set_output("sarif-id", sarif_id)
    s.set_output("sarif-ids", json.dumps({"code-scanning": {"statusReport": {}, "sarifID": sarif_id}}))
    if wait == "true":
        c.stub("wait-for-processing", "no code scanning service")
    c.note(f"validated {len(files)} file(s), category {category}")


if __name__ == "__main__":
    s.run_stub("github/codeql-action/upload-sarif", main, in_workspace=True)
