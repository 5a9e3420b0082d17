"""Azure/login stub: the login configuration read and validated as src/common/LoginConfig.ts
does (creds, environment, auth-type, client and tenant IDs, subscription or
allow-no-subscriptions), then the way src/Cli/AzureCliLogin.ts picks: a client secret from
creds, else GitHub's OIDC token, which needs ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN (the
id-token permission), or a managed identity. The az CLI and Azure PowerShell logins (Azure
AD) are recorded as stubbed, with the arguments the source would pass."""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

SERVICE_PRINCIPAL, IDENTITY = "SERVICE_PRINCIPAL", "IDENTITY"
CLOUDS = ("azureusgovernment", "azurechinacloud", "azuregermancloud", "azurecloud", "azurestack")
AUTH_TYPES = (SERVICE_PRINCIPAL, IDENTITY)
HINT = ("Double check if the 'auth-type' is correct. Refer to https://github.com/Azure/login#readme "
        "for more information.")


class Config:
    """src/common/LoginConfig.ts initialize and readParametersFromCreds."""

    def __init__(self, c: s.Call) -> None:
        self.environment = c.get("environment").lower()
        self.enable_ps = c.get("enable-AzPSSession").lower() == "true"
        self.allow_no_subscriptions = c.get("allow-no-subscriptions").lower() == "true"
        self.auth_type = c.get("auth-type").upper()
        self.client_id = c.get("client-id")
        self.secret: str | None = None
        self.tenant_id = c.get("tenant-id")
        self.subscription_id = c.get("subscription-id")
        self.resource_manager: str | None = None
        self.from_creds(c.get("creds"))
        self.audience = c.get("audience")
        for value in (self.client_id, self.secret):
            if value:
                print(f"::add-mask::{value}", flush=True)

    def from_creds(self, creds: str) -> None:
        if not creds:
            return
        try:
            secrets = json.loads(creds)
        except ValueError as err:  # JSON.parse's SyntaxError (Python's wording of the position)
            raise s.RunError(f"SyntaxError: {err}") from None
        if self.auth_type != SERVICE_PRINCIPAL:
            return
        if self.client_id or self.tenant_id or self.subscription_id:
            s.warning("At least one of the parameters 'client-id', 'subscription-id' or 'tenant-id' is set. "
                      "'creds' will be ignored.")
            return
        fields = secrets if isinstance(secrets, dict) else {}
        self.client_id = str(fields.get("clientId") or "")
        self.secret = str(fields.get("clientSecret") or "") or None
        self.tenant_id = str(fields.get("tenantId") or "")
        self.subscription_id = str(fields.get("subscriptionId") or "")
        self.resource_manager = fields.get("resourceManagerEndpointUrl")
        if not self.client_id or not self.secret or not self.tenant_id:
            raise s.RunError("Error: Not all parameters are provided in 'creds'. Double-check if all keys "
                             "are defined in 'creds': 'clientId', 'clientSecret', 'tenantId'.")

    def validate(self) -> None:
        if self.environment not in CLOUDS:
            raise s.RunError(f"Error: Unsupported value '{self.environment}' for environment is passed. "
                             f"The list of supported values for environment are '{quoted(CLOUDS)}'. ")
        if self.auth_type not in AUTH_TYPES:
            raise s.RunError(f"Error: Unsupported value '{self.auth_type}' for authentication type is "
                             "passed. The list of supported values for auth-type are "
                             f"'{quoted(AUTH_TYPES)}'.")
        if self.auth_type == SERVICE_PRINCIPAL and (not self.client_id or not self.tenant_id):
            raise s.RunError(f"Error: Using auth-type: {SERVICE_PRINCIPAL}. Not all values are present. "
                             "Ensure 'client-id' and 'tenant-id' are supplied.")
        if not self.subscription_id and not self.allow_no_subscriptions:
            raise s.RunError("Error: Ensure 'subscription-id' is supplied or 'allow-no-subscriptions' is "
                             "'true'.")


def quoted(values: tuple[str, ...]) -> str:
    return "', '".join(values)


def federated_token(config: Config) -> None:
    """LoginConfig.getFederatedToken: @actions/core getIDToken reads the URL first, then the
    request token; a failure is reported with the id-token hint and ends the login."""
    missing = next((v for v in ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
                    if not os.environ.get(v)), None)
    if missing:
        print("::error::Failed to fetch federated token from GitHub. Please make sure to give write "
              "permissions to id-token in the workflow.", flush=True)
        raise s.RunError(f"Error: Error message: Unable to get {missing} env variable")


def cli_login(c: s.Call, config: Config) -> None:
    """src/Cli/AzureCliLogin.ts login."""
    s.info("Running Azure CLI Login.")
    c.stub("az version", "the az CLI of a GitHub-hosted runner is not run here")
    if config.environment == "azurestack" and not config.resource_manager:
        raise s.RunError("Error: resourceManagerEndpointUrl is a required parameter when environment is "
                         "defined.")
    c.stub("az cloud set", f"-n {config.environment}")
    s.info(f'Done setting cloud: "{config.environment}"')
    if config.auth_type == SERVICE_PRINCIPAL:
        args = ["--service-principal", "--username", config.client_id, "--tenant", config.tenant_id]
        if config.secret:
            s.info("Note: Azure/login action also supports OIDC login mechanism. Refer https://github.com/"
                   "azure/login#configure-a-service-principal-with-a-federated-credential-to-use-oidc-based-"
                   "authentication for more details.")
            args.append("--password=***")
            method = "service principal with secret"
        else:
            federated_token(config)
            c.stub("GitHub OIDC token", f"audience {config.audience}: no token service here")
            args += ["--federated-token", "***"]
            method = "OIDC"
    else:
        args = ["--identity"]
        if config.client_id:
            args += ["--client-id", config.client_id]
            method = "user-assigned managed identity"
        else:
            method = "system-assigned managed identity"
    s.info(f"Attempting Azure CLI login by using {method}...")
    if config.allow_no_subscriptions:
        args.append("--allow-no-subscriptions")
    c.stub("az login", " ".join(["login", *args]) + ": Azure AD is not reachable here")
    if config.subscription_id:
        c.stub("az account set", f"--subscription {config.subscription_id}")
        s.info("Subscription is set successfully.")
    s.info(f"Azure CLI login succeeds by using {method}.")
    c.note(f"az login by {method}")


def main(c: s.Call) -> None:
    try:
        if os.environ.get("AZURE_LOGIN_PRE_CLEANUP") == "true":
            c.stub("az account clear", "pre-cleanup")
            if c.get("enable-AzPSSession").lower() == "true":
                c.stub("Clear-AzContext", "pre-cleanup")
        config = Config(c)
        config.validate()
        cli_login(c, config)
        if config.enable_ps:
            s.info("Running Azure PowerShell Login.")
            c.stub("Connect-AzAccount", "Azure PowerShell login: Azure AD is not reachable here")
    except s.RunError as err:
        c.fail(f"Login failed with {err}. {HINT}")


if __name__ == "__main__":
    s.run_stub("Azure/login", main)
