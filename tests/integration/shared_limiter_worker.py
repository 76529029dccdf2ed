"""One process of the multi-process tests: ``tasks`` tasks sending a weight-1 signed read
(``GET /papi/v1/rateLimit/order``) through a limiter on a shared Redis store until ``end``.

``python tests/integration/shared_limiter_worker.py SIM_URL REDIS_URL PREFIX WINDOW LIMIT
TASKS END``; prints one JSON line: calls answered, errors by class, store events.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from binance_papi_async import PortfolioMarginClient
from binance_papi_async.clock import ServerClock
from binance_papi_async.endpoints import Budget
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter
from binance_papi_async.ratelimit.redis import RedisBudgetStore, RedisStoreEvent
from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET


async def main(argv: list[str]) -> dict[str, object]:
    sim_url, redis_url, prefix = argv[:3]
    window, limit, tasks, end = int(argv[3]), int(argv[4]), int(argv[5]), float(argv[6])
    events: list[RedisStoreEvent] = []
    clock = ServerClock()
    store = RedisBudgetStore.from_url(
        redis_url,
        prefix=prefix,
        clock=clock,
        heartbeat=0.2,
        lapse=1.0,
        fallback=5.0,
        timeout=0.5,
        on_event=events.append,
    )
    limits = [
        BudgetLimit(Budget.REQUEST_WEIGHT, limit, window),
        BudgetLimit(Budget.ORDERS, 10_000, window),
    ]
    limiter = RateLimiter(limits, clock=clock, store=store, transit=0.1)
    answered = 0
    errors: dict[str, int] = {}
    async with (
        store,
        PortfolioMarginClient(
            DEMO_API_KEY, DEMO_API_SECRET, base_url=sim_url, clock=clock, limiter=limiter
        ) as client,
    ):
        # Measure the clock before admitting anything: until then its bound is 1 s, and a
        # call near a boundary counts in both windows (see the README).
        await client.sync_time()

        async def worker() -> None:
            nonlocal answered
            while time.time() < end:
                try:
                    await client.account.order_rate_limits()
                    answered += 1
                except Exception as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

        runners = [asyncio.ensure_future(worker()) for _ in range(tasks)]
        await asyncio.sleep(max(0.0, end - time.time()))
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
        limiter.close()
    return {
        "answered": answered,
        "errors": errors,
        "events": [e.kind for e in events],
        "round_trips": store.round_trips,
        "uncertainty": clock.uncertainty(),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))), flush=True)
