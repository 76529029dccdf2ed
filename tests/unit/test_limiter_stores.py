"""A store outside the process: leases from an asynchronous store with latency.

``RemoteStore`` below is what a Redis store does, in memory: every call takes
``latency`` seconds of the fake clock each way, and the count changes atomically
at one moment in between.  Two limiters share it; together they must never
admit more than the limit in any window, whatever the latency.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binance_papi_async.clock import FakeClock
from binance_papi_async.ratelimit import (
    BudgetLimit,
    RateLimiter,
    Reservation,
    Signal,
    StoreListener,
    WindowKey,
)

from .limiter_support import T0, W, settle, weight

LIMIT = 100


@dataclass
class RemoteStore:
    """An asynchronous store with ``latency`` each way, on a fake clock."""

    clock: FakeClock
    latency: float
    counts: dict[tuple[str, int], int] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    listeners: list[StoreListener] = field(default_factory=list)
    fail: bool = False

    async def _trip(self) -> None:
        future = asyncio.get_running_loop().create_future()
        self.clock.call_at(self.clock.time() + self.latency, lambda: future.set_result(None))
        await future

    async def take(self, key: WindowKey, want: int, least: int, limit: int) -> int:
        self.calls.append("take")
        await self._trip()
        if self.fail:
            raise ConnectionError("store unreachable")
        k = (key.series, key.window)
        free = limit - self.counts.get(k, 0)
        granted = min(want, free) if free >= least else 0
        self.counts[k] = self.counts.get(k, 0) + granted
        await self._trip()
        return granted

    async def give(self, key: WindowKey, amount: int) -> None:
        self.calls.append("give")
        await self._trip()
        k = (key.series, key.window)
        self.counts[k] = max(0, self.counts.get(k, 0) - amount)
        for listener in self.listeners:
            listener.wake()

    async def add(self, key: WindowKey, amount: int) -> None:
        self.calls.append("add")
        await self._trip()
        k = (key.series, key.window)
        self.counts[k] = self.counts.get(k, 0) + amount

    async def observe(self, key: WindowKey, used: int) -> None:
        self.calls.append("observe")
        await self._trip()
        k = (key.series, key.window)
        self.counts[k] = max(self.counts.get(k, 0), used)

    async def publish(self, signal: Signal) -> None:
        self.calls.append("publish")
        await self._trip()
        for listener in self.listeners:
            listener.on_signal(signal)

    def attach(self, listener: StoreListener) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)


def remote_limiter(clock: FakeClock, store: RemoteStore, **kwargs: float) -> RateLimiter:
    return RateLimiter([BudgetLimit(W, LIMIT, reserve=0)], clock=clock, store=store, **kwargs)


async def run_for(clock: FakeClock, seconds: float, step: float = 0.01) -> None:
    for _ in range(round(seconds / step)):
        clock.advance(step)
        await settle(4)


async def test_the_first_call_waits_for_a_lease_and_the_next_ones_do_not() -> None:
    clock = FakeClock(T0 + 1)
    store = RemoteStore(clock, latency=0.005)
    limiter = RateLimiter([BudgetLimit(W, 6000, reserve=0)], clock=clock, store=store, transit=0)
    assert limiter.try_acquire(weight(1)) is None  # no lease yet: no I/O on this path
    first = asyncio.create_task(limiter.acquire(weight(1)))
    await run_for(clock, 0.05)
    assert first.done() and store.calls == ["take"]
    assert store.counts[("REQUEST_WEIGHT/60s", 28_333_334)] == 187  # a lease of 1/32
    for _ in range(186):  # the rest of the lease, admitted locally
        assert limiter.try_acquire(weight(1)) is not None
    assert store.calls == ["take"]
    assert limiter.try_acquire(weight(1)) is None  # the lease is used up
    heavy = asyncio.create_task(limiter.acquire(weight(3000)))  # asks for what it needs
    await run_for(clock, 0.05)
    assert heavy.done() and store.counts[("REQUEST_WEIGHT/60s", 28_333_334)] == 3187


async def test_a_store_with_nothing_left_makes_the_call_wait_for_the_next_window() -> None:
    clock = FakeClock(T0 + 1)
    store = RemoteStore(clock, latency=0.005)
    store.counts[("REQUEST_WEIGHT/60s", 28_333_334)] = LIMIT  # other processes took it all
    limiter = remote_limiter(clock, store, transit=0)
    task = asyncio.create_task(limiter.acquire(weight(10)))
    await run_for(clock, 1.0)
    assert not task.done() and store.calls == ["take"]  # asked once, not polled
    await run_for(clock, 59.0)
    assert task.done()


async def test_units_given_back_elsewhere_wake_the_waiting_calls() -> None:
    clock = FakeClock(T0 + 1)
    store = RemoteStore(clock, latency=0.005)
    a = remote_limiter(clock, store, transit=0, lease_fraction=1.0)
    b = remote_limiter(clock, store, transit=0)
    first = asyncio.create_task(a.acquire(weight(10)))  # a leases the whole window
    await run_for(clock, 0.05)
    assert first.done()
    waiting = asyncio.create_task(b.acquire(weight(10)))
    await run_for(clock, 0.1)
    assert not waiting.done()
    a.close()  # gives back the 90 it did not use; b is woken
    await run_for(clock, 0.1)
    assert waiting.done()


async def test_a_failing_store_grants_nothing_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(T0 + 1)
    store = RemoteStore(clock, latency=0.005, fail=True)
    limiter = remote_limiter(clock, store, transit=0)
    with caplog.at_level(logging.WARNING, logger="binance_papi_async.ratelimit"):
        task = asyncio.create_task(limiter.acquire(weight(10), max_wait=5))
        await run_for(clock, 6.0, step=0.5)
    assert "store" in caplog.text
    with pytest.raises(Exception, match="max_wait"):
        task.result()


async def test_a_pause_and_a_ban_reach_the_other_processes_through_the_store() -> None:
    clock = FakeClock(T0 + 1)
    store = RemoteStore(clock, latency=0.005)
    a = remote_limiter(clock, store, transit=0)
    b = remote_limiter(clock, store, transit=0)
    a.on_rate_limited(None)
    await run_for(clock, 0.05)
    assert b.paused_until == T0 + 60
    a.on_ip_banned(600)
    await run_for(clock, 0.05)
    assert b.banned_until == a.banned_until == pytest.approx(T0 + 601.05)


async def test_charges_moved_by_a_sync_are_counted_by_the_store() -> None:
    clock = FakeClock(T0 + 30, uncertainty=1.0)
    store = RemoteStore(clock, latency=0.005)
    limiter = remote_limiter(clock, store, transit=0)
    task = asyncio.create_task(limiter.acquire(weight(10)))
    await run_for(clock, 0.05)
    task.result().commit()
    clock.set_offset(120.0, uncertainty=0.01)  # two windows later
    await run_for(clock, 0.05)
    assert store.counts[("REQUEST_WEIGHT/60s", 28_333_336)] == 10
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "70"})
    await run_for(clock, 0.05)
    assert store.counts[("REQUEST_WEIGHT/60s", 28_333_336)] == 70


# -- two processes, one store: never more than the limit ---------------------------------------


@dataclass
class Sent:
    reservation: Reservation
    limiter: int


async def shared_budget_run(
    latency: float, script: list[tuple[int, int, int, float]]
) -> dict[tuple[str, int], int]:
    """Drive two limiters on one store; return what they admitted per window.

    ``script``: (limiter, weight, how many, pause before the next) steps.
    """
    clock = FakeClock(T0 + 50.0)
    store = RemoteStore(clock, latency=latency)
    limiters = [remote_limiter(clock, store, lease_fraction=f) for f in (1 / 8, 1 / 3)]
    admitted: dict[tuple[str, int], int] = {}
    tasks: list[asyncio.Task[Reservation]] = []

    def record(task: asyncio.Task[Reservation]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        reservation = task.result()
        reservation.commit()
        for key, amount in reservation.charges:
            k = (key.series, key.window)
            admitted[k] = admitted.get(k, 0) + amount

    for which, amount, count, pause in script:
        for _ in range(count):
            task = asyncio.create_task(limiters[which].acquire(weight(amount)))
            task.add_done_callback(record)
            tasks.append(task)
        await run_for(clock, pause)
    calls = sum(count for _, _, count, _ in script)
    for _ in range(2 * (calls + 2)):  # a window a call at most
        if all(t.done() for t in tasks):
            break
        await run_for(clock, 30.0, step=1.0)
    assert all(t.done() for t in tasks)
    for limiter in limiters:
        limiter.close()
    await run_for(clock, 1.0)
    return admitted


async def test_two_limiters_on_a_slow_store_admit_no_more_than_the_limit_in_any_window() -> None:
    script = [(0, 7, 20, 0.003), (1, 13, 10, 0.02), (0, 1, 50, 0.5), (1, 40, 6, 9.0)]
    admitted = await shared_budget_run(0.004, script)
    assert sum(admitted.values()) >= 20 * 7 + 10 * 13 + 50 + 6 * 40  # every call got in
    assert max(admitted.values()) <= LIMIT


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    latency=st.sampled_from([0.0, 0.001, 0.02, 0.3]),
    script=st.lists(
        st.tuples(
            st.integers(0, 1),
            st.integers(1, 60),
            st.integers(1, 8),
            st.sampled_from([0.0, 0.01, 0.3, 7.0]),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_a_shared_remote_store_never_lets_two_limiters_exceed_a_window(
    latency: float, script: list[tuple[int, int, int, float]]
) -> None:
    admitted = asyncio.run(shared_budget_run(latency, script))
    assert max(admitted.values(), default=0) <= LIMIT
