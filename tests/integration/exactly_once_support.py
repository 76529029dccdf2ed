"""What the exactly-once tests share: a simulator and a client on one FakeClock, the
order-placing calls of every kind, and the simulator's count of orders by client id."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from binance_papi_async import FakeClock, PortfolioMarginClient, Timeouts
from binance_papi_async.testing import PapiSimulator, demo_state

from ..conftest import BIG_LIMITS

KEY = "exactly-once-key-0123456789abcdef"
SECRET = "exactly-once-secret-0123456789abcdef"
UM, CM, MARGIN = "BTCUSDT", "BTCUSD_PERP", "BTCUSDT"
D = Decimal
T = TypeVar("T")


@asynccontextmanager
async def setup(
    **client_options: Any,
) -> AsyncIterator[tuple[PapiSimulator, PortfolioMarginClient, FakeClock]]:
    """A simulator and a client that read one FakeClock: waiting out a recvWindow is
    advancing it, never sleeping."""
    clock = FakeClock(time.time())
    async with (
        PapiSimulator(
            api_key=KEY,
            api_secret=SECRET,
            state=demo_state(),
            clock=clock,
            ip_weight_limit=10_000_000,
        ) as sim,
        PortfolioMarginClient(
            KEY,
            SECRET,
            base_url=sim.url,
            clock=clock,
            rate_limits=BIG_LIMITS,
            timeouts=Timeouts(total=2.0, connect=1.0),
            **client_options,
        ) as client,
    ):
        yield sim, client, clock


async def on_clock(clock: FakeClock, awaitable: Awaitable[T], step: float = 0.5) -> T:
    """Await ``awaitable``, moving ``clock`` on by ``step`` whenever something waits on it
    (the resolver waiting out a recvWindow) and nothing else is left to do."""
    task = asyncio.ensure_future(awaitable)
    while not task.done():
        await asyncio.sleep(0.001)  # the loopback I/O in flight, if any, goes on
        if not task.done() and clock.pending_timers:
            clock.advance(step)
    return task.result()


@dataclass(frozen=True)
class Placing:
    """One order-placing endpoint: its path, how to place, the simulator's id index."""

    name: str
    path: str
    kind: str  # the simulator's client-id index (UM, CM, MARGIN, UM_ALGO, ...)
    place: Callable[[PortfolioMarginClient], Awaitable[Any]]


PLACING = [
    Placing(
        "um order",
        "/papi/v1/um/order",
        "UM",
        lambda c: c.um.new_order(
            symbol=UM,
            side="BUY",
            type="LIMIT",
            quantity=D("0.01"),
            price=D("50000"),
            time_in_force="GTC",
        ),
    ),
    Placing(
        "cm order",
        "/papi/v1/cm/order",
        "CM",
        lambda c: c.cm.new_order(
            symbol=CM,
            side="BUY",
            type="LIMIT",
            quantity=D("1"),
            price=D("50000"),
            time_in_force="GTC",
        ),
    ),
    Placing(
        "margin order",
        "/papi/v1/margin/order",
        "MARGIN",
        lambda c: c.margin.new_order(
            symbol=MARGIN,
            side="BUY",
            type="LIMIT",
            quantity=D("0.001"),
            price=D("50000"),
            time_in_force="GTC",
        ),
    ),
    Placing(
        "margin oco",
        "/papi/v1/margin/order/oco",
        "MARGIN_LIST",
        lambda c: c.margin.new_oco(
            symbol=MARGIN,
            side="SELL",
            quantity=D("0.001"),
            price=D("62000"),
            stop_price=D("58000"),
        ),
    ),
    Placing(
        "um algo order",
        "/papi/v1/um/algo/order",
        "UM_ALGO",
        lambda c: c.um.new_algo_order(
            algo_type="CONDITIONAL",
            symbol=UM,
            side="BUY",
            type="STOP_MARKET",
            quantity=D("0.01"),
            trigger_price=D("70000"),
        ),
    ),
    Placing(
        "cm conditional order",
        "/papi/v1/cm/conditional/order",
        "CM_STRATEGY",
        lambda c: c.cm.new_conditional_order(
            symbol=CM,
            side="BUY",
            strategy_type="STOP_MARKET",
            quantity=D("1"),
            stop_price=D("70000"),
        ),
    ),
]


def holders(sim: PapiSimulator, kind: str, client_id: str) -> list[Any]:
    """Every order (algo order, strategy, list) the simulator ever booked under the id."""
    return list(sim.exchange.market.client_ids.carriers("main", kind, client_id))
