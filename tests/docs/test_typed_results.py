"""A user's script type-checks under ``mypy --strict`` without ``None`` checks.

The fields Binance always sends are typed without ``None``, and where the request picks
the answer's shape the result's type follows it.  One mypy run (in a subprocess, with a
cache of its own) checks two scripts: one a user would write, which must be clean, and
one with mistakes mypy must catch (a FULL-only field on an ACK result, a self-trade
prevention mode Binance no longer accepts, a field that may be absent used as a value).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

USER_SCRIPT = """
from datetime import datetime, timedelta
from decimal import Decimal

from binance_papi_async import PortfolioMarginClient


async def trade(client: PortfolioMarginClient) -> None:
    order = await client.um.new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", quantity=Decimal("0.01"),
        price=Decimal("58000"), time_in_force="GTC",
    )
    order_id: int = order.order_id
    status: str = order.status
    updated: datetime = order.update_time
    await client.um.cancel_order(symbol="BTCUSDT", order_id=order_id)

    balances = await client.account.balance()
    asset: str = balances[0].asset
    free: Decimal = (await client.account.balance("USDT")).cross_margin_free

    trades = await client.um.account_trade_list(symbol="BTCUSDT")
    price: Decimal = trades[0].price
    qty: Decimal = trades[0].qty

    # newOrderRespType decides the margin answer's shape: MARKET defaults to FULL ...
    full = await client.margin.new_order(
        symbol="BTCUSDT", side="BUY", type="MARKET", quantity=Decimal("0.001")
    )
    fill_price: Decimal = full.fills[0].price
    # ... a stop order to ACK, which has the ids only ...
    ack = await client.margin.new_order(
        symbol="BTCUSDT", side="SELL", type="STOP_LOSS", quantity=Decimal("0.001"),
        stop_price=Decimal("50000"),
    )
    ack_id: int = ack.order_id
    # ... and RESULT asked for gives the order's state.
    result = await client.margin.new_order(
        symbol="BTCUSDT", side="SELL", type="STOP_LOSS", quantity=Decimal("0.001"),
        stop_price=Decimal("50000"), new_order_resp_type="RESULT",
    )
    executed: Decimal = result.executed_qty

    algo = await client.um.new_algo_order(
        algo_type="CONDITIONAL", symbol="BTCUSDT", side="SELL", type="STOP_MARKET",
        trigger_price=Decimal("50000"), close_position=True,
    )
    closes: bool = algo.close_position
    algo_id: int = algo.algo_id

    download = await client.um.order_history_download_id(
        start_time=datetime(2026, 1, 1).astimezone(), end_time=datetime(2026, 2, 1).astimezone()
    )
    waited: timedelta = download.avg_cost_timestamp_of_last30d
    print(status, updated, asset, free, price, qty, fill_price, ack_id, executed, closes,
          algo_id, waited)
"""

MISTAKES = """
from decimal import Decimal

from binance_papi_async import PortfolioMarginClient


async def mistakes(client: PortfolioMarginClient) -> None:
    ack = await client.margin.new_order(
        symbol="BTCUSDT", side="SELL", type="STOP_LOSS", quantity=Decimal("1"),
        stop_price=Decimal("50000"),
    )
    print(ack.fills)  # MISTAKE: ACK has no fills
    await client.um.new_order(
        symbol="BTCUSDT", side="BUY", type="MARKET", quantity=Decimal("1"),
        self_trade_prevention_mode="NONE",  # MISTAKE: refused by Binance
    )
    order = await client.um.query_order(symbol="BTCUSDT", order_id=1)
    paid: Decimal = order.avg_price  # fine: queries always carry avgPrice
    new = await client.um.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=1)
    average: Decimal = new.avg_price  # MISTAKE: removed from new-order answers, may be None
    print(paid, average)
"""


def _mistake_lines(text: str) -> set[int]:
    return {i for i, line in enumerate(text.splitlines(), 1) if "# MISTAKE" in line}


def test_user_code_needs_no_none_checks_and_mypy_catches_the_mistakes(tmp_path: Path) -> None:
    (tmp_path / "user_script.py").write_text(textwrap.dedent(USER_SCRIPT))
    (tmp_path / "mistakes.py").write_text(textwrap.dedent(MISTAKES))
    command = [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10"]
    command += ["--cache-dir", str(tmp_path / "cache"), "--no-error-summary"]
    proc = subprocess.run(
        [*command, "user_script.py", "mistakes.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if e.startswith("user_script.py")], proc.stdout + proc.stderr
    found = {int(m.group(1)) for e in errors if (m := re.match(r"mistakes\.py:(\d+):", e))}
    assert found == _mistake_lines(textwrap.dedent(MISTAKES)), proc.stdout + proc.stderr
    assert any('"NewMarginOrderAckResponse" has no attribute "fills"' in e for e in errors)
