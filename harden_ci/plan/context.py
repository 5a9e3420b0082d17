"""What every stage needs besides the spec: the pin catalog, scripts, and naming."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from harden_ci import __version__
from harden_ci.model import Spec
from harden_ci.plan.model import Script
from harden_ci.plan.pins import PinCatalog, catalog

EXPRESSION_OPENER = "${{"


@functools.cache
def load_script(name: str) -> Script:
    """A shell script from templates/scripts/. Data reaches it only through env, so its
    text may never hold an expression."""
    body = resources.files("harden_ci.templates").joinpath("scripts", name).read_text("utf-8")
    if EXPRESSION_OPENER in body:
        raise AssertionError(f"templates/scripts/{name} holds an expression; use env instead")
    return Script(name=name, body=body)


@dataclass(frozen=True)
class PlanContext:
    spec: Spec
    spec_file: str  # the spec's path relative to the repository root
    pins: PinCatalog
    version: str = __version__
    # The sha256 of the wheel `harden_ci.wheel` names, read by the pipeline's input stage
    # (plan code reads no files); None when the spec names no wheel.
    harden_ci_wheel_sha256: str | None = None

    @property
    def runner(self) -> str:
        return self.spec.project.runner

    @property
    def caches_allowed(self) -> bool:
        """Dependency and build caches in the checks. A default branch named like a release
        branch counts as publishing: a cache its pushes save would be restored by the next
        release build (zizmor's cache-poisoning audit reads the branch name the same way).
        Tag releases count too: the checks then also run on the release tag's push, which
        zizmor reads as a publishing trigger, and a cache saved there is one a release
        build could restore."""
        if self.spec.project.release.trigger == "tags":
            return False
        return "release" not in self.spec.project.default_branch.lower()


def make_context(spec: Spec, spec_file: str, wheel_sha256: str | None = None) -> PlanContext:
    return PlanContext(spec=spec, spec_file=spec_file, pins=catalog(),
                       harden_ci_wheel_sha256=wheel_sha256)
