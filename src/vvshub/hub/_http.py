"""Retries with backoff for every HTTP call of the hub, and the boundary that names its errors.

429 and 5xx answers and dropped connections are retried with exponential backoff
and jitter (honouring ``Retry-After``); any other answer is final. Errors leave
this module as :class:`~vvshub.errors.HubHTTPError` with ``url`` and ``status``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from vvshub.errors import HubHTTPError

__all__ = ["RETRY_STATUS", "retry", "status_of"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def status_of(exc: BaseException) -> int | None:
    """The HTTP status carried by an exception from urllib, httpx or huggingface_hub."""
    for attr in ("code", "status", "status_code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "headers", None) or getattr(
        getattr(exc, "response", None), "headers", None
    )
    try:
        value = headers.get("Retry-After") if headers is not None else None
        return min(float(value), 60.0) if value is not None else None
    except (TypeError, ValueError):
        return None


def _transient(exc: BaseException) -> bool:
    status = status_of(exc)
    if status is not None:
        return status in RETRY_STATUS
    return isinstance(exc, (ConnectionError, TimeoutError)) or type(exc).__name__ in {
        "URLError",
        "IncompleteRead",
        "ConnectError",
        "ReadTimeout",
        "ConnectTimeout",
        "RemoteProtocolError",
        "ReadError",
    }


def retry(
    call: Callable[[], T],
    *,
    what: str,
    url: str | None = None,
    attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``, retrying transient HTTP failures with exponential backoff.

    Args:
        call: the request (no arguments).
        what: what is being done, for messages (``download resnet18_d30 ep100``).
        url: the URL, for the error.
        attempts: tries in all.
        base_delay: first backoff in seconds, doubled each retry (with up to 50% jitter).

    Raises:
        HubHTTPError: a non-transient failure, or transient ones on every attempt.

    Example:
        >>> retry(lambda: 42, what="answer")
        42
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except HubHTTPError:
            raise
        except Exception as exc:
            status = status_of(exc)
            if not _transient(exc) or attempt == attempts:
                detail = f"HTTP {status}" if status is not None else type(exc).__name__
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise HubHTTPError(
                    f"{what} failed{tries}: {detail} ({str(exc).splitlines()[0] if str(exc) else ''})"
                    + (f" (url: {url})" if url else ""),
                    url=url,
                    status=status,
                ) from exc
            delay = _retry_after(exc)
            if delay is None:
                delay = min(max_delay, base_delay * 2 ** (attempt - 1))
                delay *= 1 + random.random() / 2
            logger.info(
                "%s: %s, retry %d in %.1f s", what, status or type(exc).__name__, attempt, delay
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
