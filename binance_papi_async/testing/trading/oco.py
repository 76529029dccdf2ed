"""Margin OCO lists: a LIMIT_MAKER leg and a stop leg, where one ends the other.

Serves ``POST /papi/v1/margin/order/oco``, ``DELETE /papi/v1/margin/orderList``,
``GET /papi/v1/margin/orderList``, ``openOrderList``, ``allOrderList`` and
``DELETE /papi/v1/margin/allOpenOrders`` (plain orders and lists of a symbol).

* The legs are margin orders (:mod:`.margin`): the stop leg (STOP_LOSS at
  ``stopPrice``, or STOP_LOSS_LIMIT at ``stopLimitPrice`` with ``stopLimitTimeInForce``)
  first, then the LIMIT_MAKER leg at ``price``; both have the list's ``orderListId``.
* Prices must surround the mark (SELL: price > mark > stopPrice; BUY: price < mark <
  stopPrice), else -2010 "The relationship of the prices for the orders is not
  correct."; both legs follow the symbol's filters.
* The LIMIT_MAKER leg locks what the list may spend (BUY: quantity x the higher of its
  prices); ``sideEffectType`` MARGIN_BUY borrows a shortfall.
* When either leg fills (even partly) or its stop triggers, the other leg expires and
  the list is ``ALL_DONE``; cancelling one leg or the list cancels both.
* Client ids: ``listClientOrderId`` is unique among the account's open lists,
  ``limitClientOrderId`` / ``stopClientOrderId`` among its open margin orders (-2010
  "Duplicate order sent.").  Unknown lists: -2011 "Unknown order sent." on cancel,
  -2013 "Order list does not exist." on queries.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import SimulatedError, mandatory
from ..book import Order, OrderList
from ..routing import Call, Handler, RouteKey
from ..state import Account, fmt8
from .margin import MarginDesk
from .market import Market
from .params import ZERO, cancel_unknown, choice, in_window, integer, limit, positive, side
from .rules import check_margin
from .views import margin_order_state

__all__ = ["OcoDesk"]

_LIST_UNKNOWN = SimulatedError(400, -2013, "Order list does not exist.")
_SIDE_EFFECTS = ("NO_SIDE_EFFECT", "MARGIN_BUY", "AUTO_REPAY")


class OcoDesk:
    """Margin OCO lists (see the module documentation)."""

    def __init__(self, market: Market, margin: MarginDesk) -> None:
        self._market = market
        self._margin = margin
        margin.set_list_hook(self._on_leg)

    def routes(self) -> dict[RouteKey, Handler]:
        """The OCO routes, and the margin cancel-all (which ends lists too)."""
        return {
            ("POST", "/papi/v1/margin/order/oco"): self.new_oco,
            ("DELETE", "/papi/v1/margin/orderList"): self.cancel_list,
            ("GET", "/papi/v1/margin/orderList"): self.query_list,
            ("GET", "/papi/v1/margin/openOrderList"): self.open_lists,
            ("GET", "/papi/v1/margin/allOrderList"): self.all_lists,
            ("DELETE", "/papi/v1/margin/allOpenOrders"): self.cancel_all,
        }

    # -- views -------------------------------------------------------------------------------

    @staticmethod
    def _report(order: Order, cancel: bool, orig: str = "") -> dict[str, Any]:
        d: dict[str, Any] = {"symbol": order.symbol}
        if cancel:
            d["origClientOrderId"] = orig
        d.update(
            {
                "orderId": order.order_id,
                "orderListId": order.order_list_id,
                "clientOrderId": order.client_order_id,
            }
        )
        if not cancel:
            d["transactTime"] = order.time
        d.update(margin_order_state(order))
        if order.stop_price:
            d["stopPrice"] = fmt8(order.stop_price)
        return d

    @staticmethod
    def _list_view(lst: OrderList, legs: list[Order]) -> dict[str, Any]:
        done = not lst.is_open
        return {
            "orderListId": lst.order_list_id,
            "contingencyType": "OCO",
            "listStatusType": "ALL_DONE" if done else "EXEC_STARTED",
            "listOrderStatus": "ALL_DONE" if done else "EXECUTING",
            "listClientOrderId": lst.list_client_order_id,
            "transactionTime": lst.transaction_time,
            "symbol": lst.symbol,
            "orders": [
                {"symbol": o.symbol, "orderId": o.order_id, "clientOrderId": o.client_order_id}
                for o in legs
            ],
        }

    @staticmethod
    def _legs(account: Account, lst: OrderList) -> list[Order]:
        return [account.book.orders[i] for i in lst.order_ids]

    # -- the legs end each other -------------------------------------------------------------

    def _on_leg(self, name: str, account: Account, leg: Order, now: int) -> None:
        lst = account.book.order_lists.get(leg.order_list_id)
        if lst is None or not lst.is_open:
            return
        lst.status = "ALL_DONE"
        status = "CANCELED" if leg.status == "CANCELED" else "EXPIRED"
        for other in self._legs(account, lst):
            if other is not leg and other.is_open:
                self._margin.end(name, account, other, status, now)

    # -- new ---------------------------------------------------------------------------------

    def new_oco(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/margin/order/oco``."""
        market = self._market
        name, acc = market.caller(call, account)
        symbol = params["symbol"]
        mark = market.mark("MARGIN", symbol)
        stop_leg, limit_leg = self._legs_from(name, params, mark, call.now)
        resp_type = choice(params, "newOrderRespType", ("ACK", "RESULT"), "RESULT")
        list_id = market.tx_id()
        list_client_id = market.client_id(
            name, "MARGIN_LIST", params.get("listClientOrderId"), "listClientOrderId"
        )
        lock_price = max(limit_leg.price, stop_leg.price or stop_leg.stop_price)
        if limit_leg.side == "SELL":
            lock_price = limit_leg.price
        borrowed, asset = self._margin.fund(acc, limit_leg, lock_price, True, call.now)
        lst = OrderList(
            list_id, list_client_id, symbol, (stop_leg.order_id, limit_leg.order_id), call.now
        )
        acc.book.order_lists[list_id] = lst
        market.client_ids.register(name, "MARGIN_LIST", list_client_id, lst)
        for leg in (stop_leg, limit_leg):
            leg.order_list_id = list_id
            self._margin.submit(name, acc, leg, mark, call.now, fund=False)
        call.applied = True
        out = self._list_view(lst, [stop_leg, limit_leg])
        if borrowed:
            out["marginBuyBorrowAmount"] = fmt8(borrowed)
            out["marginBuyBorrowAsset"] = asset
        if resp_type == "RESULT":
            out["orderReports"] = [self._report(o, False) for o in (stop_leg, limit_leg)]
        return out

    def _legs_from(
        self, name: str, params: dict[str, str], mark: Decimal, now: int
    ) -> tuple[Order, Order]:
        """The stop leg and the LIMIT_MAKER leg ``params`` describe, checked."""
        market = self._market
        symbol = params["symbol"]
        order_side = side(params)
        qty = positive(params, "quantity")
        price = positive(params, "price")
        stop = positive(params, "stopPrice")
        stop_limit = positive(params, "stopLimitPrice") if params.get("stopLimitPrice") else ZERO
        tif = ""
        if stop_limit:
            tif = params.get("stopLimitTimeInForce") or ""
            if not tif:
                raise mandatory("stopLimitTimeInForce")
            tif = choice(params, "stopLimitTimeInForce", ("GTC", "IOC", "FOK"), "GTC")
        side_effect = choice(params, "sideEffectType", _SIDE_EFFECTS, "NO_SIDE_EFFECT")
        above, below = (price, stop) if order_side == "SELL" else (stop, price)
        if not below < mark < above:
            raise SimulatedError(
                400, -2010, "The relationship of the prices for the orders is not correct."
            )
        rules = market.rules("MARGIN", symbol)
        sent = {"price": price, "stopPrice": stop}
        if stop_limit:
            sent["stopLimitPrice"] = stop_limit
        check_margin(rules, qty=qty, prices=sent, notional_price=price)
        stop_id = market.client_id(
            name, "MARGIN", params.get("stopClientOrderId"), "stopClientOrderId"
        )
        limit_id = market.client_id(
            name, "MARGIN", params.get("limitClientOrderId"), "limitClientOrderId"
        )
        if stop_id == limit_id:
            raise SimulatedError(400, -2010, "Duplicate order sent.")
        common: dict[str, Any] = {
            "product": "MARGIN", "symbol": symbol, "side": order_side, "quantity": qty,
            "time": now, "update_time": now, "side_effect_type": side_effect,
        }  # fmt: skip
        stop_leg = Order(
            order_id=market.order_id(),
            client_order_id=stop_id,
            type="STOP_LOSS_LIMIT" if stop_limit else "STOP_LOSS",
            time_in_force=tif or "GTC",
            price=stop_limit,
            stop_price=stop,
            **common,
        )
        limit_leg = Order(
            order_id=market.order_id(),
            client_order_id=limit_id,
            type="LIMIT_MAKER",
            time_in_force="GTC",
            price=price,
            **common,
        )
        return stop_leg, limit_leg

    # -- cancel and queries ------------------------------------------------------------------

    def _find(
        self, name: str, account: Account, params: dict[str, str], client_param: str
    ) -> OrderList:
        list_id = integer(params, "orderListId")
        client_id = params.get(client_param)
        if list_id is None and not client_id:
            raise SimulatedError(
                400,
                -1102,
                f"Param '{client_param}' or 'orderListId' must be sent, but both were empty/null!",
            )
        if list_id is not None:
            found = account.book.order_lists.get(list_id)
        else:
            assert client_id is not None
            held = self._market.client_ids.holders(name, "MARGIN_LIST", client_id, OrderList)
            found = next(held, None)
        if found is None:
            raise _LIST_UNKNOWN
        return found

    def _cancel(self, name: str, account: Account, lst: OrderList, now: int) -> dict[str, Any]:
        lst.status = "ALL_DONE"
        legs = self._legs(account, lst)
        reports = []
        for leg in legs:
            orig = leg.client_order_id
            if leg.is_open:
                orig = self._margin.end(name, account, leg, "CANCELED", now)
            reports.append(self._report(leg, True, orig))
        return {**self._list_view(lst, legs), "orderReports": reports}

    def cancel_list(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``DELETE /papi/v1/margin/orderList``: both legs are cancelled."""
        name, acc = self._market.caller(call, account)
        try:
            lst = self._find(name, acc, params, "listClientOrderId")
        except SimulatedError as err:
            if err.code == -2013:
                raise cancel_unknown() from None
            raise
        if not lst.is_open or lst.symbol != params["symbol"]:
            raise cancel_unknown()
        call.applied = True
        return self._cancel(name, acc, lst, call.now)

    def query_list(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/orderList``."""
        name, acc = self._market.caller(call, account)
        lst = self._find(name, acc, params, "origClientOrderId")
        return self._list_view(lst, self._legs(acc, lst))

    def open_lists(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/openOrderList``."""
        _, acc = self._market.caller(call, account)
        return [
            self._list_view(lst, self._legs(acc, lst))
            for lst in acc.book.order_lists.values()
            if lst.is_open
        ]

    def all_lists(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/allOrderList``: ``fromId`` or a time window, ``limit``."""
        _, acc = self._market.caller(call, account)
        from_id = integer(params, "fromId")
        if from_id is not None and ("startTime" in params or "endTime" in params):
            raise SimulatedError(400, -1128, "Combination of optional parameters invalid.")
        most = limit(params, 500, 500)
        found = [
            lst
            for lst in acc.book.order_lists.values()
            if (from_id is None or lst.order_list_id >= from_id)
            and in_window(lst.transaction_time, params)
        ]
        return [self._list_view(lst, self._legs(acc, lst)) for lst in found[:most]]

    def cancel_all(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``DELETE /papi/v1/margin/allOpenOrders``: every plain order of the symbol (with
        ``orderListId`` -1), then every list, as on the page."""
        name, acc = self._market.caller(call, account)
        symbol = params["symbol"]
        self._market.split(symbol)
        out: list[dict[str, Any]] = []
        for order in acc.book.open_orders("MARGIN", symbol):
            if order.order_list_id == -1:
                orig = self._margin.end(name, acc, order, "CANCELED", call.now)
                out.append({**self._margin.view(order, "cancel", orig), "orderListId": -1})
        for lst in list(acc.book.order_lists.values()):
            if lst.is_open and lst.symbol == symbol:
                out.append(self._cancel(name, acc, lst, call.now))
        call.applied = True
        return out
