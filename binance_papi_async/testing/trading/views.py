"""Orders and conditional orders as papi prints them (the REST answers' JSON shapes).

Pure functions of the book's dataclasses (:mod:`..book`): the desks call them to
answer new / modify / cancel / query requests.  UM / CM new, modify and cancel
answers carry no ``cumQuote`` / ``cumBase`` / ``avgPrice`` (Binance removed them);
queries still do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..book import Order, StrategyOrder, Trade
from ..state import fmt8
from .params import plain

__all__ = ["futures_order", "margin_order", "margin_order_state", "strategy"]

#: The ``accountId`` margin order queries carry.
_ACCOUNT_ID = 152_950_866


def futures_order(order: Order, kind: str) -> dict[str, Any]:
    """A UM / CM order: ``kind`` is ``new``, ``modify``, ``cancel`` or ``query``."""
    d: dict[str, Any] = {
        "clientOrderId": order.client_order_id,
        "cumQty": plain(order.executed_qty),
        "executedQty": plain(order.executed_qty),
        "orderId": order.order_id,
        "origQty": plain(order.quantity),
        "price": plain(order.price),
        "reduceOnly": order.reduce_only,
        "side": order.side,
        "positionSide": order.position_side,
        "status": order.status,
        "symbol": order.symbol,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "updateTime": order.update_time,
    }
    if order.product == "CM":
        d["pair"] = order.symbol.split("_", 1)[0]
    else:
        d["selfTradePreventionMode"] = order.self_trade_prevention_mode
        d["goodTillDate"] = order.good_till_date
        d["priceMatch"] = order.price_match
    if kind in ("modify", "query"):
        d["origType"] = order.orig_type or order.type
    if kind == "query":
        del d["cumQty"]
        d["avgPrice"] = plain(order.avg_price)
        if order.product == "CM":
            d["cumBase"] = plain(order.cum_base)
        else:
            d["cumQuote"] = plain(order.cum_quote)
        d["time"] = order.time
    return d


def strategy(s: StrategyOrder, kind: str, order: Order | None = None) -> dict[str, Any]:
    """A conditional order: ``kind`` is ``new`` or ``history``.

    ``history`` adds the order it placed once triggered (``orderId``, ``type``) and
    reports that order's status (``order``, when given) instead of the strategy's.
    """
    d: dict[str, Any] = {
        "newClientStrategyId": s.client_strategy_id,
        "strategyId": s.strategy_id,
        "strategyStatus": s.status,
        "strategyType": s.strategy_type,
        "origQty": plain(s.quantity),
        "price": plain(s.price),
        "reduceOnly": s.reduce_only,
        "side": s.side,
        "positionSide": s.position_side,
        "stopPrice": plain(s.stop_price),
        "symbol": s.symbol,
        "timeInForce": s.time_in_force,
        "activatePrice": plain(s.activate_price),
        "priceRate": plain(s.price_rate),
        "bookTime": s.book_time,
        "updateTime": s.update_time,
        "workingType": s.working_type,
        "priceProtect": s.price_protect,
    }
    if s.product == "UM":
        d["selfTradePreventionMode"] = s.self_trade_prevention_mode
        d["goodTillDate"] = s.good_till_date
        d["priceMatch"] = s.price_match
    else:
        d["pair"] = s.symbol.split("_", 1)[0]
    if kind == "history":
        d["priceMatch"] = s.price_match  # the CM history pages show it too
        d["orderId"] = s.order_id or 0
        d["triggerTime"] = s.trigger_time
        d["type"] = "MARKET" if s.strategy_type.endswith("MARKET") else "LIMIT"
        d["status"] = order.status if order is not None else s.status
    return d


def margin_order_state(order: Order) -> dict[str, Any]:
    """The fields of a margin order's state in its RESULT/FULL, cancel and OCO answers."""
    return {
        "price": fmt8(order.price),
        "origQty": fmt8(order.quantity),
        "executedQty": fmt8(order.executed_qty),
        "cummulativeQuoteQty": fmt8(order.cum_quote),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
    }


def margin_order(
    order: Order, kind: str, *, orig_client_id: str = "", fills: Sequence[Trade] = ()
) -> dict[str, Any]:
    """A margin order: ``kind`` is ``ACK``, ``RESULT``, ``FULL``, ``cancel`` or ``query``.

    ``orig_client_id`` is the client id before a cancel; ``fills`` the trades of a
    ``FULL`` answer.
    """
    if kind == "query":
        return _margin_query(order)
    if kind == "cancel":
        d: dict[str, Any] = {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "origClientOrderId": orig_client_id,
            "clientOrderId": order.client_order_id,
            **margin_order_state(order),
        }
        if order.stop_price:
            d["stopPrice"] = fmt8(order.stop_price)
        return d
    d = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "clientOrderId": order.client_order_id,
        "transactTime": order.time,
    }
    if kind == "ACK":
        return d
    d.update(margin_order_state(order))
    if kind == "FULL":
        d["fills"] = [
            {
                "price": fmt8(t.price),
                "qty": fmt8(t.qty),
                "commission": fmt8(t.commission),
                "commissionAsset": t.commission_asset,
            }
            for t in fills
        ]
    return d


def _margin_query(order: Order) -> dict[str, Any]:
    return {
        "clientOrderId": order.client_order_id,
        "cummulativeQuoteQty": fmt8(order.cum_quote),
        "executedQty": fmt8(order.executed_qty),
        "icebergQty": "0.00000000",
        "isWorking": order.is_open and (not order.stop_price or order.triggered),
        "orderId": order.order_id,
        "origQty": fmt8(order.quantity),
        "price": fmt8(order.price),
        "side": order.side,
        "status": order.status,
        "stopPrice": fmt8(order.stop_price),
        "symbol": order.symbol,
        "time": order.time,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "updateTime": order.update_time,
        "accountId": _ACCOUNT_ID,
        "selfTradePreventionMode": order.self_trade_prevention_mode,
        "preventedMatchId": None,
        "preventedQuantity": None,
    }
