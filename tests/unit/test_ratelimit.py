"""The rate limiter (issue 5): budgets, windows, headers, 429/418, fairness, cancellation.

Every test runs on a :class:`FakeClock`: time only moves with ``clock.advance``,
whose timers fire synchronously; ``settle()`` then lets the woken tasks run.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from binance_papi_async.clock import FakeClock
from binance_papi_async.endpoints import REPAY_DEBT, Budget, Charge, WeightKind, charges_for
from binance_papi_async.errors import (
    BinancePapiError,
    ClientClosedError,
    ConfigurationError,
    IPBanActiveError,
    RateLimitWaitTimeout,
    ValidationError,
    WeightExceedsLimitError,
)
from binance_papi_async.ratelimit import (
    DEFAULT_LIMITS,
    BudgetLimit,
    InMemoryBudgetStore,
    RateLimiter,
    Reservation,
    WindowKey,
    _Plan,
    banned_until_from_message,
)

W = Budget.REQUEST_WEIGHT
OR = Budget.ORDERS
T0 = 1_700_000_040.0  # on a minute boundary of server time
REPAY = REPAY_DEBT.charges
ORDER = charges_for(1, WeightKind.ORDER)  # 1 weight + 1 order


def weight(n: int) -> tuple[Charge, ...]:
    return (Charge(W, n),)


async def settle(rounds: int = 8) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


def make(
    *limits: BudgetLimit, start: float = T0, max_wait: float | None = None
) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock(start)
    return RateLimiter(limits or DEFAULT_LIMITS, clock=clock, max_wait=max_wait), clock


def used(limiter: RateLimiter, budget: Budget = W, interval_s: float | None = None) -> int:
    return limiter.snapshot().get(budget, interval_s).used


def check_consistent(limiter: RateLimiter) -> None:
    """The limiter's counters agree with its queues."""
    live = 0
    held: dict[int, int] = {}
    for bucket in limiter._buckets:
        waiting = [w for w in bucket.queue if w.state == 0]
        assert bucket.n_waiting == len(waiting)
        assert bucket.n_dead == len(bucket.queue) - len(waiting)
        assert bucket.queued == sum(w.plan[w.stage][1] for w in waiting)
        for w in waiting:
            assert w.plan[w.stage][0] is bucket
            for b, amount in w.plan[: w.stage]:
                held[id(b)] = held.get(id(b), 0) + amount
        live += len(waiting)
    live += sum(1 for w in limiter._free if w.state == 0)
    assert live == limiter.waiters
    for bucket in limiter._buckets:
        assert bucket.claimed == held.get(id(bucket), 0)


def check_timers(limiter: RateLimiter) -> None:
    """One timer per blocked queue and none for an empty one (or the pause timer covers all)."""
    for bucket in limiter._buckets:
        if bucket.timer is not None:
            assert bucket.n_waiting > 0
        elif bucket.n_waiting:
            assert limiter._pause_timer is not None
    if any(w.state == 0 for w in limiter._free):
        assert limiter._pause_timer is not None


def assert_idle(limiter: RateLimiter, clock: FakeClock) -> None:
    """Nothing leaked: no waiter, no queue entry, no hold, no timer."""
    check_consistent(limiter)
    assert limiter.waiters == 0
    for bucket in limiter._buckets:
        assert not bucket.queue and bucket.claimed == 0 and bucket.queued == 0
        assert bucket.timer is None
    assert not limiter._free and not limiter._deadlines
    assert limiter._deadline_timer is None and limiter._pause_timer is None
    assert clock.pending_timers == 0


# -- budgets and windows ------------------------------------------------------------------------


def test_defaults_and_construction_outside_a_loop() -> None:
    assert (BudgetLimit(W, 6000), BudgetLimit(OR, 1200)) == DEFAULT_LIMITS
    limiter = RateLimiter()  # ServerClock, no running loop needed
    snap = limiter.snapshot()
    assert [(b.budget, b.limit, b.interval_s) for b in snap.budgets] == [
        (W, 6000, 60.0),
        (OR, 1200, 60.0),
    ]
    assert snap.waiters == 0 and snap.paused_until is None and snap.banned_until is None


def test_invalid_configuration() -> None:
    with pytest.raises(ConfigurationError):
        BudgetLimit(W, 0)
    with pytest.raises(ConfigurationError):
        BudgetLimit(W, 10, 0.0)
    with pytest.raises(ConfigurationError):
        RateLimiter([BudgetLimit(W, 10), BudgetLimit(W, 20)])
    with pytest.raises(ConfigurationError):
        RateLimiter(max_wait=-1)


async def test_window_starts_on_the_minute_of_server_time() -> None:
    limiter, clock = make(start=T0 + 30)
    snap = limiter.snapshot().get(W)
    assert (snap.window_start, snap.window_reset) == (T0, T0 + 60)
    (await limiter.acquire(weight(6000))).commit()
    task = asyncio.create_task(limiter.acquire(weight(1)))
    await settle()
    assert not task.done() and limiter.snapshot().get(W).waiters == 1
    clock.advance(29.9)
    await settle()
    assert not task.done()
    clock.advance(0.1)  # T0 + 60: a new window
    await settle()
    assert task.done() and used(limiter) == 1
    assert limiter.snapshot().get(W).window_start == T0 + 60
    assert_idle(limiter, clock)


async def test_repay_is_3000_weight_and_one_order_and_the_third_waits() -> None:
    assert (Charge(W, 3000), Charge(OR, 1)) == REPAY
    limiter, clock = make()
    first = await limiter.acquire(REPAY)
    second = await limiter.acquire(REPAY)
    assert (used(limiter, W), used(limiter, OR)) == (6000, 2)
    assert [a for _, a in first.charges] == [1, 3000]  # order queue first, IP weight last
    third = asyncio.create_task(limiter.acquire(REPAY))
    await settle()
    assert not third.done()
    clock.advance(59.999)
    await settle()
    assert not third.done()
    clock.advance(0.001)
    await settle()
    assert third.done()
    assert (used(limiter, W), used(limiter, OR)) == (3000, 1)
    for r in (first, second, third.result()):
        r.commit()
    assert_idle(limiter, clock)


async def test_a_charge_above_the_limit_fails_at_once() -> None:
    limiter, clock = make()
    with pytest.raises(WeightExceedsLimitError) as info:
        await limiter.acquire(weight(6001))
    assert isinstance(info.value, ValueError) and isinstance(info.value, BinancePapiError)
    assert (info.value.budget, info.value.amount, info.value.limit) == (W, 6001, 6000)
    small, _ = make(BudgetLimit(W, 6000), BudgetLimit(OR, 1200), BudgetLimit(OR, 1, 10.0))
    with pytest.raises(WeightExceedsLimitError):
        await small.acquire((Charge(OR, 2),))
    assert used(limiter) == 0 and limiter.waiters == 0
    assert_idle(limiter, clock)


async def test_budgets_without_a_limit_are_ignored_and_zero_charges_nothing() -> None:
    limiter, clock = make(BudgetLimit(W, 6000))
    reservation = await limiter.acquire(REPAY)
    assert [a for _, a in reservation.charges] == [3000]  # the order charge is ignored
    assert (await limiter.acquire((Charge(W, 0),))).charges == ()
    with pytest.raises(ValidationError):
        await limiter.acquire((Charge(W, -1),))
    assert_idle(limiter, clock)


async def test_charges_from_any_sequence_and_duplicates_add_up() -> None:
    limiter, _ = make(BudgetLimit(W, 10))
    reservation = await limiter.acquire([Charge(W, 3), Charge(W, 4)])
    assert used(limiter) == 7
    assert [a for _, a in reservation.charges] == [7]


# -- reconciliation with the response headers ---------------------------------------------------


async def test_headers_bring_in_other_programs_weight() -> None:
    limiter, clock = make()
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "5990", "Content-Type": "x"})
    assert used(limiter) == 5990
    (await limiter.acquire(weight(10))).commit()
    task = asyncio.create_task(limiter.acquire(weight(1)))
    await settle()
    assert not task.done()
    clock.advance(60)
    await settle()
    assert task.done()
    assert_idle(limiter, clock)


async def test_header_names_are_case_insensitive_and_matched_by_interval() -> None:
    limiter, _ = make(BudgetLimit(W, 6000), BudgetLimit(OR, 1200), BudgetLimit(OR, 300, 10.0))
    limiter.observe_headers(
        {
            "x-mbx-used-weight-1m": "100",
            "X-Mbx-Order-Count-1M": "7",
            "X-MBX-ORDER-COUNT-10S": "3",
            "X-MBX-USED-WEIGHT-1H": "999",  # no hourly weight limit: ignored
            "X-MBX-ORDER-COUNT-1D": "50",  # no daily order limit: ignored
        }
    )
    assert used(limiter, W) == 100
    assert used(limiter, OR, 60.0) == 7
    assert used(limiter, OR, 10.0) == 3


async def test_aiohttp_headers_are_looked_up_by_canonical_name() -> None:
    limiter, _ = make(BudgetLimit(W, 6000), BudgetLimit(OR, 1200), BudgetLimit(OR, 300, 10.0))
    raw = {"x-mbx-used-weight-1m": "100", "X-MBX-ORDER-COUNT-1M": "7", "x-mbx-order-count-10s": "3"}
    limiter.observe_headers(CIMultiDictProxy(CIMultiDict(raw)))
    assert used(limiter, W) == 100
    assert (used(limiter, OR, 60.0), used(limiter, OR, 10.0)) == (7, 3)
    limiter.observe_headers(CIMultiDict({"X-MBX-USED-WEIGHT-1M": "oops"}))
    assert used(limiter, W) == 100


async def test_malformed_headers_are_ignored() -> None:
    limiter, _ = make()
    limiter.observe_headers(
        {
            "X-MBX-USED-WEIGHT-1M": "many",
            "X-MBX-USED-WEIGHT-": "5",
            "X-MBX-USED-WEIGHT-0M": "5",
            "X-MBX-USED-WEIGHT-1Y": "5",
            "X-MBX-ORDER-COUNT-1M": "-3",
        }
    )
    assert used(limiter, W) == 0 and used(limiter, OR) == 0


async def test_headers_never_lower_the_count() -> None:
    limiter, _ = make()
    for _ in range(5):
        (await limiter.acquire(weight(10))).commit()
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "3"})
    assert used(limiter) == 50


async def test_in_flight_requests_are_not_double_counted() -> None:
    """S + what we charged after the request: exact when requests are processed in order."""
    limiter, _ = make()
    sent = [await limiter.acquire(weight(1)) for _ in range(10)]
    for r in sent:
        r.commit()
    # No other program: the first request's response says 1, the last one's says 10.
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "1"}, reservation=sent[0])
    assert used(limiter) == 10
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "10"}, reservation=sent[9])
    assert used(limiter) == 10
    # Another program spent 3000 before our first request was processed: the
    # nine requests still in flight come on top of the server's 3001.
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "3001"}, reservation=sent[0])
    assert used(limiter) == 3010


async def test_a_header_from_a_window_that_rolled_is_ignored() -> None:
    limiter, clock = make(start=T0 + 59.5)
    reservation = await limiter.acquire(weight(1))
    clock.advance(1.0)  # the response arrives in the next window
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "5000"}, reservation=reservation)
    assert used(limiter) == 0
    assert reservation.committed  # a response proves the request was sent
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "4000"})  # no reservation: current window
    assert used(limiter) == 4000


# -- max_wait ---------------------------------------------------------------------------------


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
    with pytest.raises(ValidationError):
        await limiter.acquire(weight(1), max_wait=-1.0)
    clock.advance(60)
    await settle()
    assert task.done()
    assert_idle(limiter, clock)


async def test_max_wait_deadline_when_the_estimate_was_too_hopeful() -> None:
    """The early check is a lower bound; a waiter still gives up at its deadline."""
    limiter, clock = make(BudgetLimit(W, 10))
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


# -- 429 and 418 ------------------------------------------------------------------------------


async def test_429_pauses_every_call_until_the_window_ends() -> None:
    limiter, clock = make(start=T0 + 10)
    limiter.on_rate_limited(None)
    snap = limiter.snapshot()
    assert snap.paused_until == T0 + 60
    assert snap.get(W).used == 6000 and snap.get(OR).used == 1200  # marked full
    calls = [asyncio.create_task(limiter.acquire(c)) for c in (weight(1), (), REPAY)]
    await settle()
    assert not any(t.done() for t in calls)
    with pytest.raises(RateLimitWaitTimeout):
        await limiter.acquire((), max_wait=5)  # the pause counts toward max_wait
    clock.advance(50)
    await settle()
    assert all(t.done() for t in calls)
    assert limiter.paused_until is None
    assert_idle(limiter, clock)


async def test_429_with_retry_after_longer_than_the_window() -> None:
    limiter, clock = make()
    limiter.on_rate_limited(90)
    task = asyncio.create_task(limiter.acquire(weight(1)))
    clock.advance(60)
    await settle()
    assert not task.done()  # the window rolled, but the pause goes on
    clock.advance(30)
    await settle()
    assert task.done()
    assert_idle(limiter, clock)


async def test_429_for_one_budget_marks_only_that_budget() -> None:
    limiter, _ = make()
    limiter.on_rate_limited(0, budget=OR)
    assert used(limiter, OR) == 1200 and used(limiter, W) == 0
    (await limiter.acquire(weight(5))).commit()  # IP weight still flows


async def test_418_raises_with_the_end_of_the_ban_without_waiting() -> None:
    limiter, clock = make()
    (await limiter.acquire(weight(6000))).commit()
    waiting = asyncio.create_task(limiter.acquire(weight(1)))
    await settle()
    limiter.on_ip_banned(retry_after=120)
    await settle()
    with pytest.raises(IPBanActiveError) as info:
        waiting.result()
    assert info.value.banned_until == T0 + 120
    with pytest.raises(IPBanActiveError) as info:
        await limiter.acquire(weight(1))
    assert info.value.banned_until == T0 + 120 and info.value.retry_after == 120
    assert limiter.snapshot().banned_until == T0 + 120
    clock.advance(119)
    with pytest.raises(IPBanActiveError):
        await limiter.acquire(())
    clock.advance(1)
    (await limiter.acquire(weight(1))).commit()
    assert_idle(limiter, clock)


async def test_418_ban_end_from_banned_until_or_the_minimum() -> None:
    limiter, _ = make()
    limiter.on_ip_banned(None, banned_until=T0 + 3600)
    assert limiter.banned_until == T0 + 3600
    other, _ = make()
    other.on_ip_banned(None)
    assert other.banned_until == T0 + 120
    msg = "Way too many requests; IP banned until 1700003640000. Please use the websocket."
    assert banned_until_from_message(msg) == T0 + 3600
    assert banned_until_from_message("Too many requests") is None


# -- fairness ---------------------------------------------------------------------------------


async def test_repay_is_not_starved_by_a_stream_of_small_calls() -> None:
    limiter, clock = make()
    (await limiter.acquire(weight(4000))).commit()
    order: list[str] = []

    async def call(name: str, charges: Sequence[Charge]) -> None:
        (await limiter.acquire(charges)).commit()
        order.append(name)

    tasks = [asyncio.create_task(call("repay", REPAY))]
    await settle()
    for i in range(300):  # each would fit right now (4000 + 1 <= 6000), but the repay is first
        tasks.append(asyncio.create_task(call(f"read{i}", weight(1))))
        await asyncio.sleep(0)
    await settle()
    assert order == [] and limiter.snapshot().get(W).waiters == 301
    clock.advance(60)
    await settle()
    assert order[0] == "repay" and order[1:] == [f"read{i}" for i in range(300)]
    assert used(limiter) == 3300
    await asyncio.gather(*tasks)
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
    """An order call behind a repay holds its order; later reads queue behind it."""
    limiter, clock = make(BudgetLimit(W, 6000), BudgetLimit(OR, 3))
    (await limiter.acquire(weight(4000))).commit()
    order: list[str] = []

    async def call(name: str, charges: Sequence[Charge]) -> None:
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
    limiter, clock = make(BudgetLimit(W, 10), BudgetLimit(OR, 1))
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
    limiter, clock = make(BudgetLimit(W, 10), BudgetLimit(OR, 2))
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


# -- cancellation and release -------------------------------------------------------------------


async def test_cancel_while_waiting_takes_nothing_and_wakes_the_next() -> None:
    limiter, clock = make(BudgetLimit(W, 10))
    (await limiter.acquire(weight(5))).commit()
    head = asyncio.create_task(limiter.acquire(weight(8)))
    await settle()
    behind = asyncio.create_task(limiter.acquire(weight(2)))
    await settle()
    assert not behind.done()  # FIFO: 2 would fit, but 8 is first
    head.cancel()
    await settle()
    assert head.cancelled() and behind.done()
    assert used(limiter) == 7
    assert_idle(limiter, clock)


async def test_cancel_in_the_middle_of_the_queue() -> None:
    limiter, clock = make(BudgetLimit(W, 3))
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
    limiter, clock = make(BudgetLimit(W, 10))
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


# -- limits, store, lifecycle -------------------------------------------------------------------


async def test_set_limit_adds_raises_and_lowers_limits() -> None:
    limiter, clock = make()
    limiter.set_limit(OR, 1, 10.0)  # e.g. from GET /papi/v1/rateLimit/order
    assert BudgetLimit(OR, 1, 10.0) in limiter.limits
    (await limiter.acquire(ORDER)).commit()
    task = asyncio.create_task(limiter.acquire(ORDER))
    await settle()
    assert not task.done()
    limiter.set_limit(OR, 2, 10.0)  # raised: the waiter fits now
    await settle()
    assert task.done()
    limiter.set_limit(W, 100)
    (await limiter.acquire(weight(98))).commit()  # 2 + 98: full
    big = asyncio.create_task(limiter.acquire(weight(60)))
    await settle()
    limiter.set_limit(W, 50)  # lowered below what the waiter needs
    await settle()
    with pytest.raises(WeightExceedsLimitError):
        big.result()
    with pytest.raises(WeightExceedsLimitError):
        await limiter.acquire(weight(60))
    assert_idle(limiter, clock)


async def test_a_store_shared_by_two_limiters() -> None:
    store = InMemoryBudgetStore()
    clock = FakeClock(T0)
    a = RateLimiter([BudgetLimit(W, 10)], clock=clock, store=store)
    b = RateLimiter([BudgetLimit(W, 10)], clock=clock, store=store)
    (await a.acquire(weight(7))).commit()
    assert used(b) == 7
    with pytest.raises(RateLimitWaitTimeout):
        await b.acquire(weight(4), max_wait=0)
    assert "REQUEST_WEIGHT/60s" in repr(store)


class RefusingStore(InMemoryBudgetStore):
    """Refuses the next ``refusals`` charges, as a store shared with other processes might."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    def try_charge(self, items: Sequence[tuple[WindowKey, int, int]]) -> bool:
        if self.refusals:
            self.refusals -= 1
            return False
        return super().try_charge(items)


async def test_a_store_that_refuses_makes_the_call_wait_for_the_next_window() -> None:
    clock = FakeClock(T0)
    limiter = RateLimiter(clock=clock, store=RefusingStore(2))
    task = asyncio.create_task(limiter.acquire(REPAY))
    await settle()
    assert not task.done()
    check_consistent(limiter)
    clock.advance(60)
    await settle()
    assert task.done()
    assert_idle(limiter, clock)


async def test_close_fails_waiters_and_refuses_new_calls() -> None:
    limiter, clock = make()
    (await limiter.acquire(weight(6000))).commit()
    task = asyncio.create_task(limiter.acquire(weight(1)))
    await settle()
    limiter.close()
    await settle()
    with pytest.raises(ClientClosedError):
        task.result()
    with pytest.raises(ClientClosedError):
        await limiter.acquire(weight(1))
    assert_idle(limiter, clock)


async def test_snapshot_reports_every_budget() -> None:
    limiter, clock = make(start=T0 + 15)
    (await limiter.acquire(REPAY)).commit()
    (await limiter.acquire(weight(3000))).commit()
    waiting = asyncio.create_task(limiter.acquire(REPAY))
    await settle()
    snap = limiter.snapshot()
    assert snap.time == T0 + 15 and snap.waiters == 1
    w = snap.get(W)
    assert (w.used, w.limit, w.remaining, w.window_start, w.window_reset) == (
        6000,
        6000,
        0,
        T0,
        T0 + 60,
    )
    assert (w.waiters, w.held) == (1, 0)
    o = snap.get(OR)
    assert (o.used, o.limit, o.waiters, o.held) == (1, 1200, 0, 1)
    with pytest.raises(KeyError):
        snap.get(W, 10.0)
    assert "REQUEST_WEIGHT/60s=6000" in repr(limiter)
    waiting.cancel()
    await settle()
    assert_idle(limiter, clock)


def test_window_key_bounds() -> None:
    key = WindowKey("REQUEST_WEIGHT/60s", 28_333_334, W, 60.0)
    assert (key.start, key.end) == (T0, T0 + 60)


# -- random sequences -----------------------------------------------------------------------------


class CheckingStore:
    """A naive store that never refuses: every admission is the limiter's decision, checked here.

    For every window it keeps one record per known floor (0, and every value
    observed): ``floor + charged since - refunded since`` must stay within the
    limit at every admission.  It also compares itself with InMemoryBudgetStore.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.counts: dict[tuple[str, int], int] = {}
        self.latest: dict[str, int] = {}
        self.records: dict[tuple[str, int], list[list[int]]] = {}
        self.mirror = InMemoryBudgetStore()
        self.admissions = 0

    def _key(self, key: WindowKey) -> tuple[str, int]:
        latest = self.latest.get(key.series, key.window)
        self.latest[key.series] = max(latest, key.window)
        return key.series, key.window

    def used(self, key: WindowKey) -> int:
        value = self.counts.get(self._key(key), 0)
        assert value == self.mirror.used(key)
        return value

    def try_charge(self, items: Sequence[tuple[WindowKey, int, int]]) -> bool:
        assert self.mirror.try_charge(items), "the limiter admitted what does not fit"
        now = self.clock.time()
        for key, amount, limit in items:
            assert key.window == math.floor(now / key.interval_s + 1e-6), "not the current window"
            k = self._key(key)
            self.counts[k] = self.counts.get(k, 0) + amount
            for record in self.records.setdefault(k, [[0, 0]]):
                record[1] += amount
                assert record[0] + record[1] <= limit, (k, record, limit)
        self.admissions += 1
        return True

    def refund(self, items: Sequence[tuple[WindowKey, int]]) -> None:
        self.mirror.refund(items)
        for key, amount in items:
            k = self._key(key)
            if self.latest[key.series] == key.window:
                self.counts[k] = max(0, self.counts.get(k, 0) - amount)
                for record in self.records.setdefault(k, [[0, 0]]):
                    record[1] -= amount

    def observe(self, key: WindowKey, used: int) -> None:
        self.mirror.observe(key, used)
        k = self._key(key)
        if self.latest[key.series] == key.window:
            self.counts[k] = max(self.counts.get(k, 0), used)
            self.records.setdefault(k, [[0, 0]]).append([used, 0])


class RecordingLimiter(RateLimiter):
    """Records every reservation in the order the limiter admitted them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admitted: dict[int, int] = {}  # id(reservation) -> admission number

    def _take(self, plan: _Plan, now: float) -> Reservation | None:
        reservation = super()._take(plan, now)
        if reservation is not None:
            self.admitted[id(reservation)] = len(self.admitted)
        return reservation


@dataclass
class Call:
    task: asyncio.Task[Reservation]
    weight_only: bool
    reservation: Reservation | None = None
    done: bool = False


@st.composite
def ops(draw: st.DrawFn) -> tuple[object, ...]:
    """One step: mostly arrivals and clock moves, sometimes cancellations, headers, 429s, 418s."""
    roll = draw(st.integers(0, 99))
    if roll < 40:
        max_wait = draw(st.sampled_from([None, None, 0.0, 5.0, 30.0, 90.0, math.inf]))
        return ("acquire", draw(st.integers(0, 12)), draw(st.integers(0, 3)), max_wait)
    if roll < 60:
        return ("advance", draw(st.sampled_from([0.0, 0.5, 2.75, 9.0, 30.0, 59.9])))
    if roll < 67:
        return ("settle",)
    if roll < 75:
        return ("cancel", draw(st.integers(0, 63)))
    if roll < 84:
        return ("finish", draw(st.integers(0, 63)), draw(st.sampled_from(["commit", "release"])))
    if roll < 93:
        which = draw(st.sampled_from(["none", "last", "first"]))
        return ("observe", draw(st.sampled_from([W, OR])), draw(st.integers(0, 12)), which)
    if roll < 96:
        return ("429", draw(st.sampled_from([None, 1.0, 30.0, 90.0])))
    if roll < 98:
        return ("418", draw(st.sampled_from([None, 1.0, 30.0])))
    return ("set_limit", draw(st.integers(2, 12)))


async def scenario(steps: list[tuple[object, ...]]) -> None:
    clock = FakeClock(T0 + 7.25)
    store = CheckingStore(clock)
    limits = [BudgetLimit(W, 10), BudgetLimit(OR, 3), BudgetLimit(OR, 2, 10.0)]
    limiter = RecordingLimiter(limits, clock=clock, store=store)
    calls: list[Call] = []
    expected = (WeightExceedsLimitError, RateLimitWaitTimeout, IPBanActiveError)

    def harvest() -> None:
        for call in calls:
            if call.task.done() and not call.done:
                call.done = True
                if not call.task.cancelled() and call.task.exception() is None:
                    call.reservation = call.task.result()
                elif not call.task.cancelled():
                    assert isinstance(call.task.exception(), expected), call.task.exception()

    for step in steps:
        kind = step[0]
        if kind == "acquire":
            _, w, o, max_wait = step
            assert isinstance(w, int) and isinstance(o, int)
            assert max_wait is None or isinstance(max_wait, float)
            charges = (Charge(W, w), Charge(OR, o))
            task = asyncio.create_task(limiter.acquire(charges, max_wait=max_wait))
            calls.append(Call(task, weight_only=w > 0 and o == 0))
            await asyncio.sleep(0)  # let it start: the fast path, or into the queues
        elif kind == "advance":
            assert isinstance(step[1], float)
            clock.advance(step[1])
        elif kind == "settle":
            await settle(3)
        elif kind == "cancel" and calls:
            assert isinstance(step[1], int)
            calls[step[1] % len(calls)].task.cancel()
        elif kind == "finish":
            harvest()
            held = [c.reservation for c in calls if c.reservation is not None]
            if held:
                assert isinstance(step[1], int)
                r = held[step[1] % len(held)]
                if step[2] == "commit":
                    r.commit()
                else:
                    r.release()
        elif kind == "observe":
            _, budget, value, which = step
            assert isinstance(budget, Budget) and isinstance(value, int)
            harvest()
            held = [c.reservation for c in calls if c.reservation is not None]
            sent = None if which == "none" or not held else held[0 if which == "first" else -1]
            name = "X-MBX-USED-WEIGHT-1M" if budget is W else "x-mbx-order-count-1m"
            limiter.observe_headers({name: str(value)}, reservation=sent)
        elif kind == "429":
            assert step[1] is None or isinstance(step[1], float)
            limiter.on_rate_limited(step[1])
        elif kind == "418":
            assert step[1] is None or isinstance(step[1], float)
            limiter.on_ip_banned(step[1])
        elif kind == "set_limit":
            assert isinstance(step[1], int)
            limiter.set_limit(W, step[1])
        check_consistent(limiter)
        check_timers(limiter)
        harvest()

    # Everything still waiting is admitted eventually (no deadlock), then nothing is left.
    for _ in range(16):
        await settle(3)
        clock.advance(30.0)
    await settle(3)
    harvest()
    assert all(c.done for c in calls), "a waiter never got in"
    # FIFO: calls that charge only IP weight were admitted in the order they arrived.
    order = [limiter.admitted[id(c.reservation)] for c in calls if c.weight_only and c.reservation]
    assert order == sorted(order)
    for call in calls:
        if call.reservation is not None:
            call.reservation.commit()
    assert_idle(limiter, clock)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(ops(), min_size=10, max_size=80))
def test_random_sequences_never_exceed_a_window_and_leak_nothing(
    steps: list[tuple[object, ...]],
) -> None:
    asyncio.run(scenario(steps))


async def test_try_acquire_is_the_uncontended_path_only() -> None:
    limiter, clock = make()  # 6000 weight, 1200 orders per minute
    first = limiter.try_acquire([Charge(Budget.REQUEST_WEIGHT, 5000)])
    assert first is not None
    first.commit()
    assert limiter.try_acquire(REPAY_DEBT.charges) is None  # 3000 does not fit: wait
    assert used(limiter) == 5000  # nothing was charged by the refusal
    waiting = asyncio.ensure_future(limiter.acquire(REPAY_DEBT.charges))
    await asyncio.sleep(0)
    assert limiter.waiters == 1
    # 1 would fit, but a repay waits ahead of it: the fast path never jumps the queue.
    assert limiter.try_acquire([Charge(Budget.REQUEST_WEIGHT, 1)]) is None
    clock.advance(60)
    await asyncio.sleep(0)
    assert waiting.done()
    (await waiting).commit()
    assert limiter.try_acquire([Charge(Budget.REQUEST_WEIGHT, 1)]) is not None
    limiter.on_rate_limited(5.0)
    assert limiter.try_acquire([Charge(Budget.REQUEST_WEIGHT, 1)]) is None  # paused
    with pytest.raises(WeightExceedsLimitError):
        limiter.try_acquire([Charge(Budget.REQUEST_WEIGHT, 6001)])
