"""The client's own total timeout (``_Deadlines``): one loop timer per 10 ms slot of deadlines.

aiohttp is given the connect timeout only; the total one is the client's.  Unit tests drive
``_Deadlines`` with a fake loop clock (no sleeping); the rest cross real loopback sockets.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from binance_papi_async import (
    APITimeoutError,
    ExecutionStatusUnknown,
    PortfolioMarginClient,
    RetryPolicy,
    Timeouts,
    UserStream,
)
from binance_papi_async._transport import _Deadlines
from binance_papi_async.testing import PapiSimulator, demo_state

from .conftest import BIG_LIMITS

KEY = "deadline-key-0123456789abcdef"
SECRET = "deadline-secret-0123456789abcdef"
REPAY = "/papi/v1/margin/repay-debt"
BALANCE = "/papi/v1/balance"
NO_RETRY = RetryPolicy(max_attempts=1)


class FakeLoop:
    """The two things ``_Deadlines`` asks of its loop: ``time()`` and ``call_at()``."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.timers: list[tuple[float, Callable[..., None], tuple[Any, ...], FakeTimer]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> FakeTimer:
        timer = FakeTimer()
        self.timers.append((when, callback, args, timer))
        return timer

    def fire_due(self) -> None:
        for when, callback, args, timer in list(self.timers):
            if when <= self.now and not timer.cancelled:
                self.timers.remove((when, callback, args, timer))
                callback(*args)


class FakeTimer:
    cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


async def parked() -> asyncio.Task[None]:
    """A task waiting forever (until cancelled)."""
    task = asyncio.ensure_future(asyncio.Event().wait())
    await asyncio.sleep(0)
    return task  # type: ignore[return-value]


async def test_deadlines_round_up_to_a_10ms_slot_with_one_timer_each() -> None:
    loop = FakeLoop(1000.001)
    deadlines = _Deadlines(loop)  # type: ignore[arg-type]
    a, b, c = await parked(), await parked(), await parked()
    deadlines.arm(a, 2.0)
    loop.now = 1000.004
    deadlines.arm(b, 2.0)  # the same slot: no second timer
    assert len(loop.timers) == 1
    when = loop.timers[0][0]
    assert 1002.004 <= when <= 1002.001 + 0.01  # never early, at most 10 ms late
    loop.now = 1000.0125
    deadlines.arm(c, 2.0)
    assert len(loop.timers) == 2 and len(deadlines) == 3
    for task in (a, b, c):
        task.cancel()


async def test_a_slot_cancels_only_the_calls_still_armed_then_it_is_a_timeout() -> None:
    loop = FakeLoop(50.0)
    deadlines = _Deadlines(loop)  # type: ignore[arg-type]
    done, late = await parked(), await parked()
    slot = deadlines.arm(done, 1.0)
    assert deadlines.arm(late, 1.0) is slot
    slot.calls.pop(done, None)  # finished in time
    loop.now = 51.0
    loop.fire_due()
    await asyncio.sleep(0)
    assert not done.done()
    assert late.cancelled()
    assert slot.fired and slot.timed_out(late)  # its own cancellation, withdrawn
    if sys.version_info >= (3, 11):
        assert late.cancelling() == 0
    assert len(deadlines) == 0 and not loop.timers
    done.cancel()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 does not count cancellations")
async def test_a_cancel_from_elsewhere_is_never_swallowed() -> None:
    loop = FakeLoop(0.0)
    deadlines = _Deadlines(loop)  # type: ignore[arg-type]
    task = await parked()
    slot = deadlines.arm(task, 0.5)
    task.cancel()  # the caller's own cancellation, in the same loop iteration
    loop.now = 0.5
    loop.fire_due()
    await asyncio.sleep(0)
    assert not slot.timed_out(task)  # so the CancelledError goes on
    if sys.version_info >= (3, 11):  # (always: see skipif; for mypy's 3.10 view)
        assert task.cancelling() == 1  # only the caller's request is left


async def test_leave_withdraws_a_cancellation_that_surfaced_as_another_error() -> None:
    loop = FakeLoop(0.0)
    deadlines = _Deadlines(loop)  # type: ignore[arg-type]
    task = await parked()
    slot = deadlines.arm(task, 0.1)
    loop.now = 0.2
    loop.fire_due()
    slot.leave(task)
    if sys.version_info >= (3, 11):
        assert task.cancelling() == 0
    assert len(deadlines) == 0
    await asyncio.sleep(0)


async def test_close_cancels_every_timer() -> None:
    loop = FakeLoop(0.0)
    deadlines = _Deadlines(loop)  # type: ignore[arg-type]
    task = await parked()
    deadlines.arm(task, 5.0)
    deadlines.close()
    assert all(timer.cancelled for *_, timer in loop.timers)
    assert len(deadlines) == 0
    task.cancel()


# -- through the client, over loopback ------------------------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[PapiSimulator]:
    async with PapiSimulator(
        api_key=KEY, api_secret=SECRET, state=demo_state(), ip_weight_limit=10_000_000
    ) as s:
        yield s


def client_for(sim: PapiSimulator, total: float) -> PortfolioMarginClient:
    return PortfolioMarginClient(
        KEY,
        SECRET,
        base_url=sim.url,
        rate_limits=BIG_LIMITS,
        retry=NO_RETRY,
        timeouts=Timeouts(total=total, connect=1.0),
    )


async def test_aiohttp_gets_the_connect_timeout_only(sim: PapiSimulator) -> None:
    async with client_for(sim, 7.0) as client:
        await client.account.balance("BNB")
        session = client.session
        assert session is not None
        assert session.timeout == aiohttp.ClientTimeout(total=None, connect=1.0)
        assert Timeouts(total=2.5, connect=0.5).to_aiohttp() == aiohttp.ClientTimeout(
            total=None, connect=0.5
        )


async def test_the_total_timeout_bounds_a_read_and_a_write(sim: PapiSimulator) -> None:
    loop = asyncio.get_running_loop()
    async with client_for(sim, 0.2) as client:
        await client.account.balance("BNB")  # connections open, clock synced
        sim.faults.latency(0.6, path=BALANCE)
        started = loop.time()
        with pytest.raises(APITimeoutError) as read:
            await client.account.balance("BNB")
        took = loop.time() - started
        assert read.value.sent is True
        assert 0.2 <= took < 0.9  # the client's timeout, not the server's answer
        sim.faults.latency(0.6, path=REPAY)
        with pytest.raises(ExecutionStatusUnknown):
            await client.margin.repay_debt("BNB", Decimal("0.1"), specify_repay_assets=["USDT"])
        task = asyncio.current_task()
        assert task is not None
        if sys.version_info >= (3, 11):
            assert task.cancelling() == 0  # the timeouts' cancellations were withdrawn
        await asyncio.sleep(0)  # and none is left to hit this task's next await
        deadlines = client._transport._deadlines
        assert deadlines is not None and len(deadlines) == 0
        assert (await client.account.balance("BNB")).asset == "BNB"  # the client goes on


async def test_a_per_call_total_overrides_the_clients(sim: PapiSimulator) -> None:
    async with client_for(sim, 30.0) as client:
        await client.account.balance("BNB")
        sim.faults.latency(0.6, path=BALANCE)
        with pytest.raises(APITimeoutError):
            await client.account.balance("BNB", timeout=Timeouts(total=0.1, connect=1.0))


async def test_cancelling_a_call_is_still_a_cancellation(sim: PapiSimulator) -> None:
    async with client_for(sim, 0.3) as client:
        await client.account.balance("BNB")
        sim.faults.latency(0.6, path=BALANCE)
        call = asyncio.ensure_future(client.account.balance("BNB"))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        deadlines = client._transport._deadlines
        assert deadlines is not None and len(deadlines) == 0


async def test_an_outer_timeout_shorter_than_total_wins(sim: PapiSimulator) -> None:
    async with client_for(sim, 5.0) as client:
        await client.account.balance("BNB")
        sim.faults.latency(0.6, path=BALANCE)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.account.balance("BNB"), 0.1)


async def test_a_stream_handshake_that_never_answers_is_bounded() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # read nothing, answer nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    try:
        async with PortfolioMarginClient(
            KEY,
            SECRET,
            base_url=f"http://127.0.0.1:{port}",
            timeouts=Timeouts(total=0.2, connect=1.0),
        ) as client:
            stream = UserStream(client, stream_url=f"ws://127.0.0.1:{port}")
            started = loop.time()
            with pytest.raises(Exception, match="TimeoutError"):
                await stream._open()
            assert loop.time() - started < 0.9
            deadlines = client._transport._deadlines
            assert deadlines is not None and len(deadlines) == 0
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
