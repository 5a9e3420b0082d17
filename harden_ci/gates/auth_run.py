"""Run the enabled auth probes in a safe order and report them.

Every input is checked before the first request, so a missing token or URL is exit 2 before
the rotation drill touches the issuer. The order: jwks, token lifetime, token replay, tenant
isolation, forged tokens, and key rotation last (it changes the issuer's keys, which older tokens rely on).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from harden_ci.errors import SpecError
from harden_ci.gates import auth_forged as forged
from harden_ci.gates import auth_http as http
from harden_ci.gates import auth_probes as probes
from harden_ci.gates import auth_refresh as refresh
from harden_ci.gates.auth_http import TokenSource
from harden_ci.gates.auth_probes import ProbeResult


@dataclass(frozen=True)
class AuthConfig:
    issuer: str
    base_url: str | None = None
    protected: str | None = None  # a path under base_url, or an absolute URL
    tenant_a: str | None = None
    tenant_b: str | None = None
    tenant_b_query: str | None = None  # e.g. tenant=b, sent to tenant A's path
    tenant_b_header: str | None = None  # e.g. "X-Tenant-Id: b", sent to tenant A's path
    key_rotation: bool = False
    token_replay: bool = False
    tenant_isolation: bool = False
    forged_tokens: bool = False
    client_id: str | None = None  # the OAuth client of HARDEN_CI_REFRESH_TOKEN[_COMMAND]
    lifetime: bool = True
    max_lifetime: float = 900
    rotation_timeout: float = 300
    rotation_grace: float | None = None  # the old key's grace period; set: its retirement is checked
    poll_interval: float = 5
    http_timeout: float = 10
    command_timeout: float = 120


@dataclass(frozen=True)
class _Inputs:
    fresh: TokenSource
    revoked: TokenSource
    refresh: TokenSource
    tenant_a: TokenSource
    tenant_b: TokenSource
    rotate: list[str] | None
    protected_url: str | None
    tenant_a_url: str | None
    tenant_b_url: str | None
    genuine: dict[str, TokenSource]


def _inputs(config: AuthConfig, env: dict[str, str]) -> _Inputs:
    """Everything the enabled probes need, or one SpecError listing all that is missing."""
    http.check_url(config.issuer, "the issuer")
    if config.base_url:
        http.check_url(config.base_url, "the base URL")
    timeout = config.command_timeout
    fresh = TokenSource.from_env("TOKEN", timeout, env)
    revoked = TokenSource.from_env("REVOKED_TOKEN", timeout, env)
    refresh_token = TokenSource.from_env("REFRESH_TOKEN", timeout, env)
    tenant_a = TokenSource.from_env("TENANT_A_TOKEN", timeout, env)
    rotate_text = env.get("HARDEN_CI_ROTATE_COMMAND", "").strip()
    rotate = http.parse_argv(rotate_text, "HARDEN_CI_ROTATE_COMMAND") if rotate_text else None

    def url(value: str | None, what: str) -> str | None:
        return http.join(config.base_url, value, what) if value else None

    missing: list[str] = []
    protected_needed = "--protected-path (HARDEN_CI_AUTH_PROTECTED_PATH), an endpoint that needs a token"
    if config.lifetime and not fresh.configured:
        missing.append(f"token lifetime needs a fresh token: {fresh.variables} (or --no-lifetime)")
    if config.token_replay:
        for need, ok in ((protected_needed, config.protected), (fresh.variables, fresh.configured),
                         (f"a revoked or expired token: {revoked.variables}", revoked.configured)):
            if not ok:
                missing.append(f"token replay needs {need}")
        if refresh_token.configured and not config.client_id:
            missing.append("refresh-token replay needs --client-id (HARDEN_CI_AUTH_CLIENT_ID), "
                           "the OAuth client of the refresh token")
    if config.tenant_isolation:
        if not config.tenant_b:
            missing.append("tenant isolation needs --tenant-b-path (HARDEN_CI_AUTH_TENANT_B_PATH), "
                           "a resource of tenant B")
        if not config.tenant_a:
            missing.append("tenant isolation needs --tenant-a-path (HARDEN_CI_AUTH_TENANT_A_PATH), "
                           "tenant A's own resource: the control request that must succeed")
        if config.tenant_b_header and ":" not in config.tenant_b_header:
            missing.append("--tenant-b-header must read `Name: value`")
        if not (tenant_a.configured or fresh.configured):
            missing.append(f"tenant isolation needs tenant A's token: {tenant_a.variables} "
                           f"(or {fresh.variables})")
    if config.forged_tokens:
        for need, ok in ((protected_needed, config.protected), (fresh.variables, fresh.configured)):
            if not ok:
                missing.append(f"forged tokens needs {need}")
    if config.key_rotation:
        if rotate is None:
            missing.append("key rotation needs HARDEN_CI_ROTATE_COMMAND (the spec's rotate_command)")
        if fresh.command is None:
            missing.append("key rotation needs HARDEN_CI_TOKEN_COMMAND, to mint a token after "
                           "the rotation")
        if not config.protected:
            missing.append(f"key rotation needs {protected_needed}")
    if missing:
        raise SpecError("the auth probes are missing inputs: " + "; ".join(missing) + ".")
    return _Inputs(fresh=fresh, revoked=revoked, refresh=refresh_token,
                   tenant_a=tenant_a if tenant_a.configured else fresh,
                   tenant_b=TokenSource.from_env("TENANT_B_TOKEN", timeout, env),
                   rotate=rotate, protected_url=url(config.protected, "the protected path"),
                   tenant_a_url=url(config.tenant_a, "tenant A's path"),
                   tenant_b_url=url(config.tenant_b, "tenant B's path"),
                   genuine={name: TokenSource.from_env(name, timeout, env) for name in forged.GENUINE})


def _refresh_replay(config: AuthConfig, inputs: _Inputs, env: dict[str, str]) -> ProbeResult:
    assert config.client_id is not None and inputs.protected_url is not None
    endpoint, problem = probes.discovered(config.issuer, "token_endpoint",
                                          timeout=config.http_timeout)
    if endpoint is None:
        return ProbeResult(refresh.NAME, False, f"{refresh.NAME}: {problem}")
    secret = env.get("HARDEN_CI_AUTH_CLIENT_SECRET", "").strip() or None
    return refresh.probe_refresh_replay(
        endpoint, inputs.refresh.get(), refresh.Client(config.client_id, secret),
        protected_url=inputs.protected_url, timeout=config.http_timeout)


def run_probes(config: AuthConfig, env: dict[str, str] | None = None) -> list[ProbeResult]:
    """Run the enabled probes; SpecError (exit 2) when an input is missing or unusable."""
    env = dict(os.environ) if env is None else env
    inputs = _inputs(config, env)
    timeout = config.http_timeout
    token = inputs.fresh.get() if inputs.fresh.configured else None
    jwks_result, jwks = probes.probe_jwks(config.issuer, timeout=timeout, token=token)
    results = [jwks_result]
    if config.lifetime and token is not None:
        results.append(probes.probe_lifetime(token, config.max_lifetime))
    if config.token_replay:
        assert inputs.protected_url is not None and token is not None
        results.append(probes.probe_replay(inputs.protected_url, valid_token=token,
                                           revoked_token=inputs.revoked.get(), timeout=timeout))
        if inputs.refresh.configured:
            results.append(_refresh_replay(config, inputs, env))
    if config.tenant_isolation:
        assert inputs.tenant_b_url is not None
        tenant_token = token if inputs.tenant_a is inputs.fresh and token else inputs.tenant_a.get()
        name, _, value = (config.tenant_b_header or "").partition(":")
        tenants = probes.Tenants(
            a_url=inputs.tenant_a_url, b_url=inputs.tenant_b_url, a_token=tenant_token,
            b_token=inputs.tenant_b.get() if inputs.tenant_b.configured else None,
            query=config.tenant_b_query or None,
            header=(name.strip(), value.strip()) if config.tenant_b_header else None)
        results.append(probes.probe_tenant_isolation(tenants, timeout=timeout))
    if config.forged_tokens:
        assert inputs.protected_url is not None and token is not None
        results.append(forged.probe_forged(inputs.protected_url, fresh=token,
                                           jwks_keys=list(jwks.keys) if jwks else [],
                                           genuine=inputs.genuine, timeout=timeout))
    if config.key_rotation:
        assert inputs.rotate is not None and inputs.protected_url is not None
        if jwks is None:
            results.append(ProbeResult("key rotation", False, "key rotation: not run, because the "
                                       "JWKS could not be read (see the jwks probe)"))
        else:
            drill = probes.Rotation(
                rotate_command=inputs.rotate, token=inputs.fresh, protected_url=inputs.protected_url,
                timeout=config.rotation_timeout, poll_interval=config.poll_interval,
                command_timeout=config.command_timeout, http_timeout=timeout,
                grace=config.rotation_grace)
            results.append(probes.probe_key_rotation(jwks.uri, drill))
    return results


# --- reporting --------------------------------------------------------------------------------

def table(results: list[ProbeResult]) -> str:
    """A plain-text table for the log."""
    width = max(len(r.probe) for r in results)
    lines = [f"{'probe'.ljust(width)}  result  detail", f"{'-' * width}  ------  ------"]
    lines += [f"{r.probe.ljust(width)}  {'pass' if r.passed else 'FAIL'}    {r.message}"
              for r in results]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")


def markdown(results: list[ProbeResult], title: str = "Auth probes") -> str:
    passed = all(r.passed for r in results)
    lines = [f"### {_cell(title)}: {'✅ pass' if passed else '❌ fail'}", "",
             "| probe | result | detail |", "|---|---|---|"]
    lines += [f"| {r.probe} | {'✅ pass' if r.passed else '❌ fail'} | {_cell(r.message)} |"
              for r in results]
    return "\n".join(lines) + "\n"


def report(results: list[ProbeResult]) -> str:
    return json.dumps({"gate": "auth-probe", "passed": all(r.passed for r in results),
                       "probes": [{"probe": r.probe, "passed": r.passed, "message": r.message}
                                  for r in results]}, indent=2, ensure_ascii=False) + "\n"
