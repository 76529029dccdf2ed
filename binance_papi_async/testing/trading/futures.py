"""UM and CM orders, and the positions their fills move.

Serves ``/papi/v1/{um,cm}/order`` (new, modify, cancel, query), ``openOrder``,
``openOrders``, ``allOrders`` and ``allOpenOrders``, once per product.  The fill
model is in :mod:`.trading`: MARKET and marketable LIMIT orders fill at once at the
mark, others rest until :meth:`FuturesDesk.fill` is called for them on a mark move;
fills change the position of ``(product, symbol, positionSide)`` and realize PnL
into the product's wallet.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import SimulatedError, invalid, mandatory
from ..book import Order, Position
from ..routing import Call, Handler, RouteKey
from ..state import Account
from . import views
from .events import StreamEvents
from .market import Market, bind
from .params import (
    ZERO,
    cancel_unknown,
    choice,
    flag,
    in_window,
    integer,
    limit,
    positive,
    side,
    unknown_order,
)

__all__ = ["FUTURES_TIF", "POSITION_SIDES", "FuturesDesk"]

POSITION_SIDES = ("BOTH", "LONG", "SHORT")
FUTURES_TIF = ("GTC", "IOC", "FOK", "GTX", "GTD")
_CANCEL_ALL_MSG = "The operation of cancel all open order is done."


class FuturesDesk:
    """UM / CM orders and positions (see the module documentation)."""

    def __init__(self, market: Market, events: StreamEvents) -> None:
        self._market = market
        self._events = events

    def routes(self) -> dict[RouteKey, Handler]:
        """The order routes of both products, by ``(method, path)``."""
        routes: dict[RouteKey, Handler] = {}
        for product, prefix in (("UM", "/papi/v1/um"), ("CM", "/papi/v1/cm")):
            routes.update(
                {
                    ("POST", f"{prefix}/order"): bind(self.new_order, product),
                    ("PUT", f"{prefix}/order"): bind(self.modify_order, product),
                    ("DELETE", f"{prefix}/order"): bind(self.cancel_order, product),
                    ("GET", f"{prefix}/order"): bind(self.query_order, product),
                    ("GET", f"{prefix}/openOrder"): bind(self.query_open_order, product),
                    ("GET", f"{prefix}/openOrders"): bind(self.open_orders, product),
                    ("GET", f"{prefix}/allOrders"): bind(self.all_orders, product),
                    ("DELETE", f"{prefix}/allOpenOrders"): bind(self.cancel_all, product),
                }
            )
        return routes

    # -- fills and positions -----------------------------------------------------------------

    def apply_fill(
        self, account: Account, order: Order, qty: Decimal, price: Decimal, now: int
    ) -> Decimal:
        """Move the position; return the realized PnL (credited to the product's wallet)."""
        market = self._market
        book = account.book
        key = (order.product, order.symbol, order.position_side)
        pos = book.positions.setdefault(key, Position())
        signed = qty if order.side == "BUY" else -qty
        realized = ZERO
        if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
            total = abs(pos.amount) + qty
            pos.entry_price = (abs(pos.amount) * pos.entry_price + qty * price) / total
            pos.amount += signed
        else:
            closing = min(abs(pos.amount), qty)
            direction = 1 if pos.amount > 0 else -1
            if order.product == "CM":
                size = market.contract_size(order.symbol)
                realized = closing * size * (1 / pos.entry_price - 1 / price) * direction
            else:
                realized = (price - pos.entry_price) * closing * direction
            pos.amount += signed
            if pos.amount == 0:
                pos.entry_price = ZERO
            elif (pos.amount > 0) != (direction > 0):
                pos.entry_price = price  # flipped: the rest opened at this price
        pos.realized += realized
        pos.update_time = now
        wallet_key = (order.product, market.margin_asset(order.product, order.symbol))
        book.wallets[wallet_key] = book.wallets.get(wallet_key, ZERO) + realized
        order.executed_qty += qty
        order.cum_quote += qty * price
        if order.product == "CM":
            order.cum_base += qty * market.contract_size(order.symbol) / price
        order.status = "FILLED"
        order.update_time = now
        return realized

    def fill(self, name: str, account: Account, order: Order, price: Decimal, now: int) -> None:
        """Fill the rest of ``order`` at ``price``; push the trade and the account update."""
        qty = order.quantity - order.executed_qty
        realized = self.apply_fill(account, order, qty, price, now)
        self._market.push(
            name,
            (
                self._events.order_update(order, "TRADE", now, qty, price, realized),
                self._events.account_update(account, order, now),
            ),
        )

    def place(self, name: str, account: Account, order: Order, now: int) -> None:
        """Book ``order`` (status NEW), then fill or expire it per the fill model.

        As on Binance, a post-only (GTX) order that would take and a FOK order that cannot
        fill at once are rejected (-5022 / -5021) and never recorded in the order history.
        """
        market = self._market
        mark = market.mark(order.product, order.symbol)
        if order.type != "MARKET":
            marketable = market.marketable(order.side, order.price, mark)
            if order.time_in_force == "GTX" and marketable:
                raise SimulatedError(
                    400,
                    -5022,
                    "Due to the order could not be executed as maker, the Post Only order "
                    "will be rejected. The order will not be recorded in the order history",
                )
            if order.time_in_force == "FOK" and not marketable:
                raise SimulatedError(
                    400,
                    -5021,
                    "Due to the order could not be filled immediately, the FOK order has "
                    "been rejected. The order will not be recorded in the order history",
                )
        account.book.orders[order.order_id] = order
        market.push(name, (self._events.order_update(order, "NEW", now),))
        if order.type == "MARKET" or market.marketable(order.side, order.price, mark):
            self.fill(name, account, order, mark, now)
        elif order.time_in_force == "IOC":
            order.status = "EXPIRED"
            order.update_time = now
            market.push(name, (self._events.order_update(order, "EXPIRED", now),))

    def _cancel(self, name: str, order: Order, now: int) -> None:
        order.status = "CANCELED"
        order.update_time = now
        self._market.push(name, (self._events.order_update(order, "CANCELED", now),))

    # -- handlers ----------------------------------------------------------------------------

    def new_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/{um,cm}/order``."""
        name, acc = self._market.caller(call, account)
        order = self._order_from(product, acc, params, call.now)
        self.place(name, acc, order, call.now)
        call.applied = True
        return views.futures_order(order, "new")

    def _order_from(self, product: str, acc: Account, params: dict[str, str], now: int) -> Order:
        """The order ``params`` describe, checked (not booked yet)."""
        market = self._market
        symbol = params["symbol"]
        market.mark(product, symbol)
        order_side = side(params)
        otype = params.get("type", "")
        if otype not in ("LIMIT", "MARKET"):
            raise SimulatedError(400, -1116, "Invalid orderType.")
        qty = positive(params, "quantity")
        position_side = choice(params, "positionSide", POSITION_SIDES, "BOTH")
        reduce_only = flag(params, "reduceOnly")
        price, tif, gtd = self._price_terms(otype, params)
        if reduce_only:
            pos = acc.book.positions.get((product, symbol, position_side))
            amount = pos.amount if pos is not None else ZERO
            if amount == 0 or (amount > 0) == (order_side == "BUY"):
                raise SimulatedError(400, -2022, "ReduceOnly Order is rejected.")
        client_id = market.client_id(acc.book, product, params.get("newClientOrderId"))
        return Order(
            product=product,
            symbol=symbol,
            order_id=market.order_id(),
            client_order_id=client_id,
            side=order_side,
            type=otype,
            time_in_force=tif,
            quantity=qty,
            price=price,
            time=now,
            update_time=now,
            position_side=position_side,
            reduce_only=reduce_only,
            self_trade_prevention_mode=params.get("selfTradePreventionMode") or "NONE",
            good_till_date=gtd,
            price_match=params.get("priceMatch") or "NONE",
            orig_type=otype,
        )

    @staticmethod
    def _price_terms(otype: str, params: dict[str, str]) -> tuple[Decimal, str, int]:
        """(price, timeInForce, goodTillDate) of a LIMIT or MARKET order."""
        if otype != "LIMIT":
            return ZERO, choice(params, "timeInForce", FUTURES_TIF, "GTC"), 0
        price = positive(params, "price")
        tif = params.get("timeInForce")
        if not tif:
            raise mandatory("timeInForce")
        if tif not in FUTURES_TIF:
            raise SimulatedError(400, -1115, "Invalid timeInForce.")
        gtd = 0
        if tif == "GTD":
            gtd = integer(params, "goodTillDate") or 0
            if not gtd:
                raise mandatory("goodTillDate")
        return price, tif, gtd

    def modify_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``PUT /papi/v1/{um,cm}/order``: new price and quantity of a working LIMIT order."""
        market = self._market
        name, acc = market.caller(call, account)
        order = market.find(acc.book, product, params, unknown_order())
        order_side = side(params)
        qty = positive(params, "quantity")
        price = positive(params, "price")
        if not order.is_open:
            raise SimulatedError(400, -2013, "Order does not exist.")
        if order.type != "LIMIT":
            raise SimulatedError(400, -1116, "Invalid orderType.")
        if order_side != order.side:
            raise invalid("side")
        if qty < order.executed_qty:
            raise invalid("quantity")
        if qty == order.quantity and price == order.price:
            raise SimulatedError(400, -5027, "No need to modify the order.")
        order.quantity = qty
        order.price = price
        order.update_time = call.now
        order.amendments += 1
        market.push(name, (self._events.order_update(order, "AMENDMENT", call.now),))
        mark = market.mark(product, order.symbol)
        if market.marketable(order.side, order.price, mark):
            self.fill(name, acc, order, mark, call.now)
        call.applied = True
        return views.futures_order(order, "modify")

    def cancel_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/{um,cm}/order``."""
        name, acc = self._market.caller(call, account)
        order = self._market.find(acc.book, product, params, cancel_unknown())
        if not order.is_open:
            raise cancel_unknown()
        self._cancel(name, order, call.now)
        call.applied = True
        return views.futures_order(order, "cancel")

    def query_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/order``."""
        _, acc = self._market.caller(call, account)
        order = self._market.find(acc.book, product, params, unknown_order())
        return views.futures_order(order, "query")

    def query_open_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/openOrder``: -2013 unless the order is still working."""
        _, acc = self._market.caller(call, account)
        order = self._market.find(acc.book, product, params, unknown_order())
        if not order.is_open:
            raise unknown_order()
        return views.futures_order(order, "query")

    def open_orders(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/openOrders`` (``symbol`` or CM ``pair`` optional)."""
        _, acc = self._market.caller(call, account)
        pair = params.get("pair")
        return [
            views.futures_order(o, "query")
            for o in acc.book.open_orders(product, params.get("symbol"))
            if pair is None or o.symbol.split("_", 1)[0] == pair
        ]

    def all_orders(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/allOrders``: ``orderId`` (from), time window, ``limit``."""
        _, acc = self._market.caller(call, account)
        symbol, pair = params.get("symbol"), params.get("pair")
        if symbol is None and pair is None:
            raise mandatory("symbol")
        from_id = integer(params, "orderId")
        most = limit(params)
        found = [
            o
            for o in acc.book.orders.values()
            if o.product == product
            and (symbol is None or o.symbol == symbol)
            and (pair is None or o.symbol.split("_", 1)[0] == pair)
            and (from_id is None or o.order_id >= from_id)
            and in_window(o.time, params)
        ]
        return [views.futures_order(o, "query") for o in found[:most]]

    def cancel_all(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/{um,cm}/allOpenOrders``."""
        name, acc = self._market.caller(call, account)
        self._market.mark(product, params["symbol"])
        for order in acc.book.open_orders(product, params["symbol"]):
            self._cancel(name, order, call.now)
        call.applied = True
        return {"code": 200, "msg": _CANCEL_ALL_MSG}
