"""CPU per signed call: the raw-aiohttp floor, the SDK and a hand-optimised client, side by side.

``make bench`` (or ``python benchmarks/bench_calls.py``) starts a papi server in
its own process (:mod:`papi_server`, pinned to another CPU when there is one;
this client process is pinned to a different one), then, in one run and
interleaved (for each repeat, for each concurrency, the three clients in a
rotating order), sends the same signed ``POST /papi/v1/margin/repay-debt``
(same key, same parameters) with:

* ``floor``: hand-written code with one ``aiohttp.ClientSession``:
  ``urllib.parse.urlencode``, ``hmac.new`` per call, the URL as a string,
  ``orjson.loads``;
* ``sdk``: ``client.margin.repay_debt(...)`` of :class:`PortfolioMarginClient`
  with its rate limiter on (limits raised so that it admits every call, but
  doing all its bookkeeping), argument checks, the typed
  :class:`RepayDebtResult` parsed, time sync off;
* ``handopt``: the same call hand-optimised: HMAC key state computed once and
  copied, the query built with an f-string, ``yarl.URL(..., encoded=True)``,
  headers built once, ``orjson.loads``.

Each client uses a pool of ``--pool-size`` connections (the SDK's default, 64).
It reports the median CPU time (user + sys) of this process per call, calls per
second, and the ratios SDK / floor and hand-optimised / floor, as a table and as
JSON (``benchmarks/results/bench_calls.json``), and draws the ratios by
concurrency (``benchmarks/results/ratio_by_concurrency.png``).  It also runs
100,000 SDK calls to check that RSS stays flat and the open connections stay
within the pool size (``--memory-calls``), and micro-benchmarks of signing,
encoding, parsing and the rate limiter (reusing ``bench_limiter``).
``--profile N`` instead profiles N SDK calls at concurrency 32 with cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import hashlib
import hmac
import io
import itertools
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import bench_limiter
import orjson
import yarl
from multidict import CIMultiDict, CIMultiDictProxy
from papi_server import API_KEY, API_SECRET, REPAY_BODY, pin_to_cpu
from yarl import URL

from binance_papi_async import PortfolioMarginClient, Timeouts, TimeSync
from binance_papi_async._params import check_asset, check_assets_encoded, positive_decimal_wire
from binance_papi_async.endpoints import REPAY_DEBT, Budget
from binance_papi_async.models import RepayDebtResult
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter
from binance_papi_async.signing import HmacSigner, encode_params

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS = HERE / "results"
PATH = "/papi/v1/margin/repay-debt"
ASSET = "BNB"
AMOUNT = "0.001"
REPAY_ASSETS = ("USDT", "BTC")
HUGE = 10**12
IMPLS = ("floor", "sdk", "handopt")
TARGET = 1.00
STRETCH = 0.96

Call = Callable[[], Awaitable[Any]]

# -- the three clients ------------------------------------------------------------------------


class FloorClient:
    """(a) The floor: what anyone writes by hand with aiohttp, urlencode, hmac and orjson."""

    def __init__(self, base_url: str, pool_size: int) -> None:
        self.base_url = base_url
        self.pool_size = pool_size
        self.secret = API_SECRET.encode()
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the one session (a pool of ``pool_size`` connections)."""
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.pool_size))

    async def call(self) -> Any:
        """One signed repay-debt POST; the decoded JSON."""
        assert self.session is not None
        params = {
            "asset": ASSET,
            "amount": AMOUNT,
            "specifyRepayAssets": ",".join(REPAY_ASSETS),
            "timestamp": int(time.time() * 1000),
        }
        # safe=",": yarl would turn %2C back into "," in a str URL, so sign what is sent.
        query = urlencode(params, safe=",")
        signature = hmac.new(self.secret, query.encode(), hashlib.sha256).hexdigest()
        async with self.session.post(
            f"{self.base_url}{PATH}?{query}&signature={signature}",
            headers={"X-MBX-APIKEY": API_KEY},
        ) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"floor: HTTP {resp.status}: {body[:200]!r}")
        return orjson.loads(body)

    async def close(self) -> None:
        """Close the session."""
        if self.session is not None:
            await self.session.close()


class SdkClient:
    """(b) The SDK: ``client.margin.repay_debt`` with the limiter on (limits raised)."""

    def __init__(self, base_url: str, pool_size: int, **overrides: Any) -> None:
        options: dict[str, Any] = {
            "time_sync": TimeSync(enabled=False),
            # Generous: a slow loaded VM must not turn a benchmark call into a timeout.
            "timeouts": Timeouts(total=60, connect=60),
            "rate_limits": [
                BudgetLimit(Budget.REQUEST_WEIGHT, HUGE),
                BudgetLimit(Budget.ORDERS, HUGE),
            ],
        }
        options.update(overrides)  # e.g. limiter=False (bench_ab.py)
        if "limiter" in overrides:
            del options["rate_limits"]
        self.client = PortfolioMarginClient(
            api_key=API_KEY,
            api_secret=API_SECRET,
            base_url=base_url,
            pool_size=pool_size,
            **options,
        )
        # What an engine awaits: the SDK's own coroutine, with no wrapper of ours around it.
        self.call: Call = functools.partial(
            self.client.margin.repay_debt,
            ASSET,
            Decimal(AMOUNT),
            specify_repay_assets=list(REPAY_ASSETS),
        )

    async def start(self) -> None:
        """Nothing to do: the SDK opens its pool on first use."""

    async def close(self) -> None:
        """Close the client."""
        await self.client.aclose()


class HandOptClient:
    """(c) The limit for an aiohttp client: everything that can be built once is."""

    def __init__(self, base_url: str, pool_size: int) -> None:
        self.pool_size = pool_size
        self.hmac = hmac.new(API_SECRET.encode(), digestmod=hashlib.sha256)
        self.prefix = f"{base_url}{PATH}?"
        self.headers = {"X-MBX-APIKEY": API_KEY}
        self.asset = ASSET
        self.amount = AMOUNT
        self.repay_assets = "%2C".join(REPAY_ASSETS)
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the one session (a pool of ``pool_size`` connections)."""
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.pool_size))

    async def call(self) -> Any:
        """One signed repay-debt POST; the decoded JSON."""
        session = self.session
        assert session is not None
        query = (
            f"asset={self.asset}&amount={self.amount}&specifyRepayAssets={self.repay_assets}"
            f"&timestamp={int(time.time() * 1000)}"
        )
        mac = self.hmac.copy()
        mac.update(query.encode())
        url = URL(f"{self.prefix}{query}&signature={mac.hexdigest()}", encoded=True)
        async with session.post(url, headers=self.headers) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"handopt: HTTP {resp.status}: {body[:200]!r}")
        return orjson.loads(body)

    async def close(self) -> None:
        """Close the session."""
        if self.session is not None:
            await self.session.close()


Client = FloorClient | SdkClient | HandOptClient


def make_client(impl: str, base_url: str, pool_size: int) -> Client:
    """The client called ``impl`` (one of :data:`IMPLS`)."""
    if impl == "floor":
        return FloorClient(base_url, pool_size)
    if impl == "sdk":
        return SdkClient(base_url, pool_size)
    if impl == "handopt":
        return HandOptClient(base_url, pool_size)
    raise ValueError(impl)


def check_result(impl: str, result: Any) -> None:
    """The server's answer, as each client returns it, is the repay-debt result."""
    if isinstance(result, RepayDebtResult):
        ok = result.success and result.asset == ASSET and result.amount > 0
    else:
        ok = isinstance(result, dict) and result.get("success") is True
    if not ok:
        raise RuntimeError(f"{impl}: unexpected result {result!r}")


# -- the server process -----------------------------------------------------------------------


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


# -- measuring --------------------------------------------------------------------------------


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


async def run_calls(
    base_url: str,
    *,
    calls: int,
    repeats: int,
    concurrencies: Sequence[int],
    pool_size: int,
    log: Callable[[str], None],
) -> list[Run]:
    """The interleaved comparison: every repeat runs every concurrency for every client."""
    clients = {impl: make_client(impl, base_url, pool_size) for impl in IMPLS}
    runs: list[Run] = []
    try:
        for impl, client in clients.items():
            await client.start()
            check_result(impl, await client.call())
        for repeat in range(repeats):
            for concurrency in concurrencies:
                shift = (repeat + concurrencies.index(concurrency)) % len(IMPLS)
                for impl in IMPLS[shift:] + IMPLS[:shift]:
                    run = await measure(impl, clients[impl].call, calls, concurrency, repeat)
                    runs.append(run)
                    log(
                        f"  repeat {repeat + 1}/{repeats}  c={concurrency:<4} {impl:<8} "
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


# -- memory -----------------------------------------------------------------------------------


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
    base_url: str, *, calls: int, concurrency: int, pool_size: int
) -> dict[str, Any]:
    """``calls`` SDK calls; RSS every tenth of the way and the most connections ever open."""
    await asyncio.sleep(0.2)  # sockets of the clients closed before are gone
    base_sockets = open_sockets()
    client = SdkClient(base_url, pool_size)
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


# -- micro-benchmarks -------------------------------------------------------------------------


def per_op_us(fn: Callable[[], object], n: int, repeats: int) -> float:
    """Best of ``repeats`` runs of ``n`` calls of ``fn``: microseconds per call."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def micro(n: int, repeats: int) -> list[dict[str, Any]]:
    """Signing, encoding, argument checks, URL and parsing, per call, SDK beside floor."""
    secret = API_SECRET.encode()
    signer = HmacSigner(API_SECRET)
    params = {
        "asset": ASSET,
        "amount": AMOUNT,
        "specifyRepayAssets": ",".join(REPAY_ASSETS),
        "timestamp": "1700000000000",
    }
    query = encode_params(params)
    payload = query.encode()
    # Distinct URLs, as in real traffic (yarl caches the parsing of recently seen strings).
    urls = [
        f"http://127.0.0.1:8000{PATH}?{query[:-4]}{i:04d}&signature={signer.sign(payload)}"
        for i in range(4096)
    ]
    queries = [url.partition("?")[2] for url in urls]
    next_url = itertools.cycle(urls).__next__
    next_query = itertools.cycle(queries).__next__
    amount = Decimal(AMOUNT)
    repay_assets = list(REPAY_ASSETS)

    def sdk_checks() -> object:
        # What repay_debt does with its arguments: checks, wire strings and the query.
        asset = check_asset(ASSET)
        wire = positive_decimal_wire(amount, "amount")
        _, encoded = check_assets_encoded(repay_assets, "specify_repay_assets")
        return f"asset={asset}&amount={wire}&specifyRepayAssets={encoded}"

    def f_string() -> str:
        return (
            f"asset={ASSET}&amount={AMOUNT}&specifyRepayAssets=USDT%2CBTC"
            f"&timestamp={int(time.time() * 1000)}"
        )

    cases: list[tuple[str, str, Callable[[], object]]] = [
        ("sign", "HmacSigner.sign (key state copied; SDK)", lambda: signer.sign(payload)),
        (
            "sign",
            "hmac.new(...).hexdigest() per call (floor)",
            lambda: hmac.new(secret, payload, hashlib.sha256).hexdigest(),
        ),
        ("encode", "encode_params, 4 params (SDK)", lambda: encode_params(params)),
        ("encode", "urllib.parse.urlencode, 4 params (floor)", lambda: urlencode(params)),
        ("encode", "f-string query with timestamp (hand-opt)", f_string),
        ("checks", "repay_debt argument checks and its encoded query (SDK)", sdk_checks),
        ("url", "yarl.URL(str) (floor)", lambda: URL(next_url())),
        ("url", "yarl.URL(str, encoded=True) (hand-opt)", lambda: URL(next_url(), encoded=True)),
        (
            "url",
            "yarl.URL.build(..., encoded=True) from parts (SDK)",
            lambda: URL.build(
                scheme="http",
                authority="127.0.0.1:8000",
                path=PATH,
                query_string=next_query(),
                encoded=True,
            ),
        ),
        ("parse", "orjson.loads (floor, hand-opt)", lambda: orjson.loads(REPAY_BODY)),
        (
            "parse",
            "orjson.loads + RepayDebtResult.from_json (SDK)",
            lambda: RepayDebtResult.from_json(orjson.loads(REPAY_BODY)),
        ),
    ]
    return [
        {"group": group, "name": name, "n": n, "us_per_op": per_op_us(fn, n, repeats)}
        for group, name, fn in cases
    ]


async def limiter_micro(n: int, repeats: int) -> list[dict[str, Any]]:
    """The rate limiter's per-call cost, measured by ``bench_limiter``'s own functions."""
    from binance_papi_async.clock import ServerClock

    async def acquire(count: int) -> float:
        return await bench_limiter.uncontended(ServerClock(), REPAY_DEBT.charges, count)

    async def acquire_observe(count: int) -> float:
        return await bench_limiter.uncontended(
            ServerClock(), REPAY_DEBT.charges, count, headers=True
        )

    rows = [
        ("await of a trivial coroutine (floor of any async API)", bench_limiter.baseline),
        ("acquire + commit, repay-debt charges", acquire),
        ("acquire + commit + observe_headers, repay-debt", acquire_observe),
    ]
    out = []
    for name, fn in rows:
        seconds = await bench_limiter.best_of(repeats, n, fn)
        out.append(asdict(bench_limiter.row(name, n, seconds)) | {"group": "limiter"})
    # What the transport does per call: the uncontended path without a coroutine.
    limiter = RateLimiter(
        [BudgetLimit(Budget.REQUEST_WEIGHT, HUGE), BudgetLimit(Budget.ORDERS, HUGE)]
    )
    headers = CIMultiDictProxy(
        CIMultiDict({"X-MBX-USED-WEIGHT-1M": "3000", "X-MBX-ORDER-COUNT-1M": "1"})
    )
    charges = REPAY_DEBT.charges

    def try_acquire() -> object:
        return limiter.try_acquire(charges)

    def try_acquire_observe() -> None:
        limiter.observe_headers(headers, reservation=limiter.try_acquire(charges))

    for name, sync_fn in (
        ("try_acquire, repay-debt (the SDK's path)", try_acquire),
        ("try_acquire + observe_headers (the SDK's path)", try_acquire_observe),
    ):
        out.append(
            {"group": "limiter", "name": name, "n": n, "us_per_op": per_op_us(sync_fn, n, repeats)}
        )
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


# -- report -----------------------------------------------------------------------------------


def table(summary: Sequence[dict[str, Any]]) -> str:
    """The comparison as a text table."""
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


def micro_table(rows: Sequence[dict[str, Any]]) -> str:
    """The micro-benchmarks as a text table."""
    lines = [f"{'micro-benchmark':<62} {'µs/op':>8}"]
    for r in rows:
        name = r.get("name") or r.get("scenario")
        lines.append(f"{r['group'] + ': ' + str(name):<62} {r['us_per_op']:>8.3f}")
    return "\n".join(lines)


def chart(path: Path, summary: Sequence[dict[str, Any]]) -> None:
    """The ratios by concurrency as a PNG bar chart."""
    from pngchart import bar_chart

    bar_chart(
        path,
        title="CPU PER CALL / RAW-AIOHTTP FLOOR (LOWER IS BETTER)",
        y_label="SIGNED REPAY-DEBT POST, CLIENT PROCESS USER+SYS CPU, MEDIAN OF REPEATS",
        groups=[f"C={row['concurrency']}" for row in summary],
        series=[
            ("SDK / FLOOR", [row["ratio_sdk_floor"] for row in summary]),
            ("HAND-OPT / FLOOR", [row["ratio_handopt_floor"] for row in summary]),
        ],
        references=[("1.00 TARGET", TARGET), ("0.96 STRETCH", STRETCH)],
    )


def environment(placement: Placement, server: str) -> dict[str, Any]:
    """What the figures were measured on."""
    return {
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
        "event_loop": type(asyncio.get_event_loop_policy()).__name__,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (defaults: the full benchmark of issue 7)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=5000, help="measured calls per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per client and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32, 256])
    parser.add_argument("--pool-size", type=int, default=64, help="connections per client")
    parser.add_argument("--server", choices=("fast", "sim"), default="fast")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument(
        "--memory-calls", type=int, default=100_000, help="SDK calls of the memory run (0: skip)"
    )
    parser.add_argument("--memory-concurrency", type=int, default=256)
    parser.add_argument(
        "--micro-n", type=int, default=100_000, help="iterations per micro-benchmark (0: skip)"
    )
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="only cProfile N calls (c=32)"
    )
    parser.add_argument("--profile-impl", choices=IMPLS, default="sdk")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.repeats < 1 or min(args.concurrency) < 1:
        parser.error("--calls, --repeats and --concurrency must be >= 1")
    return args


async def main_async(args: argparse.Namespace, placement: Placement) -> dict[str, Any]:
    """Run everything that was asked for; the report as a JSON-ready dict."""

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    report: dict[str, Any] = {
        "environment": environment(placement, args.server),
        "settings": {
            "calls": args.calls,
            "repeats": args.repeats,
            "concurrency": args.concurrency,
            "pool_size": args.pool_size,
            "target_sdk_floor_at_32": TARGET,
            "stretch_sdk_floor_at_32": STRETCH,
        },
    }
    if args.micro_n:
        log("micro-benchmarks...")
        rows = micro(args.micro_n, 3)
        rows += await limiter_micro(args.micro_n, 3)
        report["micro"] = rows
    with server_process(args.server, placement.server_cpu) as base_url:
        log(f"server ({args.server}) at {base_url}; calls...")
        runs = await run_calls(
            base_url,
            calls=args.calls,
            repeats=args.repeats,
            concurrencies=args.concurrency,
            pool_size=args.pool_size,
            log=log,
        )
        report["runs"] = [asdict(r) | {"cpu_us_per_call": r.cpu_us_per_call} for r in runs]
        report["summary"] = summarize(runs, args.concurrency)
        if args.memory_calls:
            log(f"memory: {args.memory_calls:,} SDK calls at c={args.memory_concurrency}...")
            report["memory"] = await run_memory(
                base_url,
                calls=args.memory_calls,
                concurrency=args.memory_concurrency,
                pool_size=args.pool_size,
            )
    return report


def print_report(report: dict[str, Any]) -> None:
    """The human-readable report on stdout."""
    env = report["environment"]
    s = report["settings"]
    print(
        f"Python {env['python']}, aiohttp {env['aiohttp']}, yarl {env['yarl']}, "
        f"orjson {env['orjson']} on {env['platform']}"
    )
    print(
        f"{env['cpus']} CPU(s); client on CPU {env['client_cpu']}, server ({env['server']}) "
        f"on CPU {env['server_cpu']}; {s['calls']:,} calls x {s['repeats']} repeats per cell, "
        f"pool {s['pool_size']}; median client CPU (user+sys) per call"
    )
    print()
    print(table(report["summary"]))
    mem = report.get("memory")
    if mem is not None:
        first = mem["samples"][0]
        print()
        print(
            f"memory: {mem['calls']:,} SDK calls at c={mem['concurrency']} "
            f"({mem['seconds']:.1f} s): RSS {mem['rss_first_checkpoint_mib']:.1f} MiB after "
            f"{first['calls']:,} calls, {mem['rss_end_mib']:.1f} MiB after {mem['calls']:,} "
            f"({mem['rss_growth_mib']:+.2f} MiB); max open connections "
            f"{mem['max_open_connections']} (pool {mem['pool_size']}); slowest call "
            f"{mem['max_call_latency_s']:.2f} s"
        )
    if "micro" in report:
        print()
        print(micro_table(report["micro"]))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; write JSON and PNG under ``--results-dir``; print the report."""
    args = parse_args(argv)
    placement = plan_cpus(not args.no_pin)
    pin_to_cpu(placement.client_cpu)
    results: Path = args.results_dir
    results.mkdir(parents=True, exist_ok=True)
    if args.profile:
        prof = results / f"profile_{args.profile_impl}.prof"

        async def run_profile() -> str:
            with server_process(args.server, placement.server_cpu) as base_url:
                return await profile(
                    base_url, args.profile_impl, args.profile, 32, args.pool_size, prof
                )

        print(asyncio.run(run_profile()))
        print(f"stats saved to {prof}")
        return 0
    report = asyncio.run(main_async(args, placement))
    json_path = results / "bench_calls.json"
    png_path = results / "ratio_by_concurrency.png"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    chart(png_path, report["summary"])
    print_report(report)
    print()
    print(f"JSON: {json_path}\nchart: {png_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
