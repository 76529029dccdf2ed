"""What an error tracker records of a failed call, frame locals included, holds no secret.

Each stage of the request path is made to fail over real loopback sockets (nothing
listening, a server that never answers, an error status, a body that is not JSON, a
redirect echoing the signed query, the caller's cancellation, a body over the size bound,
a user stream's refused or hanging handshake); the exception is then rendered as Sentry's
frame variables or ``pytest --showlocals`` would: ``TracebackException(...,
capture_locals=True)``, its chain included.  Neither the secret, nor a signature, nor a
signed query, nor the listen key, nor the API key unmasked may appear.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from binance_papi_async import (
    BinancePapiError,
    PortfolioMarginClient,
    Timeouts,
    TimeSync,
    UserStreamError,
)
from binance_papi_async.stream import UserStream

from .hostile_server import HostileServer, RawRequest, response

KEY = "locals-key-0123456789abcdef"
SECRET = "locals-secret-0123456789abcdef"
LISTEN_KEY = "L1st3nK3y" + "x" * 55  # 64 characters, as Binance's
# An HMAC-SHA256 signature in hex, or a signed query as sent.
SIGNATURE = re.compile(r"[0-9a-f]{64}")
SIGNED_QUERY = re.compile(r"timestamp=[0-9]{13}")

Call = Callable[[PortfolioMarginClient], Awaitable[Any]]
READ: Call = lambda client: client.account.balance()  # noqa: E731
WRITE: Call = lambda client: client.margin.repay_debt("BNB", "0.1")  # noqa: E731


def rendered(exc: BaseException) -> str:
    """The exception as a tracker records it: chain, frames and every frame's locals."""
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def assert_no_secret(exc: BaseException, *, listen_key: str | None = None) -> None:
    """No secret in ``rendered(exc)``; on failure, the frames and locals that hold one,
    masked (a plain ``assert`` would print them)."""
    text = rendered(exc)
    assert "Traceback" in text  # the frames were rendered
    secrets = [SECRET, KEY, "signature=", *([listen_key] if listen_key else [])]
    leaks, frame = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("File "):
            frame = line.strip()
        elif any(s in line for s in secrets) or SIGNATURE.search(line) or SIGNED_QUERY.search(line):
            for secret in secrets:
                line = line.replace(secret, "<secret>")
            masked = SIGNED_QUERY.sub("<query>", SIGNATURE.sub("<signature>", line))
            leaks.append(f"{frame}: {masked.strip()[:100]}")
    if leaks:
        pytest.fail("\n".join(leaks), pytrace=False)


def client_for(base_url: str, **kwargs: Any) -> PortfolioMarginClient:
    kwargs.setdefault("time_sync", TimeSync(enabled=False))
    return PortfolioMarginClient(KEY, SECRET, base_url=base_url, **kwargs)


def free_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A server that reads a request and never answers: its URL, and an event set when a
    request has arrived."""
    arrived = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            arrived.set()
            await reader.read()  # until the client goes away

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", arrived
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("call", [READ, WRITE], ids=["read", "write"])
async def test_connection_refused(call: Call) -> None:
    async with client_for(f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(BinancePapiError) as info:
            await call(client)
    assert_no_secret(info.value)


@pytest.mark.parametrize("call", [READ, WRITE], ids=["read", "write"])
async def test_timeout_after_sending(call: Call) -> None:
    async with (
        silent_server() as (url, _),
        client_for(url, timeouts=Timeouts(total=0.2, connect=1)) as client,
    ):
        with pytest.raises(BinancePapiError) as info:
            await call(client)
    assert_no_secret(info.value)


@pytest.mark.parametrize("call", [READ, WRITE], ids=["read", "write"])
async def test_cancellation_while_the_answer_is_awaited(call: Call) -> None:
    async with silent_server() as (url, arrived), client_for(url) as client:
        task = asyncio.ensure_future(call(client))
        await asyncio.wait_for(arrived.wait(), 5)
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
    assert_no_secret(info.value)


def echoing(status: int, content_type: str = "application/json") -> Callable[[RawRequest], bytes]:
    """Answers ``status`` with a body (and a Location) repeating the signed query."""

    def answer(request: RawRequest) -> bytes:
        body = f'{{"code":-1100,"msg":"bad {request.target}"}}'.encode()
        if content_type != "application/json":
            body = b"<html>" + body  # not JSON
        location = f"http://127.0.0.1:9{request.target}"
        return response(status, [("Content-Type", content_type), ("Location", location)], body)

    return answer


@pytest.mark.parametrize(
    "answer",
    [echoing(400), echoing(302), echoing(503), echoing(200, "text/html")],
    ids=["http-400", "redirect-302", "http-503", "bad-json-200"],
)
@pytest.mark.parametrize("call", [READ, WRITE], ids=["read", "write"])
async def test_error_answers(answer: Callable[[RawRequest], bytes], call: Call) -> None:
    async with HostileServer(answer) as server, client_for(server.url) as client:
        with pytest.raises(BinancePapiError) as info:
            await call(client)
    assert server.requests  # it was sent, and answered
    assert_no_secret(info.value)


@pytest.mark.parametrize("call", [READ, WRITE], ids=["read", "write"])
async def test_a_body_over_the_size_bound(call: Call) -> None:
    def answer(request: RawRequest) -> bytes:
        return response(200, [("Content-Type", "application/json")], b"[" + b"1," * 4000 + b"1]")

    async with (
        HostileServer(answer) as server,
        client_for(server.url, max_response_size=4096) as client,
    ):
        with pytest.raises(BinancePapiError) as info:
            await call(client)
    assert_no_secret(info.value)


# -- the user stream's listen key -----------------------------------------------------------


def listen_key_then(handshake: Callable[[RawRequest], bytes | None]) -> Callable[..., bytes]:
    """POST /papi/v1/listenKey gives LISTEN_KEY; the WebSocket handshake gets ``handshake``."""

    def answer(request: RawRequest) -> bytes:
        if request.target.startswith("/papi/v1/listenKey"):
            body = f'{{"listenKey":"{LISTEN_KEY}"}}'.encode()
            return response(200, [("Content-Type", "application/json")], body)
        refused = handshake(request)
        assert refused is not None
        return refused

    return answer


async def test_listen_key_absent_when_the_handshake_is_refused() -> None:
    answer = listen_key_then(lambda request: response(400, body=b"no such key"))
    async with HostileServer(answer) as server, client_for(server.url) as client:
        stream = UserStream(
            client,
            stream_url=f"ws://127.0.0.1:{server.url.rsplit(':', 1)[1]}/pm",
            max_reconnect_attempts=1,
            reconnect_delay=0.01,
        )
        with pytest.raises(UserStreamError) as info:
            await stream.start()
        await stream.aclose()
    assert any(LISTEN_KEY in r.target for r in server.requests)  # it was used
    assert_no_secret(info.value, listen_key=LISTEN_KEY)


async def test_listen_key_absent_when_a_hanging_handshake_is_cancelled() -> None:
    async with silent_server() as (ws_url, arrived):

        def answer(request: RawRequest) -> bytes:
            body = f'{{"listenKey":"{LISTEN_KEY}"}}'.encode()
            return response(200, [("Content-Type", "application/json")], body)

        async with HostileServer(answer) as server, client_for(server.url) as client:
            stream = UserStream(
                client, stream_url=ws_url.replace("http", "ws") + "/pm", delete_key_on_close=False
            )
            task = asyncio.ensure_future(stream.start())
            await asyncio.wait_for(arrived.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as info:
                await task
            await stream.aclose()
    assert_no_secret(info.value, listen_key=LISTEN_KEY)
