"""`environments:`: where the product runs, and how it gets there."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.cloud import CloudLogin
from harden_ci.model.types import Command, RepoPath, Seconds, SecretName, Text, Url


class Environment(SpecModel):
    per_pull_request: bool = False
    """An ephemeral copy per pull request, torn down when it closes."""
    provider: Literal["command", "kind"] = "command"
    """`command` runs `deploy`/`teardown`; `kind` deploys into a cluster inside the job."""
    deploy: Command | None = None
    """Deploys; gets HARDEN_CI_ENVIRONMENT, HARDEN_CI_URL, HARDEN_CI_PR_NUMBER in its env."""
    teardown: Command | None = None
    """Removes a per-pull-request environment."""
    url: Url | None = None
    """The environment's URL; `{number}` stands for the pull request number."""
    reviewers: bool = False
    """Require approval (GitHub environment protection rules) before deploying. The deploy
    job checks through the API, before it deploys, that the environment really has required
    reviewers and a deployment-branch policy, and fails otherwise."""
    cloud: CloudLogin | None = None
    """Log in to AWS, Google Cloud or Azure through GitHub OIDC right before the deploy (and
    teardown): short-lived credentials instead of long-lived secrets. Only the jobs that
    deploy to this environment get `id-token: write`."""
    secrets: list[SecretName] = Field(default_factory=list)
    """Secrets the deploy needs, passed as env variables of the same name."""
    vars: list[SecretName] = Field(default_factory=list)
    """Repository or environment variables the deploy needs, passed the same way."""
    manifests: RepoPath | None = None
    """For `provider: kind`: Kubernetes manifests or a Helm chart to apply."""
    port_forward: Text | None = None
    """For `provider: kind`: what `kubectl port-forward` exposes as `url`, e.g.
    `svc/web 8080:80`."""
    ttl: Seconds = 7 * 24 * 3600
    """Per-pull-request environments older than this are swept away."""

    @model_validator(mode="after")
    def _provider_fields(self) -> Environment:
        if self.provider == "command" and self.deploy is None:
            raise ValueError("an environment with `provider: command` needs a `deploy` command")
        if self.per_pull_request and self.provider == "command" and self.teardown is None:
            raise ValueError("a `per_pull_request` environment needs a `teardown` command")
        if self.provider == "kind":
            if self.cloud is not None:
                raise ValueError("`provider: kind` deploys into a cluster inside the job: it "
                                 "has no cloud to log in to (drop `cloud`)")
            if self.manifests is None:
                raise ValueError("`provider: kind` needs `manifests` (a folder or Helm chart)")
            if not self.per_pull_request:
                raise ValueError("`provider: kind` is an ephemeral cluster inside one job: it "
                                 "needs `per_pull_request: true`")
            if self.port_forward is None or self.url is None:
                raise ValueError("`provider: kind` needs `port_forward` (e.g. `svc/web "
                                 "8080:80`) and a local `url` (e.g. `http://localhost:8080`)")
            if not re.fullmatch(r"(svc|service|deploy|deployment|pod)/[a-z0-9][a-z0-9.-]* "
                                r"[0-9]{1,5}:[0-9]{1,5}", self.port_forward):
                raise ValueError("`port_forward` is `svc/NAME LOCAL:REMOTE`, e.g. "
                                 "`svc/web 8080:80`")
        if self.url and "{" in self.url.replace("{number}", ""):
            raise ValueError("the only placeholder a URL may hold is `{number}`")
        if self.url and "{number}" in self.url and not self.per_pull_request:
            raise ValueError("`{number}` in a URL needs `per_pull_request: true`")
        return self
