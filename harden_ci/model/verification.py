"""`tests:`: the verification that runs after unit tests: contract, e2e, LLM and auth."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.types import Command, Name, Rate, RepoPath, Seconds, SecretName, Text, Url


class ContractTests(SpecModel):
    breaking_changes: Literal["fail", "warn"] = "fail"
    """What a breaking OpenAPI change does to the pull request (unless a major bump)."""
    fuzz: bool = False
    """Schemathesis against the preview environment."""


class E2eTests(SpecModel):
    command: Command
    """Runs the suite; the target URL arrives as HARDEN_CI_URL."""
    environment: Name
    """The environment to test (usually the per-pull-request preview)."""
    reports: RepoPath = "test-results"
    """Traces and reports to upload."""


class LlmChecks(SpecModel):
    command: Command
    """Produces the outputs to score (JSON lines); gets HARDEN_CI_SEED."""
    seed: int = Field(default=7, ge=0, le=2**31 - 1)
    """The fixed seed passed to the eval command."""
    schema_: RepoPath | None = Field(default=None, alias="schema")
    """A JSON Schema every output must match."""
    gold: RepoPath
    """The gold answers (JSON lines)."""
    tolerance: Rate = 0.05
    """How far the score may fall below the gold baseline."""
    token_budget: Rate = 0.25
    """Fail when token usage grows more than this fraction over the baseline."""
    baseline: RepoPath | None = None
    """Baseline score and tokens per case (default: `<gold>.baseline.json` if present)."""
    secrets: list[SecretName] = Field(default_factory=list)
    """Secrets the eval command needs (model API keys), passed as env variables."""


class AuthTests(SpecModel):
    environment: Name
    """Where the auth probes run (usually staging)."""
    issuer: Url
    """The OIDC issuer whose JWKS and tokens are probed."""
    key_rotation: bool = False
    """Rotate the signing key (through `rotate_command`) and check the JWKS serves it."""
    rotate_command: Command | None = None
    """Rotates the issuer's signing key."""
    token_replay: bool = False
    """A revoked or expired token must get 401."""
    tenant_isolation: bool = False
    """A tenant A token asking for tenant B's resources must get 403 or 404."""
    max_token_lifetime: Seconds = 15 * 60
    """The longest lifetime an access token may have."""
    token_command: Command
    """Prints a fresh access token (tenant A) on one line."""
    revoked_token_command: Command | None = None
    """Prints a revoked or expired token (for `token_replay`)."""
    tenant_b_token_command: Command | None = None
    """Unused by the probes today; reserved for two-way isolation checks."""
    protected_path: Text = "/"
    """A path of the API that needs a valid token."""
    tenant_b_path: Text | None = None
    """A path holding tenant B's data (for `tenant_isolation`)."""

    @model_validator(mode="after")
    def _inputs_for_probes(self) -> AuthTests:
        if self.key_rotation and self.rotate_command is None:
            raise ValueError("`key_rotation` needs `rotate_command`")
        if self.token_replay and self.revoked_token_command is None:
            raise ValueError("`token_replay` needs `revoked_token_command`")
        if self.tenant_isolation and self.tenant_b_path is None:
            raise ValueError("`tenant_isolation` needs `tenant_b_path`")
        return self


class Tests(SpecModel):
    contract: ContractTests | None = None
    """OpenAPI lint, breaking-change diff and fuzzing."""
    e2e: E2eTests | None = None
    """End-to-end suite against an environment."""
    llm: LlmChecks | None = None
    """Scored LLM evaluations with schema checks and tolerance bands."""
    auth: AuthTests | None = None
    """Auth probes: key rotation, token replay, lifetime, tenant isolation."""
