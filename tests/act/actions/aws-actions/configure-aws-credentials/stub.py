"""aws-actions/configure-aws-credentials stub: the inputs, the choice between GitHub's OIDC
token, static keys and the SDK's ambient credentials, and the checks and messages of
src/index.ts and src/assumeRole.ts; with a role and no keys the OIDC path needs
ACTIONS_ID_TOKEN_REQUEST_TOKEN (the id-token permission), without it the SDK chain finds
nothing and the action fails as it does on a GitHub-hosted runner. The STS calls
(AssumeRoleWithWebIdentity, AssumeRole, GetCallerIdentity) are recorded as stubbed and the
credentials exported are stub values; retries do not sleep; aws-profile and role-chaining are
refused as not supported by the stub."""

from __future__ import annotations

import configparser
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

T = TypeVar("T")
DEFAULT_ROLE_DURATION = 3600
ROLE_SESSION_NAME = "GitHubActions"
REGION = re.compile(r"^[a-z0-9-]+$")
SESSION_NAME = re.compile(r"^[\w+=,.@-]*$")
ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]+$")
# src/helpers.ts translateEnvVariables: these variables stand in for inputs left empty.
ENV_INPUTS = ("AWS_REGION", "ROLE_TO_ASSUME", "WEB_IDENTITY_TOKEN_FILE", "ROLE_CHAINING", "AUDIENCE",
              "HTTP_PROXY", "MASK_AWS_ACCOUNT_ID", "ROLE_DURATION_SECONDS", "ROLE_EXTERNAL_ID",
              "ROLE_SESSION_NAME", "ROLE_SKIP_SESSION_TAGGING", "TRANSITIVE_TAG_KEYS",
              "INLINE_SESSION_POLICY", "MANAGED_SESSION_POLICIES", "OUTPUT_CREDENTIALS",
              "UNSET_CURRENT_CREDENTIALS", "DISABLE_RETRY", "RETRY_MAX_ATTEMPTS",
              "SPECIAL_CHARACTERS_WORKAROUND", "USE_EXISTING_CREDENTIALS", "NO_PROXY",
              "OVERWRITE_AWS_PROFILE")
GITHUB_VARS = ("GITHUB_REPOSITORY", "GITHUB_WORKFLOW", "GITHUB_ACTION", "GITHUB_ACTOR", "GITHUB_SHA",
               "GITHUB_WORKSPACE")
PROTECTED_TAGS = {"GitHub", "Repository", "Workflow", "Action", "Actor", "Commit", "Branch", "EventName",
                  "BaseRef", "HeadRef", "RunId", "Job", "TriggeringActor"}
# Stub credentials: the shapes of STS's (ASIA... key id, 40-character secret), marked as fakes.
STUB_KEY_ID = "ASIAACTSTUBNOTAREAL0"
STUB_SECRET = "act-stub-secret-access-key-not-a-real-1"
STUB_SESSION = "act-stub-session-token-not-a-real-token"


def flag(c: s.Call, name: str, default: bool = False) -> bool:
    """src/helpers.ts getBooleanInput: empty is the default, otherwise a YAML 1.2 boolean."""
    return default if c.get(name) == "" else c.boolean(name)


def js_int(text: str) -> int:
    """Number.parseInt: the leading integer, 0 (falsy, as NaN) when there is none."""
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m[1]) if m else 0


class Retry:
    """src/helpers.ts retryAndBackoff: each failure is logged and retried up to max times
    (the stub does not sleep between attempts); not retryable, the first failure ends it."""

    def __init__(self, enabled: bool, max_retries: int) -> None:
        self.enabled, self.max = enabled, max_retries

    def __call__(self, fn: Callable[[], T], label: str) -> T:
        attempt = 0
        while True:
            try:
                return fn()
            except s.RunError as err:
                if not self.enabled:
                    raise
                attempt += 1
                s.info(f"Retry {label}: attempt {attempt} of {self.max} failed: {err}. "
                       "Retrying after 0ms.")
                if attempt >= self.max:
                    s.info(f"Retry {label}: reached max retries ({self.max}); giving up.")
                    raise


def id_token(c: s.Call, audience: str) -> str:
    """@actions/core getIDToken (dist/index.js OidcClient): the URL, then the request token."""
    try:
        if not os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"):
            raise s.RunError("Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable")
        if not os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
            raise s.RunError("Unable to get ACTIONS_ID_TOKEN_REQUEST_TOKEN env variable")
    except s.RunError as err:
        raise s.RunError(f"Error message: {err}") from None
    c.stub("GitHub OIDC token", f"audience {audience}: no token service here")
    return "act-stub-oidc-token"


def ambient_credentials() -> str | None:
    """The SDK's default chain as a GitHub-hosted runner sees it: AWS_ACCESS_KEY_ID with
    AWS_SECRET_ACCESS_KEY, else the shared credentials file; the other providers (SSO,
    process, token file, container and instance metadata) find nothing there."""
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return os.environ["AWS_ACCESS_KEY_ID"]
    path = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or Path.home() / ".aws" / "credentials")
    if path.is_file():
        ini = configparser.ConfigParser()
        ini.read(path, encoding="utf-8")
        profile = os.environ.get("AWS_PROFILE") or "default"
        if ini.has_option(profile, "aws_access_key_id"):
            return ini.get(profile, "aws_access_key_id")
    return None


def validate_credentials(c: s.Call, explicit: bool) -> None:
    """src/CredentialsClient.ts validateCredentials: without explicit credentials, the SDK
    chain must load some; the sts:GetCallerIdentity call that follows is stubbed."""
    if not explicit and ambient_credentials() is None:
        raise s.RunError("Credentials could not be loaded, please check your action inputs: "
                         "Could not load credentials from any providers")
    c.stub("sts:GetCallerIdentity", "the caller's account is not known here")


def custom_tags(text: str) -> None:
    """src/assumeRole.ts parseAndValidateCustomTags (the JSON and key checks)."""
    try:
        parsed = json.loads(text)
    except ValueError:
        raise s.RunError("custom-tags: input is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise s.RunError("custom-tags: input must be a JSON object (not an array or primitive)")
    for key, value in parsed.items():
        if isinstance(value, dict | list) or value is None:
            raise s.RunError(f"custom-tags: value for key '{key}' must be a string, number, or boolean "
                             "(not an object or array)")
        if not 0 < len(key) <= 128:
            raise s.RunError(f"custom-tags: key '{key}' must be between 1 and 128 characters")
        if key in PROTECTED_TAGS:
            raise s.RunError(f"custom-tags: key '{key}' conflicts with a protected session tag set by "
                             "this action and cannot be overridden")


def export_credentials(creds: dict[str, Any], outputs: bool, env: bool) -> None:
    """src/helpers.ts exportCredentials: masked, then as env variables and/or outputs."""
    for key in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        if creds.get(key):
            print(f"::add-mask::{creds[key]}", flush=True)
    if env:
        s.export_variable("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
        s.export_variable("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
        if creds.get("SessionToken"):
            s.export_variable("AWS_SESSION_TOKEN", creds["SessionToken"])
        elif os.environ.get("AWS_SESSION_TOKEN"):
            s.export_variable("AWS_SESSION_TOKEN", "")
    if outputs:
        s.set_output("aws-access-key-id", creds["AccessKeyId"])
        s.set_output("aws-secret-access-key", creds["SecretAccessKey"])
        if creds.get("SessionToken"):
            s.set_output("aws-session-token", creds["SessionToken"])
        if creds.get("Expiration"):
            # core.setOutput writes a Date as JSON: the ISO time in quotes.
            s.set_output("aws-expiration", json.dumps(creds["Expiration"]))


def validate_account(expected: list[str], account: str) -> None:
    """src/helpers.ts validateAccountId."""
    if expected and expected[0] != "" and account not in expected:
        raise s.RunError(f"The account ID of the provided credentials ({account}) does not match any "
                         f"of the expected account IDs: {', '.join(expected)}")


def assume_role(c: s.Call, role: str, session: str, duration: int, token: str | None,
                token_file: str, tags: str) -> tuple[dict[str, Any], str]:
    """src/assumeRole.ts assumeRole: GitHub's variables, session tags, the role ARN, then one
    of AssumeRoleWithWebIdentity (OIDC token or token file) and AssumeRole (stubbed)."""
    if not all(os.environ.get(v) for v in GITHUB_VARS):
        raise s.RunError("Missing required environment variables. Are you running in GitHub Actions?")
    if tags:
        custom_tags(tags)
    if not role.startswith("arn:aws"):
        if token or token_file:  # no source credentials: no source account (src/index.ts:163)
            raise s.RunError("Source Account ID is needed if the Role Name is provided and not the Role Arn.")
        raise s.RunError("act harness: a role name needs the source account from sts:GetCallerIdentity; "
                         "not supported by this stub")
    way = "OIDC" if token else "web identity token file" if token_file else "user credentials"
    if not ROLE_ARN.match(role):
        raise s.RunError(f"Could not assume role with {way}: act harness: {role} is not an IAM role ARN, "
                         "STS would refuse it")
    if token:
        s.info("Assuming role with OIDC")
        call = "sts:AssumeRoleWithWebIdentity (OIDC)"
    elif token_file:
        path = Path(token_file) if Path(token_file).is_absolute() else s.workspace() / token_file
        if not path.is_file():
            raise s.RunError(f"Web identity token file does not exist: {path}")
        s.info("Assuming role with web identity token file")
        call = "sts:AssumeRoleWithWebIdentity (token file)"
    else:
        s.info("Assuming role with user credentials")
        call = "sts:AssumeRole"
    c.stub(call, f"{role} as session {session} for {duration}s: no STS here; stub credentials exported")
    expiration = (datetime.now(UTC) + timedelta(seconds=duration)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    creds = {"AccessKeyId": STUB_KEY_ID, "SecretAccessKey": STUB_SECRET, "SessionToken": STUB_SESSION,
             "Expiration": expiration}
    return creds, f"AROAACTSTUBNOTAROLE0:{session}"


def main(c: s.Call) -> None:
    if os.environ.get("HTTPS_PROXY"):
        os.environ["HTTP_PROXY"] = os.environ["HTTPS_PROXY"]
    for var in ENV_INPUTS:
        name = var.lower().replace("_", "-")
        if os.environ.get(var) and not c.inputs.get(name):
            c.inputs[name] = os.environ[var]
    access_key, secret = c.get("aws-access-key-id"), c.get("aws-secret-access-key")
    session_token = c.get("aws-session-token") or None
    region = c.get("aws-region", required=True)
    profile = c.get("aws-profile")
    flag(c, "overwrite-aws-profile")
    role = c.get("role-to-assume")
    audience = c.get("audience")
    mask = flag(c, "mask-aws-account-id")
    token_file = c.get("web-identity-token-file")
    duration = js_int(c.get("role-duration-seconds")) or DEFAULT_ROLE_DURATION
    session = c.get("role-session-name") or ROLE_SESSION_NAME
    flag(c, "role-skip-session-tagging")
    tags = c.get("custom-tags")
    role_chaining = flag(c, "role-chaining")
    output_credentials = flag(c, "output-credentials")
    output_env = flag(c, "output-env-credentials", default=not profile)
    unset_current = flag(c, "unset-current-credentials")
    disable_retry = flag(c, "disable-retry")
    special = flag(c, "special-characters-workaround")
    use_existing = c.get("use-existing-credentials")
    max_retries = js_int(c.get("retry-max-attempts")) or 12
    expected_accounts = [a.strip() for a in c.get("allowed-account-ids").split(",")]
    force_skip_oidc = flag(c, "force-skip-oidc")
    if force_skip_oidc and role and not access_key and not token_file:
        raise s.RunError("If 'force-skip-oidc' is true and 'role-to-assume' is set, 'aws-access-key-id' "
                         "or 'web-identity-token-file' must be set")
    if special:
        disable_retry, max_retries = False, 12
    retry = Retry(not disable_retry, max(max_retries, 1))

    def use_oidc() -> bool:
        if force_skip_oidc:
            return False
        has_token = bool(os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
        if role and not token_file and not access_key and not has_token:
            s.info("It looks like you might be trying to authenticate with OIDC. Did you mean to set the "
                   "`id-token` permission? If you are not trying to authenticate with OIDC and the action "
                   "is working successfully, you can ignore this message.")
        return bool(role) and has_token and not access_key and not token_file

    if unset_current and output_env:
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                    "AWS_DEFAULT_REGION"):
            s.export_variable(var, "")
    if not REGION.match(region):
        raise s.RunError(f"Region is not valid: {region}")
    if not 2 <= len(session) <= 64:
        raise s.RunError(f"Role session name must be between 2 and 64 characters, got {len(session)}: "
                         f"'{session}'")
    if not SESSION_NAME.match(session):
        raise s.RunError(f"Role session name is not valid: '{session}'. Must satisfy regular expression "
                         "pattern: [\\w+=,.@-]*")
    if profile or role_chaining:
        raise s.RunError("act harness: aws-profile and role-chaining are not supported by this stub")
    if output_env:
        s.export_variable("AWS_DEFAULT_REGION", region)
        s.export_variable("AWS_REGION", region)
    if use_existing:
        if ambient_credentials() is not None:
            raise s.RunError("act harness: use-existing-credentials with credentials present needs "
                             "sts:GetCallerIdentity; not supported by this stub")
        print("::notice::No valid credentials exist. Running as normal.", flush=True)

    token: str | None = None
    if use_oidc():
        try:
            token = retry(lambda: id_token(c, audience), "getIDToken")
        except s.RunError as err:
            raise s.RunError(f"getIDToken call failed: {err}") from None
    elif access_key:
        if not secret:
            raise s.RunError("'aws-secret-access-key' must be provided if 'aws-access-key-id' is provided")
        export_credentials({"AccessKeyId": access_key, "SecretAccessKey": secret,
                            "SessionToken": session_token}, output_credentials, output_env)
        retry(lambda: validate_credentials(c, explicit=True), "validateCredentials")
    elif not token_file:
        retry(lambda: validate_credentials(c, explicit=False), "validateCredentials")
    if expected_accounts[0] and not role:
        c.stub("allowed-account-ids", "the account of static or ambient credentials is not known here")
    if tags and (use_oidc() or token_file):
        s.warning("'custom-tags' is set but will be ignored because session tags cannot be applied when "
                  "using OIDC or web identity token authentication. Tags are controlled by the identity "
                  "provider token claims in these authentication flows.")
    if not role:
        s.info("Proceeding with IAM user credentials")
        return
    creds, role_id = retry(lambda: assume_role(c, role, session, duration, token, token_file, tags),
                           "AssumeRole")
    s.info(f"Authenticated as assumedRoleId {role_id}")
    export_credentials(creds, output_credentials, output_env)
    # The assumed role's identity: its account is the role ARN's, its ARN the session's.
    account = role.split(":")[4]
    arn = f"arn:aws:sts::{account}:assumed-role/{role.rsplit('/', 1)[-1]}/{session}"
    validate_account(expected_accounts, account)
    if output_env:
        if mask:
            print(f"::add-mask::{account}\n::add-mask::{arn}", flush=True)
        s.set_output("aws-account-id", account)
        # Set by the source although its action.yml does not declare it: a composite action
        # passes on only declared outputs, so it stays inside this stub's step.
        s.set_output("authenticated-arn", arn)
    c.note(f"{role} in {region} ({'OIDC' if token else 'token file' if token_file else 'AssumeRole'})")


if __name__ == "__main__":
    s.run_stub("aws-actions/configure-aws-credentials", main)
