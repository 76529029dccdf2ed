"""Borrow with a margin loan, then repay it with repay-debt, on the embedded simulator.

Runs only against the simulator started here (no keys, no real money)::

    make examples        # or: python examples/borrow_repay.py

Borrows 500 USDT (``POST /papi/v1/marginLoan``), shows the loan record, then repays
the whole USDT debt with ``repay_debt(..., repay_all=True)`` and shows that the debt
is gone.  Exits 0 when it went as expected.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

from binance_papi_async import PortfolioMarginClient
from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET, PapiSimulator, demo_state

ASSET = "USDT"


async def main() -> int:
    async with (
        PapiSimulator(state=demo_state()) as sim,
        PortfolioMarginClient(DEMO_API_KEY, DEMO_API_SECRET, base_url=sim.url) as client,
    ):
        before = await client.account.balance(ASSET)
        print(f"before: free {before.cross_margin_free:f}, debt {before.cross_margin_debt:f}")

        loan = await client.margin.borrow(asset=ASSET, amount=Decimal("500"))
        records = await client.margin.loan_records(asset=ASSET, tx_id=loan.tran_id)
        assert records.rows
        row = records.rows[0]
        print(f"borrowed {row.principal} {row.asset} (tranId {loan.tran_id}, {row.status})")

        borrowed = await client.account.balance(ASSET)
        print(f"after borrow: free {borrowed.cross_margin_free:f}, debt "
              f"{borrowed.cross_margin_debt:f}")  # fmt: skip

        result = await client.margin.repay_debt(ASSET, repay_all=True)
        print(f"repay-debt: repaid {result.amount} {result.asset} (success={result.success})")

        after = await client.account.balance(ASSET)
        print(f"after repay: free {after.cross_margin_free:f}, debt {after.cross_margin_debt:f}")
        ok = after.cross_margin_debt == 0 and after.cross_margin_free == before.cross_margin_free
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
