"""`harden-ci gate auth-probe`: the auth e2e checks of `tests.auth`, against a live issuer and API.

Probes: harden_ci/gates/auth_probes.py; inputs and order: harden_ci/gates/auth_run.py;
HTTP, JWT and command handling: harden_ci/gates/auth_http.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from harden_ci.cli.step_summary import append_step_summary
from harden_ci.gates.llm_report import write_text


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


@click.command("auth-probe")
@click.option("--issuer", required=True, envvar="HARDEN_CI_AUTH_ISSUER", show_envvar=True,
              help="The OIDC issuer URL (its /.well-known/openid-configuration is read).")
@click.option("--base-url", envvar="HARDEN_CI_URL", show_envvar=True,
              help="The API under test; the --*-path options are resolved against it.")
@click.option("--protected-path", envvar="HARDEN_CI_AUTH_PROTECTED_PATH", show_envvar=True,
              help="An endpoint that answers 2xx to a valid token (path or absolute URL).")
@click.option("--tenant-a-path", envvar="HARDEN_CI_AUTH_TENANT_A_PATH", show_envvar=True,
              help="Tenant A's own resource; its token must get 2xx there (the control).")
@click.option("--tenant-b-path", envvar="HARDEN_CI_AUTH_TENANT_B_PATH", show_envvar=True,
              help="Tenant B's resource; tenant A's token must get 403 or 404 there.")
@click.option("--tenant-b-query", envvar="HARDEN_CI_AUTH_TENANT_B_QUERY", show_envvar=True,
              help="Optional: a query parameter naming tenant B (`tenant=b`), sent to tenant A's path.")
@click.option("--tenant-b-header", envvar="HARDEN_CI_AUTH_TENANT_B_HEADER", show_envvar=True,
              help="Optional: a header naming tenant B (`X-Tenant-Id: b`), sent to tenant A's path.")
@click.option("--client-id", envvar="HARDEN_CI_AUTH_CLIENT_ID", show_envvar=True,
              help="The OAuth client of the refresh token (--token-replay with "
                   "HARDEN_CI_REFRESH_TOKEN[_COMMAND]); a confidential client's secret comes "
                   "from HARDEN_CI_AUTH_CLIENT_SECRET.")
@click.option("--key-rotation", is_flag=True, help="Run the signing-key rotation drill.")
@click.option("--token-replay", is_flag=True,
              help="A revoked or expired token must get 401; with a refresh token, a used "
                   "(rotated) refresh token must be refused at the token endpoint.")
@click.option("--tenant-isolation", is_flag=True, help="Tenant A must not read tenant B's resource.")
@click.option("--forged-tokens", is_flag=True,
              help="alg none, an unknown key, HS256 with the RSA public key, and (when given) "
                   "wrong-audience, wrong-issuer and expired tokens must all get 401/403.")
@click.option("--lifetime/--no-lifetime", default=True, show_default=True,
              help="Check the fresh token's exp - iat against --max-token-lifetime.")
@click.option("--max-token-lifetime", type=click.IntRange(min=1), default=900, show_default=True,
              help="Seconds an access token may live.")
@click.option("--rotation-timeout", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Seconds the JWKS may take to serve the new key after rotating.")
@click.option("--rotation-grace", type=click.FloatRange(min=0), default=None,
              envvar="HARDEN_CI_AUTH_ROTATION_GRACE", show_envvar=True,
              help="Seconds the old key stays valid after rotating; when set, the drill also waits "
                   "for it to be retired (gone from the JWKS, its tokens refused).")
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=5.0, show_default=True,
              help="Seconds between JWKS polls during the rotation drill.")
@click.option("--http-timeout", type=click.FloatRange(min=0.1, max=300), default=10.0,
              show_default=True, help="Seconds allowed for each HTTP request.")
@click.option("--command-timeout", type=click.FloatRange(min=1), default=120.0, show_default=True,
              help="Seconds allowed for the rotate and token commands.")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the results as JSON here.")
def auth_probe(issuer: str, base_url: str | None, protected_path: str | None,
               tenant_a_path: str | None, tenant_b_path: str | None, tenant_b_query: str | None,
               tenant_b_header: str | None, client_id: str | None, key_rotation: bool,
               token_replay: bool, tenant_isolation: bool, forged_tokens: bool, lifetime: bool,
               max_token_lifetime: int, rotation_timeout: float, rotation_grace: float | None,
               poll_interval: float, http_timeout: float, command_timeout: float,
               report: Path | None) -> None:
    """Probe a live issuer and API: JWKS, token lifetime, token replay, tenant isolation and
    the signing-key rotation drill. Exit 0 when every enabled probe passes, 1 when one fails,
    2 when an input is missing (nothing is probed then).

    Tokens come from the environment, never from options: HARDEN_CI_TOKEN or
    HARDEN_CI_TOKEN_COMMAND (a fresh valid token), HARDEN_CI_REVOKED_TOKEN[_COMMAND],
    HARDEN_CI_TENANT_A_TOKEN[_COMMAND] (default: the fresh token),
    HARDEN_CI_TENANT_B_TOKEN[_COMMAND] (tenant B: its control and the reverse check),
    HARDEN_CI_REFRESH_TOKEN[_COMMAND] (a fresh refresh token, for --token-replay), and for --forged-tokens
    HARDEN_CI_WRONG_AUDIENCE_TOKEN, HARDEN_CI_WRONG_ISSUER_TOKEN, HARDEN_CI_EXPIRED_TOKEN
    (each also as _COMMAND; genuine tokens of the issuer with that flaw). Commands, and
    HARDEN_CI_ROTATE_COMMAND, are a JSON array of strings or plain words; no shell is used.

    \b
    Example:
      HARDEN_CI_TOKEN_COMMAND='["./auth/mint-token", "tenant-a"]' \\
      HARDEN_CI_REVOKED_TOKEN_COMMAND='./auth/mint-token tenant-a --revoked' \\
      HARDEN_CI_ROTATE_COMMAND='["bash", "-c", "./auth/rotate-key staging"]' \\
      harden-ci gate auth-probe --issuer https://id.example.com \\
        --base-url https://staging.example.com --protected-path /api/me \\
        --tenant-b-path /api/tenants/b/projects --key-rotation --token-replay --tenant-isolation
    """
    from harden_ci.cli import _run

    def verb() -> int:
        from harden_ci.gates import auth_run

        config = auth_run.AuthConfig(
            issuer=issuer, base_url=base_url or None, protected=protected_path or None,
            tenant_a=tenant_a_path or None, tenant_b=tenant_b_path or None,
            tenant_b_query=tenant_b_query or None, tenant_b_header=tenant_b_header or None,
            key_rotation=key_rotation, token_replay=token_replay, tenant_isolation=tenant_isolation,
            forged_tokens=forged_tokens, client_id=client_id or None,
            lifetime=lifetime, max_lifetime=max_token_lifetime, rotation_timeout=rotation_timeout,
            rotation_grace=rotation_grace,
            poll_interval=poll_interval, http_timeout=http_timeout, command_timeout=command_timeout)
        results = auth_run.run_probes(config)
        click.echo(auth_run.table(results))
        for result in results:
            if not result.passed:
                click.echo(f"::error title=Auth probe ({result.probe})::{_escape(result.message)}")
        passed = all(r.passed for r in results)
        click.echo(f"Auth probes: {'PASS' if passed else 'FAIL'}")
        append_step_summary(auth_run.markdown(results))
        if report:
            write_text(report, auth_run.report(results))
        return 0 if passed else 1

    _run(verb)


COMMANDS: list[click.Command] = [auth_probe]
