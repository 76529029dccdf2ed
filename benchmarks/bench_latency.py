"""Added latency of order entry: the SDK's ``um.new_order`` / ``um.cancel_order`` against
the same two calls hand-written on aiohttp.

What an engine feels is the time from calling ``new_order`` to having its answer, not
the CPU per call.  Both clients place a resting order
(``BTCUSDT BUY LIMIT GTC 0.002 @ 30000``, a fresh ``newClientOrderId`` each time) and
cancel it by its ``orderId``, over one pool of ``pool_size`` connections to the same
server, signed the same way (HMAC-SHA256 of the query, the parameters in the same
order):

* ``hand``: what anyone writes on aiohttp: a params dict, ``urlencode``, ``hmac.new``
  per call, the URL as a string, ``orjson.loads``, the HTTP status checked;
* ``sdk``: ``await client.um.new_order(...)`` and ``await client.um.cancel_order(...)``
  (argument checks, the rate limiter on with its limits raised, the typed result).

At each concurrency, ``concurrency`` tasks each place an order, cancel it, and go on
until ``pairs`` orders were placed and cancelled (or ``cap_s`` seconds passed); every
call's latency is ``time.perf_counter_ns()`` around its ``await``.  The clients take
turns in a rotating order within a repeat, after a warm-up that opens the connections.
Reported: p50 and p99 in microseconds of each call over all repeats, and the SDK's
added latency (SDK - hand-written): the difference of those, and the median over repeats
of the per-repeat differences ("paired", steadier on a shared machine).  At concurrency
32 a call also waits for the 31 others in flight, so a difference of CPU per call shows
there about 32 times over.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import hmac
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp
import orjson
from bench_clients import sdk_client
from papi_server import API_KEY, API_SECRET

from binance_papi_async.models_generated import CancelUmOrderResponse, NewUmOrderResponse

ORDER_PATH = "/papi/v1/um/order"
SYMBOL = "BTCUSDT"
QUANTITY = "0.002"
PRICE = "30000"  # far below the market: the order rests until cancelled
IMPLS = ("hand", "sdk")
OPS = ("new_order", "cancel_order")
CAP_S = 60.0  # no run lasts longer, whatever the count


class OrderClient(Protocol):
    """Places and cancels one order; ``order_id`` reads the placement's answer."""

    @property
    def place(self) -> Callable[..., Awaitable[Any]]:
        """``place(new_client_order_id=...)``: the placement's answer."""

    @property
    def cancel(self) -> Callable[..., Awaitable[Any]]:
        """``cancel(order_id=...)``: the cancellation's answer."""

    def order_id(self, answer: Any) -> int: ...

    def status(self, answer: Any) -> str | None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class HandOrders:
    """The two calls hand-written on aiohttp, urlencode, hmac and orjson."""

    def __init__(self, base_url: str, pool_size: int) -> None:
        self.url = f"{base_url}{ORDER_PATH}"
        self.pool_size = pool_size
        self.secret = API_SECRET.encode()
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the one session (a pool of ``pool_size`` connections)."""
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.pool_size))

    async def _signed(self, method: str, params: dict[str, str]) -> Any:
        """Send one signed call; the decoded JSON of a 200 answer."""
        assert self.session is not None
        params["timestamp"] = str(int(time.time() * 1000))
        query = urlencode(params)
        signature = hmac.new(self.secret, query.encode(), hashlib.sha256).hexdigest()
        async with self.session.request(
            method, f"{self.url}?{query}&signature={signature}", headers={"X-MBX-APIKEY": API_KEY}
        ) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"hand: {method} HTTP {resp.status}: {body[:200]!r}")
        return orjson.loads(body)

    async def place(self, *, new_client_order_id: str) -> Any:
        """``POST /papi/v1/um/order``: the parameters in the order the SDK sends them."""
        params = {
            "symbol": SYMBOL,
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": QUANTITY,
            "price": PRICE,
            "newClientOrderId": new_client_order_id,
        }
        return await self._signed("POST", params)

    async def cancel(self, *, order_id: int) -> Any:
        """``DELETE /papi/v1/um/order`` by ``orderId``."""
        return await self._signed("DELETE", {"symbol": SYMBOL, "orderId": str(order_id)})

    def order_id(self, answer: Any) -> int:
        """The ``orderId`` of a placement's answer."""
        return int(answer["orderId"])

    def status(self, answer: Any) -> str | None:
        """The order status an answer reports."""
        value = answer.get("status")
        return value if isinstance(value, str) else None

    async def close(self) -> None:
        """Close the session."""
        if self.session is not None:
            await self.session.close()


class SdkOrders:
    """The SDK's own coroutines, awaited with no wrapper of ours around them."""

    def __init__(self, base_url: str, pool_size: int) -> None:
        self.client = sdk_client(base_url, pool_size)
        self.place = functools.partial(
            self.client.um.new_order,
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            time_in_force="GTC",
            quantity=Decimal(QUANTITY),
            price=Decimal(PRICE),
        )
        self.cancel = functools.partial(self.client.um.cancel_order, symbol=SYMBOL)

    async def start(self) -> None:
        """Nothing to do: the SDK opens its pool on first use."""

    def order_id(self, answer: Any) -> int:
        """The ``order_id`` of a :class:`NewUmOrderResponse`."""
        assert isinstance(answer, NewUmOrderResponse)
        assert answer.order_id is not None
        return answer.order_id

    def status(self, answer: Any) -> str | None:
        """The order status a typed answer reports."""
        assert isinstance(answer, NewUmOrderResponse | CancelUmOrderResponse)
        status: str | None = answer.status
        return status

    async def close(self) -> None:
        """Close the client."""
        await self.client.aclose()


def make_order_client(impl: str, base_url: str, pool_size: int) -> OrderClient:
    """The order client called ``impl`` (one of :data:`IMPLS`)."""
    if impl == "hand":
        return HandOrders(base_url, pool_size)
    if impl == "sdk":
        return SdkOrders(base_url, pool_size)
    raise ValueError(impl)


_client_ids = itertools.count(1)


async def check_orders(impl: str, client: OrderClient) -> None:
    """One order placed and cancelled, both answers read: the server and client agree."""
    placed = await client.place(new_client_order_id=f"bench-check-{next(_client_ids)}")
    canceled = await client.cancel(order_id=client.order_id(placed))
    if client.status(placed) != "NEW" or client.status(canceled) != "CANCELED":
        raise RuntimeError(f"{impl}: unexpected answers {placed!r}, {canceled!r}")


async def order_cycles(
    client: OrderClient, pairs: int, concurrency: int, cap_s: float = CAP_S
) -> dict[str, list[float]]:
    """``pairs`` place-then-cancel cycles by ``concurrency`` tasks; latencies in µs by op."""
    samples: dict[str, list[float]] = {op: [] for op in OPS}
    placed_us, canceled_us = samples["new_order"], samples["cancel_order"]
    place, cancel, order_id = client.place, client.cancel, client.order_id
    remaining = pairs
    stop_at = time.perf_counter() + cap_s
    clock = time.perf_counter_ns

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < stop_at:
            remaining -= 1
            client_id = f"bench-{next(_client_ids)}"
            t0 = clock()
            answer = await place(new_client_order_id=client_id)
            t1 = clock()
            await cancel(order_id=order_id(answer))
            t2 = clock()
            placed_us.append((t1 - t0) / 1000)
            canceled_us.append((t2 - t1) / 1000)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, pairs))))
    return samples


#: samples[concurrency][impl][op]: the latencies (µs) of one repeat.
Samples = dict[int, dict[str, dict[str, list[float]]]]


async def latency_repeat(
    base_url: str,
    *,
    repeat: int,
    pairs: int,
    concurrencies: Sequence[int],
    pool_size: int,
    log: Callable[[str], None],
) -> Samples:
    """One repeat: at each concurrency, both clients in turn (a rotating order)."""
    clients = {impl: make_order_client(impl, base_url, pool_size) for impl in IMPLS}
    samples: Samples = {c: {} for c in concurrencies}
    try:
        for impl, client in clients.items():
            await client.start()
            await check_orders(impl, client)
        for index, concurrency in enumerate(concurrencies):
            shift = (repeat + index) % len(IMPLS)
            for impl in IMPLS[shift:] + IMPLS[:shift]:
                client = clients[impl]
                await order_cycles(client, min(pairs, max(50, 2 * concurrency)), concurrency)
                gc.collect()
                run = samples[concurrency][impl] = await order_cycles(client, pairs, concurrency)
                log(
                    f"  latency  c={concurrency:<4} {impl:<8} new_order p50 "
                    f"{percentile(run['new_order'], 50):7.0f} µs, cancel_order p50 "
                    f"{percentile(run['cancel_order'], 50):7.0f} µs"
                )
    finally:
        for client in clients.values():
            await client.close()
    return samples


def summarize_latency(
    repeats: Sequence[Samples], concurrencies: Sequence[int], pairs: int
) -> dict[str, Any]:
    """p50 and p99 over all repeats by concurrency and call, and the SDK's added latency."""
    rows = []
    for concurrency in concurrencies:
        for op in OPS:
            row: dict[str, Any] = {"concurrency": concurrency, "op": op}
            for impl in IMPLS:
                runs = [samples[concurrency][impl][op] for samples in repeats]
                pooled = [value for run in runs for value in run]
                row[impl] = {
                    "p50_us": percentile(pooled, 50),
                    "p99_us": percentile(pooled, 99),
                    "calls": len(pooled),
                    "p50_us_by_repeat": [percentile(run, 50) for run in runs],
                    "p99_us_by_repeat": [percentile(run, 99) for run in runs],
                }
            for q in ("p50", "p99"):
                sdk, hand = row["sdk"], row["hand"]
                row[f"added_{q}_us"] = sdk[f"{q}_us"] - hand[f"{q}_us"]
                # Paired by repeat (the two runs of a repeat are back to back): the median
                # of the differences cancels the drifts of a shared machine between repeats.
                row[f"added_{q}_us_paired"] = statistics.median(
                    a - b
                    for a, b in zip(
                        sdk[f"{q}_us_by_repeat"], hand[f"{q}_us_by_repeat"], strict=True
                    )
                )
            rows.append(row)
    return {"pairs_per_run": pairs, "repeats": len(repeats), "rows": rows}


def percentile(values: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (1..99) of ``values``, interpolated between samples."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def latency_table(latency: dict[str, Any]) -> str:
    """The latency comparison as a text table."""
    head = (
        f"{'concurrency':>11} {'call':<13} | {'hand p50':>9} {'SDK p50':>9} {'added':>7} "
        f"{'paired':>7} | {'hand p99':>9} {'SDK p99':>9} {'added':>7} {'paired':>7}"
    )
    lines = [head, "-" * len(head)]
    for row in latency["rows"]:
        hand, sdk = row["hand"], row["sdk"]
        lines.append(
            f"{row['concurrency']:>11} {row['op']:<13} | {hand['p50_us']:>9.0f} "
            f"{sdk['p50_us']:>9.0f} {row['added_p50_us']:>+7.0f} "
            f"{row['added_p50_us_paired']:>+7.0f} | {hand['p99_us']:>9.0f} "
            f"{sdk['p99_us']:>9.0f} {row['added_p99_us']:>+7.0f} "
            f"{row['added_p99_us_paired']:>+7.0f}"
        )
    return "\n".join(lines)
