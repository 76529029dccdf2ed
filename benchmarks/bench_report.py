"""The report of ``bench_calls``: what it was measured on, and its tables as text."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson
import yarl
from bench_harness import Placement
from bench_latency import latency_table

#: SDK / floor CPU per call at concurrency 32 under asyncio must not exceed this.
TARGET = 1.00


def environment(placement: Placement, server: str, loops: Sequence[str]) -> dict[str, Any]:
    """What the figures were measured on."""
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "aiohttp": aiohttp.__version__,
        "yarl": yarl.__version__,
        "orjson": orjson.__version__,
        "cpus": placement.cpus,
        "client_cpu": placement.client_cpu,
        "server_cpu": placement.server_cpu,
        "server": server,
        "loops": list(loops),
    }
    if "uvloop" in loops:
        env["uvloop"] = importlib.metadata.version("uvloop")
    return env


def calls_table(summary: Sequence[dict[str, Any]]) -> str:
    """The CPU-per-call comparison as a text table."""
    head = (
        f"{'concurrency':>11} | {'floor µs':>9} {'SDK µs':>9} {'hand-opt µs':>11} | "
        f"{'floor/s':>8} {'SDK/s':>8} {'hand-opt/s':>10} | {'SDK/floor':>9} "
        f"{'hand-opt/floor':>14} | {'paired: SDK':>11} {'hand-opt':>8}"
    )
    lines = [head, "-" * len(head)]
    for row in summary:
        lines.append(
            f"{row['concurrency']:>11} | {row['floor']['cpu_us_per_call']:>9.1f} "
            f"{row['sdk']['cpu_us_per_call']:>9.1f} {row['handopt']['cpu_us_per_call']:>11.1f} | "
            f"{row['floor']['calls_per_s']:>8.0f} {row['sdk']['calls_per_s']:>8.0f} "
            f"{row['handopt']['calls_per_s']:>10.0f} | {row['ratio_sdk_floor']:>9.3f} "
            f"{row['ratio_handopt_floor']:>14.3f} | {row['ratio_sdk_floor_paired']:>11.3f} "
            f"{row['ratio_handopt_floor_paired']:>8.3f}"
        )
    return "\n".join(lines)


def loops_table(loops: dict[str, dict[str, Any]]) -> str:
    """SDK / floor by event loop and concurrency (paired by repeat), side by side."""
    names = list(loops)
    rows = {name: {row["concurrency"]: row for row in loops[name]["summary"]} for name in names}
    concurrencies = [row["concurrency"] for row in loops[names[0]]["summary"]]
    head = f"{'SDK/floor (paired)':<20}" + "".join(f"{'c=' + str(c):>9}" for c in concurrencies)
    lines = [head]
    for name in names:
        cells = "".join(f"{rows[name][c]['ratio_sdk_floor_paired']:>9.3f}" for c in concurrencies)
        lines.append(f"{name:<20}{cells}")
    return "\n".join(lines)


def micro_table(rows: Sequence[dict[str, Any]]) -> str:
    """The micro-benchmarks as a text table."""
    lines = [f"{'micro-benchmark':<62} {'µs/op':>8}"]
    for r in rows:
        name = r.get("name") or r.get("scenario")
        figure = f"{r['us_per_op']:.3f}"
        lines.append(f"{r['group'] + ': ' + str(name):<62} {figure:>8}")
    return "\n".join(lines)


def memory_line(mem: dict[str, Any]) -> str:
    """The memory run in one sentence."""
    first = mem["samples"][0]
    return (
        f"memory: {mem['calls']:,} {mem['impl']} calls at c={mem['concurrency']} "
        f"({mem['seconds']:.1f} s): RSS {mem['rss_first_checkpoint_mib']:.1f} MiB after "
        f"{first['calls']:,} calls, {mem['rss_end_mib']:.1f} MiB after {mem['calls']:,} "
        f"({mem['rss_growth_mib']:+.2f} MiB); max open connections "
        f"{mem['max_open_connections']} (pool {mem['pool_size']}); slowest call "
        f"{mem['max_call_latency_s']:.2f} s"
    )


def target_line(loops: dict[str, dict[str, Any]]) -> str | None:
    """Whether SDK / floor at concurrency 32 under asyncio is within :data:`TARGET`."""
    rows = [row for row in loops.get("asyncio", {}).get("summary", []) if row["concurrency"] == 32]
    if not rows:
        return None
    ratio = rows[0]["ratio_sdk_floor"]
    verdict = "met" if ratio <= TARGET else "NOT met"
    return f"target SDK/floor <= {TARGET:.2f} at c=32 under asyncio: {ratio:.3f}, {verdict}"


def print_report(report: dict[str, Any]) -> None:
    """The human-readable report on stdout."""
    env = report["environment"]
    s = report["settings"]
    print(
        f"Python {env['python']}, aiohttp {env['aiohttp']}, yarl {env['yarl']}, "
        f"orjson {env['orjson']}"
        + (f", uvloop {env['uvloop']}" if "uvloop" in env else "")
        + f" on {env['platform']}"
    )
    print(
        f"{env['cpus']} CPU(s); client on CPU {env['client_cpu']}, server ({env['server']}) "
        f"on CPU {env['server_cpu']}; {s['repeats']} repeats, the event loops interleaved"
    )
    loops: dict[str, dict[str, Any]] = report["loops"]
    for name, cells in loops.items():
        if "summary" in cells:
            print(
                f"\n[{name}] CPU per signed repay-debt call, {s['calls']:,} calls per cell, "
                f"pool {s['pool_size']}; median client CPU (user+sys) per call"
            )
            print(calls_table(cells["summary"]))
        if "latency" in cells:
            lat = cells["latency"]
            print(
                f"\n[{name}] latency of um.new_order / um.cancel_order, µs; "
                f"{lat['pairs_per_run']:,} orders placed and cancelled per run; "
                "added = SDK - hand-written aiohttp (paired: median of the repeats' differences)"
            )
            print(latency_table(lat))
    if len(loops) > 1 and all("summary" in cells for cells in loops.values()):
        print()
        print(loops_table(loops))
    target = target_line(loops)
    if target is not None:
        print(target)
    if "memory" in report:
        print()
        print(memory_line(report["memory"]))
    if "micro" in report:
        print()
        print(micro_table(report["micro"]))
