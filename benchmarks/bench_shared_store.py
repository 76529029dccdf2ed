"""The rate budget in Redis against the in-memory store, on a weight-1 signed read.

Every call is ``client.account.order_rate_limits()`` (``GET /papi/v1/rateLimit/order``,
weight 1, signed) against the package's simulator (``papi_server.py --kind sim``, its
own process on the second CPU; this process on the first).  A ``redis-server`` on a
free 127.0.0.1 port is started for the run (:class:`LocalRedis`) and stopped after.
Two cells, each run for both stores, interleaved repeat by repeat:

* **paced** (papi's real limits, 6000 weight a minute): one call every 1/80 s for
  ``--seconds``; the wall time of every admission (the limiter's ``acquire``, which
  with Redis includes waiting for a lease) and of every whole call, p50 and p99; and the
  Redis round trips per call, counted twice: by the store (``round_trips``: takes,
  gives, counts, heartbeats, publishes) and by the redis-py connections (every send
  of every connection, the pub/sub listener's included).
* **cpu** (limits raised to 10**9 a minute, so no call waits): ``--calls`` calls at
  concurrency 32, CPU (user + sys) of this process per call; the ratio Redis / memory
  is paired by repeat.

Targets: Redis commands per weight-1 call <= 0.1 in the paced cell; CPU per call with
Redis <= 1.10 x the in-memory store's.  Nothing leaves 127.0.0.1.

    python benchmarks/bench_shared_store.py                  # about a minute
    python benchmarks/bench_shared_store.py --seconds 5 --calls 2000 --repeats 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_harness import measure, plan_cpus, server_process
from papi_server import API_KEY, API_SECRET, pin_to_cpu
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import Connection

from binance_papi_async import PortfolioMarginClient
from binance_papi_async.clock import ServerClock
from binance_papi_async.endpoints import Budget, Charge
from binance_papi_async.ratelimit import (
    DEFAULT_LIMITS,
    BudgetLimit,
    RateLimiter,
    Reservation,
)
from binance_papi_async.ratelimit.redis import RedisBudgetStore
from binance_papi_async.testing.local_redis import LocalRedis

STORES = ("memory", "redis")
RAISED = [BudgetLimit(Budget.REQUEST_WEIGHT, 10**9, 60.0), BudgetLimit(Budget.ORDERS, 10**9, 60.0)]


class TimedLimiter(RateLimiter):
    """A limiter that records the wall time of every admission that had to wait."""

    __slots__ = ()

    async def acquire(self, charges: Sequence[Charge], **kwargs: Any) -> Reservation:
        t0 = time.perf_counter()
        try:
            return await super().acquire(charges, **kwargs)
        finally:
            _WAITS.append(time.perf_counter() - t0)


_WAITS: list[float] = []


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class CountingConnection(Connection):
    """A redis-py connection that counts what it sends: one round trip per send (a command,
    a pipeline, a pub/sub subscription), whatever the scripts run inside Redis."""

    sent = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


def counted_store(redis_url: str, clock: ServerClock) -> RedisBudgetStore:
    pool = ConnectionPool.from_url(redis_url, connection_class=CountingConnection)
    return RedisBudgetStore(
        Redis(connection_pool=pool), prefix=f"b{time.monotonic_ns()}", clock=clock
    )


async def paced(store_kind: str, sim_url: str, redis_url: str, seconds: float) -> dict[str, Any]:
    """80 calls a second at papi's real limits: admission and call latency, Redis commands."""
    clock = ServerClock()
    store = counted_store(redis_url, clock)
    limiter = TimedLimiter(
        DEFAULT_LIMITS, clock=clock, store=store if store_kind == "redis" else None
    )
    calls: list[float] = []
    async with PortfolioMarginClient(
        API_KEY, API_SECRET, base_url=sim_url, clock=clock, limiter=limiter
    ) as client:
        await client.sync_time()
        await client.account.order_rate_limits()  # connection, first lease
        _WAITS.clear()
        before = CountingConnection.sent
        trips0 = store.round_trips
        n = round(seconds * 80)
        start = time.perf_counter()
        pending = []

        async def one() -> None:
            t0 = time.perf_counter()
            await client.account.order_rate_limits()
            calls.append(time.perf_counter() - t0)

        for i in range(n):
            await asyncio.sleep(max(0.0, start + i / 80 - time.perf_counter()))
            pending.append(asyncio.ensure_future(one()))
        await asyncio.gather(*pending)
        trips = store.round_trips - trips0
        sent = CountingConnection.sent - before
    limiter.close()
    await store.aclose()
    waits = _WAITS + [0.0] * (n - len(_WAITS))  # calls admitted by try_acquire: no wait
    return {
        "store": store_kind,
        "calls": n,
        "admission_p50_us": percentile(waits, 0.5) * 1e6,
        "admission_p99_us": percentile(waits, 0.99) * 1e6,
        "admission_max_us": max(waits) * 1e6,
        "waited": len(_WAITS),
        "call_p50_us": percentile(calls, 0.5) * 1e6,
        "call_p99_us": percentile(calls, 0.99) * 1e6,
        "store_round_trips_per_call": trips / n if store_kind == "redis" else 0.0,
        "redis_sends_per_call": sent / n if store_kind == "redis" else 0.0,
    }


async def cpu(store_kind: str, sim_url: str, redis_url: str, calls: int, repeat: int) -> float:
    """CPU µs per call at concurrency 32, limits raised (no call waits)."""
    clock = ServerClock()
    store = RedisBudgetStore.from_url(redis_url, prefix=f"bench{time.monotonic_ns()}", clock=clock)
    limiter = RateLimiter(RAISED, clock=clock, store=store if store_kind == "redis" else None)
    async with PortfolioMarginClient(
        API_KEY, API_SECRET, base_url=sim_url, clock=clock, limiter=limiter
    ) as client:
        await client.sync_time()
        run = await measure(store_kind, client.account.order_rate_limits, calls, 32, repeat)
    limiter.close()
    await store.aclose()
    return run.cpu_us_per_call


def run_all(args: argparse.Namespace, server_cpu: int | None, redis_url: str) -> dict[str, Any]:
    """Every cell for both stores, repeat by repeat, in alternating order.  Each paced run
    has a simulator of its own: its minute then holds no other run's calls (which would be
    traffic outside the store, raised into Redis on every answer)."""
    report: dict[str, Any] = {"paced": [], "cpu": []}
    for repeat in range(args.repeats):
        order = STORES if repeat % 2 == 0 else STORES[::-1]
        for kind in order:
            with server_process("sim", server_cpu) as sim_url:
                report["paced"].append(asyncio.run(paced(kind, sim_url, redis_url, args.seconds)))
        with server_process("sim", server_cpu) as sim_url:
            cells = {
                kind: asyncio.run(cpu(kind, sim_url, redis_url, args.calls, repeat))
                for kind in order
            }
        report["cpu"].append({**cells, "ratio": cells["redis"] / cells["memory"]})
    return report


def summary(report: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in STORES:
        rows = [r for r in report["paced"] if r["store"] == kind]
        out[kind] = {
            key: statistics.median(r[key] for r in rows)
            for key in rows[0]
            if key not in ("store", "calls")
        }
        out[kind]["cpu_us_per_call"] = statistics.median(r[kind] for r in report["cpu"])
    out["cpu_ratio_redis_to_memory"] = statistics.median(r["ratio"] for r in report["cpu"])
    return out


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="paced cell: seconds per run")
    parser.add_argument("--calls", type=int, default=5000, help="cpu cell: calls per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to CPUs")
    parser.add_argument("--json", help="write the whole report here")
    args = parser.parse_args(argv)
    placement = plan_cpus(not args.no_pin)
    if placement.client_cpu is not None:
        pin_to_cpu(placement.client_cpu)
    with LocalRedis.start() as redis:
        report = run_all(args, placement.server_cpu, redis.url)
    report["summary"] = summary(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(json.dumps(report["summary"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
