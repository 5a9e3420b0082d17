"""`tests:`: the verification that runs after unit tests: contract, e2e, LLM and auth."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.types import Command, Name, Rate, RepoPath, Seconds, SecretName, Text, Url


class ContractTests(SpecModel):
    breaking_changes: Literal["fail", "warn"] = "fail"
    """What a breaking OpenAPI change does to the pull request (unless a major bump)."""
    fuzz: bool = False
    """Schemathesis against the preview environment."""
    ruleset: RepoPath | None = None
    """The Spectral ruleset to lint each OpenAPI document with (default: the repository's
    `.spectral.*`, else Spectral's OpenAPI rules); listed in `explain` as accepted."""


class E2eTests(SpecModel):
    command: Command
    """Runs the suite; the target URL arrives as HARDEN_CI_URL."""
    environment: Name
    """The environment to test (usually the per-pull-request preview)."""
    reports: RepoPath = "test-results"
    """Traces and reports to upload."""


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class LlmJudge(SpecModel):
    command: Command
    """Scores `rubric` gold cases: reads {id, rubric, output, prompt} as JSON on stdin, prints
    {"score": 0..1}."""
    seed: int = Field(default=7, ge=0, le=2**31 - 1)
    """The judge's own seed (HARDEN_CI_SEED of the judge command)."""
    prompt: RepoPath
    """The judge's prompt file."""
    prompt_sha256: Sha256
    """The SHA-256 the prompt file must have: a prompt edit must update it, so verdicts do
    not move silently."""


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
    samples: int = Field(default=1, ge=1, le=1000)
    """Outputs per case (the eval repeats each case, HARDEN_CI_SAMPLES); above 1 the score
    rule reads the Wilson interval of the pass rate against the tolerance band."""
    allow_no_token_baseline: bool = False
    """Pass the token budget when no case has a baseline token count (default: it fails)."""
    judge: LlmJudge | None = None
    """The judge command of `rubric` gold cases."""


class AuthTests(SpecModel):
    environment: Name
    """Where the auth probes run (usually staging)."""
    issuer: Url
    """The OIDC issuer whose JWKS and tokens are probed."""
    key_rotation: bool = False
    """Rotate the signing key (through `rotate_command`) and check the JWKS serves it."""
    rotate_command: Command | None = None
    """Rotates the issuer's signing key."""
    rotation_grace: Seconds | None = None
    """How long the old key stays valid after a rotation. The drill always checks the overlap
    (the old key still published and its tokens accepted right after); with this set it also
    waits it out and checks the old key is retired (gone from the JWKS, its tokens refused)."""
    token_replay: bool = False
    """A revoked or expired token must get 401."""
    tenant_isolation: bool = False
    """Tenant A's token gets 2xx for `tenant_a_path` and 403/404 for tenant B's resource (by
    path, and by `tenant_b_query` / `tenant_b_header` when set); with
    `tenant_b_token_command`, the same the other way round."""
    forged_tokens: bool = False
    """alg none, a token signed by an unknown key, HS256 signed with the JWKS RSA public key,
    and the genuine tokens below must all get 401/403 at `protected_path`."""
    max_token_lifetime: Seconds = 15 * 60
    """The longest lifetime an access token may have."""
    token_command: Command
    """Prints a fresh access token (tenant A) on one line."""
    revoked_token_command: Command | None = None
    """Prints a revoked or expired token (for `token_replay`)."""
    refresh_token_command: Command | None = None
    """Prints the refresh token of a fresh login. With `token_replay`, the probe redeems it
    at the issuer's token endpoint (its discovery document's `token_endpoint`), checks the
    new access token works, then redeems the used refresh token again: the issuer must
    rotate refresh tokens and refuse the replay (400 `invalid_grant`)."""
    client_id: Text | None = None
    """The OAuth client the refresh token belongs to (for `refresh_token_command`)."""
    client_secret: SecretName | None = None
    """The secret holding a confidential client's secret (public clients have none)."""
    tenant_b_token_command: Command | None = None
    """Prints a tenant B token: B's control request, and B asking for tenant A's data."""
    wrong_audience_token_command: Command | None = None
    """Prints a genuine token for another audience (for `forged_tokens`)."""
    wrong_issuer_token_command: Command | None = None
    """Prints a genuine token naming another issuer (for `forged_tokens`)."""
    expired_token_command: Command | None = None
    """Prints a genuine expired token (for `forged_tokens`)."""
    protected_path: Text = "/"
    """A path of the API that needs a valid token."""
    tenant_a_path: Text | None = None
    """Tenant A's own resource: the control request that must succeed (for `tenant_isolation`)."""
    tenant_b_path: Text | None = None
    """A path holding tenant B's data (for `tenant_isolation`)."""
    tenant_b_query: Text | None = None
    """A query parameter naming tenant B (`tenant=b`), sent to `tenant_a_path`."""
    tenant_b_header: Text | None = None
    """A header naming tenant B (`X-Tenant-Id: b`), sent to `tenant_a_path`."""

    @model_validator(mode="after")
    def _inputs_for_probes(self) -> AuthTests:
        if self.key_rotation and self.rotate_command is None:
            raise ValueError("`key_rotation` needs `rotate_command`")
        if self.token_replay and self.revoked_token_command is None:
            raise ValueError("`token_replay` needs `revoked_token_command`")
        if self.tenant_isolation and (self.tenant_b_path is None or self.tenant_a_path is None):
            raise ValueError("`tenant_isolation` needs `tenant_a_path` (the control) and "
                             "`tenant_b_path`")
        if self.tenant_b_header is not None and ":" not in self.tenant_b_header:
            raise ValueError("`tenant_b_header` reads `Name: value`")
        if self.refresh_token_command is not None and not (self.token_replay and self.client_id):
            raise ValueError("`refresh_token_command` is probed with `token_replay: true` and "
                             "needs `client_id` (the OAuth client of the refresh token)")
        if self.client_secret is not None and self.refresh_token_command is None:
            raise ValueError("`client_secret` is for `refresh_token_command`'s client")
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
