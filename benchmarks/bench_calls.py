"""``make bench``: CPU per signed call and order-entry latency, the SDK beside hand-written
aiohttp, on asyncio's event loop and on uvloop's; memory; micro-benchmarks.

``python benchmarks/bench_calls.py`` starts a papi server in its own process
(:mod:`papi_server`, pinned to another CPU when there is one; this client process is
pinned to a different one), then, for each repeat and each event loop (``--loops``, in a
rotating order, each on a fresh loop):

* **CPU per call**: at each concurrency (``--concurrency``), the three clients of
  :mod:`bench_clients` (``floor``, ``sdk``, ``handopt``) in a rotating order, each sending
  ``--calls`` signed ``POST /papi/v1/margin/repay-debt`` after a warm-up: the median CPU
  time (user + sys) of this process per call, calls per second, and the ratios SDK /
  floor and hand-optimised / floor (of the medians, and paired by repeat);
* **latency** (:mod:`bench_latency`): at each of ``--latency-concurrency``, the SDK's
  ``um.new_order`` + ``um.cancel_order`` and the same calls hand-written on aiohttp,
  ``--latency-pairs`` orders placed and cancelled each: p50 and p99 per call in µs and
  the SDK's added latency.

Then, on the first loop, the memory run (:mod:`bench_memory`, ``--memory-calls``) and
before everything the micro-benchmarks (:mod:`bench_micro`, ``--micro-n``).  It prints
tables and writes the whole report as JSON (``--json``, by default
``benchmarks/results/bench_calls.json``).  ``--profile N`` instead profiles N calls of
one client at concurrency 32 with cProfile.

This module also re-exports what ``bench_ab.py`` uses (the clients, ``measure``,
``plan_cpus``, ``server_process``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench_clients import (
    AMOUNT,
    ASSET,
    HUGE,
    IMPLS,
    PATH,
    REPAY_ASSETS,
    FloorClient,
    HandOptClient,
    SdkClient,
    check_result,
    make_client,
)
from bench_harness import (
    LOOPS,
    Placement,
    Run,
    available_loops,
    drive,
    measure,
    plan_cpus,
    run_on,
    server_process,
)
from bench_latency import Samples, latency_repeat, summarize_latency
from bench_memory import run_memory
from bench_micro import limiter_micro, micro, timer_micro
from bench_report import TARGET, environment, print_report
from papi_server import pin_to_cpu

__all__ = [
    "AMOUNT",
    "ASSET",
    "HUGE",
    "IMPLS",
    "PATH",
    "REPAY_ASSETS",
    "FloorClient",
    "HandOptClient",
    "Placement",
    "Run",
    "SdkClient",
    "drive",
    "main",
    "make_client",
    "measure",
    "plan_cpus",
    "server_process",
]

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS = HERE / "results"
Log = Callable[[str], None]


# -- CPU per call -----------------------------------------------------------------------------


async def calls_repeat(
    base_url: str,
    *,
    repeat: int,
    calls: int,
    concurrencies: Sequence[int],
    pool_size: int,
    log: Log,
) -> list[Run]:
    """One repeat: at every concurrency, the three clients back to back, rotating."""
    clients = {impl: make_client(impl, base_url, pool_size) for impl in IMPLS}
    runs: list[Run] = []
    try:
        for impl, client in clients.items():
            await client.start()
            check_result(impl, await client.call())
        for index, concurrency in enumerate(concurrencies):
            shift = (repeat + index) % len(IMPLS)
            for impl in IMPLS[shift:] + IMPLS[:shift]:
                run = await measure(impl, clients[impl].call, calls, concurrency, repeat)
                runs.append(run)
                log(
                    f"  cpu      c={concurrency:<4} {impl:<8} "
                    f"{run.cpu_us_per_call:8.1f} µs/call  {run.calls_per_s:8.0f} calls/s"
                )
    finally:
        for client in clients.values():
            await client.close()
    return runs


def summarize(runs: Sequence[Run], concurrencies: Sequence[int]) -> list[dict[str, Any]]:
    """Median CPU µs per call and calls/s per client and concurrency, and the ratios."""
    rows: list[dict[str, Any]] = []
    for concurrency in concurrencies:
        row: dict[str, Any] = {"concurrency": concurrency}
        for impl in IMPLS:
            mine = [r for r in runs if r.impl == impl and r.concurrency == concurrency]
            row[impl] = {
                "cpu_us_per_call": statistics.median(r.cpu_us_per_call for r in mine),
                "user_us_per_call": statistics.median(r.user_s / r.calls * 1e6 for r in mine),
                "sys_us_per_call": statistics.median(r.sys_s / r.calls * 1e6 for r in mine),
                "calls_per_s": statistics.median(r.calls_per_s for r in mine),
                "samples_cpu_us_per_call": [round(r.cpu_us_per_call, 2) for r in mine],
            }
        floor = row["floor"]["cpu_us_per_call"]
        row["ratio_sdk_floor"] = row["sdk"]["cpu_us_per_call"] / floor
        row["ratio_handopt_floor"] = row["handopt"]["cpu_us_per_call"] / floor
        # The same ratios paired by repeat (the three runs of a repeat are back to back),
        # which cancels slower drifts such as other load on the machine.
        for impl in ("sdk", "handopt"):
            pairs = [
                a.cpu_us_per_call / f.cpu_us_per_call
                for a, f in zip(
                    (r for r in runs if r.impl == impl and r.concurrency == concurrency),
                    (r for r in runs if r.impl == "floor" and r.concurrency == concurrency),
                    strict=True,
                )
            ]
            row[f"ratio_{impl}_floor_paired"] = statistics.median(pairs)
        rows.append(row)
    return rows


# -- one repeat on one event loop -------------------------------------------------------------


async def loop_repeat(
    args: argparse.Namespace, base_url: str, repeat: int, log: Log
) -> tuple[list[Run], Samples | None]:
    """The CPU-per-call cells and the latency cell of one repeat, on the running loop."""
    runs = await calls_repeat(
        base_url,
        repeat=repeat,
        calls=args.calls,
        concurrencies=args.concurrency,
        pool_size=args.pool_size,
        log=log,
    )
    latency = None
    if args.latency_pairs:
        latency = await latency_repeat(
            base_url,
            repeat=repeat,
            pairs=args.latency_pairs,
            concurrencies=args.latency_concurrency,
            pool_size=args.pool_size,
            log=log,
        )
    return runs, latency


def run_loops(args: argparse.Namespace, base_url: str, log: Log) -> dict[str, dict[str, Any]]:
    """Every repeat on every loop (rotating which loop goes first); the summaries by loop."""
    loops: list[str] = args.loops
    runs: dict[str, list[Run]] = {loop: [] for loop in loops}
    latency: dict[str, list[Samples]] = {loop: [] for loop in loops}
    for repeat in range(args.repeats):
        shift = repeat % len(loops)
        for loop in loops[shift:] + loops[:shift]:
            log(f"repeat {repeat + 1}/{args.repeats} on {loop}")
            loop_runs, samples = run_on(loop, loop_repeat(args, base_url, repeat, log))
            runs[loop] += loop_runs
            if samples is not None:
                latency[loop].append(samples)
    out: dict[str, dict[str, Any]] = {}
    for loop in loops:
        cells: dict[str, Any] = {
            "summary": summarize(runs[loop], args.concurrency),
            "runs": [asdict(r) | {"cpu_us_per_call": r.cpu_us_per_call} for r in runs[loop]],
        }
        if latency[loop]:
            cells["latency"] = summarize_latency(
                latency[loop], args.latency_concurrency, args.latency_pairs
            )
        out[loop] = cells
    return out


# -- profiling --------------------------------------------------------------------------------


async def profile(
    base_url: str, impl: str, calls: int, concurrency: int, pool_size: int, out: Path
) -> str:
    """cProfile ``calls`` calls of ``impl``; save the stats to ``out``; the top 30 as text."""
    client = make_client(impl, base_url, pool_size)
    await client.start()
    try:
        await drive(client.call, min(calls, 1000), concurrency)
        profiler = cProfile.Profile()
        profiler.enable()
        await drive(client.call, calls, concurrency)
        profiler.disable()
    finally:
        await client.close()
    profiler.dump_stats(out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
    return text.getvalue()


# -- command line -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (the defaults are the full ``make bench``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--calls", type=int, default=5000, help="measured calls per CPU-per-call run")
    add("--repeats", type=int, default=5, help="repeats of every cell on every loop")
    add("--concurrency", type=int, nargs="+", default=[1, 32, 256])
    add("--pool-size", type=int, default=64, help="connections per client")
    add("--server", choices=("fast", "sim"), default="fast")
    add("--no-pin", action="store_true", help="do not pin processes to CPUs")
    add(
        "--loops",
        nargs="+",
        choices=LOOPS,
        default=available_loops(),
        help="event loops to run on (default: asyncio, and uvloop where it is installed)",
    )
    add("--latency-pairs", type=int, default=2000, help="orders per latency run (0: skip)")
    add("--latency-concurrency", type=int, nargs="+", default=[1, 32])
    add("--memory-calls", type=int, default=100_000, help="SDK calls of the memory run (0: skip)")
    add("--memory-concurrency", type=int, default=256)
    add("--memory-impl", choices=IMPLS, default="sdk", help="the client of the memory run")
    add("--micro-n", type=int, default=100_000, help="iterations per micro-benchmark (0: skip)")
    add("--results-dir", type=Path, default=DEFAULT_RESULTS)
    add("--json", type=Path, default=None, help="report path (default: RESULTS_DIR/...json)")
    add("--profile", type=int, default=0, metavar="N", help="only cProfile N calls (c=32)")
    add("--profile-impl", choices=IMPLS, default="sdk")
    add("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.repeats < 1 or min(args.concurrency) < 1:
        parser.error("--calls, --repeats and --concurrency must be >= 1")
    if args.latency_pairs < 0 or min(args.latency_concurrency) < 1:
        parser.error("--latency-pairs must be >= 0 and --latency-concurrency >= 1")
    missing = sorted(set(args.loops) - set(available_loops()))
    if missing:
        parser.error(f"{missing} not installed (pip install -e '.[bench]')")
    args.loops = list(dict.fromkeys(args.loops))
    if args.json is None:
        args.json = args.results_dir / "bench_calls.json"
    return args


def run_benchmark(args: argparse.Namespace, placement: Placement) -> dict[str, Any]:
    """Run everything that was asked for; the report as a JSON-ready dict."""

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    first_loop = args.loops[0]
    report: dict[str, Any] = {
        "environment": environment(placement, args.server, args.loops),
        "settings": {
            "calls": args.calls,
            "repeats": args.repeats,
            "concurrency": args.concurrency,
            "latency_pairs": args.latency_pairs,
            "latency_concurrency": args.latency_concurrency,
            "pool_size": args.pool_size,
            "target_sdk_floor_at_32": TARGET,
        },
    }
    if args.micro_n:
        log("micro-benchmarks...")
        rows = micro(args.micro_n, 3)
        rows += run_on(first_loop, limiter_micro(args.micro_n, 3))
        for loop in args.loops:
            rows += run_on(loop, timer_micro(args.micro_n, 3))
        report["micro"] = rows
    with server_process(args.server, placement.server_cpu) as base_url:
        log(f"server ({args.server}) at {base_url}")
        report["loops"] = run_loops(args, base_url, log)
        if args.memory_calls:
            log(f"memory: {args.memory_calls:,} {args.memory_impl} calls...")
            report["memory"] = run_on(
                first_loop,
                run_memory(
                    base_url,
                    calls=args.memory_calls,
                    concurrency=args.memory_concurrency,
                    pool_size=args.pool_size,
                    impl=args.memory_impl,
                ),
            )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; write the JSON report; print the tables."""
    args = parse_args(argv)
    placement = plan_cpus(not args.no_pin)
    pin_to_cpu(placement.client_cpu)
    results: Path = args.results_dir
    results.mkdir(parents=True, exist_ok=True)
    if args.profile:
        prof = results / f"profile_{args.profile_impl}.prof"
        with server_process(args.server, placement.server_cpu) as base_url:
            text = run_on(
                args.loops[0],
                profile(base_url, args.profile_impl, args.profile, 32, args.pool_size, prof),
            )
        print(text)
        print(f"stats saved to {prof}")
        return 0
    report = run_benchmark(args, placement)
    json_path: Path = args.json
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    print(f"\nJSON: {json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
