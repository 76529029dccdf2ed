"""Edge cases of the request path: redirects, injected sessions, aiohttp's own resends,
secrets in exception chains, bans without Retry-After, retry bounds after a 429, closing
at awkward moments, oversized amounts, bodies of the wrong shape."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from binance_papi_async import (
    APIConnectionError,
    Budget,
    ClientClosedError,
    ExecutionStatusUnknown,
    IPBanActiveError,
    IPBannedError,
    PortfolioMarginClient,
    RateLimitError,
    RetryPolicy,
    Timeouts,
    TimeSync,
    UnexpectedResponseError,
    ValidationError,
)
from binance_papi_async.clock import FakeClock
from binance_papi_async.endpoints import REPAY_DEBT, EndpointSpec, Security
from binance_papi_async.events import ClockResynced, Event, OutcomeUnknown
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter, WindowKey
from binance_papi_async.testing import PapiSimulator

from ..conftest import BIG_LIMITS

KEY = "hardening-key-0123456789abcdef"
SECRET = "hardening-secret-0123456789abcdef"
REPAY = "/papi/v1/margin/repay-debt"
NO_SYNC = TimeSync(enabled=False)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server:
    """A throwaway aiohttp server on loopback answering with ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> Server:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handler)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def client_for(url: str, **kwargs: Any) -> PortfolioMarginClient:
    kwargs.setdefault("rate_limits", BIG_LIMITS)
    kwargs.setdefault("time_sync", NO_SYNC)
    return PortfolioMarginClient(KEY, SECRET, base_url=url, **kwargs)


# -- redirects are never followed ---------------------------------------------------------------


async def test_redirects_are_not_followed() -> None:
    elsewhere: list[str] = []

    async def other(request: web.Request) -> web.Response:
        elsewhere.append(request.raw_path)
        return web.json_response({})

    async with Server(other) as target:

        async def redirecting(request: web.Request) -> web.Response:
            raise web.HTTPTemporaryRedirect(target.url + request.raw_path)

        async with Server(redirecting) as origin, client_for(origin.url) as client:
            with pytest.raises(ExecutionStatusUnknown) as info:
                await client.request("POST", REPAY, {"asset": "BNB"}, security="TRADE")
            assert info.value.status == 307
            with pytest.raises(UnexpectedResponseError, match="redirect"):
                await client.request("GET", "/papi/v1/balance", security="USER_DATA")
    assert elsewhere == []  # the signed query never reached the other host


# -- an injected session's settings do not change the SDK's behaviour ---------------------------


async def test_injected_session_with_raise_for_status(sim: PapiSimulator) -> None:
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        client_for(sim.url, session=session) as client,
    ):
        with pytest.raises(ValidationError):
            await client.margin.repay_debt("bnb", "1")
        from binance_papi_async import BadRequestError

        with pytest.raises(BadRequestError) as info:  # a definite rejection stays one
            await client.margin.repay_debt("BNB", "1000")
        assert info.value.code == -3015


# -- aiohttp never re-sends a write on a reused connection -------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST"])
async def test_write_is_sent_once_on_a_dropped_keepalive_connection(
    sim: PapiSimulator, method: str
) -> None:
    async with client_for(sim.url, pool_size=1) as client:
        await client.account.balance()  # a warm keep-alive connection
        sim.clear_requests()
        sim.faults.drop(after_apply=False, path="/papi/v1/um/order", count=None)
        with pytest.raises(ExecutionStatusUnknown):
            await client.request(  # type: ignore[call-overload]
                method,
                "/papi/v1/um/order",
                {"symbol": "BTCUSDT", "orderId": 1},
                security="TRADE",
            )
    assert [r.method for r in sim.requests] == [method]


async def test_injected_session_write_is_sent_once_too(sim: PapiSimulator) -> None:
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session,
        client_for(sim.url, session=session) as client,
    ):
        await client.account.balance()
        sim.clear_requests()
        sim.faults.drop(after_apply=False, path="/papi/v1/um/order", count=None)
        with pytest.raises(ExecutionStatusUnknown):
            await client.request("DELETE", "/papi/v1/um/order", {"orderId": 1}, security="TRADE")
    assert [r.method for r in sim.requests] == ["DELETE"]


# -- nothing in an exception chain carries the signature ----------------------------------------


async def test_exception_chains_carry_no_signed_query(
    sim: PapiSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers the TLS handshake; waits for the client to leave
        writer.close()

    tcp = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    try:
        # aiohttp's message for this timeout names the full URL, signature included.
        async with client_for(
            f"https://127.0.0.1:{port}", timeouts=Timeouts(total=2.0, connect=0.1)
        ) as client:
            with pytest.raises(APIConnectionError) as info:
                await client.margin.repay_debt("BNB", "0.1")
        assert info.value.sent is False
        assert "ConnectionTimeoutError" in str(info.value)
        texts.append("".join(traceback.format_exception(info.value)))
    finally:
        tcp.close()
        await tcp.wait_closed()
    async with client_for(sim.url) as client:
        sim.faults.drop(path=REPAY)
        with pytest.raises(ExecutionStatusUnknown) as unknown:
            await client.margin.repay_debt("BNB", "0.1")
        texts.append("".join(traceback.format_exception(unknown.value)))
        logging.getLogger("engine").exception("boom", exc_info=unknown.value)
    for err in (info.value, unknown.value):
        assert err.__cause__ is None and err.__context__ is None
    texts += [r.getMessage() + str(r.exc_text) for r in caplog.records]
    blob = "\n".join(texts)
    assert "signature=" not in blob and "timestamp=" not in blob
    assert SECRET not in blob and KEY not in blob


# -- a 418 without Retry-After: the ban's end comes from the message ---------------------------


async def test_ban_end_is_read_from_the_message() -> None:
    until_ms = int(time.time() * 1000) + 3_600_000  # an hour from now

    async def banned(request: web.Request) -> web.Response:
        return web.json_response(
            {"code": -1003, "msg": f"Way too many requests; IP banned until {until_ms}."},
            status=418,
        )

    async with Server(banned) as server, client_for(server.url) as client:
        with pytest.raises(IPBannedError) as info:
            await client.account.balance()
        assert info.value.banned_until == pytest.approx(until_ms / 1000)
        with pytest.raises(IPBanActiveError) as local:
            await client.account.balance()
        assert local.value.banned_until == pytest.approx(until_ms / 1000)


# -- a retried 429 never outlives the retry policy ---------------------------------------------


async def test_read_429_retry_stays_within_max_elapsed() -> None:
    calls = 0

    async def limited(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response(
            {"code": -1003, "msg": "Too many requests."}, status=429, headers={"Retry-After": "1"}
        )

    policy = RetryPolicy(max_attempts=3, max_elapsed=3.0)
    async with Server(limited) as server, client_for(server.url, retry=policy) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(RateLimitError):
            await client.account.balance()
        elapsed = loop.time() - started
    assert elapsed < 3.5
    assert calls >= 1


async def test_read_429_without_retry_after_and_without_limiter_is_not_retried() -> None:
    calls = 0

    async def limited(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"code": -1003, "msg": "Too many requests."}, status=429)

    async with Server(limited) as server, client_for(server.url, limiter=False) as client:
        with pytest.raises(RateLimitError):
            await client.account.balance()
    assert calls == 1


# -- closing at awkward moments -----------------------------------------------------------------


async def test_cancelled_aclose_still_closes_the_pool(sim: PapiSimulator) -> None:
    client = client_for(sim.url)
    sim.faults.latency(0.5, path="/papi/v1/balance")
    call = asyncio.ensure_future(client.account.balance())
    await asyncio.sleep(0.05)
    closing = asyncio.ensure_future(client.aclose(timeout=5))
    await asyncio.sleep(0.05)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    session = client.session
    assert session is not None and session.closed
    with pytest.raises((APIConnectionError, ClientClosedError)):
        await call


async def test_close_while_calls_wait_for_budget(sim: PapiSimulator) -> None:
    limits = [BudgetLimit(Budget.REQUEST_WEIGHT, 3000), BudgetLimit(Budget.ORDERS, 100)]
    client = client_for(sim.url, rate_limits=limits)
    await client.margin.repay_debt("BNB", "0.1")  # the minute's budget is spent
    waiting = asyncio.ensure_future(client.margin.repay_debt("BNB", "0.1"))
    await asyncio.sleep(0.05)
    await client.aclose(timeout=0.05)
    with pytest.raises(ClientClosedError):
        await waiting
    assert [r.path for r in sim.requests].count(REPAY) == 1


async def test_sync_time_after_close_opens_nothing(sim: PapiSimulator) -> None:
    client = PortfolioMarginClient(KEY, SECRET, base_url=sim.url)
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.sync_time()
    assert client.session is None


# -- bodies of the wrong shape ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [b"[]", b'{"code":-1007,"msg":"Timeout"}', b"null", b"<html>proxy</html>"]
)
async def test_success_status_with_a_body_of_the_wrong_shape(body: bytes) -> None:
    async def odd(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async with Server(odd) as server, client_for(server.url) as client:
        with pytest.raises(ExecutionStatusUnknown) as write:
            await client.margin.repay_debt("BNB", "0.1")
        assert write.value.body == body
        with pytest.raises(UnexpectedResponseError) as read:
            await client.account.balance("BNB")
        assert read.value.body == body


# -- budget and headers ------------------------------------------------------------------------


async def test_signer_failure_gives_the_budget_back(sim: PapiSimulator) -> None:
    class Broken:
        def sign(self, payload: bytes) -> str:
            raise RuntimeError("hardware key unplugged")

    async with PortfolioMarginClient(
        KEY, signer=Broken(), base_url=sim.url, time_sync=NO_SYNC
    ) as client:
        with pytest.raises(RuntimeError):
            await client.margin.repay_debt("BNB", "0.1")
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used == 0
    assert sim.requests == []


async def test_api_key_is_not_sent_to_unsigned_endpoints() -> None:
    seen: list[str | None] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-MBX-APIKEY"))
        return web.json_response({"serverTime": 1} if "time" in request.path else {})

    async with Server(record) as server, client_for(server.url) as client:
        await client.market.ping()
    assert seen == [None]


@pytest.mark.parametrize(
    "amount", ["1e-10000000", Decimal("1e-19"), "1e18", Decimal("123456789012345678901")]
)
async def test_oversized_amounts_are_refused(sim: PapiSimulator, amount: Any) -> None:
    async with client_for(sim.url) as client:
        with pytest.raises(ValidationError) as info:
            await client.margin.repay_debt("BNB", amount)
        assert info.value.param == "amount"
        with pytest.raises(ValidationError):
            await client.request("POST", REPAY, {"amount": Decimal(amount)}, security="TRADE")
    assert sim.requests == []


# -- a 429/418 of the fallback time host; a session closed while an answer is awaited -----------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, '{"code":-1003,"msg":"Too many requests."}'),
        (418, '{"code":-1003,"msg":"Way too many requests; IP banned until 9999999999999."}'),
    ],
)
async def test_a_429_or_418_from_the_fallback_time_url_does_not_stop_papi_calls(
    status: int, body: str
) -> None:
    async def answer(request: web.Request) -> web.Response:
        if request.path == "/papi/v1/time":
            return web.Response(status=500, text="unavailable")
        return web.Response(status=status, text=body, content_type="application/json")

    async with (
        Server(answer) as server,
        client_for(
            server.url, time_sync=TimeSync(samples=1), retry=RetryPolicy(max_attempts=1)
        ) as client,
    ):
        await client.sync_time()  # papi's /time fails, the fapi fallback says 429 / 418
        limiter = client.limiter
        assert limiter is not None
        assert limiter.paused_until is None and limiter.banned_until is None
        # papi's own sample is charged; the fallback host's is not papi's budget
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used == 1


async def test_a_session_closed_while_the_answer_is_awaited_is_an_unknown_outcome() -> None:
    loop = asyncio.get_running_loop()
    received = bytearray()
    holder: dict[str, PortfolioMarginClient] = {}

    class HeadersOnly(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            # uvloop's transports implement asyncio.Transport without subclassing it.
            self.transport = cast("asyncio.Transport", transport)

        def data_received(self, data: bytes) -> None:
            received.extend(data)
            if b"\r\n\r\n" in received:  # the whole request arrived: it was sent
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 80\r\n\r\n"
                )
                session = holder["client"].session
                assert session is not None
                loop.call_soon(lambda: loop.create_task(session.close()))

    server = await loop.create_server(HeadersOnly, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    events: list[Event] = []
    client = client_for(f"http://127.0.0.1:{port}", on_event=events.append)
    holder["client"] = client
    try:
        with pytest.raises(ExecutionStatusUnknown):
            await client.margin.repay_debt("USDT", Decimal("1"))
        assert received
        assert any(isinstance(e, OutcomeUnknown) for e in events)
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used == 3000  # kept: sent
    finally:
        await client.aclose()
        server.close()


async def test_the_write_guard_is_passed_when_aiohttp_cannot_be_told_not_to_resend(
    mock_http: Any,
) -> None:
    mock_http.post(
        re.compile(r".*/repay-debt.*"),
        payload={"amount": "1", "asset": "USDT", "updateTime": 1700000000000, "success": True},
    )
    async with PortfolioMarginClient(
        KEY, SECRET, time_sync=NO_SYNC, rate_limits=BIG_LIMITS
    ) as client:
        client._transport.ensure_session()
        client._transport._guard_writes = True  # what an aiohttp without the flag gets
        await client.margin.repay_debt("USDT", Decimal("1"))
    kwargs = mock_http.sent[-1][2]
    assert kwargs.get("middlewares"), "the write guard was not passed"


async def test_a_clock_sync_in_progress_finishes_while_aclose_waits() -> None:
    second_sample = asyncio.Event()
    sampling = asyncio.Event()
    samples: list[float] = []

    async def answer(request: web.Request) -> web.Response:
        if request.path == "/papi/v1/time":
            samples.append(time.time())
            if len(samples) == 2:
                sampling.set()
                await second_sample.wait()  # aclose begins while the sync is under way
            return web.json_response({"serverTime": int(time.time() * 1000)})
        return web.json_response(
            {"amount": "1", "asset": "USDT", "updateTime": 1700000000000, "success": True}
        )

    events: list[Event] = []
    async with Server(answer) as server:
        client = client_for(server.url, time_sync=TimeSync(samples=3), on_event=events.append)
        call = asyncio.create_task(client.margin.repay_debt("USDT", Decimal("1")))
        await sampling.wait()
        closing = asyncio.create_task(client.aclose(timeout=5))
        await asyncio.sleep(0.05)
        second_sample.set()
        result = await call  # the call aclose waits for still goes out, clock synced
        await closing
    assert result.success
    assert len(samples) == 3
    assert any(isinstance(e, ClockResynced) for e in events)


async def test_a_count_given_to_the_store_for_a_later_window_holds_when_it_comes() -> None:
    clock = FakeClock(1_700_000_040.0)
    limiter = RateLimiter(clock=clock)
    key = limiter.snapshot().get(Budget.REQUEST_WEIGHT)
    later = WindowKey(
        "REQUEST_WEIGHT/60s", int(key.window_reset // 60), Budget.REQUEST_WEIGHT, 60.0
    )
    await limiter.store.observe(later, 5999)  # through the public store, a window ahead
    assert limiter.snapshot().get(Budget.REQUEST_WEIGHT).used == 0
    clock.advance(60)
    assert limiter.snapshot().get(Budget.REQUEST_WEIGHT).used == 5999
    assert limiter.try_acquire(REPAY_DEBT.charges) is None  # 5999 + 3000 > 6000


def test_a_spec_accepts_its_security_as_a_string() -> None:
    spec = EndpointSpec(name="x", method="GET", path="/papi/v1/x", security="NONE", weight=1)  # type: ignore[arg-type]
    assert spec.security is Security.NONE and not spec.needs_key and not spec.signed
