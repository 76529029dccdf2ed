"""Rate limiter overhead: uncontended acquire+commit, and wake-ups with many waiting tasks.

Run ``python benchmarks/bench_limiter.py`` for a table, ``--json`` for JSON.

* **uncontended**: microseconds per ``await limiter.acquire(charges)`` +
  ``reservation.commit()`` when the budget is free (target: at most 3 µs), with
  the real :class:`ServerClock` and with a :class:`FakeClock`; also with
  ``reservation.recheck()`` (what the client calls when it takes the timestamp);
  with ``observe_headers`` on a typical set of response headers (as aiohttp
  delivers them: a case-insensitive multidict); while 1,000 or 10,000 order
  calls wait for an exhausted order budget; and from a lease of a store outside
  the process (an asynchronous store; no round trip while the lease lasts).
* **backfill**: a weight-1 call admitted at once while 1,000 or 10,000 repays
  wait for a later window.
* **enqueue**: cost per call of joining the queue when the window is full.
* **drain**: N tasks wait for a full window; the window rolls (one timer) and
  all are admitted.  ``limiter`` is the time of the wake-up itself (admitting
  N waiters), ``total`` includes the tasks resuming.  O(1) work per wake-up
  shows as a constant time per waiter for N = 1,000 and 10,000.
* **release chain**: N tasks wait behind one holder; each admitted task
  releases at once, which admits the next: N wake-ups each caused by a release.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from multidict import CIMultiDict, CIMultiDictProxy

from binance_papi_async.clock import Clock, FakeClock, ServerClock
from binance_papi_async.endpoints import REPAY_DEBT, Budget, Charge, WeightKind, charges_for
from binance_papi_async.ratelimit import (
    BudgetLimit,
    InMemoryBudgetStore,
    RateLimiter,
    Reservation,
)

WEIGHT_1 = (Charge(Budget.REQUEST_WEIGHT, 1),)
ORDER = charges_for(1, WeightKind.ORDER)
HUGE = 10**12
RAW_HEADERS = {
    "Content-Type": "application/json",
    "Content-Length": "512",
    "Connection": "keep-alive",
    "Date": "Tue, 14 Nov 2023 22:13:20 GMT",
    "Server": "nginx",
    "Vary": "Accept-Encoding",
    "X-MBX-USED-WEIGHT-1M": "17",
    "X-MBX-ORDER-COUNT-1M": "3",
    "X-Cache": "Miss from cloudfront",
    "Via": "1.1 example.cloudfront.net (CloudFront)",
}
HEADERS = CIMultiDictProxy(CIMultiDict(RAW_HEADERS))  # what aiohttp's response.headers is


@dataclass(frozen=True)
class Row:
    """One measurement: ``n`` operations took ``total_ms``; ``us_per_op`` each."""

    scenario: str
    n: int
    total_ms: float
    us_per_op: float


def huge_limiter(clock: Clock) -> RateLimiter:
    """A limiter that never has to wait."""
    return RateLimiter(
        [BudgetLimit(Budget.REQUEST_WEIGHT, HUGE), BudgetLimit(Budget.ORDERS, HUGE)], clock=clock
    )


async def best_of(repeats: int, n: int, run: Callable[[int], Awaitable[float]]) -> float:
    """Best total seconds of ``repeats`` runs of ``run(n)``."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        best = min(best, await run(n))
    return best


class LeasingStore(InMemoryBudgetStore):
    """An in-memory store the limiter must treat as remote: it admits from leases."""


async def uncontended(
    clock: Clock,
    charges: tuple[Charge, ...],
    n: int,
    *,
    headers: bool = False,
    recheck: bool = False,
    remote: bool = False,
) -> float:
    """Seconds for ``n`` uncontended acquire+commit (+ recheck, + observe_headers)."""
    if remote:
        limiter = RateLimiter(
            [BudgetLimit(Budget.REQUEST_WEIGHT, HUGE), BudgetLimit(Budget.ORDERS, HUGE)],
            clock=clock,
            store=LeasingStore(),
            lease_fraction=1.0,
        )
        (await limiter.acquire(charges)).commit()  # the lease: one round trip, not timed
    else:
        limiter = huge_limiter(clock)
    acquire = limiter.acquire
    start = time.perf_counter()
    if recheck:
        for _ in range(n):
            reservation = await acquire(charges)
            reservation.recheck()
            reservation.commit()
    elif headers:
        observe = limiter.observe_headers
        for _ in range(n):
            reservation = await acquire(charges)
            reservation.commit()
            observe(HEADERS, reservation=reservation)
    else:
        for _ in range(n):
            (await acquire(charges)).commit()
    return time.perf_counter() - start


async def baseline(n: int) -> float:
    """Seconds for ``n`` awaits of a trivial coroutine: the floor of any async API."""

    async def nothing() -> None:
        return None

    start = time.perf_counter()
    for _ in range(n):
        await nothing()
    return time.perf_counter() - start


async def beside_waiters(waiting: int, n: int) -> float:
    """Seconds for ``n`` weight-only acquire+commit while ``waiting`` order calls wait."""
    clock = ServerClock()
    limiter = RateLimiter(
        [BudgetLimit(Budget.REQUEST_WEIGHT, HUGE), BudgetLimit(Budget.ORDERS, 1)], clock=clock
    )
    (await limiter.acquire((Charge(Budget.ORDERS, 1),))).commit()
    tasks = [asyncio.create_task(limiter.acquire(ORDER)) for _ in range(waiting)]
    await asyncio.sleep(0)
    assert limiter.waiters == waiting
    acquire = limiter.acquire
    start = time.perf_counter()
    for _ in range(n):
        (await acquire(WEIGHT_1)).commit()
    elapsed = time.perf_counter() - start
    limiter.close()  # the waiters fail with ClientClosedError
    await asyncio.gather(*tasks, return_exceptions=True)
    return elapsed


async def backfill(waiting: int, n: int) -> float:
    """Seconds for ``n`` weight-1 acquire+commit while ``waiting`` repays wait behind a full
    window (each light call is admitted at once, into the room the repays cannot use)."""
    clock = FakeClock(1_700_000_040.0)
    limiter = RateLimiter(
        [
            BudgetLimit(Budget.REQUEST_WEIGHT, HUGE, reserve=0),
            BudgetLimit(Budget.ORDERS, HUGE, reserve=0),
        ],
        clock=clock,
        transit=0.0,
    )
    (await limiter.acquire((Charge(Budget.REQUEST_WEIGHT, HUGE - 3 * n),))).commit()
    heavy = (Charge(Budget.REQUEST_WEIGHT, 4 * n), Charge(Budget.ORDERS, 1))
    tasks = [asyncio.create_task(limiter.acquire(heavy)) for _ in range(waiting)]
    await asyncio.sleep(0)
    assert limiter.waiters == waiting
    acquire = limiter.acquire
    start = time.perf_counter()
    for _ in range(n):
        (await acquire(WEIGHT_1)).commit()
    elapsed = time.perf_counter() - start
    assert limiter.waiters == waiting  # the repays still wait; every light call got in
    limiter.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    return elapsed


async def drain(n: int) -> tuple[float, float, float]:
    """(enqueue, wake-up, total) seconds for ``n`` waiters admitted by one window roll."""
    clock = FakeClock(1_700_000_040.0)
    limiter = RateLimiter([BudgetLimit(Budget.REQUEST_WEIGHT, n + 1, reserve=0)], clock=clock)
    (await limiter.acquire((Charge(Budget.REQUEST_WEIGHT, n + 1),))).commit()

    async def one() -> None:
        (await limiter.acquire(WEIGHT_1)).commit()

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    start = time.perf_counter()
    await asyncio.sleep(0)  # every task runs up to its wait: n slow-path entries
    enqueued = time.perf_counter()
    assert limiter.waiters == n
    clock.advance(60.0)  # one timer: the window rolls, all n are admitted
    woken = time.perf_counter()
    await asyncio.gather(*tasks)
    done = time.perf_counter()
    assert limiter.waiters == 0 and clock.pending_timers == 0
    # The enqueue figure includes starting the tasks (asyncio's cost, not the limiter's).
    return enqueued - start, woken - enqueued, done - enqueued


async def release_chain(n: int) -> float:
    """Seconds for ``n`` wake-ups, each caused by the previous waiter's release."""
    clock = FakeClock(1_700_000_040.0)
    limiter = RateLimiter([BudgetLimit(Budget.REQUEST_WEIGHT, 1)], clock=clock)
    holder = await limiter.acquire(WEIGHT_1)

    async def one() -> None:
        reservation: Reservation = await limiter.acquire(WEIGHT_1)
        reservation.release()

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.sleep(0)
    assert limiter.waiters == n
    start = time.perf_counter()
    holder.release()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    assert limiter.waiters == 0 and clock.pending_timers == 0
    return elapsed


def row(scenario: str, n: int, seconds: float) -> Row:
    """A table row from a total time."""
    return Row(scenario, n, seconds * 1e3, seconds / n * 1e6)


async def main_async(n: int, repeats: int, sizes: list[int]) -> list[Row]:
    """Run every scenario; return the rows."""
    rows = [row("await of a trivial coroutine (floor)", n, await best_of(repeats, n, baseline))]
    cases: list[tuple[str, Clock, tuple[Charge, ...], str]] = [
        ("uncontended acquire+commit, weight, ServerClock", ServerClock(), WEIGHT_1, ""),
        ("uncontended acquire+commit, weight, FakeClock", FakeClock(), WEIGHT_1, ""),
        ("uncontended acquire+commit, weight+order", ServerClock(), ORDER, ""),
        ("uncontended acquire+commit, repay-debt", ServerClock(), REPAY_DEBT.charges, ""),
        ("uncontended acquire+recheck+commit, repay-debt", ServerClock(), REPAY_DEBT.charges, "r"),
        ("uncontended acquire+commit+observe_headers", ServerClock(), WEIGHT_1, "h"),
        ("uncontended acquire+commit, repay, remote lease", ServerClock(), REPAY_DEBT.charges, "l"),
    ]
    for name, clock, charges, extra in cases:

        async def run(
            count: int, c: Clock = clock, ch: tuple[Charge, ...] = charges, x: str = extra
        ) -> float:
            return await uncontended(
                c, ch, count, headers=x == "h", recheck=x == "r", remote=x == "l"
            )

        rows.append(row(name, n, await best_of(repeats, n, run)))
    for size in sizes:

        async def beside(count: int, w: int = size) -> float:
            return await beside_waiters(w, count)

        rows.append(
            row(
                f"uncontended weight call, {size:,} order calls waiting",
                n,
                await best_of(repeats, n, beside),
            )
        )
    for size in sizes:

        async def behind(count: int, w: int = size) -> float:
            return await backfill(w, count)

        light = min(n, 10_000)
        rows.append(
            row(
                f"backfill: weight-1 call, {size:,} repays waiting",
                light,
                await best_of(repeats, light, behind),
            )
        )
    for size in sizes:
        results = [await drain(size) for _ in range(repeats)]
        enqueue = min(r[0] for r in results)
        wake = min(r[1] for r in results)
        total = min(r[2] for r in results)
        rows.append(row(f"enqueue {size:,} waiters (incl. task start)", size, enqueue))
        rows.append(row(f"drain {size:,} waiters: limiter wake-up", size, wake))
        rows.append(row(f"drain {size:,} waiters: incl. tasks resuming", size, total))
    for size in sizes:
        chain = min([await release_chain(size) for _ in range(repeats)])
        rows.append(row(f"release chain, {size:,} wake-ups", size, chain))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("-n", type=int, default=200_000, help="uncontended iterations")
    parser.add_argument("--repeats", type=int, default=5, help="best of this many runs")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000, 10_000], help="waiting tasks"
    )
    args = parser.parse_args(argv)
    rows = asyncio.run(main_async(args.n, args.repeats, args.sizes))
    by_name = {r.scenario: r for r in rows}
    sizes: list[int] = args.sizes
    scaling = {}
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        for label in ("drain {} waiters: limiter wake-up", "release chain, {} wake-ups"):
            a = by_name[label.format(f"{small:,}")]
            b = by_name[label.format(f"{large:,}")]
            scaling[label.format("N")] = b.us_per_op / a.us_per_op
    if args.json:
        print(
            json.dumps(
                {
                    "python": sys.version.split()[0],
                    "platform": platform.platform(),
                    "rows": [asdict(r) for r in rows],
                    "per_op_ratio_largest_vs_smallest": scaling,
                },
                indent=2,
            )
        )
        return 0
    print(f"Python {sys.version.split()[0]} on {platform.platform()}")
    print(f"{'scenario':<52} {'n':>9} {'total ms':>10} {'µs/op':>8}")
    for r in rows:
        print(f"{r.scenario:<52} {r.n:>9,} {r.total_ms:>10.2f} {r.us_per_op:>8.3f}")
    for label, ratio in scaling.items():
        print(
            f"per-op cost {label}, N={sizes[-1]:,} vs N={sizes[0]:,}: x{ratio:.2f} "
            "(about 1 = O(1) per wake-up)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
