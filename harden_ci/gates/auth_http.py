"""What the auth probes stand on: bounded HTTP GETs (urllib only), JWT decoding without
signature checks, and the user's commands run as argv lists (never through a shell string
harden-ci builds).

Commands come from the environment as either a JSON array of strings
(`["./keys", "rotate", "--env", "staging"]`) or plain words split like a POSIX shell
would split them, without any shell (`./keys rotate --env staging`). To run shell text,
say so: `["bash", "-c", "./keys rotate && ./keys publish"]`.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import ipaddress
import json
import os
import shlex
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import IO

from harden_ci.errors import SpecError

MAX_BODY = 1 << 20  # 1 MiB is far more than a discovery document or a JWKS needs


@dataclass(frozen=True)
class Response:
    url: str
    status: int | None  # None: no HTTP response at all
    body: bytes = b""
    error: str | None = None  # why there was no response

    def describe(self) -> str:
        return f"HTTP {self.status}" if self.status is not None else f"no response ({self.error})"

    def json(self) -> object:
        return json.loads(self.body.decode("utf-8"))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer: a 302 to a login page must not look like a 200."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Message, newurl: str) -> urllib.request.Request | None:
        return None


def opener(follow_redirects: bool) -> urllib.request.OpenerDirector:
    """An opener for the gates' HTTP calls (auth probes, the flag service)."""
    # Only HTTP(S) handlers: no file://, ftp:// or data: URLs, whatever a server answers.
    opener = urllib.request.OpenerDirector()
    redirects: urllib.request.BaseHandler = (
        urllib.request.HTTPRedirectHandler() if follow_redirects else _NoRedirects())
    for handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(),
                    urllib.request.HTTPSHandler(), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor(), redirects):
        opener.add_handler(handler)
    return opener


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """An absolute https URL (http only for loopback test servers); SpecError otherwise."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError(f"{what} must be an absolute http(s) URL, not {url!r}")
    if parts.scheme == "http" and not is_loopback(url):
        raise SpecError(f"{what} must use https ({url!r}); plain http is accepted only for "
                        "localhost test servers")
    return url


def join(base: str | None, path_or_url: str, what: str) -> str:
    """An absolute URL as is, or a path resolved against the base URL."""
    if urllib.parse.urlsplit(path_or_url).scheme:
        return check_url(path_or_url, what)
    if not base:
        raise SpecError(f"{what} {path_or_url!r} is a path, so a base URL is needed",
                        hint="set --base-url or HARDEN_CI_URL")
    return check_url(urllib.parse.urljoin(base.rstrip("/") + "/", path_or_url.lstrip("/")), what)


def get(url: str, *, timeout: float, token: str | None = None, follow_redirects: bool = False,
        accept: str = "application/json", extra_headers: dict[str, str] | None = None) -> Response:
    """GET with a timeout; every outcome (including errors) is a Response, never an exception."""
    headers = {"Accept": accept, "User-Agent": "harden-ci-auth-probe", **(extra_headers or {})}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return _send(urllib.request.Request(url, headers=headers, method="GET"), follow_redirects,
                 timeout)


def post_form(url: str, fields: dict[str, str], *, timeout: float) -> Response:
    """POST an application/x-www-form-urlencoded body (an OAuth token request); every
    outcome is a Response. Redirects are answers, never followed."""
    headers = {"Accept": "application/json", "User-Agent": "harden-ci-auth-probe",
               "Content-Type": "application/x-www-form-urlencoded"}
    body = urllib.parse.urlencode(fields).encode("ascii")
    return _send(urllib.request.Request(url, data=body, headers=headers, method="POST"), False,
                 timeout)


def _send(request: urllib.request.Request, follow_redirects: bool, timeout: float) -> Response:
    url = request.full_url
    try:
        with opener(follow_redirects).open(request, timeout=timeout) as response:
            return Response(url, response.status, response.read(MAX_BODY))
    except urllib.error.HTTPError as exc:
        body = exc.read(MAX_BODY) if exc.fp is not None else b""
        exc.close()
        return Response(url, exc.code, body)
    except urllib.error.URLError as exc:
        return Response(url, None, error=str(exc.reason))
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
        return Response(url, None, error=str(exc) or type(exc).__name__)


# --- JWTs -----------------------------------------------------------------------------------

def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))


def decode_jwt(token: str) -> tuple[dict[str, object], dict[str, object]]:
    """(header, claims) of a compact JWS; ValueError with a reason when it is not one.
    The signature is not checked: the probes only read `kid`, `iat` and `exp`."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError(f"not a JWT (a JWT has 3 dot-separated parts, this token has {len(parts)})")
    try:
        header, claims = _b64url_json(parts[0]), _b64url_json(parts[1])
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValueError(f"not a JWT (its header or claims are not base64url JSON: {exc})") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("not a JWT (its header and claims must be JSON objects)")
    return header, claims


# --- commands -------------------------------------------------------------------------------

def parse_argv(value: str, variable: str) -> list[str]:
    """A command from the environment: a JSON array of strings, or shell-like words."""
    if value.lstrip().startswith("["):
        try:
            argv = json.loads(value)
        except ValueError as exc:
            raise SpecError(f"{variable} looks like a JSON array but is not valid JSON ({exc})") \
                from None
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
            raise SpecError(f"{variable} must be a non-empty JSON array of strings")
        return argv
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise SpecError(f"{variable} cannot be split into words ({exc})") from None
    if not argv:
        raise SpecError(f"{variable} is empty")
    return argv


@dataclass(frozen=True)
class CommandResult:
    returncode: int | None  # None: timed out
    stdout: str
    stderr: str

    def tail(self) -> str:
        """The last lines of stderr, for messages (stdout may hold a token: never shown)."""
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return " | ".join(lines[-3:])[-300:]


def run_command(argv: list[str], *, timeout: float, what: str, stdin_text: str | None = None,
                env: dict[str, str] | None = None) -> CommandResult:
    """Run argv in its own process group, so a timeout stops the whole tree (a `bash -c`
    child holding the pipes open would otherwise keep us waiting). `stdin_text` is written to
    its standard input; `env` is added to the environment."""
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL if stdin_text is None else subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                encoding="utf-8", errors="replace", start_new_session=True,
                                env={**os.environ, **env} if env else None)
    except FileNotFoundError:
        raise SpecError(f"the {what} {argv[0]!r} was not found") from None
    except PermissionError:
        raise SpecError(f"the {what} {argv[0]!r} is not executable") from None
    try:
        stdout, stderr = proc.communicate(stdin_text, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        proc.communicate()
        return CommandResult(None, "", f"timed out after {timeout:g} s")
    return CommandResult(proc.returncode, stdout, stderr)


def kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the process group `proc` leads (started with start_new_session=True)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


@dataclass(frozen=True)
class TokenSource:
    """A token from HARDEN_CI_<NAME> (the token itself) or HARDEN_CI_<NAME>_COMMAND (prints one
    on stdout; run again each time a fresh token is needed)."""

    name: str  # e.g. TOKEN, REVOKED_TOKEN, TENANT_A_TOKEN
    value: str | None
    command: list[str] | None
    timeout: float

    @classmethod
    def from_env(cls, name: str, timeout: float, env: dict[str, str] | None = None) -> TokenSource:
        env = dict(os.environ) if env is None else env
        command = env.get(f"HARDEN_CI_{name}_COMMAND", "").strip()
        return cls(name=name, value=env.get(f"HARDEN_CI_{name}", "").strip() or None,
                   command=parse_argv(command, f"HARDEN_CI_{name}_COMMAND") if command else None,
                   timeout=timeout)

    @property
    def configured(self) -> bool:
        return self.value is not None or self.command is not None

    @property
    def variables(self) -> str:
        return f"HARDEN_CI_{self.name} or HARDEN_CI_{self.name}_COMMAND"

    def get(self) -> str:
        """The token; SpecError when it is not configured or its command fails."""
        if self.command is None:
            if self.value is None:
                raise SpecError(f"no token configured: set {self.variables}")
            return self.value
        what = f"HARDEN_CI_{self.name}_COMMAND"
        result = run_command(self.command, timeout=self.timeout, what=what)
        if result.returncode != 0:
            status = "timed out" if result.returncode is None else f"exited {result.returncode}"
            raise SpecError(f"{what} {status} without printing a token ({result.tail() or 'no stderr'})")
        lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
        if len(lines) != 1 or any(c.isspace() for c in lines[0]):
            raise SpecError(f"{what} must print exactly one token on one line (it printed "
                            f"{len(lines)} non-empty lines)")
        mask(lines[0])
        return lines[0]


def mask(secret: str) -> None:
    """Ask GitHub Actions to redact a token minted at run time from every later log line."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::add-mask::{secret}", flush=True)
