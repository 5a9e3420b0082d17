"""actions/download-artifact stub: artifacts of this run from the harness store, by name,
by ids, by pattern or all, into the path the real action picks for each."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

BEHAVIOURS = ["ignore", "info", "warn", "error"]


def stored() -> list[dict[str, object]]:
    root = s.artifacts_dir()
    out = []
    for meta in sorted(root.glob("*/artifact.json")) if root.is_dir() else []:
        data = json.loads(meta.read_text(encoding="utf-8"))
        data["dir"] = str(meta.parent)
        out.append(data)
    return out


def digest_of(artifact: dict[str, object]) -> str:
    digest = hashlib.sha256()
    for rel in artifact["files"]:  # type: ignore[attr-defined]
        digest.update(str(rel).encode() + b"\0" + (Path(str(artifact["dir"])) / "files" / rel).read_bytes())
    return digest.hexdigest()


def main(c: s.Call) -> None:
    name = c.get("name")
    path = c.get("path")
    pattern = c.get("pattern")
    merge = c.boolean("merge-multiple")
    ids_input = c.get("artifact-ids")
    c.boolean("skip-decompress")
    behaviour = c.get("digest-mismatch") or "error"
    if behaviour not in BEHAVIOURS:
        raise s.RunError(f"Invalid value for 'digest-mismatch': '{behaviour}'. Valid options are: "
                         f"{', '.join(BEHAVIOURS)}")
    path = path or os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    if path.startswith("~"):
        path = path.replace("~", str(Path.home()), 1)
    if name and ids_input:
        raise s.RunError("Inputs 'name' and 'artifact-ids' cannot be used together. Please specify only one.")
    resolved = Path(os.path.abspath(path))
    repository, run_id = c.get("repository"), c.get("run-id")
    if c.get("github-token") and (repository != os.environ.get("GITHUB_REPOSITORY")
                                  or run_id != os.environ.get("GITHUB_RUN_ID")):
        c.stub("cross-run download", f"only this run's artifacts are here ({repository} run {run_id})")
    artifacts = stored()
    if name:
        s.info("Downloading single artifact")
        artifacts = [a for a in artifacts if a["name"] == name]
        if not artifacts:
            raise s.RunError(f"Artifact not found for name: {name}\n        Please ensure that your "
                             "artifact is not expired and the artifact was uploaded using a compatible "
                             "version of toolkit/upload-artifact.")
    elif ids_input:
        s.info("Downloading artifacts by ID")
        raw = [x.strip() for x in ids_input.split(",") if x.strip()]
        if not raw:
            raise s.RunError("No valid artifact IDs provided in 'artifact-ids' input")
        ids = []
        for item in raw:
            if not item.lstrip("-").isdigit():
                raise s.RunError(f"Invalid artifact ID: '{item}'. Must be a number.")
            ids.append(int(item))
        artifacts = [a for a in artifacts if a["id"] in ids]
        if not artifacts:
            raise s.RunError("None of the provided artifact IDs were found")
        missing = [i for i in ids if i not in {a["id"] for a in artifacts}]
        if missing:
            s.warning(f"Could not find the following artifact IDs: {', '.join(map(str, missing))}")
    elif pattern:
        s.info(f"Filtering artifacts by pattern '{pattern}'")
        artifacts = [a for a in artifacts if fnmatch.fnmatchcase(str(a["name"]), pattern)]
    else:
        s.info("No input name, artifact-ids or pattern filtered specified, downloading all artifacts")
        if not merge:
            s.info("An extra directory with the artifact name will be created for each download")
    mismatches = []
    for artifact in artifacts:
        single = bool(name) or merge or len(artifacts) == 1
        dest = resolved if single else resolved / str(artifact["name"])
        src = Path(str(artifact["dir"])) / "files"
        shutil.copytree(src, dest, dirs_exist_ok=True)
        if digest_of(artifact) != artifact["digest"]:
            mismatches.append(str(artifact["name"]))
            message = (f"Artifact '{artifact['name']}' digest validation failed. Please verify the "
                       "integrity of the artifact.")
            if behaviour == "info":
                s.info(message)
            elif behaviour == "warn":
                s.warning(message)
        c.note(f"downloaded {artifact['name']} to {dest}")
    if mismatches and behaviour == "error":
        raise s.RunError(f"Digest validation failed for artifact(s): {', '.join(mismatches)}. "
                         "Use 'digest-mismatch: warn' to continue on mismatch.")
    s.info(f"Total of {len(artifacts)} artifact(s) downloaded")
    s.set_output("download-path", str(resolved))
    s.info("Download artifact has finished successfully")


if __name__ == "__main__":
    s.run_stub("actions/download-artifact", main, error_prefix="Unable to download artifact(s): ")
