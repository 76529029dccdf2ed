"""`make demo`: repay Portfolio Margin debt end to end.

With no ``BINANCE_API_KEY`` (or without ``--live``) it starts the embedded papi
simulator with a seeded account that owes BNB, shows the balances, repays part
of the debt, repays the rest with ``repay_all=True`` and shows the balances again,
with the user data stream events each repay causes beside them.

Real papi is used only with ``--live`` **and** ``--asset``/``--amount`` **and**
``BINANCE_API_KEY``/``BINANCE_API_SECRET`` set: it then repays exactly that amount
of real debt once.  It never repays real debt by default, and never "repays all"
on a live account.

    make demo
    make demo ARGS="--live --asset BNB --amount 0.01"
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterable
from decimal import Decimal

from binance_papi_async import (
    AssetBalance,
    BinancePapiError,
    Budget,
    ExecutionStatusUnknown,
    PortfolioMarginClient,
)
from binance_papi_async.stream import UserStream
from binance_papi_async.stream_events import (
    LiabilityChange,
    OutboundAccountPosition,
    StreamItem,
    StreamReconnected,
)
from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET, PapiSimulator, demo_state


def balance_table(balances: Iterable[AssetBalance], title: str) -> str:
    rows = [("asset", "free", "borrowed", "interest", "debt", "wallet")]
    for b in sorted(balances, key=lambda b: b.asset):
        rows.append(
            (
                b.asset,
                f"{b.cross_margin_free:f}",
                f"{b.cross_margin_borrowed:f}",
                f"{b.cross_margin_interest:f}",
                f"{b.cross_margin_debt:f}",
                f"{b.total_wallet_balance:f}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [title]
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  " + "  ".join(cells))
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def stream_line(item: StreamItem) -> str:
    """One line per user data stream item."""
    if isinstance(item, StreamReconnected):
        return f"  stream: connected ({item.reason}); an engine resyncs from REST here"
    if isinstance(item, LiabilityChange):
        return (
            f"  stream: liabilityChange {item.asset} {item.type}: principal {item.principal:f}"
            f" + interest {item.interest:f} repaid, liability left {item.total_liability:f}"
        )
    if isinstance(item, OutboundAccountPosition):
        free = ", ".join(f"{b.asset} free {b.free:f}" for b in item.balances)
        return f"  stream: outboundAccountPosition {free}"
    return f"  stream: {type(item).__name__}"


async def stream_lines(stream: UserStream, count: int) -> str:
    """The next ``count`` stream items, one line each (5 s at most per item)."""
    items = [await asyncio.wait_for(stream.__anext__(), 5.0) for _ in range(count)]
    return "\n".join(stream_line(item) for item in items)


async def simulated() -> int:
    async with (
        PapiSimulator(api_key=DEMO_API_KEY, api_secret=DEMO_API_SECRET, state=demo_state()) as sim,
        PortfolioMarginClient(
            api_key=DEMO_API_KEY, api_secret=DEMO_API_SECRET, base_url=sim.url
        ) as client,
        UserStream(client) as stream,
    ):
        print(f"papi simulator at {sim.url} (no real money; set --live to use Binance)\n")
        print(balance_table(await client.account.balance(), "Balances before"))
        print(await stream_lines(stream, 1))

        bnb = await client.account.balance("BNB")
        print(
            f"\nBNB debt: {bnb.cross_margin_debt} (principal {bnb.cross_margin_borrowed}"
            f" + interest {bnb.cross_margin_interest})"
        )

        part = await client.margin.repay_debt("BNB", Decimal("1"), specify_repay_assets=["USDT"])
        print(
            f"repay_debt('BNB', 1, specify_repay_assets=['USDT']) -> repaid {part.amount}"
            f" {part.asset} with {list(part.specify_repay_assets)} (own BNB first)"
        )
        print(await stream_lines(stream, 2))

        ip = client.rate_limits.get(Budget.REQUEST_WEIGHT)
        if ip.used + 3000 > ip.limit:
            wait = ip.window_reset - client.clock.time()
            print(
                f"\nrepay-debt weighs 3000 of papi's {ip.limit} IP weight per minute and"
                f" {ip.used} is used: the rate limiter holds the next repay until the next"
                f" minute window ({wait:.0f} s) instead of risking a 429 ..."
            )
        rest = await client.margin.repay_debt(
            "BNB", repay_all=True, specify_repay_assets=["USDT", "BTC"]
        )
        print(
            f"repay_debt('BNB', repay_all=True, ...) -> repaid {rest.amount} {rest.asset},"
            f" success={rest.success}"
        )
        print(await stream_lines(stream, 2) + "\n")

        print(balance_table(await client.account.balance(), "Balances after"))
        snap = client.rate_limits
        print(
            "\nRate budgets this minute:",
            ", ".join(f"{b.budget.value} {b.used}/{b.limit}" for b in snap.own_budgets),
        )
    return 0


async def live(asset: str, amount: Decimal) -> int:
    async with PortfolioMarginClient() as client:
        print(balance_table([await client.account.balance(asset)], "Before"))
        try:
            result = await client.margin.repay_debt(asset, amount)
        except ExecutionStatusUnknown as exc:
            print(f"outcome unknown, check before retrying: {exc}", file=sys.stderr)
            return 2
        print(f"repaid {result.amount} {result.asset} (success={result.success})")
        print(balance_table([await client.account.balance(asset)], "After"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--live", action="store_true", help="use real papi (real money)")
    parser.add_argument("--asset", help="asset whose debt to repay (live only)")
    parser.add_argument("--amount", type=Decimal, help="amount to repay (live only)")
    args = parser.parse_args(argv)
    try:
        if not args.live:
            if os.environ.get("BINANCE_API_KEY"):
                print("BINANCE_API_KEY is set but --live was not given: using the simulator.\n")
            return asyncio.run(simulated())
        if not (os.environ.get("BINANCE_API_KEY") and os.environ.get("BINANCE_API_SECRET")):
            parser.error("--live needs BINANCE_API_KEY and BINANCE_API_SECRET")
        if not args.asset or args.amount is None:
            parser.error("--live needs --asset and --amount (it never repays everything)")
        return asyncio.run(live(args.asset, args.amount))
    except BinancePapiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
