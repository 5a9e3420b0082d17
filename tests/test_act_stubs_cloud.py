"""Under act: the cloud login stubs (aws-actions/configure-aws-credentials,
google-github-actions/auth, Azure/login) and Azure/setup-kubectl, given exactly the inputs
harden-ci's plan gives them, are green where the real actions succeed and red, with their
messages, where they fail.

On GitHub, `id-token: write` makes the runner put ACTIONS_ID_TOKEN_REQUEST_URL and
ACTIONS_ID_TOKEN_REQUEST_TOKEN into the job's environment, and the logins read those. act
sets neither, so a job standing for one with the permission sets them itself (OIDC_ENV: no
token service is behind them, the stubs record the token request as stubbed); a job without
them is one without the permission.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from act_stub_runs import act_run, calls, expect
from test_cloud_oidc import AWS, AZURE, GCP

from harden_ci.model import Spec
from harden_ci.plan.context import make_context
from harden_ci.plan.stages import delivery_gateway, deploy_access

pytestmark = pytest.mark.slow

OIDC_ENV = {"ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/act-no-token-service?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "act-oidc-request-token"}


def plan_login(cloud: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The login step and the permissions harden-ci's plan gives a job deploying to an
    environment with this `cloud:`."""
    spec = Spec.model_validate({
        "version": 1, "project": {"name": "t"}, "services": {"app": {"language": "python"}},
        "environments": {"production": {"deploy": "./d prod", "cloud": cloud}}})
    env = spec.environments["production"]
    [step] = deploy_access.cloud_login(make_context(spec, "harden-ci.yaml"), env)
    assert step.uses is not None
    permissions = deploy_access.permissions("production", env)
    grants = {scope: str(grant.level) for scope, grant in permissions.items()}
    return step.uses.action, dict(step.with_), grants


def job(name: str, action: str, with_: dict[str, Any], *, permissions: dict[str, str],
        env: dict[str, str] | None = None, before: str = "", after: str = "") -> str:
    """A job of one login step (id `login`), with steps before and after it."""
    head = [f"  {name}:", "    runs-on: ubuntu-24.04", f"    permissions: {json.dumps(permissions)}"]
    if env:
        head.append(f"    env: {json.dumps(env)}")
    login = [f"      - id: login\n        uses: {action}@PIN\n        with: {json.dumps(with_)}"]
    return "\n".join([*head, "    steps:", *filter(None, [before.rstrip("\n")]), *login,
                      *filter(None, [after.rstrip("\n")])]) + "\n"


def test_aws_login_takes_the_oidc_path_and_fails_as_the_source_without_it(tmp_path: Path) -> None:
    action, with_, grants = plan_login({**AWS, "session_duration": 900})
    assert grants == {"id-token": "write"} and set(with_) == {"role-to-assume", "aws-region",
                                                               "role-duration-seconds"}
    after = """\
      - run: |
          test "$AWS_REGION" = eu-west-1 && test "$AWS_DEFAULT_REGION" = eu-west-1
          echo "key=${AWS_ACCESS_KEY_ID:0:4} session=${#AWS_SESSION_TOKEN} account=$ACCOUNT"
        env: {ACCOUNT: "${{ steps.login.outputs.aws-account-id }}"}
"""
    # As on a GitHub-hosted runner: no credentials in the environment or in ~/.aws.
    no_ambient = {"AWS_ACCESS_KEY_ID": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    jobs = (job("oidc", action, with_, permissions=grants, env=OIDC_ENV, after=after)
            + job("no-id-token", action, with_, permissions={}, env=no_ambient)
            + job("no-region", action, {k: v for k, v in with_.items() if k != "aws-region"},
                  permissions=grants, env=OIDC_ENV))
    run = act_run(tmp_path, jobs)
    expect(run, oidc="success", **{"no-id-token": "failure", "no-region": "failure"})
    assert re.search(r"key=ASIA session=\d+ account=123456789012", run.output("oidc")), run.explain()
    assert "Assuming role with OIDC" in run.output("oidc")
    assert "Did you mean to set the `id-token` permission?" in run.output("no-id-token")
    assert ("Credentials could not be loaded, please check your action inputs: Could not load "
            "credentials from any providers") in run.output("no-id-token")
    assert "Input required and not supplied: aws-region" in run.output("no-region")
    [oidc] = [r for r in calls(run, action) if "failed" not in r["did"]]
    assert "sts:AssumeRoleWithWebIdentity (OIDC)" in oidc["stubbed"], oidc
    assert oidc["inputs"]["role-duration-seconds"] == "900"


def test_gcp_login_writes_the_federation_credentials_and_needs_exactly_one_way(tmp_path: Path) -> None:
    action, with_, grants = plan_login(GCP)
    assert set(with_) == {"workload_identity_provider", "service_account"}
    checkout = "      - uses: actions/checkout@PIN\n        with: {persist-credentials: false}\n"
    after = """\
      - run: |
          test "$GOOGLE_APPLICATION_CREDENTIALS" = "$FILE" && test "$GOOGLE_GHA_CREDS_PATH" = "$FILE"
          python3 -c 'import json, os; d = json.load(open(os.environ["FILE"]));
          print("type=" + d["type"], "audience=" + d["audience"],
                "impersonates=" + d["service_account_impersonation_url"].rsplit("/", 1)[1])'
          echo "file=$(basename "$FILE") project=$GOOGLE_CLOUD_PROJECT output=$PROJECT"
        env:
          FILE: ${{ steps.login.outputs.credentials_file_path }}
          PROJECT: ${{ steps.login.outputs.project_id }}
"""
    key = json.dumps({"type": "service_account", "project_id": "proj-1",
                      "client_email": "deploy@proj-1.iam.gserviceaccount.com"})
    jobs = (job("wif", action, with_, permissions=grants, env=OIDC_ENV, before=checkout, after=after)
            + job("no-id-token", action, with_, permissions={})
            + job("both", action, {**with_, "credentials_json": key}, permissions=grants, env=OIDC_ENV))
    run = act_run(tmp_path, jobs)
    expect(run, wif="success", **{"no-id-token": "failure", "both": "failure"})
    out = run.output("wif")
    assert (f"type=external_account audience=//iam.googleapis.com/{GCP['workload_identity_provider']} "
            f"impersonates={GCP['service_account']}:generateAccessToken") in out, run.explain()
    assert re.search(r"file=gha-creds-[0-9a-f]{16}\.json project=proj-1 output=proj-1", out), out
    assert ("GitHub Actions did not inject $ACTIONS_ID_TOKEN_REQUEST_TOKEN or "
            "$ACTIONS_ID_TOKEN_REQUEST_URL into this job") in run.output("no-id-token")
    assert ('google-github-actions/auth failed with: The GitHub Action workflow must specify exactly one '
            'of "workload_identity_provider" or "credentials_json"!') in run.output("both")


def test_azure_login_with_oidc_and_without_the_id_token(tmp_path: Path) -> None:
    action, with_, grants = plan_login(AZURE)
    assert set(with_) == {"client-id", "tenant-id", "subscription-id"}
    jobs = (job("oidc", action, with_, permissions=grants, env=OIDC_ENV)
            + job("no-id-token", action, with_, permissions={}))
    run = act_run(tmp_path, jobs)
    expect(run, oidc="success", **{"no-id-token": "failure"})
    assert "Azure CLI login succeeds by using OIDC." in run.output("oidc"), run.explain()
    assert ("Failed to fetch federated token from GitHub. Please make sure to give write permissions "
            "to id-token in the workflow.") in run.output("no-id-token")
    assert ("Login failed with Error: Error message: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env "
            "variable. Double check if the 'auth-type' is correct.") in run.output("no-id-token")
    [oidc] = [r for r in calls(run, action) if "failed" not in r["did"]]
    assert "az login" in oidc["stubbed"] and "az account set" in oidc["stubbed"], oidc


def test_setup_kubectl_puts_kubectl_on_path_and_checks_the_version(tmp_path: Path) -> None:
    step = delivery_gateway.install_kubectl(make_context(Spec.model_validate({
        "version": 1, "project": {"name": "t"}, "services": {"app": {"language": "python"}}}),
        "harden-ci.yaml"), 5)
    assert step.uses is not None and step.with_ == {"version": delivery_gateway.KUBECTL_VERSION}
    after = """\
      - run: |
          test "$(command -v kubectl)" = "$KUBECTL"
          kubectl version --client
        env: {KUBECTL: "${{ steps.login.outputs.kubectl-path }}"}
"""
    jobs = (job("install", step.uses.action, dict(step.with_), permissions={}, after=after)
            + job("bad-version", step.uses.action, {"version": "1.x"}, permissions={}))
    run = act_run(tmp_path, jobs)
    expect(run, install="success", **{"bad-version": "failure"})
    [install] = [r for r in calls(run, step.uses.action) if "failed" not in r["did"]]
    assert install["stubbed"] == ["download"], install
    # The machine's kubectl (any version) stands in for the download when there is one.
    machine = "the machine's kubectl" in run.output("install")
    version = "Client Version: v" if machine else f"Client Version: {delivery_gateway.KUBECTL_VERSION}"
    assert version in run.output("install"), run.explain()
    assert ('Error: Invalid version format: "1.x". Version must be in "major.minor" or '
            '"major.minor.patch" format') in run.output("bad-version")
