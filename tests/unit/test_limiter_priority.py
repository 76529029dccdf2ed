"""Who goes first: arrival order, backfill of light calls behind heavy ones, urgent calls."""

from __future__ import annotations

import asyncio

import pytest

from binance_papi_async.endpoints import Charge
from binance_papi_async.errors import RateLimitWaitTimeout
from binance_papi_async.ratelimit import BudgetLimit, Reservation

from .limiter_support import (
    OR,
    REPAY,
    T0,
    W,
    assert_idle,
    check_consistent,
    make,
    settle,
    used,
    weight,
)

HEAVY = (Charge(W, 2500), Charge(OR, 1))  # a repay charged 2500: two fit a window, not three
CANCEL = weight(1)


async def queue(
    limiter: object, charges: tuple[Charge, ...], n: int
) -> list[asyncio.Task[Reservation]]:
    tasks = [asyncio.create_task(limiter.acquire(charges)) for _ in range(n)]  # type: ignore[attr-defined]
    await settle()
    return tasks


async def test_a_light_call_is_backfilled_ahead_of_heavy_calls_that_wait_for_a_later_window() -> (
    None
):
    limiter, clock = make()
    repays = await queue(limiter, HEAVY, 500)
    assert sum(t.done() for t in repays) == 2  # 5000 of the 5940; the third waits
    ping = await limiter.acquire(weight(1), max_wait=1.0)  # within 1 s: at once
    read = await limiter.acquire(weight(20), max_wait=1.0)
    assert used(limiter) == 5021
    assert [r.charges[0][1] for r in (ping, read)] == [1, 20]
    # What the third repay will need is in the next window; the backfill took none of it.
    clock.advance(60)
    await settle()
    assert sum(t.done() for t in repays) == 4
    for task in repays:
        task.cancel()
    await settle()
    assert_idle(limiter, clock)


async def test_backfill_takes_only_the_room_the_head_leaves() -> None:
    limiter, clock = make(BudgetLimit(W, 10, reserve=0))
    (await limiter.acquire(weight(6))).commit()
    head = asyncio.create_task(limiter.acquire(weight(5)))  # 6 + 5 > 10: the next window
    await settle()
    small = [await limiter.acquire(weight(2)) for _ in range(2)]  # 4 of room: backfilled
    late = asyncio.create_task(limiter.acquire(weight(1)))  # the window is full
    await settle()
    assert not head.done() and not late.done() and used(limiter) == 10
    for r in small:
        r.commit()
    clock.advance(60)
    await settle()
    assert head.done() and late.done() and used(limiter) == 6  # the head first, then the rest
    assert_idle(limiter, clock)


async def test_a_call_is_never_overtaken_by_a_later_call_charging_as_much_or_more() -> None:
    limiter, clock = make(BudgetLimit(W, 10, reserve=0))
    (await limiter.acquire(weight(7))).commit()
    admitted: list[str] = []

    async def call(name: str, amount: int) -> None:
        (await limiter.acquire(weight(amount))).commit()
        admitted.append(name)

    tasks = [asyncio.create_task(call(n, a)) for n, a in (("a", 5), ("b", 4), ("c", 3), ("d", 4))]
    await settle()
    assert admitted == ["c"]  # 3 fits the room of 3; a, b and d do not
    clock.advance(60)
    await settle()
    assert admitted == ["c", "a", "b"]  # a and b in order; d (4) does not fit after them
    clock.advance(60)
    await settle()
    assert admitted == ["c", "a", "b", "d"]
    await asyncio.gather(*tasks)
    assert_idle(limiter, clock)


async def test_a_waiter_behind_a_blocked_head_is_backfilled_when_budget_comes_back() -> None:
    limiter, clock = make(BudgetLimit(W, 10, reserve=0))
    holder = await limiter.acquire(weight(9))
    head = asyncio.create_task(limiter.acquire(weight(8)))
    behind = asyncio.create_task(limiter.acquire(weight(3)))
    await settle()
    assert not behind.done()
    (await limiter.acquire(weight(1))).commit()  # fits the room of 1 at once
    holder.release()  # 9 back: the head (8) fits now and goes first; 3 does not fit after it
    await settle()
    assert head.done() and not behind.done()
    clock.advance(60)
    await settle()
    assert behind.done()
    assert_idle(limiter, clock)


async def test_no_backfill_when_the_request_could_arrive_in_the_next_window() -> None:
    limiter, clock = make(BudgetLimit(W, 10, reserve=0), start=T0 + 59.6, transit=0.5)
    (await limiter.acquire(weight(6))).commit()  # counted in this window and the next
    head = asyncio.create_task(limiter.acquire(weight(5)))
    await settle()
    light = asyncio.create_task(limiter.acquire(weight(1)))
    await settle()
    assert not light.done()  # it would take budget of the window the head waits for
    clock.advance(0.4)  # T0 + 60: the old window is out of reach; the 6 count in the new one
    await settle()
    assert light.done() and not head.done()  # 6 + 5 > 10: the head waits another window
    clock.advance(60)
    await settle()
    assert head.done()
    assert_idle(limiter, clock)


async def test_an_urgent_call_jumps_the_queue_from_the_reserve() -> None:
    limiter, clock = make()  # 60 reserved per window
    (await limiter.acquire(weight(5940))).commit()
    repays = await queue(limiter, REPAY, 3)
    cancel = await limiter.acquire(CANCEL, urgent=True, max_wait=0)
    assert cancel.urgent and used(limiter) == 5941
    assert not any(t.done() for t in repays)
    for task in repays:
        task.cancel()
    await settle()
    assert_idle(limiter, clock)


async def test_an_urgent_call_is_admitted_before_the_next_queued_repay_when_the_window_opens() -> (
    None
):
    limiter, clock = make(BudgetLimit(W, 6000, reserve=1), BudgetLimit(OR, 1200))
    (await limiter.acquire(weight(6000))).commit()  # the reserve too: the cancel must wait
    order: list[str] = []

    async def call(name: str, charges: tuple[Charge, ...], urgent: bool = False) -> None:
        (await limiter.acquire(charges, urgent=urgent)).commit()
        order.append(name)

    tasks = [asyncio.create_task(call(f"repay{i}", REPAY)) for i in range(3)]
    await settle()
    tasks.append(asyncio.create_task(call("cancel", CANCEL, urgent=True)))
    await settle()
    assert order == []
    clock.advance(60)
    await settle()
    assert order == ["cancel", "repay0"]  # 1 + 3000; the second repay does not fit 5999
    for task in tasks:
        task.cancel()
    await settle()
    assert_idle(limiter, clock)


async def test_urgent_calls_beyond_the_reserve_wait_in_arrival_order() -> None:
    """The reserve bounds how much urgent calls take ahead of normal waiters: never starved."""
    limiter, clock = make(BudgetLimit(W, 100, reserve=5))
    (await limiter.acquire(weight(95))).commit()
    order: list[str] = []

    async def call(name: str, amount: int, urgent: bool) -> None:
        (await limiter.acquire(weight(amount), urgent=urgent)).commit()
        order.append(name)

    tasks = [asyncio.create_task(call("normal", 90, False))]
    await settle()
    tasks += [asyncio.create_task(call(f"urgent{i}", 3, True)) for i in range(5)]
    await settle()
    assert order == ["urgent0"]  # 3 of the 5 reserved; the rest wait
    clock.advance(60)
    await settle()
    # The new window: urgent1 takes 3 of the reserve, urgent2 does not fit its 2 left; the
    # normal waiter (first in line) goes next, then the urgent ones in arrival order, from
    # the 5 of the normal share left.
    assert order == ["urgent0", "urgent1", "normal", "urgent2"]
    check_consistent(limiter)
    clock.advance(60)
    await settle()
    assert order == ["urgent0", "urgent1", "normal", "urgent2", "urgent3", "urgent4"]
    await asyncio.gather(*tasks)
    assert_idle(limiter, clock)


async def test_an_urgent_call_behind_one_backfilled_is_admitted_from_the_reserve_at_once() -> None:
    """Backfill takes the head of the urgent calls: the next one, which fits the reserve,
    goes in the same instant rather than when the window ends."""
    limiter, clock = make(BudgetLimit(W, 100, reserve=5))  # 95 for normal calls
    (await limiter.acquire(weight(84))).commit()
    unsent = await limiter.acquire(weight(10))  # 94 used
    head = asyncio.create_task(limiter.acquire(weight(20)))  # the next window
    big = asyncio.create_task(limiter.acquire(weight(11), urgent=True))  # more than the reserve
    small = asyncio.create_task(limiter.acquire(weight(2), urgent=True))  # behind it
    await settle()
    assert not (head.done() or big.done() or small.done())
    unsent.release()  # 11 of normal room: the 11 is backfilled, the 2 fits the reserve
    await settle()
    assert big.done() and small.done() and not head.done()
    assert (big.result()._jumps, small.result()._jumps) == (0, 1)
    assert used(limiter) == 97
    check_consistent(limiter)
    head.cancel()
    await settle()
    assert_idle(limiter, clock)


async def test_an_urgent_call_uses_the_normal_share_first() -> None:
    limiter, _ = make(BudgetLimit(W, 100, reserve=10))
    reservation = await limiter.acquire(weight(5), urgent=True)
    assert reservation._jumps == 0  # the reserve is left for when it is needed
    (await limiter.acquire(weight(85))).commit()
    jumped = await limiter.acquire(weight(5), urgent=True)
    assert jumped._jumps == 1


async def test_the_early_max_wait_check_counts_only_waiters_a_call_cannot_overtake() -> None:
    limiter, clock = make(BudgetLimit(W, 6000, reserve=0), BudgetLimit(OR, 1200))
    (await limiter.acquire(weight(6000))).commit()
    repays = await queue(limiter, HEAVY, 10)
    with pytest.raises(RateLimitWaitTimeout) as info:  # ten ahead, 6000 a window
        await limiter.acquire(HEAVY, max_wait=200)
    assert info.value.earliest == T0 + 300  # a lower bound: 2500s pack two a window
    light = asyncio.create_task(limiter.acquire(weight(1), max_wait=90))  # may backfill
    await settle()
    assert not light.done()
    clock.advance(60)
    await settle()
    assert light.done()  # behind the two repays of the new window, in the room they leave
    for task in repays:
        task.cancel()
    await settle()
    assert_idle(limiter, clock)
