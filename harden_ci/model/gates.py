"""`gates:` and `supply_chain:`: the static checks every change passes."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.types import Command, DigestImage, Name, RepoPath, Severity


class SecretScan(SpecModel):
    tool: Literal["gitleaks", "trufflehog"] = "gitleaks"
    """The scanner: gitleaks or trufflehog, either built from its release commit in the job
    (no license, secret or container image needed). trufflehog reports verified keys and
    those it could not verify (`--results=verified,unknown`)."""
    allowlist: RepoPath | None = None
    """A reviewed allowlist of false positives (gitleaks config, or for trufflehog a file of
    path regexes to exclude).
    To adopt with existing gitleaks findings, list their fingerprints in `.gitleaksignore`
    at the repository root (gitleaks honours it; new findings still fail). The scan takes no
    `--baseline-path` report, and trufflehog has no baseline."""


# hadolint's own rules (DLxxxx) and the ShellCheck rules it runs on RUN lines (SCxxxx).
HadolintRule = Annotated[str, StringConstraints(pattern=r"^(DL|SC)[0-9]{4}$")]


class CheckovBaselines(SpecModel):
    terraform: RepoPath | None = None
    """The baseline of the `terraform` folder (its `.checkov.baseline`)."""
    kubernetes: RepoPath | None = None
    """The baseline of the `kubernetes` folder."""
    helm: RepoPath | None = None
    """The baseline of the `helm` chart."""


class IacLint(SpecModel):
    terraform: RepoPath | None = None
    """Terraform root to lint with tflint and checkov."""
    kubernetes: RepoPath | None = None
    """Kubernetes manifests to lint with checkov."""
    helm: RepoPath | None = None
    """A Helm chart to lint with checkov."""
    dockerfiles: bool = False
    """Lint every service Dockerfile with hadolint."""
    workflows: bool | Literal["all"] = False
    """Audit workflows with zizmor and actionlint: `true` audits the workflows harden-ci
    generates from this spec (a repository's older workflows cannot turn the gate red on
    day one); `all` audits every file in `.github/workflows`."""
    fail_on: Severity = "high"
    """The lowest severity that fails the gate. hadolint and zizmor map it to their own
    levels; checkov cannot: its severities come only with a Prisma Cloud API key, so
    offline every failed check fails the gate (accept existing ones with `baselines`)."""
    hadolint_ignore: list[HadolintRule] = Field(default_factory=list)
    """hadolint rules to ignore everywhere (`[DL3008]`), listed in `explain` as accepted.
    A `.hadolint.yaml` at the repository root is honoured as well."""
    hadolint_config: RepoPath | None = None
    """A hadolint config file elsewhere than the root's `.hadolint.yaml`."""
    baselines: CheckovBaselines | None = None
    """checkov baselines (`checkov -d DIR --create-baseline`): findings recorded there are
    accepted; any new finding still fails the gate."""

    @model_validator(mode="after")
    def _baselines_have_targets(self) -> IacLint:
        for framework in ("terraform", "kubernetes", "helm"):
            if self.baselines and getattr(self.baselines, framework) and not getattr(
                    self, framework):
                raise ValueError(f"`baselines.{framework}` needs `{framework}`: a baseline "
                                 f"applies to the {framework} folder checkov scans")
        return self


_ATLAS_PATH = re.compile(r"[A-Za-z0-9._/-]+")


class SchemaDrift(SpecModel):
    service: Name
    """The service whose models and migrations must agree."""
    preset: Literal["alembic", "django", "prisma", "atlas", "command"] = "command"
    """A known migration tool (`atlas` needs a `database`), or `command` for your own check."""
    command: Command | None = None
    """The check to run (with `preset: command`); non-zero exit blocks the change. With
    another preset it replaces the preset's check (with `atlas`, Atlas is still installed
    and ATLAS_DEV_URL points at the database)."""
    install: Command | None = None
    """Installs what the check needs, in the service's install folder; default the
    service's own install. The check's job has only its own database container (never the
    service's `test_environment` containers), so nothing here can collide with them."""
    database: Literal["postgres", "mysql", "none"] = "none"
    """A throwaway database service container for the check (DATABASE_URL points at it)."""
    database_image: DigestImage | None = None
    """The database image, pinned by digest (`postgres:17@sha256:...`)."""
    migrations: RepoPath | None = None
    """`preset: atlas`: the migration directory (Atlas's format, with its `atlas.sum`), from the
    repository root; default `<service path>/migrations`."""
    desired_schema: RepoPath | None = None
    """`preset: atlas`: the desired schema the migrations must reach, an HCL or SQL file or a
    folder of them, from the repository root; default `<service path>/schema.hcl`."""

    @model_validator(mode="after")
    def _command_for_plain_preset(self) -> SchemaDrift:
        if self.preset == "command" and self.command is None:
            raise ValueError("`schema_drift` needs a `command`, or a `preset` "
                             "(alembic, django, prisma, atlas)")
        if self.database != "none" and self.database_image is None:
            raise ValueError(f"`database: {self.database}` needs `database_image`, pinned by "
                             f"digest, e.g. `{self.database}:17@sha256:<64 hex>` (images run "
                             "in CI only by digest)")
        if self.database == "none" and self.database_image is not None:
            raise ValueError("`database_image` needs `database: postgres` or `mysql`")
        return self

    @model_validator(mode="after")
    def _atlas_settings(self) -> SchemaDrift:
        if self.preset == "atlas" and self.database == "none":
            raise ValueError("`preset: atlas` needs a dev database to replay the migrations "
                             "on: add `database: postgres` (or `mysql`) and its "
                             "`database_image`, pinned by digest")
        if self.preset != "atlas" and (self.migrations or self.desired_schema):
            raise ValueError("`migrations` and `desired_schema` are for `preset: atlas`; "
                             "other presets find their files themselves")
        for path in (self.migrations, self.desired_schema):
            # Atlas takes both as file:// URLs, where `@` or a space would change the meaning.
            if path and not _ATLAS_PATH.fullmatch(path):
                raise ValueError(f"`{path}`: Atlas reads these paths as file:// URLs; use "
                                 "letters, digits, `.`, `_`, `-` and `/` only")
        suffix = PurePosixPath(self.desired_schema or "").suffix
        if suffix not in ("", ".hcl", ".sql"):
            raise ValueError(f"`desired_schema: {self.desired_schema}`: Atlas reads `.hcl` or "
                             "`.sql` files (or a folder of them); for ORM models use "
                             "the ORM's preset or `preset: command`")
        return self


class Vulnerabilities(SpecModel):
    fail_on: Severity = "high"
    """The lowest severity that fails the build."""
    scanner: Literal["grype", "trivy"] = "grype"
    """The image scanner."""


class Gates(SpecModel):
    secret_scan: SecretScan | None = None
    """Scan every change for committed secrets."""
    iac_lint: IacLint | None = None
    """Lint infrastructure code, Dockerfiles and workflows."""
    schema_drift: SchemaDrift | None = None
    """Block changes whose models and migrations disagree."""
    vulnerabilities: Vulnerabilities | None = None
    """Dependency review on pull requests and image scans."""


class SupplyChain(SpecModel):
    sbom: Literal["cyclonedx", "none"] = "cyclonedx"
    """The SBOM format produced for each image and environment."""
    sign: Literal["keyless", "none"] = "keyless"
    """cosign keyless signing of each pushed image digest (OIDC identity)."""
    provenance: bool = True
    """Build provenance attestations for each pushed image."""
    slsa: bool = False
    """SLSA level 3 provenance through slsa-github-generator (referenced by tag)."""
