"""The rate limiter against the simulator's own limits, on a fake clock shared by both.

The simulator refuses with 429 whenever a window's limit is exceeded, so "zero
429s" here means the client never sent more than a window allows.  Time only
moves when every call in flight is waiting for the next window: no test sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from binance_papi_async import Budget, FakeClock, PortfolioMarginClient
from binance_papi_async.ratelimit import BudgetLimit
from binance_papi_async.testing import PapiSimulator

from .limiter_world import rich_state

KEY = "limits-key-0123456789abcdef"
SECRET = "limits-secret-0123456789abcdef"
START = 1_700_000_040.0  # on a minute boundary
REPAY = "/papi/v1/margin/repay-debt"


async def drive(
    clock: FakeClock, client: PortfolioMarginClient, calls: list[Awaitable[Any]]
) -> tuple[list[Any], int]:
    """Run ``calls`` concurrently; jump to the next minute whenever all of them wait."""
    tasks = [asyncio.ensure_future(c) for c in calls]
    limiter = client.limiter
    assert limiter is not None
    windows = 1
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.001)  # let the sockets work (real I/O on loopback)
        pending = sum(not t.done() for t in tasks)
        if pending and limiter.waiters == pending:
            clock.set((clock.time() // 60 + 1) * 60)
            windows += 1
            assert windows < 100, "no progress"
    return [t.result() for t in tasks], windows


async def test_fifty_tasks_mixing_repays_and_reads_get_no_429() -> None:
    clock = FakeClock(START)
    limits = [BudgetLimit(Budget.REQUEST_WEIGHT, 6000), BudgetLimit(Budget.ORDERS, 4)]
    async with (
        PapiSimulator(
            api_key=KEY,
            api_secret=SECRET,
            clock=clock,
            state=rich_state(),
            ip_weight_limit=6000,
            order_limit=4,
        ) as sim,
        PortfolioMarginClient(
            KEY, SECRET, base_url=sim.url, clock=clock, rate_limits=limits
        ) as client,
    ):
        calls: list[Awaitable[Any]] = []
        for i in range(50):
            if i % 5 == 0:
                calls.append(client.margin.repay_debt("BNB", "1", specify_repay_assets=["USDT"]))
            else:
                calls.append(client.account.balance("BNB"))
        results, windows = await drive(clock, client, calls)
        snapshot = client.rate_limits

    statuses = [r.status for r in sim.requests]
    assert statuses.count(200) == 50 and len(statuses) == 50  # every call once, no 429/418
    assert len(sim.account().applied_repays) == 10
    assert sum(1 for r in results if getattr(r, "success", False)) == 10
    # 10 repays at 3000 weight, two per minute, plus 40 reads of 20: at least five windows;
    # and never more than two repays (and four orders) in any one minute.
    assert windows >= 5
    per_window: dict[int, int] = {}
    for r in sim.requests:
        if r.path == REPAY:
            per_window[r.time // 60_000] = per_window.get(r.time // 60_000, 0) + 1
    assert max(per_window.values()) <= 2
    assert snapshot.waiters == 0
    assert all(b.waiters == 0 and b.held == 0 for b in snapshot.budgets)


async def test_weight_spent_by_another_program_is_accounted_for() -> None:
    clock = FakeClock(START)
    async with (
        PapiSimulator(
            api_key=KEY, api_secret=SECRET, clock=clock, state=rich_state(), ip_weight_limit=6000
        ) as sim,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, clock=clock) as other,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, clock=clock) as ours,
    ):
        # Another process on the same IP spends 4000 of the minute's 6000.
        for _ in range(200):
            await other.account.balance("BNB")
        assert sim.used_weight == 4000
        # Our client knows nothing of it until its first response carries the header ...
        await ours.account.balance("BNB")
        assert ours.rate_limits.get(Budget.REQUEST_WEIGHT).used == 4020
        # ... after which a 3000-weight repay waits for the next window instead of a 429.
        _results, windows = await drive(
            clock, ours, [ours.margin.repay_debt("BNB", "1", specify_repay_assets=["USDT"])]
        )
        assert windows == 2
    assert [r.status for r in sim.requests if r.path == REPAY] == [200]
    assert all(r.status == 200 for r in sim.requests)
