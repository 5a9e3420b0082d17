"""google-github-actions/auth stub: exactly one of workload_identity_provider and
credentials_json, the OIDC variables for Workload Identity Federation (the id-token
permission), the service account key's checks, the credentials file written as the source
writes it (external_account or the key) into the workspace, and the project ID and
environment variables as src/main.ts exports them. The token exchanges (GitHub's OIDC token,
Google's STS and IAM Credentials calls) are recorded as stubbed; the tokens set as outputs are
stub values."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

SECRETS_WARNING = ("If you are specifying input values via GitHub secrets, ensure the secret is being "
                   "injected into the environment. By default, secrets are not passed to workflows "
                   "triggered from forks, including Dependabot.")
OIDC_WARNING = ("GitHub Actions did not inject $ACTIONS_ID_TOKEN_REQUEST_TOKEN or "
                "$ACTIONS_ID_TOKEN_REQUEST_URL into this job. This most likely means the GitHub Actions "
                "workflow permissions are incorrect, or this job is being run from a fork. For more "
                "information, please see https://docs.github.com/en/actions/security-guides/"
                "automatic-token-authentication#permissions-for-the-github_token")
BOOLEANS = {"1": True, "t": True, "T": True, "true": True, "True": True, "TRUE": True,
            "0": False, "f": False, "F": False, "false": False, "False": False, "FALSE": False}
ENDPOINTS = {"iam": "https://iam.{universe}/v1", "iamcredentials": "https://iamcredentials.{universe}/v1",
             "oauth2": "https://oauth2.{universe}", "sts": "https://sts.{universe}/v1",
             "www": "https://www.{universe}"}


def parse_boolean(value: str, default: bool = False) -> bool:
    """actions-utils parseBoolean."""
    key = value.strip()
    if key == "":
        return default
    if key not in BOOLEANS:
        raise s.RunError(f'invalid boolean value "{key}"')
    return BOOLEANS[key]


def parse_credential(text: str) -> Any:
    """actions-utils parseCredential: JSON, or base64 of it."""
    text = text.strip()
    if not text:
        raise s.RunError("Missing service account key JSON (got empty value)")
    if not text.startswith("{"):
        raw = text.replace("-", "+").replace("_", "/")
        try:
            text = base64.b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8", "replace")
        except ValueError:  # Buffer.from never throws: what it cannot decode it drops
            text = ""
    try:
        return json.loads(text)
    except ValueError as err:
        raise s.RunError(f"Failed to parse service account key JSON credentials: {err}") from None


def is_key(credential: Any) -> bool:
    return isinstance(credential, dict) and credential.get("type") == "service_account"


def project_from_email(email: str) -> str | None:
    """src/utils.ts projectIDFromServiceAccountEmail: sa-name@<project-id>.iam.gserviceaccount.com."""
    parts = email.split("@") if email else []
    if len(parts) != 2 or len(parts[1].split(".")) < 2:
        return None
    return parts[1].split(".")[0]


def multiline_csv(value: str) -> list[str]:
    """actions-utils parseMultilineCSV (escaped commas are not split)."""
    return [item.strip().replace("\\,", ",") for line in re.split(r"\r|\n", value)
            for item in re.split(r"(?<!\\),", line.strip()) if item.strip()]


def duration(value: str) -> int:
    """actions-utils parseDuration: 30s, 5m, 1h, or seconds."""
    total, digits = 0, ""
    for i, ch in enumerate(value.strip()):
        if ch in " ,":
            continue
        if ch in "smh":
            total += int(digits or 0) * {"s": 1, "m": 60, "h": 3600}[ch]
            digits = ""
        elif ch in "0123456789":
            digits += ch
        else:
            raise s.RunError(f'Unsupported character "{ch}" at position {i}')
    return total + int(digits or 0)


def endpoints(universe: str) -> dict[str, str]:
    """actions-utils expandUniverseEndpoints (GHA_ENDPOINT_OVERRIDE_<name> wins)."""
    return {name: (os.environ.get(f"GHA_ENDPOINT_OVERRIDE_{name}") or
                   url.replace("{universe}", universe)).rstrip("/") for name, url in ENDPOINTS.items()}


def wif_file(ends: dict[str, str], provider: str, audience: str, service_account: str | None) -> str:
    """src/client/workload_identity_federation.ts createCredentialsFile: an external_account
    whose token source is the job's OIDC request URL (with the audience) and token."""
    url = urlsplit(os.environ["ACTIONS_ID_TOKEN_REQUEST_URL"])
    query = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "audience"]
    request = urlunsplit(url._replace(query=urlencode([*query, ("audience", audience)])))
    data: dict[str, Any] = {
        "type": "external_account",
        "audience": f"//{urlsplit(ends['iam']).netloc}/{provider}",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": f"{ends['sts']}/token",
        "credential_source": {
            "url": request,
            "headers": {"Authorization": f"Bearer {os.environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"},
            "format": {"type": "json", "subject_token_field_name": "value"},
        },
    }
    if service_account:
        data["service_account_impersonation_url"] = (
            f"{ends['iamcredentials']}/projects/-/serviceAccounts/{service_account}:generateAccessToken")
    return json.dumps(data, separators=(",", ":"))


def stub_token(c: s.Call, output: str, what: str, why: str = "Google's APIs are not reachable here") -> None:
    value = f"act-stub-{output.replace('_', '-')}-not-a-real-token"
    c.stub(what, f"{why}; a stub value is set")
    print(f"::add-mask::{value}", flush=True)
    s.set_output(output, value)


def from_key(credentials_json: str, field: str) -> str | None:
    """src/utils.ts computeProjectID / computeServiceAccountEmail: a field of the key, which
    is parsed only when the inputs do not give the value."""
    key = parse_credential(credentials_json) if credentials_json else None
    return str(key[field]) if isinstance(key, dict) and is_key(key) and key.get(field) else None


def main(c: s.Call) -> None:
    credentials_json = c.get("credentials_json")
    project_id = (c.get("project_id") or project_from_email(c.get("service_account"))
                  or from_key(credentials_json, "project_id"))
    provider = c.get("workload_identity_provider")
    service_account = c.get("service_account") or from_key(credentials_json, "client_email")
    audience = c.get("audience") or f"https://iam.googleapis.com/{provider}"
    create_file = parse_boolean(c.get("create_credentials_file"))
    export_env = parse_boolean(c.get("export_environment_variables"))
    token_format = c.get("token_format")
    delegates = multiline_csv(c.get("delegates"))
    ends = endpoints(c.get("universe"))
    if bool(provider) == bool(credentials_json):
        raise s.RunError('The GitHub Action workflow must specify exactly one of '
                         f'"workload_identity_provider" or "credentials_json"! {SECRETS_WARNING}')
    if provider:
        if not os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN") or not os.environ.get(
                "ACTIONS_ID_TOKEN_REQUEST_URL"):
            raise s.RunError(OIDC_WARNING)
        c.stub("GitHub OIDC token", f"audience {audience}: no token service here")
        content = wif_file(ends, provider, audience, service_account)
    else:
        key = parse_credential(credentials_json)
        if not is_key(key):
            raise s.RunError("Provided credential is not a valid Google Service Account Key JSON")
        content = json.dumps(key, separators=(",", ":"))
    if create_file:
        workspace = os.environ.get("GITHUB_WORKSPACE")
        if not workspace:
            raise s.RunError("$GITHUB_WORKSPACE is not set")
        if not Path(workspace).is_dir() or not any(Path(workspace).iterdir()):
            s.info('⚠️ The "create_credentials_file" option is true, but the current GitHub workspace is '
                   'empty. Did you forget to use "actions/checkout" before this step? If you do not intend '
                   'to share authentication with future steps in this job, set "create_credentials_file" '
                   "to false.")
        path = Path(workspace) / f"gha-creds-{secrets.token_hex(8)}.json"
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640), "w", encoding="utf-8") as f:
            f.write(content)
        s.info(f'Created credentials file at "{path}"')
        s.set_output("credentials_file_path", str(path))
        if export_env:
            for var in ("CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", "GOOGLE_APPLICATION_CREDENTIALS",
                        "GOOGLE_GHA_CREDS_PATH"):
                s.export_variable(var, str(path))
        # The real action's post step removes the file (cleanup_credentials); a composite
        # action has no post step, so it stays for the rest of this job.
        c.note(f"credentials file {path.name}")
    if not project_id:
        s.info('⚠️ Failed to compute a project ID from the given inputs. Neither the "project_id" output '
               'nor any environment variables will be exported. If you require these values in other '
               'steps, specify the "project_id" input directly.')
    else:
        s.set_output("project_id", project_id)
        if export_env:
            for var in ("CLOUDSDK_CORE_PROJECT", "CLOUDSDK_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT",
                        "GOOGLE_CLOUD_PROJECT"):
                s.export_variable(var, project_id)
    if provider:
        stub_token(c, "auth_token", f"{ends['sts']}/token exchange")
    else:
        stub_token(c, "auth_token", "self-signed JWT", "the key's private key is not used here")
    if token_format == "access_token":
        duration(c.get("access_token_lifetime"))
        if not service_account:
            raise s.RunError('The GitHub Action workflow must specify a "service_account" to use when '
                             f"generating an OAuth 2.0 Access Token. {SECRETS_WARNING}")
        stub_token(c, "access_token", f"access token for {service_account} (delegates {delegates})")
    elif token_format == "id_token":
        if not c.get("id_token_audience"):
            raise s.RunError("Input required and not supplied: id_token_audience")
        parse_boolean(c.get("id_token_include_email"))
        if not service_account:
            raise s.RunError('The GitHub Action workflow must specify a "service_account" to use when '
                             f"generating an OAuth 2.0 Access Token. {SECRETS_WARNING}")
        stub_token(c, "id_token", f"ID token for {service_account}")
    elif token_format:
        raise s.RunError(f'Unknown token format "{token_format}"')
    c.note(f"{'workload identity federation' if provider else 'service account key'}"
           f"{' as ' + service_account if service_account else ''}")


if __name__ == "__main__":
    s.run_stub("google-github-actions/auth", main,
               error_prefix="google-github-actions/auth failed with: ")
