"""429 pauses and 418 bans: only the budget named, never longer than Binance's own bounds."""

from __future__ import annotations

import asyncio
import logging
import math

import pytest

from binance_papi_async.clock import FakeClock
from binance_papi_async.endpoints import Charge
from binance_papi_async.errors import IPBanActiveError, RateLimitWaitTimeout
from binance_papi_async.ratelimit import (
    MAX_BAN_S,
    MIN_BAN_S,
    BudgetLimit,
    InMemoryBudgetStore,
    RateLimiter,
    banned_until_from_message,
)

from .limiter_support import OR, ORDER, REPAY, T0, W, assert_idle, make, settle, used, weight


async def test_a_429_pauses_only_the_ip_weight_until_the_window_ends() -> None:
    limiter, clock = make(start=T0 + 10)
    limiter.on_rate_limited(None)
    snap = limiter.snapshot()
    assert snap.paused_until == T0 + 60 and snap.get(W).paused_until == T0 + 60
    assert snap.get(W).used == 6000 and snap.get(OR).used == 0  # only the weight is full
    calls = [asyncio.create_task(limiter.acquire(c)) for c in (weight(1), REPAY)]
    await settle()
    assert not any(t.done() for t in calls)
    (await limiter.acquire((Charge(OR, 1),))).commit()  # charges no weight: not paused
    (await limiter.acquire(())).commit()
    with pytest.raises(RateLimitWaitTimeout):
        await limiter.acquire(weight(1), max_wait=5)  # the pause counts toward max_wait
    clock.advance(50)
    await settle()
    assert all(t.done() for t in calls)
    assert limiter.paused_until is None
    assert_idle(limiter, clock)


async def test_a_429_for_too_many_orders_pauses_only_that_accounts_orders() -> None:
    limiter, clock = make(start=T0 + 10)
    limiter.on_rate_limited(None, budget=OR, account="alice")  # -1015
    assert used(limiter, OR, account="alice") == 1200 and used(limiter, W) == 0
    waiting = asyncio.create_task(limiter.acquire(ORDER, account="alice"))
    await settle()
    assert not waiting.done()
    (await limiter.acquire(weight(5))).commit()  # the IP weight still flows
    (await limiter.acquire(ORDER)).commit()  # and the default account's orders
    (await limiter.acquire(ORDER, account="bob")).commit()
    clock.advance(50)
    await settle()
    assert waiting.done()
    assert_idle(limiter, clock)


async def test_a_429_for_one_budget_marks_only_that_budget() -> None:
    limiter, _ = make()
    limiter.on_rate_limited(0, budget=OR)
    assert used(limiter, OR) == 1200 and used(limiter, W) == 0
    (await limiter.acquire(weight(5))).commit()  # IP weight still flows


async def test_a_429_retry_after_within_the_window_is_kept() -> None:
    limiter, clock = make(BudgetLimit(W, 100, reserve=0), start=T0 + 10)
    limiter.on_rate_limited(5.0)
    assert limiter.paused_until == T0 + 15
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "40"}, reservation=None)
    task = asyncio.create_task(limiter.acquire(weight(1)))
    clock.advance(5)
    await settle()
    assert not task.done()  # the pause is over, but the window was marked full
    clock.advance(45)
    await settle()
    assert task.done()
    assert_idle(limiter, clock)


@pytest.mark.parametrize("retry_after", [90.0, 86400.0, 1e12, math.inf])
async def test_an_absurd_retry_after_is_clamped_to_the_windows_end_and_logged(
    retry_after: float, caplog: pytest.LogCaptureFixture
) -> None:
    limiter, clock = make(start=T0 + 30)
    with caplog.at_level(logging.WARNING, logger="binance_papi_async.ratelimit"):
        limiter.on_rate_limited(retry_after)
    assert limiter.paused_until == T0 + 60
    assert "Retry-After" in caplog.text
    task = asyncio.create_task(limiter.acquire(weight(1)))
    clock.advance(30)
    await settle()
    assert task.done()
    assert_idle(limiter, clock)


async def test_the_429_names_the_limit_whose_window_is_full() -> None:
    limiter, clock = make(BudgetLimit(W, 6000), BudgetLimit(OR, 50, 10.0), BudgetLimit(OR, 1200))
    clock.advance(3)
    limiter.observe_headers({"X-MBX-ORDER-COUNT-10S": "50", "X-MBX-ORDER-COUNT-1M": "50"})
    limiter.on_rate_limited(None, budget=OR)  # the 10-second limit: at most 7 s more
    assert limiter.paused_until == T0 + 10
    assert used(limiter, OR, 60.0) == 50  # the minute is not marked full
    clock.advance(7)
    (await limiter.acquire(ORDER)).commit()


async def test_a_call_whose_max_wait_is_shorter_than_a_pause_fails_at_once() -> None:
    limiter, clock = make(start=T0 + 10)
    limiter.on_rate_limited(30.0)
    with pytest.raises(RateLimitWaitTimeout) as info:
        await limiter.acquire(REPAY, max_wait=10)
    assert info.value.earliest == T0 + 60  # the pause ends at T0 + 40, the full window later
    assert info.value.paused_until == T0 + 40
    assert "paused by a 429 until 2023-11-14T22:14:40Z" in str(info.value)
    assert used(limiter, OR) == 0 and limiter.waiters == 0  # nothing charged
    assert_idle(limiter, clock)


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


@pytest.mark.parametrize(
    ("retry_after", "banned_until", "lasts"),
    [
        (0.0, None, MIN_BAN_S),  # "0": not a usable end
        (-5.0, None, MIN_BAN_S),
        (math.nan, None, MIN_BAN_S),
        (None, T0 - 10, MIN_BAN_S),  # already past
        (30.0, None, 30.0),  # what Binance says, even if short
        (30.0, T0 + 600, 600.0),  # the later of the two
        (1e9, None, MAX_BAN_S),  # never more than three days
        (math.inf, None, MAX_BAN_S),
        (None, T0 + 10 * 86400, MAX_BAN_S),
    ],
)
def test_a_ban_lasts_what_binance_says_within_two_minutes_and_three_days(
    retry_after: float | None, banned_until: float | None, lasts: float
) -> None:
    limiter, _ = make()
    limiter.on_ip_banned(retry_after, banned_until)
    assert limiter.banned_until == T0 + lasts


async def test_a_shorter_ban_does_not_shorten_a_longer_one() -> None:
    limiter, _ = make()
    limiter.on_ip_banned(600)
    limiter.on_ip_banned(120)
    assert limiter.banned_until == T0 + 600


async def test_pauses_and_bans_reach_every_limiter_on_a_shared_store() -> None:
    store = InMemoryBudgetStore()
    clock = FakeClock(T0 + 10)
    a = RateLimiter(clock=clock, store=store, transit=0)
    b = RateLimiter(clock=clock, store=store, transit=0)
    a.on_rate_limited(None)
    assert b.paused_until == T0 + 60
    waiting = asyncio.create_task(b.acquire(weight(1)))
    await settle()
    assert not waiting.done()
    b.on_ip_banned(300)
    await settle()
    with pytest.raises(IPBanActiveError):
        waiting.result()
    assert a.banned_until == T0 + 310
