"""Micro-benchmarks: signing, encoding, argument checks, URL, parsing and the rate limiter,
per operation, the SDK's way beside the floor's and the hand-optimised client's.

Two cases time private functions of the package (the transport's URL builder and
``repay_debt``'s argument checks), imported from where they live.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import hashlib
import hmac
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp.helpers
import bench_limiter
import orjson
from bench_clients import AMOUNT, ASSET, HUGE, PATH, REPAY_ASSETS
from multidict import CIMultiDict, CIMultiDictProxy
from papi_server import API_SECRET, REPAY_BODY, Orders
from yarl import URL

from binance_papi_async._http.url import BaseUrl
from binance_papi_async._params import check_asset, check_assets, positive_decimal_wire
from binance_papi_async.endpoints import REPAY_DEBT, Budget
from binance_papi_async.models import RepayDebtResult
from binance_papi_async.models_generated import NewUmOrderResponse
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter
from binance_papi_async.signing import HmacSigner, encode_params


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


Case = tuple[str, str, Callable[[], object]]  # group, name, function


def request_cases() -> list[Case]:
    """Signing, encoding, argument checks and the URL of the repay-debt call."""
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
    base = BaseUrl("http://127.0.0.1:8000")

    def sdk_checks() -> object:
        # What repay_debt does with its arguments: checks, wire strings and the query.
        asset = check_asset(ASSET)
        wire = positive_decimal_wire(amount, "amount")
        assets = check_assets(repay_assets, "specify_repay_assets")
        return encode_params({"asset": asset, "amount": wire, "specifyRepayAssets": assets})

    def f_string() -> str:
        return (
            f"asset={ASSET}&amount={AMOUNT}&specifyRepayAssets=USDT%2CBTC"
            f"&timestamp={int(time.time() * 1000)}"
        )

    def from_parts() -> object:
        return base.url(PATH, next_query())

    def build() -> URL:
        return URL.build(
            scheme="http",
            authority="127.0.0.1:8000",
            path=PATH,
            query_string=next_query(),
            encoded=True,
        )

    return [
        ("sign", "HmacSigner.sign (key state copied; SDK)", lambda: signer.sign(payload)),
        (
            "sign",
            "hmac.new(...).hexdigest() per call (floor)",
            lambda: hmac.new(secret, payload, hashlib.sha256).hexdigest(),
        ),
        ("encode", "encode_params, 4 params (SDK)", lambda: encode_params(params)),
        ("encode", "urllib.parse.urlencode, 4 params (floor)", lambda: urlencode(params)),
        ("encode", "f-string query with timestamp (hand-opt)", f_string),
        (
            "checks",
            "repay_debt argument checks and its encoded query (SDK)",
            sdk_checks,
        ),
        ("url", "yarl.URL(str) (floor)", lambda: URL(next_url())),
        ("url", "yarl.URL(str, encoded=True) (hand-opt)", lambda: URL(next_url(), encoded=True)),
        ("url", "yarl.URL.build(..., encoded=True) from parts", build),
        (
            "url",
            "URL from parts, as the transport makes it (SDK)",
            from_parts,
        ),
    ]


def parse_cases() -> list[Case]:
    """Decoding the answers: JSON alone (floor, hand-written) or into the SDK's types."""
    _, order_body = Orders().place(
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.002",
            "price": "30000",
            "newClientOrderId": "bench-1",
        }
    )
    return [
        ("parse", "orjson.loads, repay-debt (floor, hand-opt)", lambda: orjson.loads(REPAY_BODY)),
        (
            "parse",
            "orjson.loads + RepayDebtResult.from_json (SDK)",
            lambda: RepayDebtResult.from_json(orjson.loads(REPAY_BODY)),
        ),
        ("parse", "orjson.loads, a new UM order (hand-written)", lambda: orjson.loads(order_body)),
        (
            "parse",
            "orjson.loads + NewUmOrderResponse.from_json (SDK)",
            lambda: NewUmOrderResponse.from_json(orjson.loads(order_body)),
        ),
    ]


def micro(n: int, repeats: int) -> list[dict[str, Any]]:
    """Every case of :func:`request_cases` and :func:`parse_cases`, µs per operation."""
    return [
        {
            "group": group,
            "name": name,
            "n": n,
            "us_per_op": per_op_us(fn, n, repeats),
        }
        for group, name, fn in request_cases() + parse_cases()
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


async def timer_micro(n: int, repeats: int) -> list[dict[str, Any]]:
    """What a per-request timer costs the running event loop, above one loop iteration.

    With 32 requests in flight: ``loop.call_at`` + ``cancel`` (asyncio keeps timers in a
    heap of Python objects compared by ``TimerHandle.__lt__``, uvloop in libuv), and
    aiohttp's whole total-timeout machinery per request (its ``TimeoutHandle``, the
    ``TimerContext`` entered for the request and for two reads of the answer, the timer).
    """
    loop = asyncio.get_running_loop()
    timeout_handle: Any = getattr(aiohttp.helpers, "TimeoutHandle", None)

    def noop() -> None:
        pass

    async def iterations(kind: str) -> float:
        pending: collections.deque[asyncio.TimerHandle | None] = collections.deque()
        start = time.perf_counter()
        for _ in range(n):
            if kind == "call_at":
                pending.append(loop.call_at(math.ceil(loop.time() + 60), noop))
            elif kind == "aiohttp":
                handle = timeout_handle(loop, 60, ceil_threshold=5)
                pending.append(handle.start())
                timer = handle.timer()
                for _ in range(3):
                    with timer:
                        pass
            if len(pending) > 32:
                timer_handle = pending.popleft()
                if timer_handle is not None:
                    timer_handle.cancel()
            await asyncio.sleep(0)
        for timer_handle in pending:
            if timer_handle is not None:
                timer_handle.cancel()
        return (time.perf_counter() - start) / n * 1e6

    async def best(kind: str) -> float:
        runs = []
        for _ in range(repeats):
            gc.collect()
            runs.append(await iterations(kind))
        return min(runs)

    base = await best("none")
    name = "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
    rows = [
        (f"{name}: one loop iteration (await asyncio.sleep(0))", base),
        (f"{name}: + loop.call_at + cancel, 32 pending", await best("call_at") - base),
    ]
    if timeout_handle is not None:
        rows.append(
            (f"{name}: + aiohttp's total timeout per request", await best("aiohttp") - base)
        )
    return [{"group": "timer", "name": label, "n": n, "us_per_op": us} for label, us in rows]
