"""The user data stream events the trading engine produces, in papi's shapes.

``ORDER_TRADE_UPDATE`` and ``ACCOUNT_UPDATE`` (UM / CM orders, positions, wallets),
``executionReport`` and ``outboundAccountPosition`` (margin orders and balances),
``CONDITIONAL_ORDER_TRADE_UPDATE`` (CM conditional orders), ``ALGO_UPDATE`` (UM algo
orders) and ``liabilityChange`` (borrows and repays).  Building an event may take
transaction ids from the :class:`~.market.Market` (the ``I`` / ``U`` fields), whether
or not a connection receives it; the desks hand the events to :meth:`.Market.push`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..book import AlgoOrder, Order, StrategyOrder, Trade
from ..state import Account, AssetState, fmt8
from .market import Market
from .params import ZERO, plain

__all__ = ["StreamEvents"]


class StreamEvents:
    """Builds the stream events of order, position, balance and debt changes."""

    def __init__(self, market: Market) -> None:
        self._market = market

    @staticmethod
    def order_update(order: Order, x: str, now: int, fill: Trade | None = None) -> dict[str, Any]:
        """``ORDER_TRADE_UPDATE`` of a UM / CM order (``x``: NEW, TRADE, CANCELED...);
        ``fill`` is the trade of a TRADE update (commission ``n`` / ``N``, maker ``m``)."""
        last_qty = fill.qty if fill is not None else ZERO
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
            "L": plain(fill.price if fill is not None else ZERO),
            "T": now,
            "t": fill.trade_id if fill is not None else 0,
            "b": "0",
            "a": "0",
            "m": fill.maker if fill is not None else False,
            "R": order.reduce_only,
            "ps": order.position_side,
            "rp": plain(fill.realized if fill is not None else ZERO),
            "V": order.self_trade_prevention_mode,
            "gtd": order.good_till_date,
        }
        if fill is not None:
            o["N"] = fill.commission_asset
            o["n"] = plain(fill.commission)
        if order.strategy_id is not None:
            o["st"] = order.strategy_type
            o["si"] = order.strategy_id
        return {"e": "ORDER_TRADE_UPDATE", "fs": order.product, "E": now, "T": now, "i": "", "o": o}

    def execution_report(
        self,
        order: Order,
        x: str,
        now: int,
        fill: Trade | None = None,
        orig_client_id: str = "",
    ) -> dict[str, Any]:
        """``executionReport`` of a margin order (``fill``: the trade of a TRADE report)."""
        market = self._market
        last_qty = fill.qty if fill is not None else ZERO
        last_price = fill.price if fill is not None else ZERO
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
            "g": order.order_list_id,
            "C": orig_client_id,
            "x": x,
            "X": order.status,
            "r": "NONE",
            "i": order.order_id,
            "l": fmt8(last_qty),
            "z": fmt8(order.executed_qty),
            "L": fmt8(last_price),
            "n": fmt8(fill.commission) if fill is not None else "0",
            "N": fill.commission_asset if fill is not None else None,
            "T": now,
            "t": fill.trade_id if fill is not None else -1,
            "I": market.tx_id(),
            "w": order.is_open and not (order.stop_price and not order.triggered),
            "m": fill.maker if fill is not None else False,
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

    def account_update(
        self,
        account: Account,
        product: str,
        reason: str,
        now: int,
        assets: Iterable[str],
        positions: Iterable[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        """``ACCOUNT_UPDATE`` of ``product``: the wallets of ``assets`` and the positions
        ``(symbol, positionSide)`` that changed; ``reason`` (``m``): ORDER, FUNDING_FEE..."""
        market = self._market
        book = account.book
        balances = [
            {"a": a, "wb": fmt8(w), "cw": fmt8(w), "bc": "0"}
            for a in dict.fromkeys(assets)
            for w in (book.wallets.get((product, a), ZERO),)
        ]
        moved = []
        for symbol, side in positions:
            pos = book.positions[(product, symbol, side)]
            mark = market.mark(product, symbol)
            moved.append(
                {
                    "s": symbol,
                    "pa": plain(pos.amount),
                    "ep": plain(pos.entry_price),
                    "cr": plain(pos.realized),
                    "up": fmt8(market.unrealized(product, symbol, pos, mark)),
                    "ps": side,
                    "bep": plain(pos.entry_price),
                }
            )
        return {
            "e": "ACCOUNT_UPDATE",
            "fs": product,
            "E": now,
            "T": now,
            "i": "",
            "a": {"m": reason, "B": balances, "P": moved},
        }

    @staticmethod
    def algo_update(a: AlgoOrder, now: int, order: Order | None = None) -> dict[str, Any]:
        """``ALGO_UPDATE`` of a UM algo order (``order``: the order it placed, if any)."""
        ao: dict[str, Any] = {
            "caid": a.client_algo_id,
            "aid": a.algo_id,
            "at": "CONDITIONAL",
            "o": a.order_type,
            "s": a.symbol,
            "S": a.side,
            "ps": a.position_side,
            "f": a.time_in_force,
            "q": plain(a.quantity),
            "X": a.status,
            "ai": str(a.actual_order_id) if a.actual_order_id is not None else "",
            "ap": plain(order.avg_price) if order is not None else "0",
            "aq": plain(order.executed_qty) if order is not None else "0",
            "act": order.type if order is not None else "0",
            "tp": plain(a.trigger_price),
            "p": plain(a.price),
            "V": a.self_trade_prevention_mode,
            "wt": a.working_type,
            "pm": a.price_match,
            "cp": a.close_position,
            "pP": a.price_protect,
            "R": a.reduce_only,
            "tt": a.trigger_time,
            "gtd": a.good_till_date,
            "rm": a.reason,
            "ia": a.activated,
        }
        return {"e": "ALGO_UPDATE", "T": now, "E": now, "fs": "UM", "ao": ao}

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
