"""The user data stream events the trading engine produces, in papi's shapes.

``ORDER_TRADE_UPDATE`` and ``ACCOUNT_UPDATE`` (UM / CM orders and positions),
``executionReport`` and ``outboundAccountPosition`` (margin orders and balances),
``CONDITIONAL_ORDER_TRADE_UPDATE`` (conditional orders) and ``liabilityChange``
(borrows and repays).  Building an event may take transaction ids from the
:class:`~.market.Market` (the ``t`` / ``I`` / ``U`` fields), whether or not a
connection receives it; the desks hand the events to :meth:`.Market.push`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..book import Order, StrategyOrder
from ..state import Account, AssetState, fmt8
from .market import Market
from .params import ZERO, plain

__all__ = ["StreamEvents"]


class StreamEvents:
    """Builds the stream events of order, position, balance and debt changes."""

    def __init__(self, market: Market) -> None:
        self._market = market

    def order_update(
        self,
        order: Order,
        x: str,
        now: int,
        last_qty: Decimal = ZERO,
        last_price: Decimal = ZERO,
        realized: Decimal = ZERO,
    ) -> dict[str, Any]:
        """``ORDER_TRADE_UPDATE`` of a UM / CM order (``x``: NEW, TRADE, CANCELED...)."""
        o: dict[str, Any] = {
            "s": order.symbol,
            "c": order.client_order_id,
            "S": order.side,
            "o": order.type,
            "f": order.time_in_force,
            "q": plain(order.quantity),
            "p": plain(order.price),
            "ap": plain(order.avg_price),
            "sp": "0",
            "x": x,
            "X": order.status,
            "i": order.order_id,
            "l": plain(last_qty),
            "z": plain(order.executed_qty),
            "L": plain(last_price),
            "T": now,
            "t": self._market.tx_id() if last_qty else 0,
            "b": "0",
            "a": "0",
            "m": False,
            "R": order.reduce_only,
            "ps": order.position_side,
            "rp": plain(realized),
            "V": order.self_trade_prevention_mode,
            "gtd": order.good_till_date,
        }
        if order.strategy_id is not None:
            o["st"] = order.strategy_type
            o["si"] = order.strategy_id
        return {"e": "ORDER_TRADE_UPDATE", "fs": order.product, "E": now, "T": now, "i": "", "o": o}

    def execution_report(
        self,
        order: Order,
        x: str,
        now: int,
        last_qty: Decimal = ZERO,
        last_price: Decimal = ZERO,
        orig_client_id: str = "",
    ) -> dict[str, Any]:
        """``executionReport`` of a margin order."""
        market = self._market
        return {
            "e": "executionReport",
            "E": now,
            "s": order.symbol,
            "c": order.client_order_id,
            "S": order.side,
            "o": order.type,
            "f": order.time_in_force,
            "q": fmt8(order.quantity),
            "p": fmt8(order.price),
            "P": fmt8(order.stop_price),
            "F": "0.00000000",
            "g": -1,
            "C": orig_client_id,
            "x": x,
            "X": order.status,
            "r": "NONE",
            "i": order.order_id,
            "l": fmt8(last_qty),
            "z": fmt8(order.executed_qty),
            "L": fmt8(last_price),
            "n": "0",
            "N": None,
            "T": now,
            "t": market.tx_id() if last_qty else -1,
            "I": market.tx_id(),
            "w": order.is_open,
            "m": False,
            "O": order.time,
            "Z": fmt8(order.cum_quote),
            "Y": fmt8(last_qty * last_price),
            "Q": "0.00000000",
            "W": order.time,
            "V": order.self_trade_prevention_mode,
        }

    def balances(self, account: Account, assets: Iterable[str], now: int) -> dict[str, Any]:
        """``outboundAccountPosition``: absolute free / locked of ``assets`` (in that order)."""
        balances = []
        for name in dict.fromkeys(assets):
            st = account.assets.get(name) or AssetState()
            balances.append({"a": name, "f": fmt8(st.free), "l": fmt8(st.locked)})
        return {
            "e": "outboundAccountPosition",
            "E": now,
            "u": now,
            "U": self._market.tx_id(),
            "B": balances,
        }

    def account_update(self, account: Account, order: Order, now: int) -> dict[str, Any]:
        """``ACCOUNT_UPDATE`` after a UM / CM fill: the wallet and the position it moved."""
        market = self._market
        book = account.book
        asset = market.margin_asset(order.product, order.symbol)
        wallet = book.wallets.get((order.product, asset), ZERO)
        pos = book.positions[(order.product, order.symbol, order.position_side)]
        mark = market.mark(order.product, order.symbol)
        return {
            "e": "ACCOUNT_UPDATE",
            "fs": order.product,
            "E": now,
            "T": now,
            "i": "",
            "a": {
                "m": "ORDER",
                "B": [{"a": asset, "wb": fmt8(wallet), "cw": fmt8(wallet), "bc": "0"}],
                "P": [
                    {
                        "s": order.symbol,
                        "pa": plain(pos.amount),
                        "ep": plain(pos.entry_price),
                        "cr": plain(pos.realized),
                        "up": fmt8(market.unrealized(order.product, order.symbol, pos, mark)),
                        "ps": order.position_side,
                        "bep": plain(pos.entry_price),
                    }
                ],
            },
        }

    @staticmethod
    def strategy_update(s: StrategyOrder, now: int) -> dict[str, Any]:
        """``CONDITIONAL_ORDER_TRADE_UPDATE`` of a conditional order."""
        so: dict[str, Any] = {
            "s": s.symbol,
            "c": s.client_strategy_id,
            "si": s.strategy_id,
            "S": s.side,
            "st": s.strategy_type,
            "f": s.time_in_force,
            "q": plain(s.quantity),
            "p": plain(s.price),
            "sp": plain(s.stop_price),
            "os": s.status,
            "T": s.book_time,
            "ut": s.update_time,
            "R": s.reduce_only,
            "wt": s.working_type,
            "ps": s.position_side,
            "cp": False,
            "V": s.self_trade_prevention_mode,
            "gtd": s.good_till_date,
        }
        if s.strategy_type == "TRAILING_STOP_MARKET":
            so["AP"] = plain(s.activate_price)
            so["cr"] = plain(s.price_rate)
        if s.order_id is not None:
            so["i"] = s.order_id
        return {
            "e": "CONDITIONAL_ORDER_TRADE_UPDATE",
            "T": now,
            "E": now,
            "fs": s.product,
            "so": so,
        }

    @staticmethod
    def liability(
        asset: str,
        kind: str,
        tx_id: int,
        principal: Decimal,
        interest: Decimal,
        left: Decimal,
        now: int,
    ) -> dict[str, Any]:
        """``liabilityChange``: ``kind`` BORROW or REPAY, amounts of this transaction, debt left."""
        return {
            "e": "liabilityChange",
            "E": now,
            "a": asset,
            "t": kind,
            "T": tx_id,
            "p": fmt8(principal),
            "i": fmt8(interest),
            "l": fmt8(left),
        }
