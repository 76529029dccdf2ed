"""Repay Portfolio Margin debt with one awaited call.

Against the local simulator (no keys, no real money)::

    python -m binance_papi_async.testing --port 8765 &
    PAPI_BASE_URL=http://127.0.0.1:8765 python examples/repay_debt.py BNB 0.1

Against Binance (moves real money; needs a key with Portfolio Margin trading)::

    BINANCE_API_KEY=... BINANCE_API_SECRET=... python examples/repay_debt.py BNB 0.1
"""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal

from binance_papi_async import BinancePapiError, ExecutionStatusUnknown, PortfolioMarginClient
from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET


async def main(asset: str, amount: Decimal, repay_assets: list[str]) -> int:
    base_url = os.environ.get("PAPI_BASE_URL", "https://papi.binance.com")
    local = base_url.startswith("http://127.0.0.1")
    key = os.environ.get("BINANCE_API_KEY", DEMO_API_KEY if local else None)
    secret = os.environ.get("BINANCE_API_SECRET", DEMO_API_SECRET if local else None)
    async with PortfolioMarginClient(api_key=key, api_secret=secret, base_url=base_url) as client:
        try:
            result = await client.margin.repay_debt(
                asset, amount, specify_repay_assets=repay_assets or None
            )
        except ExecutionStatusUnknown as exc:
            print(f"outcome unknown, check balances before retrying: {exc}", file=sys.stderr)
            return 2
        except BinancePapiError as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1
        print(
            f"repaid {result.amount} {result.asset} using {', '.join(result.specify_repay_assets)}"
            f" at {result.update_time:%Y-%m-%d %H:%M:%S} UTC (success={result.success})"
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: repay_debt.py ASSET AMOUNT [REPAY_ASSET ...]")
    sys.exit(asyncio.run(main(sys.argv[1], Decimal(sys.argv[2]), sys.argv[3:])))
