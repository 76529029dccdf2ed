"""Classify what came back: the decoded body, or the typed error of a status, of a body
that cannot be read, or of a send that failed.

A write (anything but GET) whose outcome cannot be known raises
:class:`~binance_papi_async.ExecutionStatusUnknown`, reported as an
:class:`~binance_papi_async.OutcomeUnknown` event exactly once, here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

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
    ResponseTooLargeError,
    UnexpectedResponseError,
    from_response,
)
from .call import Call
from .reporting import Reporter, describe_cause

if TYPE_CHECKING:  # pragma: no cover
    from ..ratelimit import RateLimiter, Reservation

__all__ = [
    "NOT_SENT",
    "Answer",
    "error_for_status",
    "failed_after_send",
    "not_sent",
    "read_answer",
    "too_large",
]

# Failures proven to happen before any byte of the request left this machine.
NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# Errors a response parser raises on a body of the wrong shape.
_SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError)


class Answer(NamedTuple):
    """An HTTP response, read to its end (or, refused over the size bound, its prefix)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def __repr__(self) -> str:
        # What a server sends back can repeat the signed query (a Location, an echo in
        # the body); a traceback rendered with its frames' locals shows this repr.
        return f"Answer(status={self.status}, {len(self.headers)} headers, {len(self.body)} bytes)"


def read_answer(
    call: Call,
    answer: Answer,
    parse: Callable[[Any], Any] | None,
    limiter: RateLimiter | None,
    reservation: Reservation | None,
    reporter: Reporter,
) -> Any:
    """The decoded JSON of a 2xx (``parse(json)`` if given); the typed error otherwise.

    ``limiter`` (None for a request outside papi's budget) reconciles its budgets with
    the response's headers first, whatever the status.
    """
    if limiter is not None:
        limiter.observe_headers(answer.headers, reservation=reservation)
    if answer.status >= 300:  # redirects are never followed: a 3xx is an answer too
        raise error_for_status(call, answer, limiter, reporter)
    if call.observing:
        reporter.end(call, answer.status, None, answer.headers)
    try:
        data = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        raise _bad_body(call, answer, "a body that is not JSON", reporter) from None
    if parse is None:
        return data
    try:
        return parse(data)
    except _SHAPE_ERRORS as exc:
        problem = shape_problem(exc)
    del data  # what the server sent stays out of this frame's locals (an error tracker's view)
    raise _bad_body(call, answer, problem, reporter)


def error_for_status(
    call: Call, answer: Answer, limiter: RateLimiter | None, reporter: Reporter
) -> BinancePapiError:
    """The error for an HTTP status of 300 or more; ``limiter`` learns of a 429 or a 418."""
    spec = call.spec
    error = from_response(
        status=answer.status,
        headers=answer.headers,
        body=answer.body,
        method=spec.method,
        path=spec.path,
        params=call.params,
        sent_at=call.sent_at,
        # A 418's end is in server time: its Retry-After counts from the limiter's clock.
        now=limiter.clock.time() if limiter is not None and answer.status == 418 else None,
    )
    if limiter is not None:
        if isinstance(error, IPBannedError):
            limiter.on_ip_banned(error.retry_after, error.banned_until)
        elif isinstance(error, RateLimitError):
            # -1015: the account's order count, not the IP's weight.  The limiter clamps
            # the pause to the rest of that budget's window (an absurd Retry-After is
            # logged); a later call whose max_wait ends before the pause fails at once.
            if error.code == -1015:
                limiter.on_rate_limited(
                    error.retry_after, budget=Budget.ORDERS, account=call.account
                )
            else:
                limiter.on_rate_limited(error.retry_after)
    if isinstance(error, ExecutionStatusUnknown):
        reporter.unknown(error)
    if call.observing:
        reporter.end(call, answer.status, error, answer.headers)
    return error


def _bad_body(call: Call, answer: Answer, problem: str, reporter: Reporter) -> BinancePapiError:
    """A 2xx whose body cannot be read: unknown outcome for a write, else unexpected."""
    spec = call.spec
    if spec.is_write:
        return reporter.unknown(
            ExecutionStatusUnknown(
                f"HTTP {answer.status} with {problem}",
                method=spec.method,
                path=spec.path,
                params=call.params,
                sent_at=call.sent_at,
                status=answer.status,
                headers=answer.headers,
                body=answer.body,
            )
        )
    return UnexpectedResponseError(
        status=answer.status,
        code=None,
        msg=None,
        method=spec.method,
        path=spec.path,
        headers=answer.headers,
        body=answer.body,
        hint=problem,
    )


def too_large(call: Call, answer: Answer, limit: int, reporter: Reporter) -> BinancePapiError:
    """A 2xx whose body passed ``limit`` (``answer.body`` is its prefix): unknown outcome
    for a write, :class:`ResponseTooLargeError` for a read."""
    problem = f"a body over the {limit}-byte bound (max_response_size), not read"
    if call.spec.is_write:
        return _bad_body(call, answer, problem, reporter)
    spec = call.spec
    return ResponseTooLargeError(
        limit=limit,
        status=answer.status,
        code=None,
        msg=None,
        method=spec.method,
        path=spec.path,
        headers=answer.headers,
        body=answer.body,
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
