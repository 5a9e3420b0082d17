"""`environments.*.cloud`: log in to AWS, Google Cloud or Azure through GitHub's OIDC token.

The deploy then runs with short-lived credentials minted for this one job, instead of a
long-lived key kept in a GitHub secret. Nothing here is secret: a role ARN, a workload
identity provider or an app registration's ids only say *who* the job may become; the cloud
side's trust policy decides *whether* it may (by repository, ref and environment claims).
Azure's ids are therefore literal values in the reviewed spec, not `vars` names: the
reviewer sees exactly which identity a deploy assumes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from harden_ci.model.base import SpecModel

# arn:PARTITION:iam::ACCOUNT:role/PATH/NAME (IAM allows `+=,.@_-` and `/` for paths).
ROLE_ARN_PATTERN = r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
AWS_REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$"
WIF_PROVIDER_PATTERN = (r"^projects/[0-9]{1,20}/locations/global/workloadIdentityPools/"
                        r"[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}$")
SERVICE_ACCOUNT_PATTERN = r"^[a-z0-9-]{1,63}@[a-z0-9.-]{1,200}\.gserviceaccount\.com$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

RoleArn = Annotated[str, StringConstraints(pattern=ROLE_ARN_PATTERN)]
AwsRegion = Annotated[str, StringConstraints(pattern=AWS_REGION_PATTERN)]
WifProvider = Annotated[str, StringConstraints(pattern=WIF_PROVIDER_PATTERN)]
ServiceAccount = Annotated[str, StringConstraints(pattern=SERVICE_ACCOUNT_PATTERN)]
Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]


class AwsLogin(SpecModel):
    provider: Literal["aws"]
    """Amazon Web Services, through aws-actions/configure-aws-credentials."""
    role_arn: RoleArn
    """The IAM role the deploy assumes, e.g. `arn:aws:iam::123456789012:role/deploy`; its
    trust policy should name this repository and environment (`sub` claim)."""
    region: AwsRegion
    """The AWS region, e.g. `eu-west-1`."""
    session_duration: Annotated[int, Field(ge=900, le=43200)] | None = None
    """The session's lifetime in seconds (900 to 43200; the action's default is one hour)."""

    def identity(self) -> str:
        return self.role_arn


class GcpLogin(SpecModel):
    provider: Literal["gcp"]
    """Google Cloud, through google-github-actions/auth (Workload Identity Federation)."""
    workload_identity_provider: WifProvider
    """`projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`."""
    service_account: ServiceAccount
    """The service account the deploy impersonates, e.g.
    `deploy@my-project.iam.gserviceaccount.com`."""

    def identity(self) -> str:
        return self.service_account


class AzureLogin(SpecModel):
    provider: Literal["azure"]
    """Microsoft Azure, through Azure/login with a federated credential (no client secret)."""
    client_id: Uuid
    """The app registration's or managed identity's client id (a UUID)."""
    tenant_id: Uuid
    """The Microsoft Entra tenant id (a UUID)."""
    subscription_id: Uuid
    """The subscription the deploy works in (a UUID)."""

    def identity(self) -> str:
        return f"client {self.client_id} in tenant {self.tenant_id}"


CloudLogin = Annotated[AwsLogin | GcpLogin | AzureLogin, Field(discriminator="provider")]
