"""Cancellation, graceful close, observability and proxies, against the simulator."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from binance_papi_async import (
    Budget,
    ClientClosedError,
    ExecutionStatusUnknown,
    FakeClock,
    LimiterWait,
    OutcomeUnknown,
    PortfolioMarginClient,
    RequestEnd,
    RequestStart,
    RetryPolicy,
    RetryScheduled,
    Timeouts,
)
from binance_papi_async.events import Event
from binance_papi_async.ratelimit import BudgetLimit
from binance_papi_async.testing import PapiSimulator, demo_state

from ..conftest import BIG_LIMITS

KEY = "reliability-key-0123456789abcdef"
SECRET = "reliability-secret-0123456789abcdef"
REPAY = "/papi/v1/margin/repay-debt"


async def until(predicate: object, timeout: float = 2.0) -> None:
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.002)


async def test_cancel_while_waiting_for_budget_takes_nothing() -> None:
    clock = FakeClock(1_700_000_040.0)  # shared by server and client: no real waiting
    limits = (BudgetLimit(Budget.REQUEST_WEIGHT, 3000), BudgetLimit(Budget.ORDERS, 100))
    async with (
        PapiSimulator(api_key=KEY, api_secret=SECRET, state=demo_state(), clock=clock) as sim,
        PortfolioMarginClient(
            KEY, SECRET, base_url=sim.url, rate_limits=limits, clock=clock
        ) as client,
    ):
        await client.margin.repay_debt("BNB", "0.1")  # 3000 of 3000: the window is full
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used == 3000
        waiting = asyncio.ensure_future(client.margin.repay_debt("BNB", "0.1"))
        await until(lambda: client.rate_limits.waiters == 1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        snap = client.rate_limits
        assert snap.waiters == 0
        assert snap.get(Budget.REQUEST_WEIGHT).used == 3000
        assert snap.get(Budget.ORDERS).used == 1
        assert all(b.held == 0 and b.waiters == 0 for b in snap.budgets)
        clock.advance(60)  # the next window admits a new call at once: nothing was leaked
        await client.margin.repay_debt("BNB", "0.1")
    assert [r.path for r in sim.requests].count(REPAY) == 2


async def test_trade_cancelled_after_send_is_reported_and_leaks_no_connection(
    sim: PapiSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[Event] = []
    async with PortfolioMarginClient(
        KEY,
        SECRET,
        base_url=sim.url,
        rate_limits=BIG_LIMITS,
        pool_size=1,
        timeouts=Timeouts(total=2.0, connect=0.5),
        on_event=events.append,
    ) as client:
        await client.sync_time()
        sim.faults.latency(0.3, path=REPAY)
        task = asyncio.ensure_future(client.margin.repay_debt("BNB", "0.1"))
        await until(lambda: any(isinstance(e, RequestStart) and e.path == REPAY for e in events))
        await asyncio.sleep(0.05)  # the request is on the wire, the server is sleeping
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        unknown = [e for e in events if isinstance(e, OutcomeUnknown)]
        assert len(unknown) == 1 and unknown[0].reason == "cancelled after it may have been sent"
        assert "signature" not in unknown[0].params and unknown[0].params["asset"] == "BNB"
        assert any("execution status unknown" in r.getMessage() for r in caplog.records)
        # With a pool of one connection, a leaked connection would make this time out.
        balances = await client.account.balance()
        assert balances
        assert client.rate_limits.waiters == 0


async def test_graceful_close_waits_for_calls_in_flight(sim: PapiSimulator) -> None:
    client = PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS)
    await client.sync_time()
    sim.faults.latency(0.2, path=REPAY)
    call = asyncio.ensure_future(client.margin.repay_debt("BNB", "0.1"))
    await until(lambda: client._transport.in_flight == 1 and bool(sim.requests))
    closing = asyncio.ensure_future(client.aclose(timeout=5))
    await asyncio.sleep(0)
    with pytest.raises(ClientClosedError):
        await client.account.balance()  # no new calls once closing started
    result = await call
    await closing
    assert result.success and client.closed
    session = client.session
    assert session is not None and session.closed


async def test_close_deadline_bounds_the_wait(sim: PapiSimulator) -> None:
    client = PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS)
    await client.sync_time()
    sim.faults.latency(0.5, path=REPAY)
    call = asyncio.ensure_future(client.margin.repay_debt("BNB", "0.1"))
    await until(lambda: client._transport.in_flight == 1)
    started = asyncio.get_running_loop().time()
    await client.aclose(timeout=0.1)
    assert asyncio.get_running_loop().time() - started < 0.8
    with pytest.raises(ExecutionStatusUnknown):
        await call  # the pool closed under it: it may have been applied


async def test_events_and_log_records_carry_no_secret(
    sim: PapiSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="binance_papi_async")
    events: list[Event] = []
    async with PortfolioMarginClient(
        KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS, on_event=events.append
    ) as client:
        await client.margin.repay_debt("BNB", Decimal("0.1"))
        sim.faults.drop(path=REPAY)
        with pytest.raises(ExecutionStatusUnknown):
            await client.margin.repay_debt("BNB", Decimal("0.1"))
    kinds = {type(e).__name__ for e in events}
    assert {"ClockResynced", "RequestStart", "RequestEnd", "OutcomeUnknown"} <= kinds
    ends = [e for e in events if isinstance(e, RequestEnd) and e.path == REPAY]
    assert ends[0].status == 200 and ends[0].used_weight is not None
    assert ends[1].status is None and ends[1].error == "ExecutionStatusUnknown"
    assert not any(isinstance(e, LimiterWait) for e in events)
    text = "\n".join([repr(e) for e in events] + [r.getMessage() for r in caplog.records])
    assert any(getattr(r, "papi_event", None) is not None for r in caplog.records)
    assert SECRET not in text and KEY not in text and "signature=" not in text


class _RecordingProxy:
    """A tiny HTTP proxy: records the request line, answers ``{}`` itself."""

    def __init__(self) -> None:
        self.request_lines: list[str] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.request_lines.append(head.split(b"\r\n", 1)[0].decode())
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\n{}"
        )
        await writer.drain()
        writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.mark.parametrize("via_env", [False, True])
async def test_http_proxy(monkeypatch: pytest.MonkeyPatch, via_env: bool) -> None:
    proxy = _RecordingProxy()
    url = await proxy.start()
    try:
        if via_env:
            monkeypatch.setenv("HTTP_PROXY", url)
            monkeypatch.setenv("NO_PROXY", "")
            client = PortfolioMarginClient(
                KEY, SECRET, base_url="http://127.0.0.2:9", trust_env=True
            )
        else:
            client = PortfolioMarginClient(KEY, SECRET, base_url="http://127.0.0.2:9", proxy=url)
        async with client:
            await client.market.ping()
    finally:
        await proxy.close()
    assert proxy.request_lines == ["GET http://127.0.0.2:9/papi/v1/ping HTTP/1.1"]


async def test_cancel_during_the_first_clock_sync(sim: PapiSimulator) -> None:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS) as c:
        sim.faults.latency(0.2, path="/papi/v1/time")
        call = asyncio.ensure_future(c.margin.repay_debt("BNB", "0.1"))
        await asyncio.sleep(0.05)  # the first time sample is on the wire
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert c._transport.in_flight == 0
        assert c.rate_limits.waiters == 0
        assert (await c.margin.repay_debt("BNB", "0.1")).success  # the client still works
    assert [r.path for r in sim.requests].count(REPAY) == 1


async def test_cancel_during_a_retry_backoff(sim: PapiSimulator) -> None:
    events: list[Event] = []
    slow_retry = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=0.5, max_elapsed=5)
    async with PortfolioMarginClient(
        KEY,
        SECRET,
        base_url=sim.url,
        rate_limits=BIG_LIMITS,
        retry=slow_retry,
        on_event=events.append,
    ) as c:
        await c.sync_time()
        sim.faults.error(500, path="/papi/v1/balance")
        call = asyncio.ensure_future(c.account.balance())
        await until(lambda: any(isinstance(e, RetryScheduled) for e in events))
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        snap = c.rate_limits
        assert c._transport.in_flight == 0 and snap.waiters == 0
        assert all(b.held == 0 for b in snap.budgets)
    assert [r.path for r in sim.requests].count("/papi/v1/balance") == 1


async def test_pool_admits_callers_first_come_first_served(sim: PapiSimulator) -> None:
    """10 tasks, each sending 15 calls back to back, share a pool of 2 connections.

    aiohttp alone lets a task that just freed a connection take it again ahead of the
    ones waiting; before the client's gate, some of these calls waited past the 0.3 s
    connect timeout and failed.  First come, first served, none waits much longer than
    the queue ahead of it.
    """
    sim.faults.latency(0.01, count=None)
    errors: list[str] = []
    waits: list[float] = []
    async with PortfolioMarginClient(
        KEY,
        SECRET,
        base_url=sim.url,
        rate_limits=BIG_LIMITS,
        pool_size=2,
        retry=RetryPolicy(max_attempts=1),
        timeouts=Timeouts(total=5.0, connect=0.3),
    ) as client:
        await client.sync_time()
        loop = asyncio.get_running_loop()

        async def worker() -> None:
            for _ in range(15):
                started = loop.time()
                try:
                    await client.market.ping()
                except Exception as exc:
                    errors.append(type(exc).__name__)
                waits.append(loop.time() - started)

        await asyncio.gather(*(worker() for _ in range(10)))
    assert errors == []
    assert len(waits) == 150
    assert max(waits) < 0.25  # the queue ahead is at most 8 calls of ~10 ms


async def test_waiting_for_a_connection_times_out_unsent(sim: PapiSimulator) -> None:
    sim.faults.latency(0.5, path="/papi/v1/balance")
    async with PortfolioMarginClient(
        KEY,
        SECRET,
        base_url=sim.url,
        rate_limits=BIG_LIMITS,
        pool_size=1,
        retry=RetryPolicy(max_attempts=1),
        timeouts=Timeouts(total=5.0, connect=0.1),
    ) as client:
        await client.sync_time()
        busy = asyncio.ensure_future(client.account.balance())
        await asyncio.sleep(0.05)
        from binance_papi_async import APITimeoutError

        with pytest.raises(APITimeoutError) as info:
            await client.margin.repay_debt("BNB", "0.1")
        assert info.value.sent is False and "no free connection" in str(info.value)
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used < 3000  # given back
        await busy
    assert [r.path for r in sim.requests].count(REPAY) == 0


async def test_a_call_cancelled_while_waiting_for_a_connection_gives_everything_back(
    sim: PapiSimulator,
) -> None:
    sim.faults.latency(0.3, path="/papi/v1/balance")
    async with PortfolioMarginClient(
        KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS, pool_size=1
    ) as client:
        await client.sync_time()
        busy = asyncio.ensure_future(client.account.balance())
        await until(lambda: bool(sim.requests))
        waiting = asyncio.ensure_future(client.margin.repay_debt("BNB", "0.1"))
        await asyncio.sleep(0.02)
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used >= 3000  # charged, waiting
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used < 3000  # given back
        await busy
        await client.account.balance()  # the one slot is free again: none held by the waiter
    assert [r.path for r in sim.requests].count(REPAY) == 0
