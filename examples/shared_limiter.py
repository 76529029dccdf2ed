"""Two processes, one rate budget: a RedisBudgetStore shared through Redis.

Runs the papi simulator here (5-second windows, 100 IP weight each, so that the
budget runs out in a second), a local Redis (``--redis URL``, or a throwaway
``redis-server`` started on a free port), and two worker processes, each with
20 tasks sending weight-1 signed reads for ``--seconds``.  Each worker alone
would spend the whole budget; together they share it, and the simulator never
answers 429::

    python examples/shared_limiter.py
    python examples/shared_limiter.py --redis redis://127.0.0.1:6379/0 --seconds 12
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

from binance_papi_async import PortfolioMarginClient
from binance_papi_async.clock import ServerClock
from binance_papi_async.endpoints import Budget
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter
from binance_papi_async.ratelimit.redis import RedisBudgetStore
from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET, PapiSimulator
from binance_papi_async.testing.local_redis import LocalRedis

WINDOW_S = 5
LIMIT = 100


async def worker(sim_url: str, redis_url: str, end: float) -> dict[str, object]:
    """One process: its own client, a limiter whose counts live in Redis."""
    clock = ServerClock()  # the client's clock: the limiter keys its windows with it
    limits = [BudgetLimit(Budget.REQUEST_WEIGHT, LIMIT, WINDOW_S)]
    answered = 0
    async with RedisBudgetStore.from_url(redis_url, prefix="example") as store:
        limiter = RateLimiter(limits, clock=clock, store=store)
        async with PortfolioMarginClient(
            DEMO_API_KEY, DEMO_API_SECRET, base_url=sim_url, clock=clock, limiter=limiter
        ) as client:
            await client.sync_time()  # the clock's bound is 1 s until measured

            async def calls() -> None:
                nonlocal answered
                while time.time() < end:
                    await client.account.order_rate_limits()  # weight 1
                    answered += 1

            tasks = [asyncio.ensure_future(calls()) for _ in range(20)]
            await asyncio.sleep(max(0.0, end - time.time()))
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        limiter.close()
    return {"pid": os.getpid(), "answered": answered, "redis_round_trips": store.round_trips}


async def parent(redis_url: str, seconds: float) -> int:
    async with PapiSimulator(ip_weight_limit=LIMIT, window_s=WINDOW_S) as sim:
        end = time.time() + seconds
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--worker",
                sim.url,
                redis_url,
                str(end),
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        for proc in procs:
            out, _ = await proc.communicate()
            print("worker:", out.decode().strip())
        windows: dict[int, int] = {}
        for record in sim.requests:
            index = record.time // (WINDOW_S * 1000)
            windows[index] = windows.get(index, 0) + 1
        statuses = sorted({r.status for r in sim.requests if r.status is not None})
    print(f"weight per {WINDOW_S}-second window (limit {LIMIT}):", list(windows.values()))
    print("HTTP statuses the simulator answered:", statuses)
    return 0 if statuses == [200] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", help="Redis URL (default: start a local redis-server)")
    parser.add_argument("--seconds", type=float, default=12.0, help="how long the workers run")
    parser.add_argument(
        "--worker", nargs=3, metavar=("SIM", "REDIS", "END"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        sim_url, redis_url, end = args.worker
        print(json.dumps(asyncio.run(worker(sim_url, redis_url, float(end)))))
        return 0
    if args.redis:
        return asyncio.run(parent(args.redis, args.seconds))
    with LocalRedis.start() as server:
        return asyncio.run(parent(server.url, args.seconds))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
