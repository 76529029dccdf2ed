"""Instructions per call under callgrind: an A/B of ``bench_ab`` variants that the load of a
shared machine does not move, on asyncio's event loop or uvloop's.

    python benchmarks/bench_icount.py floor sdk sdk-aiohttp-timeout --loops asyncio uvloop
    python benchmarks/bench_icount.py sdk-rev sdk --rev 4d6cdae   # the package at a revision too
    python benchmarks/bench_icount.py sdk sdk-std-hmac --stub    # the SDK's own code alone

For each variant and loop it runs the variant in a child process under
``valgrind --tool=callgrind`` twice, sending ``--calls`` and then 3 x ``--calls`` calls at
``--concurrency`` after the same warm-up, against ``papi_server.py`` (not under valgrind),
and reports ``(Ir(3N) - Ir(N)) / 2N``: the instructions this client process executes per
call, startup, imports and warm-up cancelled out.  Instructions are not time (cache
misses and mispredicted branches are not counted), but two runs give the same figure to
a few tenths of a percent however busy the machine is, but for one thing: the SDK's
deadlines keep one loop timer per 10 ms, and a call under valgrind takes milliseconds, so
the busier the machine, the more of those timers a call pays for (a few thousand
instructions per call between a quiet and a busy run).

``--stub`` counts the SDK's own code alone, as decisions about it need: an SDK variant
sends to a stub session (no aiohttp, no socket, the same answer and headers as the
server's) and every monotonic clock of the process (the event loop's, the limiter's)
moves 85 µs per call whatever valgrind's speed, about what a call takes at concurrency
32, from 10 s into a minute of server time; hashing is seeded (``PYTHONHASHSEED=0``).
Every run then takes the same path through the timers and the rate windows.  Needs
valgrind; one child takes about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_harness import LOOPS, available_loops, drive, plan_cpus, run_on, server_process
from multidict import CIMultiDict, CIMultiDictProxy
from papi_server import REPAY_BODY, REPAY_WEIGHT

HERE = Path(__file__).resolve().parent


STUB_STEP = 85e-6  # seconds the stub's event-loop clock moves per call


class _StubResponse:
    """What ``papi_server.py`` answers to a repay-debt, read to its end."""

    closed = True
    status = 200
    content_length = len(REPAY_BODY)

    def __init__(self, count: int) -> None:
        self.headers = CIMultiDictProxy(
            CIMultiDict(
                [
                    ("Content-Type", "application/json"),
                    ("X-MBX-USED-WEIGHT-1M", str(REPAY_WEIGHT * count)),
                    ("X-MBX-ORDER-COUNT-1M", str(count)),
                ]
            )
        )

    async def read(self) -> bytes:
        return REPAY_BODY

    def release(self) -> None:  # pragma: no cover - the answer is read to its end
        pass


class _StubSession:
    """An aiohttp session that answers at once, and moves the loop's clock per request."""

    closed = False

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.count = 0

    async def request(self, method: str, url: Any, **options: Any) -> _StubResponse:
        self.clock[0] += STUB_STEP
        self.count += 1
        return _StubResponse(self.count)

    async def close(self) -> None:
        self.closed = True


async def _child(
    variant: str, url: str, calls: int, concurrency: int, rev: str, stub: bool
) -> None:
    """Warm up, then ``calls`` calls of ``variant`` (runs under valgrind)."""
    from bench_ab import VARIANTS, _patched, sdk_at_revision

    client = (sdk_at_revision(rev) if variant == "sdk-rev" else VARIANTS[variant])(url)
    await client.start()
    if stub:  # the SDK's transport sends to a stub, on a clock moved by the stub
        # Every monotonic reading (the event loop's, the limiter's, the server clock's) is
        # the stub's clock, started 10 s into a minute of server time: each run takes the
        # same path through the rate windows, however long valgrind makes it.
        offset = getattr(client.client.clock, "_offset", 0.0)
        start = time.monotonic() + 600.0
        clock = [start - (start + offset) % 60.0 + 10.0]
        loop = asyncio.get_running_loop()
        loop.time = lambda: clock[0]  # type: ignore[method-assign]
        time.monotonic = lambda: clock[0]
        client.client._transport._session = _StubSession(clock)
    try:
        with _patched(client):
            await drive(client.call, max(200, 2 * concurrency), concurrency)
            await drive(client.call, calls, concurrency)
    finally:
        await client.close()


def instructions(
    variant: str, loop: str, url: str, calls: int, concurrency: int, rev: str, stub: bool
) -> int:
    """Total instructions (Ir) of one child process that sends ``calls`` calls."""
    with tempfile.TemporaryDirectory(prefix="icount-") as tmp:
        out = Path(tmp) / "callgrind.out"
        child = [sys.executable, str(Path(__file__).resolve()), "--child", variant, loop, url]
        child += [str(calls), str(concurrency), rev, "stub" if stub else ""]
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *child],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONHASHSEED": "0"},  # the same dict and set probes
        )
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no instruction total in the callgrind output of {variant}")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments; run the children (or be one); print instructions per call."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        variant, loop, url, calls, concurrency, rev, stub = argv[1:8]
        run_on(loop, _child(variant, url, int(calls), int(concurrency), rev, stub == "stub"))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("variants", nargs="+", help="names from bench_ab.py's VARIANTS")
    parser.add_argument("--loops", nargs="+", choices=LOOPS, default=["asyncio"])
    parser.add_argument("--calls", type=int, default=1000, help="N: the runs send N and 3N")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rev", default="", help="run the package at this git revision as sdk-rev")
    parser.add_argument(
        "--stub", action="store_true", help="the SDK's own code: a stub session, a moved clock"
    )
    args = parser.parse_args(argv)
    from bench_ab import VARIANTS

    known = {*VARIANTS, "sdk-rev"} if args.rev else set(VARIANTS)
    unknown = [name for name in args.variants if name not in known]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {sorted(VARIANTS)}")
    missing = sorted(set(args.loops) - set(available_loops()))
    if missing:
        parser.error(f"{missing} not installed (pip install -e '.[bench]')")
    if args.stub and any(not name.startswith(("sdk", "transport")) for name in args.variants):
        parser.error("--stub measures SDK variants only (floor and handopt need the server)")
    placement = plan_cpus(True)
    print(f"{args.calls:,} and {3 * args.calls:,} calls, concurrency {args.concurrency}")
    print(f"{'variant':<20} " + "".join(f"{loop + ' instr/call':>22}" for loop in args.loops))
    with server_process("fast", placement.server_cpu) as url:
        for variant in args.variants:
            cells = []
            for loop in args.loops:
                low = instructions(
                    variant, loop, url, args.calls, args.concurrency, args.rev, args.stub
                )
                high = instructions(
                    variant, loop, url, 3 * args.calls, args.concurrency, args.rev, args.stub
                )
                cells.append(f"{(high - low) / (2 * args.calls):>22,.0f}")
            print(f"{variant:<20} " + "".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
