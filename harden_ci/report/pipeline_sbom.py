"""`sbom`: a CycloneDX 1.6 BOM of the pipeline's own supply chain, built with
cyclonedx-python-lib.

Components:
- every action and reusable workflow the rendered workflows call (type application, name
  `owner/repo[/path]`, version = the release tag, purl `pkg:githubactions/...@<commit>`
  per the purl spec's `githubactions` type: namespace and repository lower-cased, a path
  inside the repository URL-encoded into the name, version = the commit), with the commit,
  reference style, runtime, release date, the catalog's provenance note and any recorded
  exception as `harden-ci:*` properties. A git commit id is not a hash of the action's
  content, so it is a property and the purl version, not a CycloneDX `hashes` entry;
- every tool version the workflows install, typed by where the tool table says the version
  came from (`pkg:pypi/...` for PyPI releases, `pkg:npm/...` for npm releases,
  `pkg:generic/...` for the rest), with that source as a property;
- every container image jobs run beside them, by digest (`pkg:oci/...`).
harden-ci itself is the metadata component (and the tool that wrote the BOM); it depends
on every component.

Deterministic by design, so the BOM can be diffed and golden-tested: the serial number is
a UUIDv5 of the harden-ci version and the spec's SHA-256 (same spec and release, same
serial; any change, a new serial), there is no `metadata.timestamp` (it is optional in
CycloneDX, and the spec digest already identifies what the BOM describes), bom-refs are
derived from names, and components are sorted.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from urllib.parse import quote

from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from harden_ci import __version__
from harden_ci.plan.model import Workflow
from harden_ci.report.facts import ActionUse, ToolUse, actions_used, images_used, tools_used

_NPM_SOURCE = re.compile(r"^npm release of (\S+)")
SERIAL_NAMESPACE = uuid.UUID("6f1f9c8e-3d1c-5b7e-9a51-0c0ffee0ce11")
_PROP = "harden-ci:"


class GithubActionsPurl(PackageURL):
    """packageurl-python leaves `/` in a name unencoded, which would move a path inside the
    repository into the namespace; the `githubactions` type wants it encoded as `%2F`."""

    def to_string(self, encode: bool | None = True) -> str:
        name = "%2F".join(quote(part, safe="") for part in self.name.split("/"))
        version = f"@{quote(self.version, safe='')}" if self.version else ""
        return f"pkg:githubactions/{quote(self.namespace or '', safe='')}/{name}{version}"

    def __str__(self) -> str:
        return self.to_string()


def action_purl(action: ActionUse) -> PackageURL:
    owner, repo, path = action.owner_repo
    name = repo.lower() + (f"/{path}" if path else "")
    return GithubActionsPurl(type="githubactions", namespace=owner.lower(), name=name,
                             version=action.sha or action.ref)


def _props(**values: str | None) -> list[Property]:
    return [Property(name=_PROP + key.replace("_", "-"), value=value)
            for key, value in values.items() if value]


def _action_component(action: ActionUse) -> Component:
    owner, repo, _ = action.owner_repo
    return Component(
        type=ComponentType.APPLICATION,
        bom_ref=f"action:{action.action}@{action.tag}",
        name=action.action,
        version=action.tag,
        purl=action_purl(action),
        description=action.note or None,
        external_references=[ExternalReference(
            type=ExternalReferenceType.VCS, url=XsUri(f"https://github.com/{owner}/{repo}"))],
        properties=_props(
            commit=action.sha, ref=action.ref, ref_style=action.ref_style,
            runtime=action.runtime, release_date=action.date, provenance_note=action.note,
            exception=action.exception,
            used_by=", ".join(str(job) for job in action.jobs)),
    )


def tool_purl(name: str, version: str, source: str,
              built_from: tuple[str, str] | None = None) -> PackageURL:
    """From where the tool table says the version came: PyPI, npm, or generic; a tool built
    from source names its repository and commit in purl's `vcs_url` qualifier."""
    if built_from is not None:
        repository, commit = built_from
        return PackageURL(type="generic", name=name, version=version,
                          qualifiers={"vcs_url": f"git+https://github.com/{repository}@{commit}"})
    if source.lower().startswith("pypi release"):
        return PackageURL(type="pypi", name=name, version=version)
    npm = _NPM_SOURCE.match(source)
    if npm:
        scope, _, package = npm.group(1).rpartition("/")
        return PackageURL(type="npm", namespace=scope or None, name=package, version=version)
    return PackageURL(type="generic", name=name, version=version)


def _tool_component(tool: ToolUse) -> Component:
    repository, commit = tool.built_from or (None, None)
    return Component(
        type=ComponentType.APPLICATION, bom_ref=f"tool:{tool.name}@{tool.version}",
        name=tool.name, version=tool.version,
        purl=tool_purl(tool.name, tool.version, tool.source, tool.built_from),
        properties=_props(version_source=tool.source, pinned=tool.pinned or None,
                          used_by=", ".join(map(str, tool.jobs)),
                          source_repository=repository, commit=commit),
    )


def _oci_repository(repository: str) -> str:
    """Where an image lives, spelled out the way the OCI purl type wants it."""
    first = repository.split("/")[0]
    if "/" not in repository:
        return f"docker.io/library/{repository}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{repository}"
    return repository


def _image_component(image: str, used_by: str) -> Component:
    ref, _, digest = image.partition("@")
    last = ref.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    repository = ref[: -(len(tag) + 1)] if tag else ref
    name = repository.rsplit("/", 1)[-1]
    qualifiers = {"repository_url": _oci_repository(repository)}
    if tag:
        qualifiers["tag"] = tag
    return Component(
        type=ComponentType.CONTAINER, bom_ref=f"image:{image}", name=name, version=digest,
        purl=PackageURL(type="oci", name=name, version=digest, qualifiers=qualifiers),
        properties=_props(image=image, used_by=used_by),
    )


def serial_number(spec_bytes: bytes) -> uuid.UUID:
    digest = hashlib.sha256(spec_bytes).hexdigest()
    return uuid.uuid5(SERIAL_NAMESPACE, f"harden-ci/{__version__}/{digest}")


def build_bom(workflows: list[Workflow], spec_bytes: bytes, project: str) -> Bom:
    components = [_action_component(a) for a in actions_used(workflows)]
    components += [_tool_component(t) for t in tools_used(workflows)]
    components += [_image_component(image, ", ".join(map(str, jobs)))
                   for image, jobs in images_used(workflows)]
    root = Component(
        type=ComponentType.APPLICATION, bom_ref=f"harden-ci@{__version__}", name="harden-ci",
        version=__version__, purl=PackageURL(type="pypi", name="harden-ci", version=__version__),
        description=f"the CI/CD pipeline harden-ci renders for {project}",
        properties=_props(spec_sha256=hashlib.sha256(spec_bytes).hexdigest(), project=project),
    )
    bom = Bom(serial_number=serial_number(spec_bytes), components=components)
    bom.metadata.component = root
    bom.metadata.tools.components.add(Component(
        type=ComponentType.APPLICATION, name="harden-ci", version=__version__,
        bom_ref=f"tool:harden-ci@{__version__}"))
    # No timestamp: the BOM must be byte-identical for the same spec (see the module doc).
    bom.metadata.timestamp = None  # type: ignore[assignment]
    bom.register_dependency(root, components)
    return bom


def to_json(bom: Bom) -> str:
    return JsonV1Dot6(bom).output_as_string(indent=2) + "\n"
