"""Exactly-once orders on the embedded papi simulator: a lost answer, resolved by client id.

Runs only against the simulator started here (no keys, no real money)::

    python examples/exactly_once.py

Three orders lose their answer: one the simulator applied before dropping the
connection, one it never saw, and one it applied but keeps invisible to queries for a
while.  ``client.resolve`` waits out each request's recvWindow, queries by the client
id the SDK gave the order, and resends (same id) only the one that was not placed.
Simulator and client share a FakeClock, so the waits take no wall time.  Exits 0 when
every order exists exactly once.
"""

from __future__ import annotations

import asyncio
import sys
import time
from decimal import Decimal

from binance_papi_async import ExecutionStatusUnknown, FakeClock, PortfolioMarginClient
from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET, PapiSimulator, demo_state

SYMBOL = "BTCUSDT"
PATH = "/papi/v1/um/order"


async def advancing(clock: FakeClock, stop: asyncio.Event) -> None:
    """Move the shared clock on whenever something waits on it (a real engine's clock
    moves by itself)."""
    while not stop.is_set():
        await asyncio.sleep(0.001)
        if clock.pending_timers:
            clock.advance(0.5)


async def place_once(client: PortfolioMarginClient, price: str) -> str:
    """Place a LIMIT order; if its outcome is unknown, resolve it and resend if needed."""
    try:
        order = await client.um.new_order(
            symbol=SYMBOL, side="BUY", type="LIMIT", quantity=Decimal("0.01"),
            price=Decimal(price), time_in_force="GTC",
        )  # fmt: skip
        return order.client_order_id
    except ExecutionStatusUnknown as exc:
        print(f"unknown  {exc.client_order_id}: {exc.reason}")
        resolution = await client.resolve(exc)
        print(f"resolved {exc.client_order_id}: {resolution.status} ({resolution.evidence})")
        if resolution.status == "not_placed":
            resolution = await client.resolve(exc, resend=True)
            print(f"resent   {exc.client_order_id}: {resolution.status} ({resolution.evidence})")
        if resolution.status != "placed":
            raise SystemExit(f"still unknown: {resolution}") from None
        assert exc.client_order_id is not None
        return exc.client_order_id


async def main() -> int:
    clock = FakeClock(time.time())
    stop = asyncio.Event()
    async with (
        PapiSimulator(state=demo_state(), clock=clock) as sim,
        PortfolioMarginClient(
            DEMO_API_KEY, DEMO_API_SECRET, base_url=sim.url, clock=clock
        ) as client,
    ):
        mover = asyncio.create_task(advancing(clock, stop))
        sim.faults.drop(after_apply=True, path=PATH)  # applied, then the connection dropped
        ids = [await place_once(client, "50000")]
        sim.faults.drop(after_apply=False, path=PATH)  # dropped before papi saw it
        ids.append(await place_once(client, "50100"))
        sim.faults.drop(after_apply=True, path=PATH)  # applied, not yet visible to queries
        sim.faults.query_lag(10.0, path=PATH)
        ids.append(await place_once(client, "50200"))
        stop.set()
        await mover
        index = sim.exchange.market.client_ids
        counts = [len(list(index.carriers("main", "UM", cid))) for cid in ids]
        print(f"orders per client id: {counts}")
        return 0 if counts == [1, 1, 1] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
