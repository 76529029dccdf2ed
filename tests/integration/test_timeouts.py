"""The client's own total timeout (``Deadlines``): one loop timer per 10 ms slot of deadlines.

The client's calls give aiohttp the connect timeout only; the total one is the client's.
Unit tests drive ``Deadlines`` with a fake loop clock (no sleeping); the rest cross real
loopback sockets.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from binance_papi_async import (
    APITimeoutError,
    Event,
    ExecutionStatusUnknown,
    OutcomeUnknown,
    PortfolioMarginClient,
    RetryPolicy,
    Timeouts,
    UserStream,
)
from binance_papi_async._http.deadlines import Deadlines
from binance_papi_async.endpoints import Budget
from binance_papi_async.testing import PapiSimulator

from ..conftest import BIG_LIMITS

KEY = "deadline-key-0123456789abcdef"
SECRET = "deadline-secret-0123456789abcdef"
REPAY = "/papi/v1/margin/repay-debt"
BALANCE = "/papi/v1/balance"
NO_RETRY = RetryPolicy(max_attempts=1)


class FakeLoop:
    """The two things ``Deadlines`` asks of its loop: ``time()`` and ``call_at()``."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.timers: list[tuple[float, Callable[..., None], tuple[Any, ...]]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> None:
        self.timers.append((when, callback, args))

    def fire_due(self) -> None:
        for timer in list(self.timers):
            when, callback, args = timer
            if when <= self.now:
                self.timers.remove(timer)
                callback(*args)


async def parked() -> asyncio.Task[None]:
    """A task waiting forever (until cancelled)."""
    task = asyncio.ensure_future(asyncio.Event().wait())
    await asyncio.sleep(0)
    return task  # type: ignore[return-value]


async def test_deadlines_round_up_to_a_10ms_slot_with_one_timer_each() -> None:
    loop = FakeLoop(1000.001)
    deadlines = Deadlines(loop)  # type: ignore[arg-type]
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
    deadlines = Deadlines(loop)  # type: ignore[arg-type]
    done, late = await parked(), await parked()
    slot = deadlines.arm(done, 1.0)
    assert deadlines.arm(late, 1.0) is slot
    slot.leave(done)  # finished in time
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
    deadlines = Deadlines(loop)  # type: ignore[arg-type]
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
    deadlines = Deadlines(loop)  # type: ignore[arg-type]
    armed = asyncio.Event()
    counts: list[int] = []

    async def call() -> None:  # what aiohttp may do: turn the cancellation into its own error
        task = asyncio.current_task()
        assert task is not None
        slot = deadlines.arm(task, 0.1)
        armed.set()
        try:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise ConnectionResetError("turned into another error") from None
        finally:
            slot.leave(task)
            if sys.version_info >= (3, 11):
                counts.append(task.cancelling())

    task = asyncio.ensure_future(call())
    await armed.wait()
    loop.now = 0.1
    loop.fire_due()
    with pytest.raises(ConnectionResetError):
        await task
    if sys.version_info >= (3, 11):
        assert counts == [0]  # withdrawn: nothing left to cancel the task's next await
    assert len(deadlines) == 0


async def test_an_empty_slot_fires_once_and_is_gone() -> None:
    loop = FakeLoop(0.0)
    deadlines = Deadlines(loop)  # type: ignore[arg-type]
    task = await parked()
    slot = deadlines.arm(task, 5.0)
    slot.leave(task)  # finished in time
    loop.now = 5.0
    loop.fire_due()
    await asyncio.sleep(0)
    assert not task.done() and not loop.timers and len(deadlines) == 0
    assert deadlines.arm(task, 1.0) is not slot  # a new slot, a new timer
    assert len(loop.timers) == 1
    task.cancel()


# -- through the client, over loopback ------------------------------------------------------


def client_for(sim: PapiSimulator, total: float, **kwargs: Any) -> PortfolioMarginClient:
    kwargs.setdefault("rate_limits", BIG_LIMITS)
    return PortfolioMarginClient(
        KEY,
        SECRET,
        base_url=sim.url,
        retry=NO_RETRY,
        timeouts=Timeouts(total=total, connect=1.0),
        **kwargs,
    )


def used(client: PortfolioMarginClient, budget: Budget) -> int:
    return client.rate_limits.get(budget).used  # the order count: this client's account


async def test_calls_give_aiohttp_the_connect_timeout_only(sim: PapiSimulator) -> None:
    async with client_for(sim, 7.0) as client:
        await client.account.balance("BNB")
        session = client.session
        assert session is not None
        # Requests of the user's own through client.session keep the total as a default.
        assert session.timeout == aiohttp.ClientTimeout(total=7.0, connect=1.0)
        assert client._transport._request_timeout == aiohttp.ClientTimeout(total=None, connect=1.0)


async def test_aclose_leaves_calls_in_flight_their_total_timeout(sim: PapiSimulator) -> None:
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:  # the caller's: aclose does not close it
        client = client_for(sim, 0.3, session=session)
        await client.account.balance("BNB")
        sim.faults.latency(3.0, path=BALANCE)
        started = loop.time()
        call = asyncio.ensure_future(client.account.balance("BNB"))
        await asyncio.sleep(0.05)
        await client.aclose(timeout=0.05)  # gives up waiting; the call goes on
        with pytest.raises(APITimeoutError):
            await call
        assert loop.time() - started < 1.5  # the call's total, not the server's 3 s


async def test_the_total_timeout_bounds_a_read_and_a_write(sim: PapiSimulator) -> None:
    loop = asyncio.get_running_loop()
    events: list[Event] = []
    async with client_for(sim, 0.2, on_event=events.append) as client:
        await client.account.balance("BNB")  # connections open, clock synced
        sim.faults.latency(0.6, path=BALANCE)
        started = loop.time()
        with pytest.raises(APITimeoutError) as read:
            await client.account.balance("BNB")
        took = loop.time() - started
        assert read.value.sent is True
        assert 0.2 <= took < 0.9  # the client's timeout, not the server's answer
        sim.faults.latency(0.6, path=REPAY)
        orders_before = used(client, Budget.ORDERS)
        with pytest.raises(ExecutionStatusUnknown) as write:
            await client.margin.repay_debt("BNB", Decimal("0.1"), specify_repay_assets=["USDT"])
        assert "timed out" in write.value.reason
        # It may have been sent: its budget stays charged, and it is reported once.
        assert used(client, Budget.ORDERS) == orders_before + 1
        assert [e.path for e in events if isinstance(e, OutcomeUnknown)] == [REPAY]
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
            with pytest.raises(Exception, match=r"\bTimeoutError\b"):  # the total one
                await stream._open()
            assert loop.time() - started < 0.9
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
