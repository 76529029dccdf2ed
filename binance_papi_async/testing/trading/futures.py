"""UM and CM orders, and the positions their fills move.

Serves ``/papi/v1/{um,cm}/order`` (new, modify, cancel, query), ``openOrder``,
``openOrders``, ``allOrders`` and ``allOpenOrders``, once per product.  The fill
model is in :mod:`.trading`: MARKET and marketable LIMIT orders fill at once at the
mark (taker), others rest until a mark move crosses them or
:meth:`~..simulator.PapiSimulator.fill` fills them (maker); the fills go through the
:class:`~.ledger.Ledger` (positions, wallets, commission, trades, income).

Orders are checked against the symbol's filters (:mod:`.rules`) and the account's
position mode (one-way: ``positionSide`` BOTH, else -4061 "Order's position side does
not match user's setting."; hedge mode: LONG or SHORT, and ``reduceOnly`` is refused
with -1106).  ``newOrderRespType`` ACK (the default) answers the order as accepted
(status NEW, nothing filled), RESULT as it stands once the placement is over.
A modification is recorded in the amendment history (``orderAmendment``); one that
leaves nothing to fill cancels the order, as on papi.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import SimulatedError, invalid, mandatory
from ..book import Amendment, Order
from ..routing import Call, Handler, RouteKey
from ..state import Account
from . import views
from .events import StreamEvents
from .ledger import Ledger
from .market import Market, bind
from .params import (
    ZERO,
    cancel_unknown,
    choice,
    decimal,
    flag,
    in_window,
    integer,
    limit,
    positive,
    side,
    unknown_order,
)
from .rules import check_futures

__all__ = ["FUTURES_TIF", "POSITION_SIDES", "FuturesDesk", "position_side"]

POSITION_SIDES = ("BOTH", "LONG", "SHORT")
FUTURES_TIF = ("GTC", "IOC", "FOK", "GTX", "GTD")
_CANCEL_ALL_MSG = "The operation of cancel all open order is done."


def position_side(account: Account, product: str, params: dict[str, str]) -> str:
    """``positionSide`` checked against the account's position mode (see the module
    documentation); ``reduceOnly`` is refused in hedge mode."""
    value = choice(params, "positionSide", POSITION_SIDES, "BOTH")
    hedge = account.book.dual_side.get(product, False)
    if (value == "BOTH") == hedge:
        raise SimulatedError(400, -4061, "Order's position side does not match user's setting.")
    if hedge and "reduceOnly" in params:
        raise SimulatedError(400, -1106, "Parameter 'reduceOnly' sent when not required.")
    return value


class FuturesDesk:
    """UM / CM orders and positions (see the module documentation)."""

    def __init__(self, market: Market, events: StreamEvents, ledger: Ledger) -> None:
        self._market = market
        self._events = events
        self._ledger = ledger

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

    # -- placing, filling, cancelling --------------------------------------------------------

    def fill(
        self, name: str, account: Account, order: Order, qty: Decimal, price: Decimal, now: int
    ) -> None:
        """Fill ``qty`` of a resting ``order`` at ``price`` (a maker fill)."""
        self._ledger.futures_fill(name, account, order, qty, price, now, maker=True)

    def place(self, name: str, account: Account, order: Order, now: int) -> dict[str, Any]:
        """Book ``order`` (status NEW), then fill or expire it per the fill model; returns
        its ACK view (as accepted, before any fill).

        As on Binance, a post-only (GTX) order that would take and a FOK order that cannot
        fill at once are rejected (-5022 / -5021) and never recorded in the order history.
        """
        market = self._market
        mark = market.mark(order.product, order.symbol)
        marketable = order.type == "MARKET" or market.marketable(order.side, order.price, mark)
        if order.type != "MARKET":
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
        market.book_order(name, account, order)
        market.push(name, (self._events.order_update(order, "NEW", now),))
        ack = views.futures_order(order, "new")
        if marketable:
            self._ledger.futures_fill(name, account, order, order.remaining, mark, now, maker=False)
        elif order.time_in_force == "IOC":
            self.end(name, account, order, "EXPIRED", now)
        return ack

    def end(self, name: str, account: Account, order: Order, status: str, now: int) -> None:
        """Take a working ``order`` off the book (CANCELED or EXPIRED)."""
        order.status = status
        order.update_time = now
        self._market.push(name, (self._events.order_update(order, status, now),))
        self._market.order_done(name, account, order, now)

    # -- handlers ----------------------------------------------------------------------------

    def new_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/{um,cm}/order``."""
        name, acc = self._market.caller(call, account)
        resp_type = choice(params, "newOrderRespType", ("ACK", "RESULT"), "ACK")
        order = self._order_from(name, product, acc, params, call.now)
        ack = self.place(name, acc, order, call.now)
        call.applied = True
        return ack if resp_type == "ACK" else views.futures_order(order, "new")

    def _order_from(
        self, name: str, product: str, acc: Account, params: dict[str, str], now: int
    ) -> Order:
        """The order ``params`` describe, checked (not booked yet)."""
        market = self._market
        symbol = params["symbol"]
        mark = market.mark(product, symbol)
        order_side = side(params)
        otype = params.get("type", "")
        if otype not in ("LIMIT", "MARKET"):
            raise SimulatedError(400, -1116, "Invalid orderType.")
        qty = positive(params, "quantity")
        pos_side = position_side(acc, product, params)
        reduce_only = flag(params, "reduceOnly")
        price, tif, gtd = self._price_terms(otype, params, mark)
        check_futures(
            product,
            market.rules(product, symbol),
            qty=qty,
            prices=(price,) if "price" in params else (),
            notional_price=price if otype == "LIMIT" else mark,
            reduce_only=reduce_only,
        )
        if reduce_only:
            pos = acc.book.positions.get((product, symbol, pos_side))
            amount = pos.amount if pos is not None else ZERO
            if amount == 0 or (amount > 0) == (order_side == "BUY"):
                raise SimulatedError(400, -2022, "ReduceOnly Order is rejected.")
        client_id = market.client_id(name, product, params.get("newClientOrderId"))
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
            position_side=pos_side,
            reduce_only=reduce_only,
            self_trade_prevention_mode=params.get("selfTradePreventionMode") or "NONE",
            good_till_date=gtd,
            price_match=params.get("priceMatch") or "NONE",
            orig_type=otype,
        )

    @staticmethod
    def _price_terms(otype: str, params: dict[str, str], mark: Decimal) -> tuple[Decimal, str, int]:
        """(price, timeInForce, goodTillDate) of a LIMIT or MARKET order; a LIMIT order
        with ``priceMatch`` and no price is priced at the mark (the only price there is)."""
        if otype != "LIMIT":
            return ZERO, choice(params, "timeInForce", FUTURES_TIF, "GTC"), 0
        price = decimal(params, "price", required=not params.get("priceMatch")) or mark
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
        order = market.find(name, acc.book, product, params, unknown_order())
        order_side = side(params)
        qty = positive(params, "quantity")
        price = positive(params, "price")
        if not order.is_open:
            raise unknown_order()
        if order.type != "LIMIT":
            raise SimulatedError(400, -1116, "Invalid orderType.")
        if order_side != order.side:
            raise invalid("side")
        check_futures(product, market.rules(product, order.symbol), qty=qty, prices=(price,))
        if qty == order.quantity and price == order.price:
            raise SimulatedError(400, -5027, "No need to modify the order.")
        self._record_amendment(acc, order, qty, price, integer(params, "modifyId"), call.now)
        order.quantity, order.price = qty, price
        order.update_time = call.now
        call.applied = True
        mark = market.mark(product, order.symbol)
        marketable = market.marketable(order.side, order.price, mark)
        if qty <= order.executed_qty or (order.time_in_force == "GTX" and marketable):
            self.end(name, acc, order, "CANCELED", call.now)  # the amendment cancels it
            return views.futures_order(order, "modify")
        market.push(name, (self._events.order_update(order, "AMENDMENT", call.now),))
        if marketable:
            self._ledger.futures_fill(
                name, acc, order, order.remaining, mark, call.now, maker=False
            )
        return views.futures_order(order, "modify")

    def _record_amendment(
        self,
        account: Account,
        order: Order,
        qty: Decimal,
        price: Decimal,
        modify_id: int | None,
        now: int,
    ) -> None:
        order.amendments += 1
        account.book.amendments.append(
            Amendment(
                product=order.product,
                symbol=order.symbol,
                amendment_id=self._market.tx_id(),
                order_id=order.order_id,
                client_order_id=order.client_order_id,
                time=now,
                price_before=order.price,
                price_after=price,
                qty_before=order.quantity,
                qty_after=qty,
                count=order.amendments,
                price_match=order.price_match,
                modify_id=modify_id,
            )
        )

    def cancel_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/{um,cm}/order``."""
        name, acc = self._market.caller(call, account)
        order = self._market.find(name, acc.book, product, params, cancel_unknown())
        if not order.is_open:
            raise cancel_unknown()
        self.end(name, acc, order, "CANCELED", call.now)
        call.applied = True
        return views.futures_order(order, "cancel")

    def query_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/order``."""
        name, acc = self._market.caller(call, account)
        order = self._market.find(name, acc.book, product, params, unknown_order())
        return views.futures_order(order, "query")

    def query_open_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/openOrder``: -2013 unless the order is still working."""
        name, acc = self._market.caller(call, account)
        order = self._market.find(name, acc.book, product, params, unknown_order())
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
            self.end(name, acc, order, "CANCELED", call.now)
        call.applied = True
        return {"code": 200, "msg": _CANCEL_ALL_MSG}
