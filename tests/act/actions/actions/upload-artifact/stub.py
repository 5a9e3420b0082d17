"""actions/upload-artifact stub: the files the path patterns find go to the harness store,
artifacts/<name>/, under the root directory the real action computes; a second upload of a
name fails as the artifact service refuses it (409), unless overwrite deletes the first."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

GLOB_CHARS = re.compile(r"[*?\[]")
# @actions/artifact's invalid name characters (path-and-artifact-name-validation.ts).
INVALID_NAME = {'"': ' Double quote "', ":": " Colon :", "<": " Less than <", ">": " Greater than >",
                "|": " Vertical bar |", "*": " Asterisk *", "?": " Question mark ?",
                "\r": " Carriage return \\r", "\n": " Line feed \\n", "\\": " Backslash \\",
                "/": " Forward slash /"}


def validate_name(c: s.Call, name: str) -> None:
    """@actions/artifact validateArtifactName."""
    if not name:
        c.fail("Provided artifact name input during validation is empty")
    for char, label in INVALID_NAME.items():
        if char in name:
            c.fail(f"The artifact name is not valid: {name}. Contains the following character: {label}\n"
                   f"\nInvalid characters include: {','.join(INVALID_NAME.values())}\n"
                   "\nThese characters are not allowed in the artifact name due to limitations "
                   "with certain file systems such as NTFS. To maintain file system agnostic behavior, these "
                   "characters are intentionally not allowed to prevent potential problems with downloads "
                   "on different file systems.")
    s.info("Artifact name is valid!")


def search_paths(patterns: list[str]) -> list[Path]:
    """@actions/glob getSearchPaths: each include pattern up to its first wildcard segment."""
    out: list[Path] = []
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        path = Path(os.path.expanduser(pattern))
        path = path if path.is_absolute() else Path.cwd() / path
        parts: list[str] = []
        for part in path.parts:
            if GLOB_CHARS.search(part):
                break
            parts.append(part)
        out.append(Path(os.path.normpath(Path(*parts))))
    return out


def find_files(search: str, include_hidden: bool) -> tuple[list[Path], Path | None]:
    """src/shared/search.ts findFilesToUpload."""
    patterns = [line.strip() for line in search.split("\n") if line.strip() and not line.startswith("#")]
    roots = search_paths(patterns)
    files = s.glob_patterns(patterns, Path.cwd())
    if not include_hidden:
        def visible(path: Path) -> bool:
            base = next((r for r in roots if path == r or r in path.parents), None)
            rel = path.relative_to(base.parent) if base else path
            return not any(part.startswith(".") for part in rel.parts)
        files = [f for f in files if visible(f)]
    if not roots:
        return files, None
    if len(roots) > 1:
        common = Path(os.path.commonpath([str(r) for r in roots]))
        s.info("Multiple search paths detected. Calculating the least common ancestor of all paths")
        s.info(f"The least common ancestor is {common}. This will be the root directory of the artifact")
        return files, common
    if len(files) == 1 and roots[0] == files[0]:
        return files, files[0].parent
    return files, roots[0]


def main(c: s.Call) -> None:
    name = c.get("name")
    search = c.get("path", required=True)
    overwrite = c.boolean("overwrite")
    include_hidden = c.boolean("include-hidden-files")
    archive = c.boolean("archive")
    behaviour = c.get("if-no-files-found")
    if behaviour not in ("warn", "error", "ignore"):
        c.set_failed(f"Unrecognized if-no-files-found input. Provided: {behaviour}. "
                     "Available options: warn,error,ignore")
    retention = c.get("retention-days")
    if retention and not re.match(r"^\s*[+-]?\d", retention):
        c.set_failed("Invalid retention-days")
    level = c.get("compression-level")
    number = re.match(r"^\s*([+-]?\d+)", level)
    if level and not number:
        c.set_failed("Invalid compression-level")
    elif number and not 0 <= int(number[1]) <= 9:
        c.set_failed("Invalid compression-level. Valid values are 0-9")
    files, root = find_files(search, include_hidden)
    if not files:
        message = f"No files were found with the provided path: {search}. No artifacts will be uploaded."
        if behaviour == "warn":
            s.warning(message)
        elif behaviour == "error":
            c.set_failed(message)
        elif behaviour == "ignore":
            s.info(message)
        c.note("no files")
        return
    plural = "" if len(files) == 1 else "s"
    s.info(f"With the provided path, there will be {len(files)} file{plural} uploaded")
    if not archive and len(files) > 1:
        c.set_failed("When 'archive' is set to false, only a single file can be uploaded. "
                     f"Found {len(files)} files to upload.")
        return
    validate_name(c, name)
    target = s.artifacts_dir() / name
    if overwrite and target.exists():
        old = json.loads((target / "artifact.json").read_text(encoding="utf-8"))
        shutil.rmtree(target)
        s.info(f"Artifact '{name}' (ID: {old['id']}) deleted")
    try:
        (target / "files").mkdir(parents=True)
    except FileExistsError:
        c.fail("Failed to CreateArtifact: Received non-retryable error: Failed request: (409) "
               "Conflict: an artifact with this name already exists on the workflow run")
    digest = hashlib.sha256()
    assert root is not None
    names = []
    for path in files:
        rel = path.relative_to(root) if root in path.parents or path == root else Path(path.name)
        dest = target / "files" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        digest.update(str(rel).encode() + b"\0" + path.read_bytes())
        names.append(str(rel))
    artifact_id = s.next_id("artifact")
    size = sum(p.stat().st_size for p in files)
    meta = {"id": artifact_id, "name": name, "size": size, "digest": digest.hexdigest(),
            "files": names, "archive": archive, "job": os.environ.get("GITHUB_JOB", "")}
    (target / "artifact.json").write_text(json.dumps(meta), encoding="utf-8")
    s.info(f"Artifact {name} has been successfully uploaded! Final size is {size} bytes. "
           f"Artifact ID is {artifact_id}")
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    url = (f"{server}/{os.environ['GITHUB_REPOSITORY']}/actions/runs/{os.environ.get('GITHUB_RUN_ID')}"
           f"/artifacts/{artifact_id}")
    s.set_output("artifact-id", str(artifact_id))
    s.set_output("artifact-digest", meta["digest"])
    s.set_output("artifact-url", url)
    s.info(f"Artifact download URL: {url}")
    c.note(f"uploaded {name}: {', '.join(names)}")
    c.stub("artifact service", f"kept in the harness store ({target})")


if __name__ == "__main__":
    s.run_stub("actions/upload-artifact", main, in_workspace=True)
