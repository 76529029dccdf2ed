"""Repay a margin debt on the papi simulator and print the user data stream events it causes.

    python examples/user_stream.py

It starts the embedded simulator (no key, no real money), opens the account's user
data stream, repays 1 BNB of the seeded BNB debt with USDT, and prints what arrives:
the connection marker, then the ``liabilityChange`` and ``outboundAccountPosition``
events of the repay.  It then drops the connection on purpose to show the
``StreamReconnected`` marker that tells an engine to resync from REST.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from decimal import Decimal

from binance_papi_async import PortfolioMarginClient
from binance_papi_async.stream import UserStream
from binance_papi_async.stream_events import (
    LiabilityChange,
    OutboundAccountPosition,
    StreamItem,
    StreamOverflow,
    StreamReconnected,
)
from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET, PapiSimulator, demo_state


def describe(item: StreamItem) -> str:
    """One line per stream item."""
    if isinstance(item, StreamReconnected):
        lost = item.lost_at.isoformat() if item.lost_at is not None else "never"
        return f"StreamReconnected  reason={item.reason} lost_at={lost} -> resync from REST"
    if isinstance(item, StreamOverflow):
        return f"StreamOverflow     {item.dropped} event(s) dropped -> resync from REST"
    if isinstance(item, LiabilityChange):
        return (
            f"liabilityChange    {item.asset} {item.type}: principal {item.principal}, "
            f"interest {item.interest}, liability left {item.total_liability}"
        )
    if isinstance(item, OutboundAccountPosition):
        assets = ", ".join(f"{b.asset} free {b.free:f} locked {b.locked:f}" for b in item.balances)
        return f"outboundAccountPosition  {assets}"
    return f"{item.event_type}  {dict(item.raw)}"


async def main() -> int:
    async with (
        PapiSimulator(api_key=DEMO_API_KEY, api_secret=DEMO_API_SECRET, state=demo_state()) as sim,
        PortfolioMarginClient(DEMO_API_KEY, DEMO_API_SECRET, base_url=sim.url) as client,
        UserStream(client, reconnect_delay=0.05) as stream,
    ):
        print(f"papi simulator at {sim.url}; user data stream open\n")
        print(describe(await anext_item(stream)))

        result = await client.margin.repay_debt("BNB", Decimal("1"), specify_repay_assets=["USDT"])
        print(f"\nrepay_debt('BNB', 1, specify_repay_assets=['USDT']) -> {result.amount} repaid")
        for _ in range(2):
            print(describe(await anext_item(stream)))

        print("\nthe simulator drops the stream connection ...")
        sim.stream.drop()
        print(describe(await anext_item(stream)))
    return 0


async def anext_item(stream: UserStream) -> StreamItem:
    """The next stream item, or a timeout error after 5 s."""
    return await asyncio.wait_for(stream.__anext__(), 5.0)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="  (log) %(name)s: %(message)s")
    sys.exit(asyncio.run(main()))
