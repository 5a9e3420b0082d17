"""Refresh-token replay: a rotated refresh token may be redeemed once.

With refresh-token rotation (RFC 9700 §4.14.2, the OAuth 2.0 Security BCP) every
redemption at the token endpoint returns a new refresh token and invalidates the one
presented. The probe redeems a fresh refresh token (it must work, and the new access token
must read the protected endpoint: the control), then redeems the same refresh token again:
that replay must be refused (HTTP 400 `invalid_grant`, RFC 6749 §5.2, or 401). An issuer
that returns no new refresh token does not rotate, so a stolen refresh token works until it
expires: that fails too. Whether the replay also revoked the newer refresh token (reuse
detection) is reported, not required: issuers differ, and the BCP allows sender-constrained
tokens instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from harden_ci.gates import auth_http as http
from harden_ci.gates.auth_probes import ProbeResult

NAME = "refresh-token replay"


@dataclass(frozen=True)
class Client:
    """The OAuth client the refresh token was issued to."""

    client_id: str
    client_secret: str | None = None  # a confidential client's secret


@dataclass(frozen=True)
class _Redeemed:
    response: http.Response
    access_token: str | None = None
    refresh_token: str | None = None


def _redeem(endpoint: str, refresh_token: str, client: Client, timeout: float) -> _Redeemed:
    fields = {"grant_type": "refresh_token", "refresh_token": refresh_token,
              "client_id": client.client_id}
    if client.client_secret:
        fields["client_secret"] = client.client_secret
    response = http.post_form(endpoint, fields, timeout=timeout)
    if response.status != 200:
        return _Redeemed(response)
    try:
        body = response.json()
    except ValueError:
        return _Redeemed(response)
    if not isinstance(body, dict):
        return _Redeemed(response)
    access, refresh = body.get("access_token"), body.get("refresh_token")
    for token in (access, refresh):
        if isinstance(token, str) and token:
            http.mask(token)
    return _Redeemed(response, access if isinstance(access, str) and access else None,
                     refresh if isinstance(refresh, str) and refresh else None)


def probe_refresh_replay(endpoint: str, refresh_token: str, client: Client, *,
                         protected_url: str, timeout: float) -> ProbeResult:
    first = _redeem(endpoint, refresh_token, client, timeout)
    if first.response.status != 200 or first.access_token is None:
        why = ("it answered 200 without an access_token" if first.response.status == 200
               else f"it answered {first.response.describe()}")
        return ProbeResult(NAME, False, f"{NAME}: inconclusive: the fresh refresh token was not "
                                        f"redeemed at {endpoint} ({why}); check the refresh "
                                        "token command and the client id")
    if first.refresh_token is None or first.refresh_token == refresh_token:
        return ProbeResult(NAME, False, f"{NAME}: the issuer does not rotate refresh tokens "
                                        f"(no new refresh token from {endpoint}): a stolen "
                                        "refresh token keeps working until it expires")
    control = http.get(protected_url, token=first.access_token, timeout=timeout)
    if not (control.status is not None and 200 <= control.status < 300):
        return ProbeResult(NAME, False, f"{NAME}: inconclusive: the refreshed access token got "
                                        f"{control.describe()} at {protected_url}, so the "
                                        "refresh did not yield a working session")
    replay = _redeem(endpoint, refresh_token, client, timeout)
    status = replay.response.status
    if status == 200:
        return ProbeResult(NAME, False, f"{NAME}: the issuer redeemed a refresh token a second "
                                        f"time (HTTP 200 at {endpoint}): a stolen refresh token "
                                        "works beside the legitimate one")
    if status not in (400, 401):
        return ProbeResult(NAME, False, f"{NAME}: the replayed refresh token got "
                                        f"{replay.response.describe()} at {endpoint}; expected "
                                        "400 invalid_grant (or 401)")
    family = _redeem(endpoint, first.refresh_token, client, timeout)
    reuse = ("and the replay revoked the newer refresh token too (reuse detection)"
             if family.response.status != 200 else
             "the newer refresh token still works after the replay (no reuse detection)")
    return ProbeResult(NAME, True, f"{NAME}: the used refresh token was refused with HTTP "
                                   f"{status} on replay at {endpoint}; {reuse}")
