"""Waiting for budget: max_wait, cancellation, release, close, and the holds of calls that
charge several budgets."""

from __future__ import annotations

import asyncio
import math

import pytest

from binance_papi_async.endpoints import Charge
from binance_papi_async.errors import ClientClosedError, RateLimitWaitTimeout, ValidationError
from binance_papi_async.ratelimit import BudgetLimit, Reservation

from .limiter_support import (
    OR,
    ORDER,
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

TEN = BudgetLimit(W, 10, reserve=0)


async def test_max_wait_fails_at_once_and_charges_nothing() -> None:
    limiter, clock = make()
    (await limiter.acquire(weight(6000))).commit()
    with pytest.raises(RateLimitWaitTimeout) as info:
        await limiter.acquire(REPAY, max_wait=10)
    assert isinstance(info.value, TimeoutError)
    assert info.value.earliest == T0 + 60 and info.value.max_wait == 10
    assert used(limiter, W) == 6000 and used(limiter, OR) == 0
    assert_idle(limiter, clock)


async def test_client_default_max_wait_and_per_call_override() -> None:
    limiter, clock = make(max_wait=1.0)
    (await limiter.acquire(weight(6000))).commit()
    with pytest.raises(RateLimitWaitTimeout):
        await limiter.acquire(weight(1))
    task = asyncio.create_task(limiter.acquire(weight(1), max_wait=math.inf))
    await settle()
    assert not task.done()
    for bad in (-1.0, float("nan"), "1", True):
        with pytest.raises(ValidationError):
            await limiter.acquire(weight(1), max_wait=bad)  # type: ignore[arg-type]
    clock.advance(60)
    await settle()
    assert task.done()
    assert_idle(limiter, clock)


async def test_a_bad_max_wait_is_refused_even_when_budget_is_free() -> None:
    limiter, clock = make()
    with pytest.raises(ValidationError):
        await limiter.acquire(weight(1), max_wait="1")  # type: ignore[arg-type]
    assert used(limiter) == 0
    assert_idle(limiter, clock)


async def test_max_wait_deadline_when_the_estimate_was_too_hopeful() -> None:
    """The early check is a lower bound; a waiter still gives up at its deadline."""
    limiter, clock = make(TEN)
    (await limiter.acquire(weight(10))).commit()
    a = asyncio.create_task(limiter.acquire(weight(6)))
    b = asyncio.create_task(limiter.acquire(weight(6)))
    await settle()
    c = asyncio.create_task(limiter.acquire(weight(6), max_wait=150))  # estimate: T0 + 120
    await settle()
    assert not c.done()
    clock.advance(60)
    await settle()
    assert a.done() and not b.done()
    clock.advance(60)
    await settle()
    assert b.done() and not c.done()
    clock.advance(29.9)
    await settle()
    assert not c.done()
    clock.advance(0.1)
    await settle()
    with pytest.raises(RateLimitWaitTimeout):
        c.result()
    assert used(limiter) == 6  # c took nothing
    assert_idle(limiter, clock)


async def test_admission_exactly_at_the_deadline_is_in_time() -> None:
    limiter, clock = make()
    (await limiter.acquire(weight(6000))).commit()
    task = asyncio.create_task(limiter.acquire(weight(1), max_wait=60))
    await settle()
    clock.advance(60)
    await settle()
    assert isinstance(task.result(), Reservation)
    assert_idle(limiter, clock)


async def test_a_deadline_is_kept_in_local_time_when_the_offset_moves() -> None:
    limiter, clock = make(TEN, start=T0 + 45)
    (await limiter.acquire(weight(10))).commit()
    ahead = asyncio.create_task(limiter.acquire(weight(10)))
    await settle()
    task = asyncio.create_task(limiter.acquire(weight(6), max_wait=30))  # estimate: 15 s
    await settle()
    clock.set_offset(600.0)  # a sync moves the server time ten minutes ahead
    await settle()
    assert not task.done()  # not expired by the jump
    clock.advance(15.0)
    await settle()
    assert ahead.done() and not task.done()
    clock.advance(14.0)
    await settle()
    assert not task.done()
    clock.advance(1.0)
    await settle()
    with pytest.raises(RateLimitWaitTimeout):
        task.result()
    assert_idle(limiter, clock)


async def test_cancel_while_waiting_takes_nothing() -> None:
    limiter, clock = make(TEN)
    (await limiter.acquire(weight(10))).commit()
    head = asyncio.create_task(limiter.acquire(weight(8)))
    await settle()
    behind = asyncio.create_task(limiter.acquire(weight(2)))
    await settle()
    head.cancel()
    await settle()
    assert head.cancelled() and not behind.done()
    check_consistent(limiter)
    clock.advance(60)
    await settle()
    assert behind.done() and used(limiter) == 2  # the head took nothing
    assert_idle(limiter, clock)


async def test_cancel_in_the_middle_of_the_queue() -> None:
    limiter, clock = make(BudgetLimit(W, 3, reserve=0))
    (await limiter.acquire(weight(3))).commit()
    tasks = [asyncio.create_task(limiter.acquire(weight(1), max_wait=600)) for _ in range(5)]
    await settle()
    tasks[1].cancel()
    tasks[3].cancel()
    await settle()
    check_consistent(limiter)
    clock.advance(60)
    await settle()
    assert [t.done() and not t.cancelled() for t in tasks] == [True, False, True, False, True]
    assert used(limiter) == 3
    assert_idle(limiter, clock)


async def test_cancelled_multi_budget_waiter_gives_back_its_hold() -> None:
    limiter, clock = make(BudgetLimit(W, 6000), BudgetLimit(OR, 1))
    (await limiter.acquire(weight(6000))).commit()
    task = asyncio.create_task(limiter.acquire(REPAY))
    await settle()
    assert limiter.snapshot().get(OR).held == 1
    task.cancel()
    await settle()
    assert limiter.snapshot().get(OR).held == 0
    (await limiter.acquire((Charge(OR, 1),))).commit()
    assert_idle(limiter, clock)


async def test_cancel_after_acquire_keeps_the_charge_until_released() -> None:
    limiter, clock = make()
    got: list[Reservation] = []

    async def caller() -> None:
        got.append(await limiter.acquire(weight(100)))
        await asyncio.sleep(3600)  # "sending" when cancelled

    task = asyncio.create_task(caller())
    await settle()
    task.cancel()
    await settle()
    assert used(limiter) == 100  # a cancelled task keeps its charge...
    got[0].release()  # ...unless the caller gives it back
    assert used(limiter) == 0 and got[0].released
    got[0].release()
    got[0].commit()  # the first call wins
    assert used(limiter) == 0 and not got[0].committed
    committed = await limiter.acquire(weight(7))
    committed.commit()
    committed.release()
    assert used(limiter) == 7
    assert_idle(limiter, clock)


async def test_admitted_and_cancelled_in_the_same_instant_takes_nothing() -> None:
    limiter, clock = make()
    (await limiter.acquire(weight(6000))).commit()
    task = asyncio.create_task(limiter.acquire(weight(10)))
    await settle()
    clock.advance(60)  # admitted inside advance()...
    assert used(limiter) == 10
    task.cancel()  # ...and cancelled before it could run
    await settle()
    assert task.cancelled() and used(limiter) == 0
    assert_idle(limiter, clock)


async def test_release_wakes_waiters_and_late_release_is_ignored() -> None:
    limiter, clock = make(TEN)
    first = await limiter.acquire(weight(10))
    task = asyncio.create_task(limiter.acquire(weight(4)))
    await settle()
    first.release()
    await settle()
    assert task.done() and used(limiter) == 4
    clock.advance(60)
    task.result().release()  # charged in the previous window: nothing to give back now
    (await limiter.acquire(weight(3))).commit()
    assert used(limiter) == 3
    assert_idle(limiter, clock)


async def test_close_fails_waiters_and_refuses_new_calls() -> None:
    limiter, clock = make()
    (await limiter.acquire(weight(6000))).commit()
    task = asyncio.create_task(limiter.acquire(weight(1)))
    await settle()
    limiter.close()
    limiter.close()  # idempotent
    await settle()
    with pytest.raises(ClientClosedError):
        task.result()
    with pytest.raises(ClientClosedError):
        await limiter.acquire(weight(1))
    assert_idle(limiter, clock)


async def test_exhausted_order_budget_does_not_block_weight_calls() -> None:
    limiter, clock = make(BudgetLimit(W, 6000), BudgetLimit(OR, 2))
    for _ in range(2):
        (await limiter.acquire(ORDER)).commit()
    blocked = [asyncio.create_task(limiter.acquire(c)) for c in (ORDER, REPAY)]
    await settle()
    assert not any(t.done() for t in blocked)
    snap = limiter.snapshot()
    assert snap.get(OR).waiters == 2 and snap.get(W).waiters == 0 and snap.get(W).held == 0
    (await limiter.acquire(weight(100))).commit()  # not blocked
    clock.advance(60)
    await settle()
    assert all(t.done() for t in blocked)
    assert (used(limiter, W), used(limiter, OR)) == (3001, 2)
    assert_idle(limiter, clock)


async def test_a_call_holds_its_place_in_the_budgets_it_passed() -> None:
    """An order call behind a repay holds its order; later calls queue behind it."""
    limiter, clock = make(BudgetLimit(W, 6000), BudgetLimit(OR, 3))
    (await limiter.acquire(weight(5940))).commit()  # the normal share is spent: no backfill
    order: list[str] = []

    async def call(name: str, charges: tuple[Charge, ...]) -> None:
        (await limiter.acquire(charges)).commit()
        order.append(name)

    tasks = [asyncio.create_task(call("repay", REPAY))]
    await settle()
    tasks.append(asyncio.create_task(call("order", ORDER)))
    await settle()
    snap = limiter.snapshot()
    assert snap.get(OR).held == 2 and snap.get(W).waiters == 2  # both passed the order queue
    tasks.append(asyncio.create_task(call("read", weight(1))))
    tasks.append(asyncio.create_task(call("order2", ORDER)))
    await settle()
    assert limiter.snapshot().get(OR).held == 3
    with pytest.raises(RateLimitWaitTimeout):  # the order budget is fully held
        await limiter.acquire(ORDER, max_wait=0)
    clock.advance(60)
    await settle()
    assert order == ["repay", "order", "read", "order2"]
    await asyncio.gather(*tasks)
    assert_idle(limiter, clock)


async def test_a_held_budget_is_not_taken_by_later_calls() -> None:
    limiter, clock = make(TEN, BudgetLimit(OR, 1))
    full = await limiter.acquire(weight(10))
    first = asyncio.create_task(limiter.acquire(ORDER))  # holds the only order, waits for weight
    await settle()
    later = asyncio.create_task(limiter.acquire((Charge(OR, 1),)))
    await settle()
    assert not later.done() and limiter.snapshot().get(OR).waiters == 1
    full.release()
    await settle()
    assert first.done() and not later.done()
    clock.advance(60)
    await settle()
    assert later.done()
    assert_idle(limiter, clock)


async def test_a_call_whose_held_budget_was_filled_goes_back_without_blocking() -> None:
    limiter, clock = make(TEN, BudgetLimit(OR, 2))
    big = await limiter.acquire(weight(10))
    task = asyncio.create_task(limiter.acquire(ORDER))
    await settle()
    assert limiter.snapshot().get(OR).held == 1
    limiter.observe_headers({"X-MBX-ORDER-COUNT-1M": "2"})  # another program's orders
    big.release()  # weight is free again, but the order budget is now full
    await settle()
    assert not task.done()
    snap = limiter.snapshot()
    assert snap.get(OR).waiters == 1 and snap.get(OR).held == 0 and snap.get(W).waiters == 0
    (await limiter.acquire(weight(5))).commit()  # the weight queue is not blocked
    check_consistent(limiter)
    clock.advance(60)
    await settle()
    assert task.done()
    assert_idle(limiter, clock)
