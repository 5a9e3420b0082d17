"""Cloud OIDC for deploys and who gets which credential.

An environment's `cloud:` logs its deploy jobs in to AWS, Google Cloud or Azure through
GitHub's OIDC token, right before the deploy command, with only identity inputs (never a
key). `id-token: write` reaches exactly the jobs that deploy there: the test renders each
spec with and without `cloud:` and compares every job's permissions. Each job gets only the
secrets it uses: an environment's secrets reach only the steps that run its deploy or
teardown. `explain` says which environments still deploy with long-lived secrets, and the
policy's `require.reviewers` rests on the generated protection check, not on the spec.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from test_scripts import learnhub, rendered

from harden_ci.load import LoadedSpec
from harden_ci.model import Spec
from harden_ci.pipeline import load
from harden_ci.plan.stages import deploy_access
from harden_ci.report.policy import check_policy, load_policy

ROOT = Path(__file__).resolve().parent.parent
GCP = {"provider": "gcp",
       "workload_identity_provider":
           "projects/123456789/locations/global/workloadIdentityPools/ci-pool/providers/github",
       "service_account": "deploy@proj-1.iam.gserviceaccount.com"}
AZURE = {"provider": "azure", "client_id": "11111111-2222-3333-4444-555555555555",
         "tenant_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
         "subscription_id": "99999999-8888-7777-6666-555555555555"}
AWS = {"provider": "aws", "role_arn": "arn:aws:iam::123456789012:role/deploy/prod",
       "region": "eu-west-1"}
LOGIN_ACTIONS = {"aws": "aws-actions/configure-aws-credentials",
                 "gcp": "google-github-actions/auth", "azure": "Azure/login"}
# Inputs that would carry a long-lived credential: none may ever be set.
LONG_LIVED_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token",
                     "credentials_json", "creds", "web-identity-token-file"}
SECRET_REF = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")


def spec(preview_cloud: dict[str, Any] | None = None,
         production_cloud: dict[str, Any] | None = None) -> dict[str, Any]:
    preview: dict[str, Any] = {"per_pull_request": True, "deploy": "./d up",
                               "teardown": "./d down", "secrets": ["PREVIEW_TOKEN"]}
    production: dict[str, Any] = {"deploy": "./d prod", "reviewers": True,
                                  "secrets": ["PROD_TOKEN"]}
    staging: dict[str, Any] = {"deploy": "./d staging", "secrets": ["STAGING_TOKEN"],
                               "url": "https://staging.example.com"}
    if preview_cloud:
        preview["cloud"] = preview_cloud
    if production_cloud:
        production["cloud"] = production_cloud
    return {"version": 1, "project": {"name": "t"},
            "services": {"app": {"language": "python"}},
            "environments": {"preview": preview, "staging": staging, "production": production},
            "tests": {"auth": {"environment": "staging", "issuer": "https://id.example.com",
                               "token_command": "./token.sh", "protected_path": "/v1/me"}},
            "schedules": {"nightly": {"cron": "0 3 * * *", "command": "./job.sh",
                                      "environment": "production", "secrets": ["JOB_TOKEN"]}}}


def jobs(workflows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{name}:{job_id}": job for name, wf in workflows.items()
            for job_id, job in (wf.get("jobs") or {}).items()}


def login_index(job: dict[str, Any]) -> int | None:
    for index, step in enumerate(job.get("steps") or []):
        uses = str(step.get("uses", "")).split("@")[0]
        if uses in LOGIN_ACTIONS.values():
            return index
    return None


# ------------------------------------------------------------------------------ model

@pytest.mark.parametrize("cloud", [AWS, {**AWS, "session_duration": 900}, GCP, AZURE])
def test_each_provider_validates(cloud: dict[str, Any]) -> None:
    parsed = Spec.model_validate(spec(production_cloud=cloud))
    login = parsed.environments["production"].cloud
    assert login is not None and login.provider == cloud["provider"]


@pytest.mark.parametrize(("cloud", "field"), [
    ({**AWS, "role_arn": "arn:aws:iam::12345:role/deploy"}, "role_arn"),  # 5-digit account
    ({**AWS, "role_arn": "arn:aws:iam::123456789012:user/deploy"}, "role_arn"),
    ({**AWS, "region": "Europe"}, "region"),
    ({**AWS, "session_duration": 60}, "session_duration"),
    ({**GCP, "workload_identity_provider": "projects/p/locations/global/"
                                           "workloadIdentityPools/ci-pool/providers/github"},
     "workload_identity_provider"),
    ({**GCP, "workload_identity_provider": "ci-pool/providers/github"},
     "workload_identity_provider"),
    ({**GCP, "service_account": "deploy@gmail.com"}, "service_account"),
    ({**AZURE, "client_id": "not-a-uuid"}, "client_id"),
    ({**AZURE, "tenant_id": "11111111-2222-3333-4444-55555555555"}, "tenant_id"),
    ({"provider": "azure", "client_id": AZURE["client_id"], "tenant_id": AZURE["tenant_id"]},
     "subscription_id"),
    ({**AWS, "aws-secret-access-key": "x"}, "aws-secret-access-key"),
    ({"provider": "oracle"}, "provider"),
])
def test_malformed_identities_are_refused(cloud: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Spec.model_validate(spec(production_cloud=cloud))
    assert field in str(caught.value) or "provider" in str(caught.value)


def test_kind_environments_refuse_a_cloud_login() -> None:
    data = spec()
    data["environments"]["preview"] = {
        "per_pull_request": True, "provider": "kind", "manifests": "k8s",
        "port_forward": "svc/web 8080:80", "url": "http://localhost:8080", "cloud": GCP}
    with pytest.raises(ValidationError, match="no cloud to log in to"):
        Spec.model_validate(data)


# ------------------------------------------------------------------------------- plan

def test_id_token_write_reaches_exactly_the_jobs_that_deploy_there() -> None:
    """Every job of every workflow: the jobs that gained `id-token: write` when `cloud:` was
    added are exactly the jobs that log in, and each of those runs the environment's deploy
    or teardown right after its login; no other job's permissions changed at all."""
    plain = jobs(rendered(spec()))
    cloudy = jobs(rendered(spec(preview_cloud=GCP, production_cloud=AZURE)))
    assert set(plain) == set(cloudy)
    gained = {key for key, job in cloudy.items()
              if (job.get("permissions") or {}).get("id-token") == "write"
              and (plain[key].get("permissions") or {}).get("id-token") != "write"}
    logging_in = {key for key, job in cloudy.items() if login_index(job) is not None}
    assert gained == logging_in == {
        "harden-ci-preview.yml:deploy-preview", "harden-ci-preview.yml:teardown-preview",
        "harden-ci-sweeper.yml:sweep-previews", "harden-ci-release.yml:deploy-production"}
    for key, job in cloudy.items():
        if key not in gained:
            assert job.get("permissions") == plain[key].get("permissions"), key
    # The scheduled job runs in production but deploys nothing: no token, no login.
    assert "id-token" not in (cloudy["harden-ci-nightly.yml:schedule-nightly"]
                              .get("permissions") or {})


@pytest.mark.parametrize(("cloud", "inputs"), [
    (AWS, {"role-to-assume": AWS["role_arn"], "aws-region": "eu-west-1"}),
    ({**AWS, "session_duration": 1800},
     {"role-to-assume": AWS["role_arn"], "aws-region": "eu-west-1",
      "role-duration-seconds": 1800}),
    (GCP, {"workload_identity_provider": GCP["workload_identity_provider"],
           "service_account": GCP["service_account"]}),
    (AZURE, {"client-id": AZURE["client_id"], "tenant-id": AZURE["tenant_id"],
             "subscription-id": AZURE["subscription_id"]}),
])
def test_login_runs_right_before_the_deploy_with_identity_inputs_only(
        cloud: dict[str, Any], inputs: dict[str, Any]) -> None:
    job = rendered(spec(production_cloud=cloud))["harden-ci-release.yml"]["jobs"][
        "deploy-production"]
    steps = job["steps"]
    index = login_index(job)
    assert index is not None
    login = steps[index]
    assert str(login["uses"]).startswith(LOGIN_ACTIONS[cloud["provider"]] + "@")
    assert re.search(r"@[0-9a-f]{40}$", login["uses"]), "pinned by commit"
    assert login["with"] == inputs
    assert not LONG_LIVED_INPUTS & set(login["with"])
    assert steps[index + 1]["env"]["COMMAND"] == "./d prod"
    assert job["permissions"]["id-token"] == "write"


def test_canary_logs_in_before_it_changes_the_rollout() -> None:
    workflows = learnhub()
    canary = workflows["harden-ci-release.yml"]["jobs"]["canary"]
    index = login_index(canary)
    assert index is not None and canary["permissions"]["id-token"] == "write"
    names = [step["name"] for step in canary["steps"]]
    assert names.index("Deploy the canary to production") > index
    assert all(not name.startswith(("Shift", "Roll back")) for name in names[:index])
    # The deploy to staging stays on its long-lived secret and gets no OIDC token.
    staging = workflows["harden-ci-release.yml"]["jobs"]["deploy-staging"]
    assert login_index(staging) is None and "id-token" not in staging["permissions"]


# -------------------------------------------------------------------------- secrets

def _secret_steps(workflows: dict[str, dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """secret name → (job, step name) of every place a rendered workflow reads it."""
    found: dict[str, list[tuple[str, str]]] = {}
    for key, job in jobs(workflows).items():
        assert not SECRET_REF.search(json.dumps(job.get("env") or {})), (
            f"{key}: a secret in the job's env reaches every step")
        for step in job.get("steps") or []:
            for name in SECRET_REF.findall(json.dumps({k: v for k, v in step.items()
                                                       if k in ("env", "with")})):
                found.setdefault(name, []).append((key, str(step.get("name"))))
    return found


DEPLOY_STEPS = {"Deploy the preview", "Tear down the preview",
                "Tear down closed or expired previews", "Deploy staging", "Deploy production",
                "Deploy the canary to production"}


def _case(name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A spec's environments and its rendered workflows."""
    if name == "learnhub":
        data = yaml.safe_load((ROOT / "examples/learnhub/harden-ci.yaml").read_text())
        return data["environments"], learnhub()
    if name == "every-section":
        data = yaml.safe_load((ROOT / "tests/fixtures/specs/valid/every_section.yaml")
                              .read_text())
        return data["environments"], rendered(data)
    data = spec(production_cloud=AWS)
    return data["environments"], rendered(data)


@pytest.mark.parametrize("case", ["built-here", "learnhub", "every-section"])
def test_environment_secrets_reach_only_the_steps_that_deploy(case: str) -> None:
    """An environment's secrets are read by its deploy and teardown steps and nowhere else:
    not by the e2e suite, the auth probes, the soak or a scheduled job in that environment;
    and no secret sits in a job-level env, where every step would see it."""
    environments, workflows = _case(case)
    places = _secret_steps(workflows)
    env_secrets = {secret for env in environments.values() for secret in env.get("secrets", [])}
    assert env_secrets, "the case declares environment secrets"
    for secret in env_secrets:
        assert places.get(secret), f"{secret} is never passed to its deploy"
        for job, step in places[secret]:
            assert step in DEPLOY_STEPS, f"{secret} reaches {job}'s step {step!r}"


# ------------------------------------------------------------------ explain and policy

LEARNHUB = ROOT / "examples/learnhub/harden-ci.yaml"
STRICT = ROOT / "tests/fixtures/policy/strict.yaml"


def test_explain_names_long_lived_credentials_and_oidc_identities() -> None:
    from harden_ci.report.spec_facts import environments

    loaded, parsed = load(LEARNHUB)
    facts = {e.name: e.credentials for e in environments(parsed, loaded)}
    assert facts["staging"] == "deploys with long-lived credentials: STAGING_DEPLOY_TOKEN"
    assert facts["preview"] == "deploys with long-lived credentials: PREVIEW_DEPLOY_TOKEN"
    assert facts["production"].startswith(
        "OIDC login to aws as arn:aws:iam::123456789012:role/learnhub-deploy")
    data = spec(preview_cloud=GCP, production_cloud=AZURE)
    built = Spec.model_validate(data)
    here = {e.name: e.credentials for e in environments(built, _loaded(data))}
    assert GCP["service_account"] in here["preview"] and "gcp" in here["preview"]
    assert AZURE["client_id"] in here["production"] and AZURE["tenant_id"] in here["production"]
    assert here["staging"] == "deploys with long-lived credentials: STAGING_TOKEN"


def _loaded(data: dict[str, Any]) -> LoadedSpec:
    from harden_ci.load import load_spec_text

    return load_spec_text(yaml.safe_dump(data).encode(), "harden-ci.yaml")


def test_policy_reviewers_rests_on_the_generated_check() -> None:
    loaded, parsed = load(LEARNHUB)
    result = check_policy(parsed, loaded, load_policy(STRICT))
    assert result.passed, result.violations
    note = next(n for n in result.notes if n.startswith("require.reviewers"))
    assert "`production` is checked at deploy time" in note and "canary" in note


def test_policy_reviewers_fails_when_the_workflow_does_not_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`reviewers: true` alone is not enough: with the protection check gone from the
    generated deploy jobs, the policy names the jobs that deploy unchecked."""
    monkeypatch.setattr(deploy_access, "guard", lambda *args: None)
    loaded, parsed = load(LEARNHUB)
    result = check_policy(parsed, loaded, load_policy(STRICT))
    failed = [v for v in result.violations if v.rule == "require.reviewers"]
    assert len(failed) == 1, result.violations
    assert failed[0].spec_path == "environments.production.reviewers"
    assert "not verified before deploying (canary)" in failed[0].message
    assert not any(n.startswith("require.reviewers") for n in result.notes)


def test_gcp_and_azure_logins_pass_zizmor_and_actionlint(tmp_path: Path) -> None:
    """The examples cover AWS; this renders the Google Cloud and Azure logins (and the
    protection check) and runs the same validators on them."""
    import validators
    from test_scripts import rendered_files

    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name, text in rendered_files(spec(preview_cloud=GCP, production_cloud=AZURE)).items():
        if name.endswith(".yml") and "/" not in name:
            (folder / name).write_text(text, encoding="utf-8")
    written = {path.name for path in folder.iterdir()}
    assert {"harden-ci-preview.yml", "harden-ci-release.yml", "harden-ci-sweeper.yml"} <= written
    findings = [*validators.zizmor([tmp_path], "regular"),
                *validators.zizmor([tmp_path], "pedantic"), *validators.actionlint([tmp_path])]
    assert findings == []
