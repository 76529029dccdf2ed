"""Answers that repeat the signed query (a redirect's ``Location``, a body, a message),
from a raw-socket server: the error keeps no signature and no signed query anywhere.

Checked in ``str()``, ``repr()``, the formatted traceback and every attribute of the
exception (headers, body, message, hint, params).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from binance_papi_async import (
    BadRequestError,
    BinancePapiError,
    ExecutionStatusUnknown,
    PortfolioMarginClient,
    TimeSync,
    UnexpectedResponseError,
)

from .hostile_server import HostileServer, RawRequest, response

KEY = "hostile-key-0123456789abcdef"
SECRET = "hostile-secret-0123456789abcdef"


def texts_of(value: Any, seen: set[int] | None = None) -> Iterator[str]:
    """Every text reachable from an exception's attributes (dicts, lists, bytes decoded),
    its cause and its context."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from texts_of(k, seen)
            yield from texts_of(v, seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from texts_of(item, seen)
    elif isinstance(value, BaseException):
        yield str(value)
        yield repr(value)
        yield from texts_of(vars(value), seen)
        yield from texts_of(value.__cause__, seen)
        yield from texts_of(value.__context__, seen)


def everything_shown(exc: BaseException) -> str:
    formatted = "".join(traceback.format_exception(exc))
    return "\n".join([str(exc), repr(exc), formatted, *texts_of(exc)]).lower()


def redirect_echoing(status: int) -> Any:
    def answer(request: RawRequest) -> bytes:
        location = f"http://127.0.0.1:9{request.target}"
        body = f'<html><a href="{location}">Moved</a> {request.target}</html>'.encode()
        headers = [
            ("Location", location),
            ("Content-Location", request.target),
            ("Refresh", f"0; url={request.target}"),
            ("Link", f"<{location}>; rel=canonical"),
            ("Content-Type", "text/html"),
        ]
        return response(status, headers, body)

    return answer


def client_for(server: HostileServer) -> PortfolioMarginClient:
    return PortfolioMarginClient(
        KEY, SECRET, base_url=server.url, time_sync=TimeSync(enabled=False)
    )


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_redirect_repeating_the_signed_query_leaves_no_signature_in_the_error(
    status: int, method: str
) -> None:
    async with HostileServer(redirect_echoing(status)) as server, client_for(server) as client:
        with pytest.raises(BinancePapiError) as info:
            if method == "GET":
                await client.account.balance()
            else:
                await client.margin.repay_debt("BNB", "0.1")
    (request,) = server.requests  # the redirect was not followed
    exc = info.value
    # A read is an unexpected answer; a write may have been applied behind the proxy.
    expected = UnexpectedResponseError if method == "GET" else ExecutionStatusUnknown
    assert type(exc) is expected and exc.status == status
    shown = everything_shown(exc)
    assert request.signature.lower() not in shown
    assert shown.count("signature=") == shown.count("signature=<redacted>")
    # The message and the headers keep no query at all; the body (kept for diagnosis)
    # only has the signature's value replaced.
    assert exc.headers is not None
    messages = "\n".join([str(exc), repr(exc), *texts_of(exc.headers)])
    assert "timestamp=" not in messages and "signature" not in messages
    location = exc.headers["Location"]
    assert location == f"http://127.0.0.1:9{request.target.split('?')[0]}?<redacted>"
    assert exc.headers["Content-Type"] == "text/html"  # what carries no query is kept as is
    if isinstance(exc, UnexpectedResponseError):
        assert f"redirected to {location!r}; not followed" in str(exc)


async def test_a_message_and_body_echoing_the_signed_query_are_redacted() -> None:
    def answer(request: RawRequest) -> bytes:
        body = orjson.dumps(
            {
                "code": -1100,
                "msg": f"Illegal characters in http://papi.example{request.target}",
                "echo": {"signature": request.signature},
                "raw": request.target,
            }
        )
        return response(400, [("Content-Type", "application/json")], body)

    async with HostileServer(answer) as server, client_for(server) as client:
        with pytest.raises(BadRequestError) as info:
            await client.account.balance()
    (request,) = server.requests
    exc = info.value
    assert exc.code == -1100  # still read from the body
    assert exc.msg == "Illegal characters in http://papi.example/papi/v1/balance?<redacted>"
    assert request.signature.lower() not in everything_shown(exc)
    assert b"signature=<redacted>" in exc.body and b'"signature":"<redacted>"' in exc.body
