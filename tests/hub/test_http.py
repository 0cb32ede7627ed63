"""Retries with backoff: 429/5xx and dropped connections are retried, other answers are final."""

from __future__ import annotations

import urllib.error

import pytest

from vvshub.errors import HubHTTPError
from vvshub.hub._http import retry


def _http_error(code: int, headers: dict | None = None) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("http://x/y", code, "err", headers or {}, None)


def test_transient_errors_back_off_exponentially_then_succeed():
    errors = [_http_error(503), _http_error(502), ConnectionResetError("reset")]
    delays: list[float] = []

    def call():
        if errors:
            raise errors.pop(0)
        return "ok"

    assert retry(call, what="get", sleep=delays.append, base_delay=1.0) == "ok"
    assert len(delays) == 3
    assert 1.0 <= delays[0] <= 1.5 and 2.0 <= delays[1] <= 3.0 and 4.0 <= delays[2] <= 6.0


def test_retry_after_is_honoured():
    errors = [_http_error(429, {"Retry-After": "7"})]
    delays: list[float] = []

    def call():
        if errors:
            raise errors.pop(0)
        return 1

    retry(call, what="get", sleep=delays.append)
    assert delays == [7.0]


def test_client_errors_are_final_and_named():
    calls = []

    def call():
        calls.append(1)
        raise _http_error(404)

    with pytest.raises(HubHTTPError, match="HTTP 404") as err:
        retry(call, what="download x", url="http://x/y", sleep=lambda s: None)
    assert len(calls) == 1 and err.value.status == 404 and err.value.url == "http://x/y"
    assert isinstance(err.value, OSError)


def test_gives_up_after_the_last_attempt():
    calls = []

    def call():
        calls.append(1)
        raise _http_error(500)

    with pytest.raises(HubHTTPError, match="after 3 attempts"):
        retry(call, what="get", attempts=3, sleep=lambda s: None)
    assert len(calls) == 3
