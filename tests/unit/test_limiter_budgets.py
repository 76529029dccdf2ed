"""The rate limiter's budgets: limits, fixed windows, the urgent reserve, accounts, the store."""

from __future__ import annotations

import asyncio

import pytest

from binance_papi_async.clock import FakeClock
from binance_papi_async.endpoints import Budget, Charge
from binance_papi_async.errors import (
    BinancePapiError,
    ConfigurationError,
    RateLimitWaitTimeout,
    ValidationError,
    WeightExceedsLimitError,
)
from binance_papi_async.ratelimit import (
    DEFAULT_LIMITS,
    BudgetLimit,
    InMemoryBudgetStore,
    RateLimiter,
    WindowKey,
)

from .limiter_support import (
    NO_RESERVE,
    OR,
    ORDER,
    REPAY,
    T0,
    W,
    assert_idle,
    make,
    settle,
    used,
    weight,
)


def test_defaults_and_construction_outside_a_loop() -> None:
    assert (BudgetLimit(W, 6000), BudgetLimit(OR, 1200)) == DEFAULT_LIMITS
    assert [b.reserve for b in DEFAULT_LIMITS] == [60, 12]  # 1 % for urgent calls
    limiter = RateLimiter()  # ServerClock, no running loop needed
    snap = limiter.snapshot()
    assert [(b.budget, b.limit, b.interval_s, b.reserve) for b in snap.budgets] == [
        (W, 6000, 60.0, 60),
        (OR, 1200, 60.0, 12),
    ]
    assert snap.waiters == 0 and snap.paused_until is None and snap.banned_until is None
    assert snap.uncertainty == pytest.approx(1.0, abs=0.01)  # the host clock, not synced


def test_invalid_configuration() -> None:
    with pytest.raises(ConfigurationError):
        BudgetLimit(W, 0)
    with pytest.raises(ConfigurationError):
        BudgetLimit(W, 10, 0.0)
    with pytest.raises(ConfigurationError):
        BudgetLimit(W, 10, reserve=10)  # the reserve must leave room for normal calls
    with pytest.raises(ConfigurationError):
        BudgetLimit(W, 10, reserve=-1)
    with pytest.raises(ConfigurationError):
        RateLimiter([BudgetLimit(W, 10), BudgetLimit(W, 20)])
    with pytest.raises(ConfigurationError):
        RateLimiter(max_wait=-1)
    with pytest.raises(ConfigurationError):
        RateLimiter(max_wait="1")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RateLimiter(transit=float("nan"))
    with pytest.raises(ConfigurationError):
        RateLimiter(lease_fraction=0)


async def test_window_starts_on_the_minute_of_server_time() -> None:
    limiter, clock = make(start=T0 + 30)
    snap = limiter.snapshot().get(W)
    assert (snap.window_start, snap.window_reset) == (T0, T0 + 60)
    # 6000 is more than normal calls may use (the reserve), but fits an empty window
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
    limiter, clock = make(*NO_RESERVE)
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


async def test_the_reserve_keeps_room_for_urgent_calls_that_normal_calls_cannot_take() -> None:
    limiter, clock = make()  # 60 of the 6000 weight reserved
    (await limiter.acquire(REPAY)).commit()
    second = asyncio.create_task(limiter.acquire(REPAY))  # 6000 > 5940: the next window
    await settle()
    assert not second.done()
    (await limiter.acquire(weight(2940))).commit()  # normal calls fill up to 5940 ...
    assert limiter.try_acquire(weight(1)) is None  # ... and no further
    cancels = [await limiter.acquire(weight(1), urgent=True) for _ in range(60)]
    assert used(limiter) == 6000  # urgent calls took the reserve
    assert limiter.try_acquire(weight(1), urgent=True) is None  # the window is full
    for r in cancels:
        r.commit()
    clock.advance(60)
    await settle()
    assert second.done()
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


async def test_accounts_share_the_ip_weight_and_keep_their_order_counts_apart() -> None:
    limiter, clock = make(BudgetLimit(W, 100, reserve=0), BudgetLimit(OR, 2, reserve=0))
    for account in ("alice", "bob"):
        for _ in range(2):
            (await limiter.acquire(ORDER, account=account)).commit()
    (await limiter.acquire(ORDER)).commit()  # the default account has its own count too
    assert used(limiter, OR, account="alice") == used(limiter, OR, account="bob") == 2
    assert used(limiter, OR) == 1
    assert used(limiter, W) == 5  # one IP: everybody's weight
    blocked = asyncio.create_task(limiter.acquire(ORDER, account="alice"))
    await settle()
    assert not blocked.done()
    (await limiter.acquire(ORDER)).commit()  # alice's full order count blocks nobody else
    with pytest.raises(RateLimitWaitTimeout):
        await limiter.acquire(weight(95), max_wait=0)  # but the weight is shared
    keys = {k.series for k, _ in (await limiter.acquire(ORDER, account="carol")).charges}
    assert keys == {"ORDERS/60s@carol", "REQUEST_WEIGHT/60s"}
    clock.advance(60)
    await settle()
    assert blocked.done()
    with pytest.raises(ValidationError):
        await limiter.acquire(ORDER, account="")
    assert_idle(limiter, clock)


async def test_a_snapshots_own_budgets_are_the_ip_weight_and_its_accounts_order_count() -> None:
    limiter, _ = make(BudgetLimit(W, 100, reserve=0), BudgetLimit(OR, 5, reserve=0))
    for account in ("alice", "bob", "bob"):
        (await limiter.acquire(ORDER, account=account)).commit()
    snap = limiter.snapshot(account="bob")
    assert {(b.budget, b.account) for b in snap.budgets} >= {(OR, "alice"), (OR, "bob")}
    own = [(b.budget, b.account, b.used) for b in snap.own_budgets]
    assert sorted(own, key=str) == sorted([(W, None, 3), (OR, "bob", 2)], key=str)


async def test_an_account_can_have_its_own_order_limits() -> None:
    limiter, _ = make(BudgetLimit(W, 100), BudgetLimit(OR, 5))
    limiter.set_limit(OR, 1, account="small")  # e.g. from its GET /papi/v1/rateLimit/order
    (await limiter.acquire(ORDER, account="small")).commit()
    assert limiter.try_acquire(ORDER, account="small") is None
    assert limiter.try_acquire(ORDER, account="other") is not None
    limiter.set_limit(OR, 3)  # the default for every account without its own
    assert limiter.snapshot().get(OR, account="other").limit == 3
    assert limiter.snapshot().get(OR, account="small").limit == 1
    with pytest.raises(ConfigurationError):
        limiter.set_limit(W, 10, account="small")  # the IP's weight is not an account's


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
    (await limiter.acquire(weight(97))).commit()  # 2 + 97 of the 99 normal calls may use
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
    a = RateLimiter([BudgetLimit(W, 10)], clock=clock, store=store, transit=0)
    b = RateLimiter([BudgetLimit(W, 10)], clock=clock, store=store, transit=0)
    (await a.acquire(weight(7))).commit()
    assert used(b) == 7
    with pytest.raises(RateLimitWaitTimeout):
        await b.acquire(weight(4), max_wait=0)
    assert "REQUEST_WEIGHT/60s" in repr(store)


def test_a_limiters_own_store_cannot_be_shared() -> None:
    own = RateLimiter([BudgetLimit(W, 10)])
    with pytest.raises(ConfigurationError, match="InMemoryBudgetStore"):
        RateLimiter([BudgetLimit(W, 10)], store=own.store)


def test_two_limiters_sharing_a_store_see_each_others_charges_in_every_window() -> None:
    clock = FakeClock(T0)
    store = InMemoryBudgetStore()
    a = RateLimiter([BudgetLimit(W, 10)], clock=clock, store=store, transit=0)
    b = RateLimiter([BudgetLimit(W, 10)], clock=clock, store=store, transit=0)
    assert a.try_acquire((Charge(W, 6),)) is not None
    assert b.try_acquire((Charge(W, 5),)) is None  # 6 + 5 > 10: b reads a's charge
    assert b.try_acquire((Charge(W, 4),)) is not None
    clock.advance(60)  # a new window for both
    assert a.try_acquire((Charge(W, 10),)) is not None
    assert b.try_acquire((Charge(W, 1),)) is None
    assert a.snapshot().get(W).used == b.snapshot().get(W).used == 10


async def test_snapshot_reports_every_budget() -> None:
    limiter, clock = make(*NO_RESERVE, start=T0 + 15)
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


async def test_try_acquire_is_the_uncontended_path_only() -> None:
    limiter, clock = make()  # 6000 weight, 1200 orders per minute
    first = limiter.try_acquire([Charge(Budget.REQUEST_WEIGHT, 5000)])
    assert first is not None
    first.commit()
    assert limiter.try_acquire(REPAY) is None  # 3000 does not fit: wait
    assert used(limiter) == 5000  # nothing was charged by the refusal
    waiting = asyncio.ensure_future(limiter.acquire(REPAY))
    await asyncio.sleep(0)
    assert limiter.waiters == 1
    # 1 would fit, but a repay waits ahead of it: the fast path never jumps the queue
    # (acquire() would backfill it).
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
