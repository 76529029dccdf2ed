"""What every call benchmark shares: CPU placement, the server process, the event loop,
and the measured run of N calls at a concurrency.

The client process runs on the first CPU it may use and ``papi_server.py`` on the second
(no pinning with one CPU), so the server's CPU is never counted as the client's.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
T = TypeVar("T")
Call = Callable[[], Awaitable[Any]]

#: The event loops a benchmark can run on.
LOOPS = ("asyncio", "uvloop")


def available_loops() -> list[str]:
    """The event loops of :data:`LOOPS` importable here (uvloop: not on Windows)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return ["asyncio"]
    return list(LOOPS)


def run_on(loop: str, main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new event loop of kind ``loop`` (one of :data:`LOOPS`)."""
    if loop == "asyncio":
        return asyncio.run(main)
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    main.close()
    raise ValueError(f"unknown event loop {loop!r}; known: {LOOPS}")


@dataclass
class Placement:
    """Which CPU the client and the server are pinned to (None: not pinned)."""

    cpus: int
    client_cpu: int | None
    server_cpu: int | None


def plan_cpus(pin: bool) -> Placement:
    """The client on the first allowed CPU, the server on the second (if there are two)."""
    if not pin or not hasattr(os, "sched_getaffinity"):
        return Placement(os.cpu_count() or 1, None, None)
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return Placement(len(allowed), None, None)
    return Placement(len(allowed), allowed[0], allowed[1])


@contextmanager
def server_process(kind: str, cpu: int | None) -> Iterator[str]:
    """Run ``papi_server.py`` in its own process; yield its base URL; stop it after."""
    cmd = [sys.executable, str(HERE / "papi_server.py"), "--kind", kind, "--port", "0"]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent), env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the papi server did not start: {line!r}")
        yield line.removeprefix("listening on ")
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the server stops when its stdin closes
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@dataclass(frozen=True)
class Run:
    """One measured run of ``calls`` calls of one client at one concurrency."""

    impl: str
    concurrency: int
    repeat: int
    calls: int
    cpu_s: float
    user_s: float
    sys_s: float
    wall_s: float

    @property
    def cpu_us_per_call(self) -> float:
        """Client-process CPU (user + sys) per call, in microseconds."""
        return self.cpu_s / self.calls * 1e6

    @property
    def calls_per_s(self) -> float:
        """Calls completed per wall-clock second."""
        return self.calls / self.wall_s


async def drive(call: Call, calls: int, concurrency: int) -> None:
    """``calls`` calls by ``concurrency`` tasks, each sending its next call when one ends."""
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, calls))))


async def measure(impl: str, call: Call, calls: int, concurrency: int, repeat: int) -> Run:
    """Warm up (connections opened at this concurrency), then time ``calls`` calls."""
    await drive(call, min(calls, max(100, 2 * concurrency)), concurrency)
    gc.collect()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    c0 = time.process_time()
    w0 = time.perf_counter()
    await drive(call, calls, concurrency)
    w1 = time.perf_counter()
    c1 = time.process_time()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return Run(
        impl,
        concurrency,
        repeat,
        calls,
        c1 - c0,
        r1.ru_utime - r0.ru_utime,
        r1.ru_stime - r0.ru_stime,
        w1 - w0,
    )
