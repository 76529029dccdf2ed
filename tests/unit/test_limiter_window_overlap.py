"""A request that may arrive on either side of a boundary is charged to both windows; the
cost of that must stay with the requests that really could.

Saturated limiters on a :class:`FakeClock` (the true offset is 0: each request arrives
at its timestamp plus a millisecond) send weight-1 calls through short windows; the
server side counts arrivals per window.  With a measured bound every full window is
used, whichever store (in memory, or leases from a store with latency); and reads
answered before the next window began leave it when a sync re-keys them.
"""

from __future__ import annotations

import asyncio

import pytest

from binance_papi_async.clock import FakeClock
from binance_papi_async.ratelimit import BudgetLimit, InMemoryBudgetStore, RateLimiter

from .limiter_support import W, settle, weight
from .test_limiter_stores import RemoteStore

WINDOW = 5.0
LIMIT = 300
B = 1_700_000_100.0  # a boundary of 5-second windows
LIMITS = [BudgetLimit(W, LIMIT, WINDOW, reserve=0)]


class Server:
    """Arrivals per window of the true server clock (which the fake clock's local reading is)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.counts: dict[int, int] = {}

    async def call(self, limiter: RateLimiter) -> None:
        reservation = await limiter.acquire(weight(1))
        reservation.commit()
        await self.after(0.001)  # arrives
        index = int(self.clock.local() // WINDOW)
        self.counts[index] = self.counts.get(index, 0) + 1
        used = self.counts[index]
        await self.after(0.001)  # answered
        limiter.observe_used(W, used, interval_s=WINDOW, reservation=reservation)

    async def after(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self.clock.call_at(self.clock.time() + seconds, lambda: future.set_result(None))
        await future


async def saturate(
    limiters: list[RateLimiter], clock: FakeClock, server: Server, until: float, tasks: int = 20
) -> None:
    async def loop(limiter: RateLimiter) -> None:
        while clock.local() < until:
            await server.call(limiter)

    runners = [asyncio.ensure_future(loop(limiter)) for limiter in limiters for _ in range(tasks)]
    while clock.local() < until:
        clock.advance(0.002)
        await settle(12)
    for runner in runners:
        runner.cancel()
    await asyncio.gather(*runners, return_exceptions=True)


def shared(kind: str, clock: FakeClock, n: int) -> list[RateLimiter]:
    store = InMemoryBudgetStore() if kind == "memory" else RemoteStore(clock, latency=0.0005)
    return [RateLimiter(LIMITS, clock=clock, store=store, transit=0.1) for _ in range(n)]


@pytest.mark.parametrize("kind", ["memory", "leases"])
async def test_with_a_measured_bound_every_full_window_is_used(kind: str) -> None:
    clock = FakeClock(B - 1.1, uncertainty=0.0005)
    limiters = shared(kind, clock, 4)
    server = Server(clock)
    await saturate(limiters, clock, server, B + 3 * WINDOW)
    first = int(B // WINDOW)
    for index in range(first, first + 3):
        assert 0.97 * LIMIT <= server.counts[index] <= LIMIT, server.counts


@pytest.mark.parametrize("kind", ["memory", "leases"])
async def test_reads_answered_before_the_next_window_began_leave_it_at_the_sync(
    kind: str,
) -> None:
    """The clock sync's reads are admitted with the unmeasured bound (1 s), so near a
    boundary they count in the next window too; the sync proves they were answered
    before it began, and that window gets their budget back."""
    clock = FakeClock(B - 0.8, uncertainty=1.0)
    (limiter,) = shared(kind, clock, 1)
    server = Server(clock)
    reads = [asyncio.ensure_future(server.call(limiter)) for _ in range(5)]
    for _ in range(20):
        clock.advance(0.002)
        await settle(12)
    assert all(read.done() for read in reads)
    index = int(B // WINDOW)
    clock.set_offset(0.0, uncertainty=0.0005)  # the sync: the host clock was right
    assert server.counts == {index - 1: 5}
    await saturate([limiter], clock, server, B + WINDOW)
    assert server.counts[index] == LIMIT, server.counts
