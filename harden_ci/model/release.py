"""`project.release`: what starts the release workflow, and how long it waits for the
commit's checks before publishing anything."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.types import Seconds

# A `push: tags:` filter pattern: GitHub's glob characters (`*`, `**`, `?`, `+`, `[]`), no
# leading `!` (a negative pattern would need a positive one before it; keep it simple) and
# nothing a tag name cannot hold.
TAG_PATTERN = r"^[A-Za-z0-9_.*+?\[\]-][A-Za-z0-9_.*+?\[\]/-]{0,99}$"
TagPattern = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]

DEFAULT_TAGS = ("v*",)


class Release(SpecModel):
    trigger: Literal["branch", "tags"] = "branch"
    """`branch`: every push to the default branch releases. `tags`: only pushes of tags
    matching `tags` release (the checks then run on those tag pushes too, so there is a run
    to wait for)."""
    tags: list[TagPattern] = Field(default_factory=list, max_length=20)
    """Tag filter patterns (GitHub's glob syntax) that release with `trigger: tags`;
    `v*` when left out."""
    # The await-checks job adds 5 minutes to this, and a hosted runner stops a job at 6 hours.
    checks_timeout: Seconds = Field(default=3600, le=(6 * 60 - 5) * 60)
    """How long publishing waits for the same commit's CI run to finish before it fails
    (a run that never appears fails too)."""

    @model_validator(mode="after")
    def _tags_only_with_tags(self) -> Release:
        if self.tags and self.trigger != "tags":
            raise ValueError("`tags` only applies with `trigger: tags`; add `trigger: tags` "
                             "or remove `tags`")
        return self

    @property
    def tag_patterns(self) -> list[str]:
        """The patterns the workflows trigger on (none for branch releases)."""
        if self.trigger != "tags":
            return []
        return list(self.tags) or list(DEFAULT_TAGS)
