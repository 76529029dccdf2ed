"""A simulator and clients on one :class:`FakeClock`, and a driver that moves the clock the
way an event loop's timers would: only when every call still running waits for budget.

The simulator reads the clock's local reading (the true time of the test) plus its
skew; the clients' clock syncs move the clock's offset (their estimate).  Nothing
sleeps: time jumps to the next timer of a limiter when nothing else can happen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from binance_papi_async import FakeClock, PortfolioMarginClient
from binance_papi_async.testing import Account, AssetState, PapiSimulator, SimState

KEY = "edges-key-0123456789abcdef0123"
SECRET = "edges-secret-0123456789abcdef"
OTHER_KEY = "edges-other-key-0123456789abcd"
OTHER_SECRET = "edges-other-secret-0123456789"
START = 1_700_000_040.0  # on a minute boundary of the simulator's clock (no skew)
REPAY = "/papi/v1/margin/repay-debt"
TIME = "/papi/v1/time"


def rich_state() -> SimState:
    """An account with debt to repay many times, and the funds to repay it."""
    return SimState(
        prices={"BNB": Decimal("1"), "USDT": Decimal("1")},
        accounts={
            "main": Account(
                assets={
                    "BNB": AssetState(borrowed=Decimal("1000")),
                    "USDT": AssetState(free=Decimal("1000000")),
                }
            )
        },
    )


def unsynced_clock(start: float = START) -> FakeClock:
    """A clock that knows as little as a client's before its first sync (1 s), drifting
    at the default 100 ppm after a sync."""
    return FakeClock(start, uncertainty=1.0, drift_rate=1e-4)


def repay(client: PortfolioMarginClient, **options: Any) -> Awaitable[Any]:
    return client.margin.repay_debt("BNB", "1", specify_repay_assets=["USDT"], **options)


async def settle(rounds: int = 20) -> None:
    """Let the loopback sockets and the callbacks of the loop run."""
    for _ in range(rounds):
        await asyncio.sleep(0.001)


async def drive(
    clock: FakeClock,
    clients: Sequence[PortfolioMarginClient],
    calls: Sequence[Awaitable[Any]],
    *,
    max_jumps: int = 200,
    on_jump: Callable[[], None] | None = None,
) -> list[Any]:
    """Run ``calls``; whenever every unfinished one waits in a limiter, move the clock to
    the next timer.  Results (or exceptions) in order."""
    tasks = [asyncio.ensure_future(c) for c in calls]
    jumps = 0
    while not all(t.done() for t in tasks):
        await settle(2)
        pending = sum(not t.done() for t in tasks)
        waiting = sum(c.limiter.waiters for c in clients if c.limiter is not None)
        if pending and waiting >= pending:
            due = clock.next_due()
            assert due is not None, "every call waits and no timer is set"
            clock.advance(max(0.0, due - clock.local()))
            jumps += 1
            if on_jump is not None:
                on_jump()
            assert jumps < max_jumps, "no progress"
    await asyncio.gather(*tasks, return_exceptions=True)
    return [t.exception() or t.result() for t in tasks]


def statuses(sim: PapiSimulator, path: str | None = None) -> list[int | None]:
    return [r.status for r in sim.requests if path is None or r.path == path]


def server_windows(sim: PapiSimulator, window_ms: int = 60_000) -> dict[int, int]:
    """IP weight per window of the simulator's clock, from its request log."""
    from binance_papi_async.endpoints import TABLE

    weights: dict[tuple[str, str], int] = {(s.method, s.path): s.weight for s in TABLE}
    out: dict[int, int] = {}
    for r in sim.requests:
        w = weights.get((r.method, r.path), 0)
        out[r.time // window_ms] = out.get(r.time // window_ms, 0) + w
    return out
