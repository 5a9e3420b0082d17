"""`delivery.canary.flag_api`: ramping a flag in an OpenFeature-compatible flag service.

The ramp is written by one HTTP call to the service's management API (which differs from
vendor to vendor, hence `url`, `method` and a JSON `body` template) and read back through
the OpenFeature Remote Evaluation Protocol (OFREP,
https://github.com/open-feature/protocol/blob/main/service/openapi.yaml), which every
OpenFeature-compatible service speaks: the gate evaluates the flag for synthetic targeting
keys and requires the share that gets `variant` to match the ramp's percent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, JsonValue, WithJsonSchema, field_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.types import Seconds, SecretName, Text, Url, _check_url

FLAG = "{flag}"
PERCENT = "{percent}"


def _check_flag_url(value: str) -> str:
    # `{flag}` (the flag's key, percent-encoded when it is substituted) may stand in the path.
    if "{" in value.replace(FLAG, ""):
        raise ValueError(f"`{value}`: the only placeholder a flag API URL may hold is {FLAG}")
    _check_url(value.replace(FLAG, "flag"))
    return value


FlagUrl = Annotated[
    str,
    AfterValidator(_check_flag_url),
    WithJsonSchema({"type": "string", "pattern": "^https?://"}),
]


def placeholders(value: JsonValue) -> set[str]:
    """The placeholders a body template holds, in its keys and string values."""
    found: set[str] = set()
    stack: list[JsonValue] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            found.update(p for p in (FLAG, PERCENT) if p in node)
    return found


class FlagApi(SpecModel):
    """How an OpenFeature-compatible flag service is ramped (`flag_provider: openfeature`)."""

    url: FlagUrl
    """The management API call that sets the ramp (https; plain http only for localhost),
    e.g. `https://flags.example.com/api/flags/{flag}/rollout`; `{flag}` is the flag key."""
    method: Literal["PUT", "PATCH", "POST"] = "PUT"
    """The HTTP method of that call."""
    body: dict[str, JsonValue]
    """The JSON body sent, as a template: a string that is exactly `{percent}` becomes the
    ramp's percentage as a JSON number; `{flag}` and `{percent}` inside other strings and
    keys are replaced in the text. Values are substituted into the parsed JSON, never
    spliced into a command line. It must hold `{percent}`."""
    token_secret: SecretName | None = None
    """A secret sent to `url` as `Authorization: Bearer`; it reaches only the flag steps."""
    ofrep_url: Url
    """The service's OFREP base URL (`/ofrep/v1/evaluate/flags/KEY` is added): the ramp is
    read back there, and a ramp the evaluations do not show fails."""
    ofrep_token_secret: SecretName | None = None
    """A secret sent to `ofrep_url` as `Authorization: Bearer` (none: no token; the
    management token is never sent to the evaluation endpoint)."""
    variant: Text = "on"
    """The variant the ramp's percentage of evaluations must get (every other variant
    counts as off)."""
    samples: int = Field(default=400, ge=50, le=10_000)
    """Synthetic targeting keys evaluated per read-back; the share on `variant` must be
    within four standard deviations of the percentage (exactly 0 or all at 0% and 100%)."""
    settle: Seconds = 120
    """How long the read-back may wait for the service's caches to show a new ramp."""

    @field_validator("body")
    @classmethod
    def _carries_the_percent(cls, body: dict[str, JsonValue]) -> dict[str, JsonValue]:
        if PERCENT not in placeholders(body):
            raise ValueError(f"the body never says the percentage: put {PERCENT} where the "
                             f'service expects it, e.g. {{"rollout": "{PERCENT}"}}')
        return body
