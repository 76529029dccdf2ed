"""The exception tree.

Every exception the SDK raises derives from :class:`BinancePapiError`.  Errors
that come from a response carry everything Binance sent (HTTP status, Binance
code and message, response headers and the raw body) so that nothing is lost.
No exception message ever contains the API secret, a signature or a signed
query string: parameters are carried without ``signature`` and the API key is
never part of an error.  What a server sends back is redacted where the error keeps
it (see :func:`redact_text`): the query of any URL in a message or a header value (a
redirect's ``Location`` repeats the signed query) and the value of any ``signature=``,
there and in the body.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, Final

import orjson

from ._client_ids import client_id_of

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BinancePapiError",
    "ClientClosedError",
    "ConfigurationError",
    "ExecutionStatusUnknown",
    "IPBanActiveError",
    "IPBannedError",
    "NotSimulatedError",
    "RateLimitError",
    "RateLimitWaitTimeout",
    "ServerError",
    "TimestampError",
    "UndecodedFieldsWarning",
    "UnexpectedResponseError",
    "ValidationError",
    "WeightExceedsLimitError",
    "banned_until_from_message",
    "from_response",
    "redact_body",
    "redact_text",
]

#: The code of the simulator's "not simulated" answer (HTTP 501): no Binance code has three
#: digits, so it cannot be mistaken for one (see :class:`NotSimulatedError`).
NOT_SIMULATED_CODE = -501

# Binance codes for which the outcome of the request is unknown (it may have executed).
UNKNOWN_OUTCOME_CODES = frozenset({-1006, -1007})
AUTH_CODES = frozenset({-2014, -2015, -1022, -1002})
UNKNOWN_503_MSG_PREFIX = "Unknown error, please check your request or try again later"

_AUTH_HINT = (
    "usual causes: wrong API key or secret, the caller's IP is not on the key's whitelist, "
    "the key lacks the 'Portfolio Margin' permission for this endpoint, or the signature "
    "was computed over different bytes than were sent"
)


# -- redaction of what a server sends back ---------------------------------------------------

_REDACTED = "<redacted>"
# A signature's value, however it is spelled: ``signature=``, percent-encoded once or
# twice, JSON-escaped, or as a JSON member ``"signature": "..."``.
_SIGNATURE = (
    r"(?i)(signature(?:=|%3d|%253d|\\u003d)|\"signature\"\s*:\s*\")"  # the name, as spelled
    r"[^&#\s\"'<>\\]+"  # the value: up to the next separator
)
_SIGNATURE_TEXT = re.compile(_SIGNATURE)
_SIGNATURE_BYTES = re.compile(_SIGNATURE.encode())
# The query of a URL-like value: an absolute URL, a scheme-relative or an absolute path.
_URL_QUERY = re.compile(
    r"((?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^\s?#\"'<>]*|/[^\s?#\"'<>]*)"  # up to the "?"
    r"\?[^\s#\"'<>]+"  # the query, up to a fragment, a space or a quote
)


def redact_text(text: str) -> str:
    """``text`` with the query of every URL-like value and every signature's value
    replaced by ``<redacted>``: for messages and header values an error keeps."""
    if "?" in text:
        text = _URL_QUERY.sub(r"\1?" + _REDACTED, text)
    if "signature" in text.lower():  # (most values have neither: no regex runs)
        text = _SIGNATURE_TEXT.sub(r"\1" + _REDACTED, text)
    return text


def redact_body(body: bytes) -> bytes:
    """``body`` with the value of every ``signature`` replaced by ``<redacted>``."""
    if b"signature" not in body.lower():
        return body
    return _SIGNATURE_BYTES.sub(rb"\1" + _REDACTED.encode(), body)


def _redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: redact_text(value) for name, value in dict(headers).items()}


def _redact_optional(text: str | None) -> str | None:
    return None if text is None else redact_text(text)


class BinancePapiError(Exception):
    """Base class of every error raised by binance_papi_async."""


class ConfigurationError(BinancePapiError, ValueError):
    """The client was constructed with an invalid configuration."""


class ValidationError(BinancePapiError, ValueError):
    """An argument is invalid. Raised before any network I/O and before any rate budget is spent.

    ``param`` names the offending parameter (Python name) when there is one.
    """

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class ClientClosedError(BinancePapiError, RuntimeError):
    """A call was made on a client after ``aclose()``."""


class APIConnectionError(BinancePapiError):
    """The request failed in transport (DNS, connect, TLS, disconnect) with no HTTP response.

    ``sent`` is False only when the failure is proven to have happened before any
    byte of the request left this machine (DNS failure, connection refused).
    """

    def __init__(self, message: str, *, method: str, path: str, sent: bool) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.sent = sent


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request did not complete within its timeout."""


class APIStatusError(BinancePapiError):
    """Binance (or a proxy in front of it) answered with an error.

    Attributes: ``status`` (HTTP status), ``code`` and ``msg`` (Binance's error
    code and message, ``None`` when the body is not a Binance error object),
    ``method`` and ``path`` of the request, ``headers`` (response headers) and
    ``body`` (the raw response body, bytes).  What the server sent is kept redacted:
    the query of any URL in ``msg``, ``hint`` and the header values (a redirect's
    ``Location``), and the value of any ``signature`` there and in ``body``.
    """

    def __init__(
        self,
        *,
        status: int,
        code: int | None,
        msg: str | None,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.msg = _redact_optional(msg)
        self.method = method
        self.path = path
        self.headers = _redact_headers(headers)
        self.body = redact_body(body)
        self.hint = _redact_optional(hint)
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [f"{self.method} {self.path} -> HTTP {self.status}"]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.msg:
            parts.append(repr(self.msg))
        elif self.code is None:
            parts.append(f"body {_preview(self.body)}")
        text = ", ".join(parts)
        if self.hint:
            text += f" ({self.hint})"
        return text


class BadRequestError(APIStatusError):
    """HTTP 4xx that is not one of the more specific classes (bad parameter, unknown order...)."""


class AuthenticationError(APIStatusError):
    """-2014 / -2015 / -1022 / -1002: key, IP whitelist, permissions or signature."""


class TimestampError(APIStatusError):
    """-1021: the timestamp is outside recvWindow or more than 1 s ahead of Binance's clock."""


class RateLimitError(APIStatusError):
    """HTTP 429: a rate limit was broken; back off ``retry_after`` seconds (if sent)."""

    def __init__(self, *, retry_after: float | None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)


class IPBannedError(APIStatusError):
    """HTTP 418: the IP is banned. ``retry_after`` seconds / ``banned_until`` (epoch seconds)."""

    def __init__(
        self, *, retry_after: float | None, banned_until: float | None = None, **kwargs: Any
    ) -> None:
        self.retry_after = retry_after
        self.banned_until = banned_until
        super().__init__(**kwargs)


class ServerError(APIStatusError):
    """HTTP 5xx on a request whose repetition is harmless (a read)."""


class NotSimulatedError(APIStatusError):
    """The local simulator (:mod:`binance_papi_async.testing`) does not model this operation.

    Its answer is HTTP 501 with ``{"code": -501, "msg": "not simulated: ..."}`` (the
    message says what is missing); papi itself never sends it.  It is final: never
    retried, and never an unknown outcome, since the simulator changed nothing.
    ``PapiSimulator(examples=True)`` answers the documentation examples instead.
    """


class UnexpectedResponseError(APIStatusError):
    """A success status with a body that is not the JSON expected (e.g. a proxy's HTML page)."""


class ResponseTooLargeError(UnexpectedResponseError):
    """A success status with a body over the client's ``max_response_size``: refused
    without reading past the bound, and its connection closed (never reused).

    ``body`` holds at most the body's first KiB; ``limit`` is the bound in bytes.  A
    write gets :class:`ExecutionStatusUnknown` instead (it may have been applied).
    """

    def __init__(self, *, limit: int, **kwargs: Any) -> None:
        self.limit = limit
        super().__init__(**kwargs)


class UndecodedFieldsWarning(UserWarning):
    """A write was answered 2xx (it was applied) with fields that could not be decoded.

    The call returned its result anyway, never an error: those fields are ``None`` and
    listed in the result's ``undecoded``, the body is in its ``raw``.  Make it an error
    with ``warnings.simplefilter("error", UndecodedFieldsWarning)`` only if a raised
    warning cannot be mistaken for a failed order in your code.
    """


class ExecutionStatusUnknown(BinancePapiError):
    """The request may or may not have been executed by Binance.

    Raised for a state-changing request (anything but GET) when its bytes may
    have reached Binance but no definite answer came back: HTTP 5xx, Binance
    code -1006/-1007, a 503 "Unknown error...", a disconnect or a timeout after
    the request was sent.  The SDK never re-sends such a request by itself.
    ``await client.resolve(exc)`` finds out what happened to an order, a cancel or
    a modification (and can resend an order that was not placed, under its id).

    Attributes: ``method``, ``path``, ``params`` (what was sent, without the
    signature), ``client_order_id`` (the order's client id, if any), ``sent_at``
    (epoch seconds when the request was handed to the connection),
    ``status``/``code``/``msg``/``headers``/``body`` when a response arrived
    (otherwise ``None``; redacted as :class:`APIStatusError`'s are),
    and ``__cause__`` for transport errors.
    """

    def __init__(
        self,
        reason: str,
        *,
        method: str,
        path: str,
        params: Mapping[str, str],
        sent_at: float,
        status: int | None = None,
        code: int | None = None,
        msg: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        self.reason = reason = redact_text(reason)
        self.method = method
        self.path = path
        self.params = {k: v for k, v in params.items() if k != "signature"}
        self.sent_at = sent_at
        self.status = status
        self.code = code
        self.msg = _redact_optional(msg)
        self.headers = _redact_headers(headers) if headers is not None else None
        self.body = redact_body(body) if body is not None else None
        sent = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sent_at))
        client_id = self.client_order_id
        ident = f"; client id {client_id!r}" if client_id is not None else ""
        super().__init__(
            f"{method} {path}: execution status unknown ({reason}); sent at {sent}Z{ident}. "
            "It may have been applied: check before sending it again (client.resolve)."
        )

    @property
    def client_order_id(self) -> str | None:
        """The client id of the order placed (or cancelled, modified) by the call, if any:
        ``newClientOrderId``, ``clientAlgoId``, ``newClientStrategyId`` or
        ``listClientOrderId`` (filled by the SDK when the caller gave none)."""
        return client_id_of(self.method, self.params)


def _preview(body: bytes, limit: int = 120) -> str:
    if not body:
        return "(empty)"
    text = body[:limit].decode("utf-8", "replace")
    text = redact_text(" ".join(text.split()))  # a message: no URL keeps its query
    return repr(text + ("..." if len(body) > limit else ""))


def parse_error_body(body: bytes) -> tuple[int | None, str | None]:
    """Binance error bodies are ``{"code": int, "msg": str}``; anything else gives (None, None)."""
    if not body:
        return None, None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    code = data.get("code")
    msg = data.get("msg")
    return (
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        msg if isinstance(msg, str) else None,
    )


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


_BAN_UNTIL_RE: Final = re.compile(r"banned until ([0-9]{10,16})", re.IGNORECASE)


def banned_until_from_message(msg: str | None) -> float | None:
    """The end of an IP ban (epoch seconds) from a -1003 message, or None.

    Binance's message reads "Way too many requests; IP banned until
    1700000000000. Please use the websocket for live updates to avoid bans."
    (milliseconds since the epoch).
    """
    if not msg:
        return None
    match = _BAN_UNTIL_RE.search(msg)
    if match is None:
        return None
    value = int(match[1])
    return value / 1000.0 if value >= 10**12 else float(value)


def from_response(
    *,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    method: str,
    path: str,
    params: Mapping[str, str],
    sent_at: float,
    now: float | None = None,
) -> BinancePapiError:
    """Build the exception for a response with status >= 300 (redirects are never followed).

    ``params`` and ``sent_at`` are used only for :class:`ExecutionStatusUnknown`.
    A state-changing request (anything but GET) that got a 3xx, a 5xx, -1006, -1007
    or a 503 "Unknown error" may have executed: :class:`ExecutionStatusUnknown`.  This
    includes 503 "Service Unavailable.", which Binance calls a definite failure: the
    SDK cannot tell it from a proxy's 503, so it stays on the safe side.
    """
    code, msg = parse_error_body(body)
    write = method != "GET"
    if status == 501 and code == NOT_SIMULATED_CODE:
        return NotSimulatedError(
            status=status, code=code, msg=msg, method=method, path=path, headers=headers, body=body
        )
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "msg": msg,
        "method": method,
        "path": path,
        "headers": headers,
        "body": body,
    }
    unknown = code in UNKNOWN_OUTCOME_CODES or (
        status == 503 and msg is not None and msg.startswith(UNKNOWN_503_MSG_PREFIX)
    )
    redirect = 300 <= status < 400
    if write and (unknown or status >= 500 or redirect):
        reason = f"HTTP {status}" + (f", code {code}" if code is not None else "")
        if msg:
            reason += f", {msg!r}"
        return ExecutionStatusUnknown(
            reason, method=method, path=path, params=params, sent_at=sent_at, **_outcome(common)
        )
    if redirect:  # the Location (its query redacted) tells where a proxy wanted it to go
        location = redact_text(headers.get("Location", "?"))
        return UnexpectedResponseError(**common, hint=f"redirected to {location!r}; not followed")
    if status == 418:
        retry_after = parse_retry_after(headers)
        base = time.time() if now is None else now
        # papi does not document Retry-After; the -1003 message names the ban's end.
        candidates = [
            t
            for t in (
                base + retry_after if retry_after is not None else None,
                banned_until_from_message(msg),
            )
            if t is not None
        ]
        until = max(candidates) if candidates else None
        if until is not None and retry_after is None:
            retry_after = max(0.0, until - base)
        return IPBannedError(retry_after=retry_after, banned_until=until, **common)
    if status == 429:
        return RateLimitError(retry_after=parse_retry_after(headers), **common)
    if code == -1021:
        return TimestampError(
            **common, hint="sync the clock with Binance server time or raise recvWindow"
        )
    if code in AUTH_CODES or status == 401:
        return AuthenticationError(**common, hint=_AUTH_HINT)
    if status >= 500 or unknown:
        return ServerError(**common)
    return BadRequestError(**common)


def _outcome(common: Mapping[str, Any]) -> dict[str, Any]:
    return {k: common[k] for k in ("status", "code", "msg", "headers", "body")}


# -- raised by the rate limiter (binance_papi_async.ratelimit), before anything is sent -----------


def _budget_name(budget: object) -> str:
    return str(getattr(budget, "value", budget))


class WeightExceedsLimitError(BinancePapiError, ValueError):
    """A call charges more of a budget than the budget allows in one window.

    No window could ever admit it, so the rate limiter raises at once, before
    waiting and before charging anything.  Attributes: ``budget``, ``amount``,
    ``limit`` and ``interval_s`` (the window length in seconds).
    """

    def __init__(self, *, budget: str, amount: int, limit: int, interval_s: float) -> None:
        self.budget = budget
        self.amount = amount
        self.limit = limit
        self.interval_s = interval_s
        super().__init__(
            f"a call charging {amount} {_budget_name(budget)} can never be sent: "
            f"the limit is {limit} per {interval_s:g} s"
        )


class RateLimitWaitTimeout(BinancePapiError, TimeoutError):
    """Rate budget would not be available within ``max_wait`` seconds.

    Nothing was charged and nothing was sent.  ``earliest`` is the estimated
    earliest admission time (epoch seconds) when the limiter failed without
    waiting, ``None`` when it gave up after waiting ``max_wait``;
    ``paused_until`` the end of the 429 pause that held the call, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        max_wait: float,
        earliest: float | None = None,
        paused_until: float | None = None,
    ) -> None:
        self.max_wait = max_wait
        self.earliest = earliest
        self.paused_until = paused_until
        super().__init__(message)


class IPBanActiveError(BinancePapiError):
    """Binance banned this IP (HTTP 418) until ``banned_until`` (epoch seconds); nothing was sent.

    Raised by the rate limiter for every call until the ban ends, so that no
    request extends the ban.  ``retry_after`` is the number of seconds left
    when the error was raised.
    """

    def __init__(self, *, banned_until: float, now: float | None = None) -> None:
        self.banned_until = banned_until
        base = time.time() if now is None else now
        self.retry_after = max(0.0, banned_until - base)
        until = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(banned_until))
        super().__init__(
            f"this IP is banned by Binance (HTTP 418) until {until}Z "
            f"({self.retry_after:.1f} s from now); the request was not sent"
        )
