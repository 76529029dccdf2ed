"""Cross-margin orders: LIMIT, MARKET and LIMIT_MAKER on the account's balances.

Serves ``/papi/v1/margin/order`` (new, cancel, query), ``openOrders``,
``allOrders`` and ``allOpenOrders``.  A fill moves the balances of the symbol's
base and quote assets; a resting order locks what it may spend (free -> locked)
until it fills or is cancelled.  Missing funds are -2010 unless
``sideEffectType`` borrows them (MARGIN_BUY, AUTO_BORROW_REPAY, through the
:class:`~.loans.LoanDesk`); AUTO_REPAY and AUTO_BORROW_REPAY repay debt in the
received asset with the proceeds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import SimulatedError, invalid, mandatory
from ..book import Order
from ..routing import Call, Handler, RouteKey
from ..state import Account, fmt8, q8
from . import views
from .events import StreamEvents
from .loans import LoanDesk
from .market import Market
from .params import (
    ZERO,
    cancel_unknown,
    choice,
    decimal,
    in_window,
    insufficient,
    integer,
    limit,
    positive,
    side,
    unknown_order,
)

__all__ = ["MarginDesk"]

_MARGIN_TIF = ("GTC", "IOC", "FOK")
_SIDE_EFFECTS = ("NO_SIDE_EFFECT", "MARGIN_BUY", "AUTO_REPAY", "AUTO_BORROW_REPAY")
_BORROWS = ("MARGIN_BUY", "AUTO_BORROW_REPAY")
_REPAYS = ("AUTO_REPAY", "AUTO_BORROW_REPAY")


class MarginDesk:
    """Cross-margin orders (see the module documentation)."""

    def __init__(self, market: Market, events: StreamEvents, loans: LoanDesk) -> None:
        self._market = market
        self._events = events
        self._loans = loans

    def routes(self) -> dict[RouteKey, Handler]:
        """The margin order routes, by ``(method, path)``."""
        return {
            ("POST", "/papi/v1/margin/order"): self.new_order,
            ("DELETE", "/papi/v1/margin/order"): self.cancel_order,
            ("GET", "/papi/v1/margin/order"): self.query_order,
            ("GET", "/papi/v1/margin/openOrders"): self.open_orders,
            ("GET", "/papi/v1/margin/allOrders"): self.all_orders,
            ("DELETE", "/papi/v1/margin/allOpenOrders"): self.cancel_all,
        }

    def _view(self, order: Order, kind: str, orig_client_id: str = "") -> dict[str, Any]:
        fee_asset = self._market.split(order.symbol)[1] if kind == "FULL" else ""
        return views.margin_order(order, kind, orig_client_id=orig_client_id, fee_asset=fee_asset)

    # -- fills -------------------------------------------------------------------------------

    def fill(
        self,
        name: str,
        account: Account,
        order: Order,
        price: Decimal,
        now: int,
        *,
        resting: bool = False,
    ) -> None:
        """Fill the rest of ``order`` at ``price`` (releasing its lock when ``resting``)."""
        base, quote = self._market.split(order.symbol)
        qty = order.quantity - order.executed_qty
        cost = q8(qty * price)
        if resting and order.locked_asset is not None:
            held = account.asset(order.locked_asset)
            held.locked -= order.locked
            held.free += order.locked
            order.locked = ZERO
        if order.side == "BUY":
            account.asset(quote).free -= cost
            account.asset(base).free += qty
            received, amount = base, qty
        else:
            account.asset(base).free -= qty
            account.asset(quote).free += cost
            received, amount = quote, cost
        order.executed_qty += qty
        order.cum_quote += cost
        order.status = "FILLED"
        order.update_time = now
        if order.side_effect_type in _REPAYS:
            debt = account.asset(received).debt
            repay = min(debt, amount, account.asset(received).free)
            if repay > 0:
                self._loans.repay(account, received, repay, now)
        account.update_time = now
        self._market.push(
            name,
            (
                self._events.execution_report(order, "TRADE", now, qty, price),
                self._events.balances(account, [base, quote], now),
            ),
        )

    # -- new order ---------------------------------------------------------------------------

    def new_order(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/margin/order`` (LIMIT, MARKET, LIMIT_MAKER)."""
        name, acc = self._market.caller(call, account)
        symbol = params["symbol"]
        base, quote = self._market.split(symbol)
        mark = self._market.mark("MARGIN", symbol)
        order, resp_type = self._order_from(acc, params, mark, call.now)
        marketable = order.type == "MARKET" or self._market.marketable(
            order.side, order.price, mark
        )
        if marketable and order.type == "LIMIT_MAKER":
            raise SimulatedError(400, -2010, "Order would immediately match and take.")
        rests = not marketable and order.time_in_force not in ("IOC", "FOK")
        borrowed, asset = ZERO, ""
        if marketable or rests:
            at = mark if marketable else order.price
            borrowed, asset = self._fund(acc, order, at, rests, call.now)
        acc.book.orders[order.order_id] = order
        self._market.push(name, (self._events.execution_report(order, "NEW", call.now),))
        if marketable:
            self.fill(name, acc, order, mark, call.now)
        elif not rests:
            order.status = "EXPIRED"
            self._market.push(name, (self._events.execution_report(order, "EXPIRED", call.now),))
        elif borrowed or order.locked:
            self._market.push(name, (self._events.balances(acc, [base, quote], call.now),))
        call.applied = True
        view = self._view(order, resp_type)
        if borrowed and resp_type != "ACK":
            view["marginBuyBorrowAmount"] = fmt8(borrowed)
            view["marginBuyBorrowAsset"] = asset
        return view

    def _order_from(
        self, acc: Account, params: dict[str, str], mark: Decimal, now: int
    ) -> tuple[Order, str]:
        """The order ``params`` describe, checked (an order id is taken; not booked yet),
        and the answer type asked for (``newOrderRespType``)."""
        order_side = side(params)
        otype = params.get("type", "")
        if otype not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise SimulatedError(400, -1116, "Invalid orderType.")
        side_effect = choice(params, "sideEffectType", _SIDE_EFFECTS, "NO_SIDE_EFFECT")
        resp_type = choice(params, "newOrderRespType", ("ACK", "RESULT", "FULL"), "FULL")
        qty = self._quantity(otype, params, mark)
        price, tif = self._price_terms(otype, params)
        client_id = self._market.client_id(acc.book, "MARGIN", params.get("newClientOrderId"))
        order = Order(
            product="MARGIN",
            symbol=params["symbol"],
            order_id=self._market.order_id(),
            client_order_id=client_id,
            side=order_side,
            type=otype,
            time_in_force=tif or "GTC",
            quantity=qty,
            price=price,
            time=now,
            update_time=now,
            self_trade_prevention_mode=params.get("selfTradePreventionMode") or "NONE",
            side_effect_type=side_effect,
            stop_price=ZERO,
        )
        return order, resp_type

    @staticmethod
    def _quantity(otype: str, params: dict[str, str], mark: Decimal) -> Decimal:
        """``quantity``, or for a MARKET order without one, ``quoteOrderQty`` at the mark."""
        quote_qty = decimal(params, "quoteOrderQty", required=False)
        if otype == "MARKET" and quote_qty is not None and "quantity" not in params:
            qty = q8(quote_qty / mark)
            if qty <= 0:
                raise invalid("quoteOrderQty")
            return qty
        return positive(params, "quantity")

    @staticmethod
    def _price_terms(otype: str, params: dict[str, str]) -> tuple[Decimal, str]:
        """(price, timeInForce); a MARKET order has neither (``""``)."""
        if otype == "MARKET":
            return ZERO, ""
        price = positive(params, "price")
        if otype == "LIMIT_MAKER":
            return price, "GTC"
        tif = params.get("timeInForce") or ""
        if not tif:
            raise mandatory("timeInForce")
        if tif not in _MARGIN_TIF:
            raise SimulatedError(400, -1115, "Invalid timeInForce.")
        return price, tif

    def _fund(
        self, acc: Account, order: Order, price: Decimal, rests: bool, now: int
    ) -> tuple[Decimal, str]:
        """Find what ``order`` spends at ``price``: borrow a shortfall if its side effect
        allows (-2010 otherwise), lock it if the order rests.  Returns (borrowed, asset)."""
        asset, need = self._needs(order, price)
        st = acc.asset(asset)
        shortfall = need - st.free
        borrowed = ZERO
        if shortfall > 0:
            if order.side_effect_type not in _BORROWS:
                raise insufficient()
            self._loans.borrow(acc, asset, shortfall, now)
            borrowed = shortfall
        if rests:
            st.free -= need
            st.locked += need
            order.locked_asset, order.locked = asset, need
        return borrowed, asset

    def _needs(self, order: Order, price: Decimal) -> tuple[str, Decimal]:
        """(asset, amount) a margin order at ``price`` spends."""
        base, quote = self._market.split(order.symbol)
        if order.side == "BUY":
            return quote, q8(order.quantity * price)
        return base, order.quantity

    # -- cancel and queries ------------------------------------------------------------------

    def _cancel(
        self, name: str, account: Account, order: Order, now: int, new_client_id: str | None
    ) -> str:
        orig = order.client_order_id
        if order.locked_asset is not None and order.locked:
            st = account.asset(order.locked_asset)
            st.locked -= order.locked
            st.free += order.locked
            order.locked = ZERO
        order.status = "CANCELED"
        order.update_time = now
        order.client_order_id = new_client_id or self._market.new_client_id()
        base, quote = self._market.split(order.symbol)
        self._market.push(
            name,
            (
                self._events.execution_report(order, "CANCELED", now, orig_client_id=orig),
                self._events.balances(account, [base, quote], now),
            ),
        )
        return orig

    def cancel_order(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``DELETE /papi/v1/margin/order`` (the locked funds are released)."""
        name, acc = self._market.caller(call, account)
        order = self._market.find(acc.book, "MARGIN", params, cancel_unknown())
        if not order.is_open:
            raise cancel_unknown()
        orig = self._cancel(name, acc, order, call.now, params.get("newClientOrderId"))
        call.applied = True
        return self._view(order, "cancel", orig)

    def query_order(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/order``."""
        _, acc = self._market.caller(call, account)
        return self._view(self._market.find(acc.book, "MARGIN", params, unknown_order()), "query")

    def open_orders(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/openOrders``."""
        _, acc = self._market.caller(call, account)
        self._market.split(params["symbol"])
        return [self._view(o, "query") for o in acc.book.open_orders("MARGIN", params["symbol"])]

    def all_orders(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/allOrders`` (``limit`` default 500, max 500)."""
        _, acc = self._market.caller(call, account)
        symbol = params["symbol"]
        from_id = integer(params, "orderId")
        most = limit(params, 500, 500)
        found = [
            o
            for o in acc.book.orders.values()
            if o.product == "MARGIN"
            and o.symbol == symbol
            and (from_id is None or o.order_id >= from_id)
            and in_window(o.time, params)
        ]
        return [self._view(o, "query") for o in found[:most]]

    def cancel_all(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``DELETE /papi/v1/margin/allOpenOrders``: one cancel answer per order, with
        ``orderListId`` -1 (no order list), as on the page."""
        name, acc = self._market.caller(call, account)
        self._market.split(params["symbol"])
        out = []
        for order in acc.book.open_orders("MARGIN", params["symbol"]):
            orig = self._cancel(name, acc, order, call.now, None)
            out.append({**self._view(order, "cancel", orig), "orderListId": -1})
        call.applied = True
        return out
