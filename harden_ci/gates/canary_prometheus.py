"""A small client of Prometheus's HTTP API: one instant query, one number back.

`GET {base}/api/v1/query?query=…&time=…` (https://prometheus.io/docs/prometheus/latest/querying/api/).
An empty vector is *no data* (None); `NaN` (0/0) and `±Inf` come back as floats, for the
analysis to judge (it never reads them as a pass). Anything else going wrong (refused
connection, HTTP error, `status: error`, more than one series) raises `PrometheusError`,
which the analysis also treats as no data. Retries are bounded and only for transport
errors and HTTP 5xx.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_BODY = 4 * 1024 * 1024


class PrometheusError(Exception):
    """A query that returned no usable answer; the message says why."""


@dataclass
class Prometheus:
    base_url: str
    timeout_s: float = 10.0
    attempts: int = 3
    pause_s: float = 1.0
    token: str | None = None  # sent as `Authorization: Bearer …`
    sleep: Callable[[float], None] = time.sleep
    sent: list[str] = field(default_factory=list)  # every query, in order (for reports and tests)

    def query(self, promql: str, at: float | None = None) -> float | None:
        """The single value of an instant query (evaluated at `at`, epoch seconds, if given);
        None when Prometheus has no data."""
        self.sent.append(promql)
        params = {"query": promql, **({"time": f"{at:.3f}"} if at is not None else {})}
        url = f"{self.base_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode(params)}"
        headers = {"Accept": "application/json", "User-Agent": "harden-ci"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        last = "no attempt"
        for attempt in range(max(1, self.attempts)):
            if attempt:
                self.sleep(self.pause_s)
            try:
                request = urllib.request.Request(url, headers=headers, method="GET")
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return _value(json.loads(response.read(MAX_BODY)))
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code} from Prometheus"
                detail = _error_detail(exc)
                if detail:
                    last += f": {detail}"
                if exc.code < 500:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = f"cannot reach Prometheus at {self.base_url}: {getattr(exc, 'reason', exc)}"
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise PrometheusError(f"Prometheus answered with something other than JSON: {exc}") from None
        raise PrometheusError(last)


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read(MAX_BODY))
    except (OSError, ValueError):
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _sample(value: Any) -> float | None:
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)):
        raise PrometheusError(f"unexpected sample {value!r}")
    try:
        number = float(value[1])
    except ValueError:
        raise PrometheusError(f"sample value {value[1]!r} is not a number") from None
    return number


def _value(body: Any) -> float | None:
    if not isinstance(body, dict):
        raise PrometheusError("the answer is not a JSON object")
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus says {body.get('errorType', 'error')}: {body.get('error', '?')}")
    data = body.get("data")
    if not isinstance(data, dict):
        raise PrometheusError("the answer has no `data`")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return _sample(result)
    if kind != "vector" or not isinstance(result, list):
        raise PrometheusError(f"expected an instant vector, got {kind!r}")
    if not result:
        return None
    if len(result) > 1:
        raise PrometheusError(f"the query returned {len(result)} series; it must aggregate to one")
    series = result[0]
    if not isinstance(series, dict):
        raise PrometheusError("malformed series in the answer")
    return _sample(series.get("value"))
