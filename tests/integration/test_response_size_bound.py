"""A response body over ``max_response_size`` is refused without being read whole.

Over real loopback sockets: a huge body with its length, a huge chunked body without one,
a ``Content-Length`` that lies either way, an error status with a huge body.  The error
is typed and carries the status and at most the body's first KiB; the connection is
closed, so the next call goes out on a fresh one and reads its own answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from binance_papi_async import (
    APIConnectionError,
    ConfigurationError,
    ExecutionStatusUnknown,
    PortfolioMarginClient,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    Timeouts,
    TimeSync,
)
from binance_papi_async._http.body import PREFIX

from .hostile_server import HostileServer, RawRequest, response

KEY = "size-key-0123456789abcdef"
SECRET = "size-secret-0123456789abcdef"
LIMIT = 1024 * 1024
HUGE = 1024 * 1024 * 1024  # what the server offers: 1 GiB
BALANCE_ITEM = (
    b'{"asset":"USDT","totalWalletBalance":"1","crossMarginAsset":"1","crossMarginBorrowed":"0",'
    b'"crossMarginFree":"1","crossMarginInterest":"0","crossMarginLocked":"0",'
    b'"umWalletBalance":"0","umUnrealizedPNL":"0","cmWalletBalance":"0","cmUnrealizedPNL":"",'
    b'"updateTime":1617939110373,"negativeBalance":"0"}'
)
BALANCE = b"[" + BALANCE_ITEM + b"]"


@dataclass
class Streamed:
    """What the streaming server did: bytes written per response, connections seen."""

    written: list[int] = field(default_factory=list)
    peers: set[tuple[str, int]] = field(default_factory=set)


@contextlib.asynccontextmanager
async def streaming_server(
    *, status: int = 200, length: bool
) -> AsyncIterator[tuple[str, Streamed]]:
    """A server answering the first request with HUGE bytes of JSON-looking body, streamed
    (with or without ``Content-Length``), and every later one with a small balance."""
    streamed = Streamed()
    chunk = b"1," * 32768

    async def handle(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        streamed.peers.add(request.transport.get_extra_info("peername"))
        if streamed.written:
            return web.Response(body=BALANCE, content_type="application/json")
        resp = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        if length:
            resp.content_length = HUGE
        else:
            resp.enable_chunked_encoding()
        await resp.prepare(request)
        written = 0
        try:
            while written < HUGE:
                await resp.write(chunk)
                written += len(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            streamed.written.append(written)
        return resp

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", streamed
    finally:
        await runner.cleanup()


def client_for(url: str, **kwargs: Any) -> PortfolioMarginClient:
    kwargs.setdefault("max_response_size", LIMIT)
    kwargs.setdefault("time_sync", TimeSync(enabled=False))
    kwargs.setdefault("retry", RetryPolicy(max_attempts=1))
    return PortfolioMarginClient(KEY, SECRET, base_url=url, **kwargs)


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
async def test_a_huge_answer_to_a_read_is_refused_unread(length: bool) -> None:
    async with (
        streaming_server(length=length) as (url, streamed),
        client_for(url) as client,
    ):
        with pytest.raises(ResponseTooLargeError) as info:
            await client.account.balance()
        # The connection was dropped: the next call reads its own answer on a new one.
        balances = await client.account.balance()
        await asyncio.sleep(0.05)  # the server's handler notices the closed socket
    error = info.value
    assert (error.status, error.limit) == (200, LIMIT)
    assert 0 < len(error.body) <= PREFIX and error.body.startswith(b"1,1,")
    assert str(LIMIT) in str(error)
    assert balances[0].asset == "USDT"
    assert len(streamed.peers) == 2
    # Far from all of it was sent: the client stopped at the bound (plus socket buffers).
    assert streamed.written[0] < 64 * 1024 * 1024


async def test_a_huge_answer_to_a_write_is_an_unknown_outcome_with_its_prefix() -> None:
    async with streaming_server(length=False) as (url, streamed), client_for(url) as client:
        with pytest.raises(ExecutionStatusUnknown) as info:
            await client.margin.repay_debt("BNB", "0.1")
        await asyncio.sleep(0.05)
    error = info.value
    assert error.status == 200 and error.body is not None
    assert 0 < len(error.body) <= PREFIX
    assert "max_response_size" in str(error)
    assert streamed.written[0] < 64 * 1024 * 1024


async def test_an_error_status_with_a_huge_body_keeps_its_type_and_a_prefix() -> None:
    async with (
        streaming_server(status=500, length=True) as (url, streamed),
        client_for(url) as client,
    ):
        with pytest.raises(ServerError) as info:
            await client.account.balance()
        await asyncio.sleep(0.05)
    assert info.value.status == 500 and 0 < len(info.value.body) <= PREFIX
    assert streamed.written[0] < 64 * 1024 * 1024


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
async def test_a_body_of_exactly_the_bound_is_read(length: bool) -> None:
    body = b"[" + BALANCE_ITEM + b" " * (LIMIT - len(BALANCE)) + b"]"
    assert len(body) == LIMIT

    def answer(request: RawRequest) -> bytes:
        headers = [("Content-Type", "application/json")]
        if length:
            return response(200, headers, body)
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json"
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 65536]), body[i : i + 65536])
            for i in range(0, len(body), 65536)
        )
        return head + b"\r\n\r\n" + chunks + b"0\r\n\r\n"

    async with HostileServer(answer) as server, client_for(server.url) as client:
        balances = await client.account.balance()
    assert balances[0].asset == "USDT"


def lying(declared: int, sent: bytes) -> Callable[[RawRequest], bytes]:
    """The first answer declares ``Content-Length: declared`` and sends ``sent``; later ones
    are honest."""
    answered: list[int] = []

    def answer(request: RawRequest) -> bytes:
        answered.append(1)
        if len(answered) > 1:
            return response(200, [("Content-Type", "application/json")], BALANCE)
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nContent-Type: application/json"
        return head.encode() + b"\r\n\r\n" + sent

    return answer


async def test_a_content_length_over_the_bound_is_refused_before_the_body_arrives() -> None:
    # It claims a terabyte and sends a few bytes, then holds the connection open: refused
    # at once (not after the total timeout), with what arrived as the prefix.
    answer = lying(1 << 40, b"[1,2,3")
    async with (
        HostileServer(answer) as server,
        client_for(server.url, timeouts=Timeouts(total=30, connect=3)) as client,
    ):
        with pytest.raises(ResponseTooLargeError) as info:
            await asyncio.wait_for(client.account.balance(), 5)
        assert info.value.body == b"[1,2,3"
        balances = await client.account.balance()  # a fresh connection, an honest answer
    assert balances[0].asset == "USDT"


async def test_bytes_past_a_short_content_length_never_reach_the_next_call() -> None:
    # It claims the length of the honest answer and sends a megabyte more.  The client
    # reads the declared bytes only; the excess never becomes the next call's answer.
    answer = lying(len(BALANCE), BALANCE + b"X" * (4 * LIMIT))
    async with HostileServer(answer) as server, client_for(server.url) as client:
        first: Any = None
        with contextlib.suppress(APIConnectionError):  # aiohttp may see the excess at once
            first = await client.account.balance()
        second = await client.account.balance()
    assert first is None or first[0].asset == "USDT"
    assert second[0].asset == "USDT"
    assert len(server.requests) == 2


async def test_a_compressed_body_is_bounded_as_decompressed() -> None:
    # 32 MiB of JSON-looking bytes, gzip-compressed to a few dozen KiB: its Content-Length
    # is well within the bound, what aiohttp would decompress is not.
    bomb = gzip.compress(b"1," * (16 * LIMIT), compresslevel=9)
    assert len(bomb) < LIMIT // 8

    def answer(request: RawRequest) -> bytes:
        headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
        return response(200, headers, bomb)

    async with HostileServer(answer) as server, client_for(server.url) as client:
        with pytest.raises(ResponseTooLargeError) as info:
            await client.account.balance()
    assert 0 < len(info.value.body) <= PREFIX and info.value.body.startswith(b"1,1,")


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "1"])
def test_max_response_size_must_be_a_positive_number_of_bytes(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="max_response_size"):
        PortfolioMarginClient(max_response_size=value)
