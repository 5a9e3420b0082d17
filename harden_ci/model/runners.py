"""Runner labels: which ones GitHub (and actionlint) know, and which the spec adds.

A label outside KNOWN_LABELS is a self-hosted runner's own (a scale set's name, `gpu`) or a
larger runner's name. actionlint flags such labels as unknown unless its config lists them,
so harden-ci writes that list (`harden-ci/actionlint.yaml`) and the workflow audit passes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harden_ci.model.spec import Spec

# GitHub-hosted images, as actionlint 1.7.7 lists them (its "available labels" message).
HOSTED_LABELS: frozenset[str] = frozenset({
    "windows-latest", "windows-latest-8-cores", "windows-2025", "windows-2022", "windows-2019",
    "ubuntu-latest", "ubuntu-latest-4-cores", "ubuntu-latest-8-cores", "ubuntu-latest-16-cores",
    "ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04", "ubuntu-22.04-arm", "ubuntu-20.04",
    "macos-latest", "macos-latest-xl", "macos-latest-xlarge", "macos-latest-large",
    "macos-15-xlarge", "macos-15-large", "macos-15", "macos-14-xl", "macos-14-xlarge",
    "macos-14-large", "macos-14", "macos-13-xl", "macos-13-xlarge", "macos-13-large", "macos-13",
})
# The labels every self-hosted runner carries.
SELF_HOSTED_DEFAULTS: frozenset[str] = frozenset({
    "self-hosted", "x64", "arm", "arm64", "linux", "macos", "windows"})
KNOWN_LABELS: frozenset[str] = HOSTED_LABELS | SELF_HOSTED_DEFAULTS


def label_list_problem(labels: list[str]) -> str | None:
    """Why a list of labels cannot select one runner, or None."""
    if len(set(labels)) != len(labels):
        return "a label is listed twice"
    hosted = [label for label in labels if label in HOSTED_LABELS]
    if hosted and len(labels) > 1:
        # A job runs on a runner carrying *every* label; GitHub's images carry one image
        # label each, so a hosted label beside others never matches a runner.
        return (f"`{hosted[0]}` is a GitHub-hosted image: give it alone as a string "
                "(a list is for self-hosted runners' labels)")
    return None


def custom_labels(spec: Spec) -> list[str]:
    """The labels the spec's jobs may run on that GitHub does not define, sorted."""
    used: set[str] = {spec.project.runner}
    for name in spec.project.runners:
        used.update(spec.project.class_labels(name))
    for service in spec.services.values():
        used.update(service.runner_labels(spec.project))
    return sorted(used - KNOWN_LABELS)
