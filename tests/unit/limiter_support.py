"""Helpers shared by the rate limiter's tests: construction, settling tasks, invariants.

Every limiter test runs on a :class:`FakeClock`: time only moves with
``clock.advance``, whose timers fire synchronously; ``settle()`` then lets the
woken tasks run.
"""

from __future__ import annotations

import asyncio

from binance_papi_async.clock import FakeClock
from binance_papi_async.endpoints import REPAY_DEBT, Budget, Charge, WeightKind, charges_for
from binance_papi_async.ratelimit import DEFAULT_LIMITS, BudgetLimit, RateLimiter
from binance_papi_async.ratelimit._queue import WAITING, live

W = Budget.REQUEST_WEIGHT
OR = Budget.ORDERS
T0 = 1_700_000_040.0  # on a minute boundary of server time
REPAY = REPAY_DEBT.charges
ORDER = charges_for(1, WeightKind.ORDER)  # 1 weight + 1 order
#: papi's limits without the urgent reserve: two 3000-weight repays fit in a minute.
NO_RESERVE = (BudgetLimit(W, 6000, reserve=0), BudgetLimit(OR, 1200, reserve=0))


def weight(n: int) -> tuple[Charge, ...]:
    return (Charge(W, n),)


async def settle(rounds: int = 8) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


def make(
    *limits: BudgetLimit,
    start: float = T0,
    max_wait: float | None = None,
    transit: float = 0.0,
    uncertainty: float = 0.0,
) -> tuple[RateLimiter, FakeClock]:
    """A limiter on a fake clock; by default an exact clock and requests that arrive at
    their timestamp (``transit=0``), so that windows are the plain minutes."""
    clock = FakeClock(start, uncertainty=uncertainty)
    limiter = RateLimiter(limits or DEFAULT_LIMITS, clock=clock, max_wait=max_wait, transit=transit)
    return limiter, clock


def used(
    limiter: RateLimiter,
    budget: Budget = W,
    interval_s: float | None = None,
    account: str | None = None,
) -> int:
    return limiter.snapshot().get(budget, interval_s, account=account).used


def check_consistent(limiter: RateLimiter) -> None:
    """The limiter's counters agree with its queues."""
    total = 0
    held: dict[int, int] = {}
    held_jump: dict[int, int] = {}
    for bucket in limiter._buckets:
        waiting = live(bucket)
        assert len({id(w) for w in waiting}) == len(waiting)
        assert bucket.n_waiting == len(waiting)
        stale = sum(1 for t, w in bucket.q if t != w.ticket or w.state != WAITING)
        stale += sum(1 for t, w in bucket.qu if t != w.ticket or w.state != WAITING)
        assert bucket.stale == stale
        assert [w for t, w in bucket.qu if t == w.ticket and w.state == WAITING] == [
            w for w in waiting if w.urgent
        ]
        assert bucket.queued == sum(w.amount for w in waiting)
        by_amount: dict[int, int] = {}
        for w in waiting:
            by_amount[w.amount] = by_amount.get(w.amount, 0) + w.amount
        assert bucket.queued_by_amount == by_amount
        for w in waiting:
            assert w.plan.items[w.stage][0] is bucket
            for i, (b, amount) in enumerate(w.plan.items[: w.stage]):
                held[id(b)] = held.get(id(b), 0) + amount
                if w.jumps >> i & 1:
                    held_jump[id(b)] = held_jump.get(id(b), 0) + amount
        total += len(waiting)
    assert total == limiter.waiters
    for bucket in limiter._buckets:
        assert bucket.claimed == held.get(id(bucket), 0)
        assert bucket.claimed_jump == held_jump.get(id(bucket), 0)


def check_timers(limiter: RateLimiter) -> None:
    """A timer for every bucket with waiters, and none for one without."""
    for bucket in limiter._buckets:
        assert (bucket.timer is not None) == (bucket.n_waiting > 0), bucket


def assert_idle(limiter: RateLimiter, clock: FakeClock) -> None:
    """Nothing leaked: no waiter, no queue entry, no hold, no timer."""
    check_consistent(limiter)
    assert limiter.waiters == 0
    for bucket in limiter._buckets:
        assert not bucket.q and not bucket.qu and bucket.stale == 0
        assert bucket.claimed == 0 and bucket.queued == 0 and bucket.timer is None
    assert not limiter._deadlines and limiter._deadline_timer is None
    assert clock.pending_timers == 0
