"""An opened client has loaded what it needs: a first order call imports nothing.

The client runs in a fresh interpreter (this one has imported everything) against the
simulator over loopback; it reports the modules each first call added to ``sys.modules``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from binance_papi_async.testing import PapiSimulator

KEY = "first-call-key-0123456789abcdef"
SECRET = "first-call-secret-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]

CLIENT = """
import asyncio, json, sys
from decimal import Decimal
from binance_papi_async import PortfolioMarginClient

async def main(url, key, secret):
    added = {}
    async with PortfolioMarginClient(key, secret, base_url=url) as client:
        calls = {
            "um.new_order": lambda: client.um.new_order(
                symbol="BTCUSDT", side="BUY", type="MARKET", quantity=Decimal("0.01")
            ),
            "margin.repay_debt": lambda: client.margin.repay_debt("BNB", Decimal("0.1")),
            "cm.new_order": lambda: client.cm.new_order(
                symbol="BTCUSD_PERP", side="BUY", type="MARKET", quantity=Decimal("1")
            ),
            "account.balance": lambda: client.account.balance("USDT"),
            "user_stream.start": lambda: client.user_stream.start(),
        }
        for name, call in calls.items():
            before = set(sys.modules)
            await call()
            added[name] = sorted(set(sys.modules) - before)
    print(json.dumps(added))

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_first_call_after_async_with_imports_no_module(sim: PapiSimulator) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENT,
        sim.url,
        KEY,
        SECRET,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    added = json.loads(out.decode().splitlines()[-1])
    names = ["um.new_order", "margin.repay_debt", "cm.new_order", "account.balance"]
    assert list(added) == [*names, "user_stream.start"]
    assert {name: modules for name, modules in added.items() if modules} == {}
