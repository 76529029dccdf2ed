"""Four processes, one IP weight budget in Redis, against the simulator.

The simulator runs in this process (5- and 4-second windows, so that several
windows pass in seconds); each worker process (``shared_limiter_worker.py``) runs
50 tasks sending weight-1 signed reads through a limiter on a shared
:class:`RedisBudgetStore`.  The simulator's log says what arrived in every
window of its clock: never a 429 or a 418, and the budget used.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from binance_papi_async.clock import ServerClock
from binance_papi_async.testing import PapiSimulator
from binance_papi_async.testing.local_redis import LocalRedis

WORKER = Path(__file__).with_name("shared_limiter_worker.py")
ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
TASKS = 50
STARTUP_S = 4.0  # interpreter start, imports, clock sync, joining Redis (2 shared cores)


def next_boundary(window: int, after: float) -> float:
    return (int(after // window) + 1) * window


async def spawn(args: list[str]) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), *args, stdout=asyncio.subprocess.PIPE, env=env
    )


async def results(procs: list[asyncio.subprocess.Process]) -> list[dict[str, object]]:
    out = []
    for proc in procs:
        stdout, _ = await proc.communicate()
        if proc.returncode == 0:
            out.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    return out


def per_window(sim: PapiSimulator, window: int) -> dict[int, int]:
    """Requests (weight 1 each: the read and the clock syncs) per window of the simulator."""
    counts: dict[int, int] = {}
    for record in sim.requests:
        index = record.time // (window * 1000)
        counts[index] = counts.get(index, 0) + 1
    return counts


async def test_four_processes_share_one_budget_with_no_429_and_use_most_of_it(
    redis_server: LocalRedis,
) -> None:
    window, limit = 5, 300
    async with PapiSimulator(ip_weight_limit=limit, window_s=window) as sim:
        begin = next_boundary(window, time.time() + STARTUP_S)
        end = begin + 2 * window
        args = [sim.url, redis_server.url, f"mp{os.getpid()}", str(window), str(limit)]
        procs = [await spawn([*args, str(TASKS), str(end)]) for _ in range(PROCESSES)]
        done = await results(procs)
        statuses = {r.status for r in sim.requests}
        counts = per_window(sim, window)
    print("requests per window:", dict(sorted(counts.items())), "begin:", int(begin) // window)
    assert len(done) == PROCESSES
    assert statuses == {200}  # zero 429, zero 418
    assert all(r["errors"] == {} for r in done)
    assert all(float(str(r["uncertainty"])) < 0.05 for r in done), done  # synced on loopback
    first = int(begin) // window
    for index in (first, first + 1):  # two full windows
        assert counts.get(index, 0) >= 0.9 * limit, counts
    assert max(counts.values()) <= limit
    # nobody starved: a process that asks is admitted at the latest in the window after
    # the one it asked in (one that started late on a loaded machine may not have had two)
    assert all(
        int(str(r["answered"])) > 0 for r in done if float(str(r["started"])) < end - 2 * window
    ), done


async def test_a_process_killed_mid_lease_and_a_redis_restart_cost_no_429() -> None:
    window, limit = 4, 200
    with LocalRedis.start() as server:
        async with PapiSimulator(ip_weight_limit=limit, window_s=window) as sim:
            begin = next_boundary(window, time.time() + STARTUP_S)
            end = begin + 5 * window
            args = [sim.url, server.url, "faults", str(window), str(limit), str(TASKS), str(end)]
            procs = [await spawn(args) for _ in range(PROCESSES)]
            await asyncio.sleep(begin + window / 2 - time.time())
            procs[0].send_signal(signal.SIGKILL)  # holding a lease of this window
            await asyncio.sleep(begin + 2 * window + 1.5 - time.time())
            await asyncio.to_thread(server.restart, 0.3)  # Redis forgets every count
            done = await results(procs[1:])
            await procs[0].wait()
            statuses = {r.status for r in sim.requests}
            counts = per_window(sim, window)
    print("requests per window:", dict(sorted(counts.items())), "begin:", int(begin) // window)
    print("workers:", done)
    assert len(done) == PROCESSES - 1
    assert statuses == {200}  # zero 429, zero 418
    first = int(begin) // window
    # every full window is used: the one of the kill too (the others spend what is left)
    assert counts.get(first, 0) >= 0.9 * limit, counts
    # the killed process's share is set aside in the next window only, never after
    assert counts.get(first + 1, 0) >= 0.9 * limit * (PROCESSES - 1) / PROCESSES, counts
    # after the restart: each process saw it, and the budget is used again
    assert all("reset" in list(r["events"]) for r in done), done  # type: ignore[call-overload]
    for index in (first + 2, first + 3, first + 4):
        assert counts.get(index, 0) >= 0.9 * limit, counts
    assert max(counts.values()) <= limit


@pytest.mark.skipif(
    os.environ.get("PAPI_TEST_LOOP") == "uvloop", reason="a minute long: once per make test"
)
async def test_four_processes_use_a_real_one_minute_window_with_no_429(
    redis_server: LocalRedis,
) -> None:
    """papi's real limit and window (6000 weight a minute).  The simulator's clock is set
    a few seconds before a minute boundary of its own, and the workers sync to it: the run
    covers one full minute, not up to two."""
    window, limit = 60, 6000
    delta = next_boundary(window, time.time()) - time.time() - STARTUP_S  # sim - host
    clock = ServerClock(offset=time.time() - time.monotonic() + delta)
    # Every request is counted: the workers also fill the minute before and the first
    # moments of the minute after (up to 18,000 records, beyond the default log of 10,000).
    async with PapiSimulator(
        ip_weight_limit=limit, window_s=window, clock=clock, log_limit=None
    ) as sim:
        begin = next_boundary(window, clock.time())
        end = begin - delta + window + 0.5  # the workers' deadline, host time
        args = [sim.url, redis_server.url, f"min{os.getpid()}", str(window), str(limit)]
        procs = [await spawn([*args, str(TASKS), str(end)]) for _ in range(PROCESSES)]
        done = await results(procs)
        statuses = {r.status for r in sim.requests}
        counts = per_window(sim, window)
    print("requests per window:", dict(sorted(counts.items())), "begin:", int(begin) // window)
    assert len(done) == PROCESSES
    assert statuses == {200}  # zero 429, zero 418
    assert counts.get(int(begin) // window, 0) >= 0.9 * limit, counts
    assert max(counts.values()) <= limit
