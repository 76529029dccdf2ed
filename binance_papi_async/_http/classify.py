"""Classify what came back: the decoded body, or the typed error of a status, of a body
that cannot be read, or of a send that failed.

A write (anything but GET) whose outcome cannot be known raises
:class:`~binance_papi_async.ExecutionStatusUnknown`, reported as an
:class:`~binance_papi_async.OutcomeUnknown` event exactly once, here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import orjson

from .._decode import shape_problem
from ..endpoints import Budget, EndpointSpec
from ..errors import (
    APIConnectionError,
    APITimeoutError,
    BinancePapiError,
    ExecutionStatusUnknown,
    IPBannedError,
    RateLimitError,
    UnexpectedResponseError,
    from_response,
)
from .call import Call
from .reporting import Reporter, describe_cause

if TYPE_CHECKING:  # pragma: no cover
    from ..ratelimit import RateLimiter, Reservation

__all__ = [
    "NOT_SENT",
    "Head",
    "error_for_status",
    "failed_after_send",
    "not_sent",
    "read_answer",
]

# Failures proven to happen before any byte of the request left this machine.
NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# Errors a response parser raises on a body of the wrong shape.
_SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError)


class Head(Protocol):
    """The status and headers of a response (an aiohttp ``ClientResponse``)."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


def read_answer(
    call: Call,
    head: Head,
    body: bytes,
    parse: Callable[[Any], Any] | None,
    limiter: RateLimiter | None,
    reservation: Reservation | None,
    reporter: Reporter,
) -> Any:
    """The decoded JSON of a 2xx answer, its ``body`` read to the end (``parse(json)`` if
    given); the typed error otherwise.

    ``limiter`` (None for a request outside papi's budget) reconciles its budgets with
    the response's headers first, whatever the status.
    """
    if limiter is not None:
        limiter.observe_headers(head.headers, reservation=reservation)
    status = head.status
    if status >= 300:  # redirects are never followed: a 3xx is an answer too
        raise error_for_status(call, head, body, limiter, reporter)
    if call.observing:
        reporter.end(call, status, None, head.headers)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _bad_body(call, head, body, "a body that is not JSON", reporter) from None
    if parse is None:
        return data
    try:
        return parse(data)
    except _SHAPE_ERRORS as exc:
        raise _bad_body(call, head, body, shape_problem(exc), reporter) from None


def error_for_status(
    call: Call, head: Head, body: bytes, limiter: RateLimiter | None, reporter: Reporter
) -> BinancePapiError:
    """The error for an HTTP status of 300 or more; ``limiter`` learns of a 429 or a 418."""
    spec = call.spec
    error = from_response(
        status=head.status,
        headers=head.headers,
        body=body,
        method=spec.method,
        path=spec.path,
        params=call.params,
        sent_at=call.sent_at,
    )
    if limiter is not None:
        if isinstance(error, IPBannedError):
            limiter.on_ip_banned(error.retry_after, error.banned_until)
        elif isinstance(error, RateLimitError):
            # -1015: the account's order count, not the IP's weight.
            limiter.on_rate_limited(
                error.retry_after, budget=Budget.ORDERS if error.code == -1015 else None
            )
    if isinstance(error, ExecutionStatusUnknown):
        reporter.unknown(error)
    if call.observing:
        reporter.end(call, head.status, error, head.headers)
    return error


def _bad_body(
    call: Call, head: Head, body: bytes, problem: str, reporter: Reporter
) -> BinancePapiError:
    """A 2xx whose body cannot be read: unknown outcome for a write, else unexpected."""
    spec = call.spec
    if spec.is_write:
        return reporter.unknown(
            ExecutionStatusUnknown(
                f"HTTP {head.status} with {problem}",
                method=spec.method,
                path=spec.path,
                params=call.params,
                sent_at=call.sent_at,
                status=head.status,
                headers=head.headers,
                body=body,
            )
        )
    return UnexpectedResponseError(
        status=head.status,
        code=None,
        msg=None,
        method=spec.method,
        path=spec.path,
        headers=head.headers,
        body=body,
        hint=problem,
    )


def not_sent(spec: EndpointSpec, exc: BaseException) -> APIConnectionError:
    """The error for a request that provably never left the machine (no connection)."""
    cls = APITimeoutError if isinstance(exc, asyncio.TimeoutError) else APIConnectionError
    return cls(
        f"{spec.method} {spec.path}: could not connect ({describe_cause(exc)}); "
        "the request was not sent",
        method=spec.method,
        path=spec.path,
        sent=False,
    )


def failed_after_send(call: Call, exc: BaseException, reporter: Reporter) -> BinancePapiError:
    """The error for a send that failed or timed out after the request may have left."""
    spec = call.spec
    timed_out = isinstance(exc, asyncio.TimeoutError)
    what = "timed out" if timed_out else f"failed ({describe_cause(exc)})"
    if spec.is_write:
        return reporter.unknown(
            ExecutionStatusUnknown(
                f"request {what} after it may have been sent",
                method=spec.method,
                path=spec.path,
                params=call.params,
                sent_at=call.sent_at,
            )
        )
    cls = APITimeoutError if timed_out else APIConnectionError
    return cls(f"{spec.method} {spec.path} {what}", method=spec.method, path=spec.path, sent=True)
