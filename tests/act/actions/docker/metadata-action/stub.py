"""docker/metadata-action stub: tag rules parsed and checked as src/tag.ts does, and the
ref, sha, raw, edge and semver rules evaluated as src/meta.ts does (prefix, suffix, latest on
tag refs); pep440, match and schedule rules and {{date}} expressions are recorded as stubbed."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from datetime import UTC, datetime

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

TYPES = ["schedule", "semver", "pep440", "match", "edge", "ref", "raw", "sha"]
PRIORITY = {"schedule": 1000, "semver": 900, "pep440": 900, "match": 800, "edge": 700, "ref": 600,
            "raw": 200, "sha": 100}
DEFAULT = ["type=schedule", "type=ref,event=branch", "type=ref,event=tag", "type=ref,event=pr"]


def parse(rule: str) -> dict[str, str]:
    """src/tag.ts Parse."""
    fields = next(csv.reader(io.StringIO(rule)))
    tag: dict[str, str] = {}
    for field in fields:
        key, sep, value = field.partition("=")
        if not sep:
            tag["value"] = key.strip()
        elif key.strip().lower() == "type":
            if value.strip() not in TYPES:
                raise s.RunError(f"Unknown tag type attribute: {value.strip()}")
            tag["type"] = value.strip()
        else:
            tag[key.strip().lower()] = value.strip()
    kind = tag.setdefault("type", "raw")
    if kind in ("semver", "pep440", "match") and "pattern" not in tag:
        raise s.RunError(f"Missing pattern attribute for {rule}")
    if kind == "ref":
        if "event" not in tag:
            raise s.RunError(f"Missing event attribute for {rule}")
        if tag["event"] not in ("branch", "tag", "pr"):
            raise s.RunError(f"Invalid event for {rule}")
        if tag["event"] == "pr":
            tag.setdefault("prefix", "pr-")
    if kind == "raw" and "value" not in tag:
        raise s.RunError(f"Missing value attribute for {rule}")
    if kind == "sha":
        tag.setdefault("prefix", "sha-")
        tag.setdefault("format", "short")
        if tag["format"] not in ("short", "long"):
            raise s.RunError(f"Invalid format for {rule}")
    tag.setdefault("enable", "true")
    tag.setdefault("priority", str(PRIORITY[kind]))
    return tag


def value_of(c: s.Call, tag: dict[str, str], ref: str, sha: str, default_branch: str) -> tuple[str, bool]:
    """The raw value and whether it makes `latest` (flavor latest=auto), or ('', False)."""
    kind = tag["type"]
    if kind == "ref":
        prefixes = {"branch": "refs/heads/", "tag": "refs/tags/", "pr": "refs/pull/"}
        if not ref.startswith(prefixes[tag["event"]]):
            return "", False
        raw = ref[len(prefixes[tag["event"]]):].removesuffix("/merge") if tag["event"] == "pr" \
            else ref[len(prefixes[tag["event"]]):]
        return raw, tag["event"] == "tag"
    if kind == "sha":
        return (sha[:7] if tag["format"] == "short" else sha), False
    if kind == "raw":
        return tag["value"], False
    if kind == "edge":
        branch = tag.get("branch") or default_branch
        return ("edge" if ref == f"refs/heads/{branch}" else ""), False
    if kind == "semver":
        if not ref.startswith("refs/tags/") and not tag.get("value"):
            return "", False
        raw = tag.get("value") or ref[len("refs/tags/"):]
        m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?", raw)
        if not m:
            return "", False
        parts = {"version": raw.lstrip("v"), "major": m[1], "minor": m[2], "patch": m[3], "raw": raw}
        pattern = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda x: parts.get(x[1], x[0]), tag["pattern"])
        return pattern, not m[4]
    c.stub(f"type={kind}", f"rule {tag} not evaluated")
    return "", False


def main(c: s.Call) -> None:
    c.get("context", required=True)
    c.get("github-token", required=True)
    images = [line.split(",")[0].split("=")[-1].strip() for line in s.input_list(c.get("images"),
                                                                                  ignore_comma=True)]
    rules = s.input_list(c.get("tags"), ignore_comma=True) or DEFAULT
    tags = sorted((parse(rule) for rule in rules), key=lambda t: -int(t["priority"]))
    payload = s.event()
    ref, sha = os.environ.get("GITHUB_REF", ""), os.environ.get("GITHUB_SHA", "")
    default_branch = payload.get("repository", {}).get("default_branch", "main")
    versions: list[str] = []
    latest = False
    for tag in tags:
        if tag["enable"] != "true":
            continue
        raw, makes_latest = value_of(c, tag, ref, sha, default_branch)
        if not raw:
            continue
        value = re.sub(r"[^a-zA-Z0-9._-]+", "-", f"{tag.get('prefix', '')}{raw}{tag.get('suffix', '')}")
        if value not in versions:
            versions.append(value)
        latest = latest or makes_latest
    flavor = {k.strip(): v.strip() for k, _, v in (x.partition("=") for x in s.input_list(c.get("flavor")))}
    if flavor.get("latest", "auto") == "true" or (flavor.get("latest", "auto") == "auto" and latest):
        versions.append("latest")
    names = [f"{image.lower()}:{v}" for image in images for v in versions] if images else versions
    repo = payload.get("repository", {})
    url = f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{os.environ['GITHUB_REPOSITORY']}"
    labels = [f"org.opencontainers.image.title={repo.get('name', '')}",
              f"org.opencontainers.image.description={repo.get('description') or ''}",
              f"org.opencontainers.image.url={url}", f"org.opencontainers.image.source={url}",
              f"org.opencontainers.image.version={versions[0] if versions else ''}",
              f"org.opencontainers.image.created={datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.000Z')}",
              f"org.opencontainers.image.revision={sha}",
              f"org.opencontainers.image.licenses={(repo.get('license') or {}).get('spdx_id', '')}"]
    labels += s.input_list(c.get("labels"), ignore_comma=True)
    c.stub("GET /repos/{owner}/{repo}", "repository details read from the event payload")
    s.set_output("version", versions[0] if versions else "")
    s.set_output("tags", (c.get("sep-tags") or "\n").join(names))
    s.set_output("tag-names", (c.get("sep-tags") or "\n").join(versions))
    s.set_output("labels", (c.get("sep-labels") or "\n").join(labels))
    annotations = [f"manifest:{label}" for label in labels]
    s.set_output("annotations", (c.get("sep-annotations") or "\n").join(annotations))
    s.set_output("json", json.dumps({"tags": names, "labels": dict(x.split("=", 1) for x in labels),
                                     "annotations": annotations}))
    c.note(f"tags {', '.join(names)}")


if __name__ == "__main__":
    s.run_stub("docker/metadata-action", main)
