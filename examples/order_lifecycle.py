"""Place, query, amend and cancel a UM order, on the embedded papi simulator.

Runs only against the simulator started here (no keys, no real money)::

    make examples        # or: python examples/order_lifecycle.py

The simulator's fill model (see ``binance_papi_async.testing.trading``): a LIMIT
BUY below the mark rests as NEW; the user data stream reports each change as an
``ORDER_TRADE_UPDATE``.  Exits 0 when the lifecycle went as expected.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

from binance_papi_async import OrderTradeUpdate, PortfolioMarginClient
from binance_papi_async.stream import UserStream
from binance_papi_async.stream_events import StreamReconnected
from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET, PapiSimulator, demo_state

SYMBOL = "BTCUSDT"


async def next_order_update(stream: UserStream) -> OrderTradeUpdate:
    """The next ``ORDER_TRADE_UPDATE`` of the stream (other items are skipped)."""
    while True:
        item = await asyncio.wait_for(stream.__anext__(), 5.0)
        if isinstance(item, OrderTradeUpdate):
            return item


async def main() -> int:
    async with (
        PapiSimulator(state=demo_state()) as sim,
        PortfolioMarginClient(DEMO_API_KEY, DEMO_API_SECRET, base_url=sim.url) as client,
        UserStream(client) as stream,
    ):
        assert isinstance(await asyncio.wait_for(stream.__anext__(), 5.0), StreamReconnected)
        sim.set_mark(SYMBOL, Decimal("60000"))
        placed = await client.um.new_order(
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            quantity=Decimal("0.01"),
            price=Decimal("58000"),
            time_in_force="GTC",
            new_client_order_id="lifecycle-1",
        )
        assert placed.order_id is not None
        print(f"placed   #{placed.order_id} {placed.side} {placed.orig_qty} @ {placed.price}")
        print(f"  stream: {(await next_order_update(stream)).execution_type}")

        query = await client.um.query_order(symbol=SYMBOL, orig_client_order_id="lifecycle-1")
        print(f"queried  #{query.order_id} status={query.status} filled={query.executed_qty}")

        amended = await client.um.modify_order(
            symbol=SYMBOL,
            order_id=placed.order_id,
            side="BUY",
            quantity=Decimal("0.01"),
            price=Decimal("59000"),
        )
        print(f"amended  #{amended.order_id} now @ {amended.price}")
        print(f"  stream: {(await next_order_update(stream)).execution_type}")

        canceled = await client.um.cancel_order(symbol=SYMBOL, order_id=placed.order_id)
        update = await next_order_update(stream)
        print(f"canceled #{canceled.order_id} status={canceled.status}")
        print(f"  stream: {update.execution_type} / {update.status}")

        still_open = await client.um.query_open_orders(symbol=SYMBOL)
        print(f"open orders left: {len(still_open)}")
        ok = canceled.status == "CANCELED" and update.status == "CANCELED" and not still_open
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
