"""The memory run: many calls through one pool; RSS and open sockets as it goes.

``calls`` repay-debt calls of one client (the SDK by default) at ``concurrency`` tasks
through a pool of ``pool_size`` connections: RSS (``/proc/self/statm``) at every tenth of
the way, the sockets open in the process (``/proc/self/fd``, sampled every 100 calls) and
the slowest call, which shows whether a pool serves its waiters in turn.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import sys
import time
from typing import Any

from bench_clients import make_client
from bench_harness import drive


def rss_bytes() -> int:
    """Current resident set size (``/proc/self/statm``), else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def open_sockets() -> int | None:
    """Sockets open in this process (``/proc/self/fd``), or None where unknown."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return None
    count = 0
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


async def run_memory(
    base_url: str, *, calls: int, concurrency: int, pool_size: int, impl: str = "sdk"
) -> dict[str, Any]:
    """``calls`` calls of ``impl``; RSS every tenth of the way, the most connections open."""
    await asyncio.sleep(0.2)  # sockets of the clients closed before are gone
    base_sockets = open_sockets()
    client = make_client(impl, base_url, pool_size)
    await client.start()
    step = max(1, calls // 10)
    checkpoints = [min(calls, step * k) for k in range(1, 11)]
    samples: list[dict[str, Any]] = []
    state: dict[str, Any] = {"done": 0, "next": 0, "max_open": 0, "max_latency_s": 0.0}
    probe_every = max(1, min(100, calls // 100))

    def connections() -> int | None:
        now = open_sockets()
        return None if now is None or base_sockets is None else now - base_sockets

    async def call() -> None:
        started = time.perf_counter()
        await client.call()
        latency = time.perf_counter() - started
        if latency > state["max_latency_s"]:
            state["max_latency_s"] = latency
        done = state["done"] = state["done"] + 1
        if done % probe_every == 0:
            opened = connections()
            if opened is not None:
                state["max_open"] = max(state["max_open"], opened)
        if state["next"] < len(checkpoints) and done == checkpoints[state["next"]]:
            state["next"] += 1
            samples.append(
                {"calls": done, "rss_mib": rss_bytes() / 2**20, "open_connections": connections()}
            )

    gc.collect()
    start_rss = rss_bytes()
    started = time.perf_counter()
    try:
        await drive(call, calls, concurrency)
    finally:
        await client.close()
    elapsed = time.perf_counter() - started
    first, last = samples[0], samples[-1]
    return {
        "impl": impl,
        "calls": calls,
        "concurrency": concurrency,
        "pool_size": pool_size,
        "seconds": elapsed,
        "rss_start_mib": start_rss / 2**20,
        "samples": samples,
        "rss_first_checkpoint_mib": first["rss_mib"],
        "rss_end_mib": last["rss_mib"],
        "rss_growth_mib": last["rss_mib"] - first["rss_mib"],
        "max_open_connections": state["max_open"] if base_sockets is not None else None,
        "max_call_latency_s": state["max_latency_s"],
        "connections_bounded_by_pool": (
            state["max_open"] <= pool_size if base_sockets is not None else None
        ),
    }
