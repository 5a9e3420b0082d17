"""Run the enabled auth probes in a safe order and report them.

Every input is checked before the first request, so a missing token or URL is exit 2 before
the rotation drill touches the issuer. The order: jwks, token lifetime, token replay, tenant
isolation, and key rotation last (it changes the issuer's keys, which older tokens rely on).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from harden_ci.errors import SpecError
from harden_ci.gates import auth_http as http
from harden_ci.gates import auth_probes as probes
from harden_ci.gates.auth_http import TokenSource
from harden_ci.gates.auth_probes import ProbeResult


@dataclass(frozen=True)
class AuthConfig:
    issuer: str
    base_url: str | None = None
    protected: str | None = None  # a path under base_url, or an absolute URL
    tenant_a: str | None = None
    tenant_b: str | None = None
    key_rotation: bool = False
    token_replay: bool = False
    tenant_isolation: bool = False
    lifetime: bool = True
    max_lifetime: float = 900
    rotation_timeout: float = 300
    poll_interval: float = 5
    http_timeout: float = 10
    command_timeout: float = 120


@dataclass(frozen=True)
class _Inputs:
    fresh: TokenSource
    revoked: TokenSource
    tenant_a: TokenSource
    rotate: list[str] | None
    protected_url: str | None
    tenant_a_url: str | None
    tenant_b_url: str | None


def _inputs(config: AuthConfig, env: dict[str, str]) -> _Inputs:
    """Everything the enabled probes need, or one SpecError listing all that is missing."""
    http.check_url(config.issuer, "the issuer")
    if config.base_url:
        http.check_url(config.base_url, "the base URL")
    timeout = config.command_timeout
    fresh = TokenSource.from_env("TOKEN", timeout, env)
    revoked = TokenSource.from_env("REVOKED_TOKEN", timeout, env)
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
    if config.tenant_isolation:
        if not config.tenant_b:
            missing.append("tenant isolation needs --tenant-b-path (HARDEN_CI_AUTH_TENANT_B_PATH), "
                           "a resource of tenant B")
        if not (tenant_a.configured or fresh.configured):
            missing.append(f"tenant isolation needs tenant A's token: {tenant_a.variables} "
                           f"(or {fresh.variables})")
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
    return _Inputs(fresh=fresh, revoked=revoked, tenant_a=tenant_a if tenant_a.configured else fresh,
                   rotate=rotate, protected_url=url(config.protected, "the protected path"),
                   tenant_a_url=url(config.tenant_a, "tenant A's path"),
                   tenant_b_url=url(config.tenant_b, "tenant B's path"))


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
    if config.tenant_isolation:
        assert inputs.tenant_b_url is not None
        tenant_token = token if inputs.tenant_a is inputs.fresh and token else inputs.tenant_a.get()
        results.append(probes.probe_tenant_isolation(inputs.tenant_b_url, token=tenant_token,
                                                     own_url=inputs.tenant_a_url, timeout=timeout))
    if config.key_rotation:
        assert inputs.rotate is not None and inputs.protected_url is not None
        if jwks is None:
            results.append(ProbeResult("key rotation", False, "key rotation: not run, because the "
                                       "JWKS could not be read (see the jwks probe)"))
        else:
            drill = probes.Rotation(
                rotate_command=inputs.rotate, token=inputs.fresh, protected_url=inputs.protected_url,
                timeout=config.rotation_timeout, poll_interval=config.poll_interval,
                command_timeout=config.command_timeout, http_timeout=timeout)
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
