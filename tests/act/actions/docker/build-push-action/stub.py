"""docker/build-push-action stub: the inputs are checked as buildx would check them (tags as
image references, platforms, push needs tags and a login for each tag's registry, gha cache
export needs a docker-container builder, a local context needs its Dockerfile); the build
itself cannot run without a Docker daemon and is recorded as stubbed. Outputs keep the
real shapes (sha256 image id and digest, the metadata JSON)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
DOMAIN = rf"{LABEL}(?:\.{LABEL})*(?::\d+)?"
REFERENCE = re.compile(rf"^(?:(?P<domain>{DOMAIN})/)?(?P<path>{COMPONENT}(?:/{COMPONENT})*)"
                       r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z]"
                       r"[A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$")
PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")


def registry_of(ref: str) -> str:
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def check_tag(ref: str) -> None:
    match = REFERENCE.match(ref)
    if match and registry_of(ref) != "docker.io" and not match["domain"]:
        match = None
    if not match:
        lowered = ref.lower()
        reason = ("repository name must be lowercase" if REFERENCE.match(lowered)
                  else "invalid reference format")
        raise s.RunError(f'buildx failed with: ERROR: failed to build: invalid tag "{ref}": {reason}')


def main(c: s.Call) -> None:
    load, push = c.boolean("load"), c.boolean("push")
    for name in ("no-cache", "pull"):
        c.boolean(name)
    tags = s.input_list(c.get("tags"))
    platforms = s.input_list(c.get("platforms"))
    cache_to = s.input_list(c.get("cache-to"), ignore_comma=True)
    cache_from = s.input_list(c.get("cache-from"), ignore_comma=True)
    context = c.get("context")
    builder = s.read_state("buildx", {"name": "default", "driver": "docker"})
    if c.get("builder") and c.get("builder") != builder["name"]:
        raise s.RunError(f'buildx failed with: ERROR: no builder "{c.get("builder")}" found')
    for tag in tags:
        check_tag(tag)
    for item in platforms:
        if not PLATFORM.match(item):
            raise s.RunError(f'buildx failed with: ERROR: failed to parse platform "{item}"')
    if builder["driver"] == "docker":
        if any("type=gha" in entry for entry in cache_to):
            raise s.RunError("buildx failed with: ERROR: failed to build: Cache export is not supported "
                             "for the docker driver.")
        if len(platforms) > 1:
            raise s.RunError("buildx failed with: ERROR: failed to build: Multi-platform build is not "
                             "supported for the docker driver.")
    if push and not tags and not c.get("outputs"):
        raise s.RunError("buildx failed with: ERROR: failed to build: tag is needed when pushing to "
                         "registry")
    if context and "://" not in context:
        root = Path(os.environ["GITHUB_WORKSPACE"]) / context
        dockerfile = Path(os.environ["GITHUB_WORKSPACE"]) / c.get("file") if c.get("file") \
            else root / "Dockerfile"
        if not root.is_dir():
            raise s.RunError(f"buildx failed with: ERROR: failed to build: unable to prepare context: path "
                             f'"{context}" not found')
        if not dockerfile.is_file():
            raise s.RunError("buildx failed with: ERROR: failed to build: failed to solve: failed to read "
                             f"dockerfile: open {dockerfile.name}: no such file or directory")
    else:
        c.stub("git context", f"{context or 'the default git context'} is not fetched")
    if push:
        logins = set(s.read_state("docker-logins", []))
        for tag in tags:
            if registry_of(tag) not in logins:
                raise s.RunError(f"buildx failed with: ERROR: failed to build: failed to solve: failed to "
                                 f"push {tag}: unauthorized: authentication required")
    if cache_from or cache_to:
        c.stub("cache import/export", ", ".join(cache_from + cache_to))
    seed = json.dumps([context, c.get("file"), tags, platforms, os.environ.get("GITHUB_SHA")]).encode()
    image_id = "sha256:" + hashlib.sha256(b"config" + seed).hexdigest()
    digest = "sha256:" + hashlib.sha256(b"manifest" + seed).hexdigest()
    metadata: dict[str, object] = {"buildx.build.ref": f"{builder['name']}/{builder['name']}0/"
                                   f"{hashlib.sha256(seed).hexdigest()[:25]}"}
    if push or load or builder["driver"] == "docker":
        metadata.update({"containerimage.config.digest": image_id, "containerimage.digest": digest,
                         "image.name": ",".join(tags)})
        s.set_output("imageid", image_id)
        s.set_output("digest", digest)
    s.set_output("metadata", json.dumps(metadata, indent=2))
    c.stub("build", "no Docker daemon here")
    if push:
        c.stub("push", ", ".join(tags))
    c.note(f"{'pushed' if push else 'loaded' if load else 'built'} {', '.join(tags) or '(no tags)'}"
           f" with {builder['driver']}")


if __name__ == "__main__":
    s.run_stub("docker/build-push-action", main)
