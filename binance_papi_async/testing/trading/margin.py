"""Cross-margin orders on the account's balances: LIMIT, MARKET, LIMIT_MAKER and the stop
orders (STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT).

Serves ``/papi/v1/margin/order`` (new, cancel, query), ``openOrders`` and
``allOrders`` (``allOpenOrders`` is :mod:`.oco`'s: it ends OCO lists too).  A fill
moves the balances of the symbol's base and quote assets
(:meth:`~.ledger.Ledger.margin_fill`: commission from what is received); a resting
order locks what it may spend (free -> locked) until it fills or is cancelled.
Missing funds are -2010 unless ``sideEffectType`` borrows them (MARGIN_BUY,
AUTO_BORROW_REPAY, through the :class:`~.loans.LoanDesk`); AUTO_REPAY and
AUTO_BORROW_REPAY repay debt in the received asset with the proceeds.

A stop order rests (``isWorking`` false) until the mark reaches its ``stopPrice``
(:mod:`.triggers`; one that would trigger at once is refused with -2010 "Order would
trigger immediately."); then STOP_LOSS / TAKE_PROFIT fill at the mark and the
``_LIMIT`` kinds work as a LIMIT order at ``price``.  Prices and quantities follow the
symbol's filters (:mod:`.rules`).  ``newOrderRespType`` defaults to FULL for LIMIT and
MARKET orders and to ACK for the others, as on papi.  Legs of an OCO list
(:mod:`.oco`) are margin orders too: a fill or a cancel of one leg ends the list.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .._errors import SimulatedError, mandatory
from ..book import Order
from ..routing import Call, Handler, RouteKey
from ..state import Account, fmt8
from . import views
from .events import StreamEvents
from .ledger import Ledger
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
from .rules import check_margin, round_step
from .triggers import reached

__all__ = ["STOP_TYPES", "MarginDesk"]

STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER", *STOP_TYPES)
_MARGIN_TIF = ("GTC", "IOC", "FOK")
_SIDE_EFFECTS = ("NO_SIDE_EFFECT", "MARGIN_BUY", "AUTO_REPAY", "AUTO_BORROW_REPAY")
_BORROWS = ("MARGIN_BUY", "AUTO_BORROW_REPAY")
_REPAYS = ("AUTO_REPAY", "AUTO_BORROW_REPAY")

#: Called after a fill or an end of an OCO leg: ``(account name, account, leg, now)``.
ListHook = Callable[[str, Account, Order, int], None]


class MarginDesk:
    """Cross-margin orders (see the module documentation)."""

    def __init__(
        self, market: Market, events: StreamEvents, loans: LoanDesk, ledger: Ledger
    ) -> None:
        self._market = market
        self._events = events
        self._loans = loans
        self._ledger = ledger
        self._list_hook: ListHook | None = None

    def set_list_hook(self, hook: ListHook) -> None:
        """``hook`` is told when a leg of an OCO list fills or ends (see :mod:`.oco`)."""
        self._list_hook = hook

    def routes(self) -> dict[RouteKey, Handler]:
        """The margin order routes, by ``(method, path)``."""
        return {
            ("POST", "/papi/v1/margin/order"): self.new_order,
            ("DELETE", "/papi/v1/margin/order"): self.cancel_order,
            ("GET", "/papi/v1/margin/order"): self.query_order,
            ("GET", "/papi/v1/margin/openOrders"): self.open_orders,
            ("GET", "/papi/v1/margin/allOrders"): self.all_orders,
        }

    @staticmethod
    def view(
        order: Order, kind: str, orig_client_id: str = "", account: Account | None = None
    ) -> dict[str, Any]:
        """``order`` as papi prints it (``kind``: ACK, RESULT, FULL, cancel, query); a
        FULL answer lists the fills of the request that placed it (the newest trades of
        ``account``)."""
        fills = []
        if kind == "FULL" and account is not None:
            for trade in reversed(account.book.trades):
                if trade.order_id != order.order_id:
                    break
                fills.append(trade)
            fills.reverse()
        return views.margin_order(order, kind, orig_client_id=orig_client_id, fills=fills)

    # -- fills and triggers ------------------------------------------------------------------

    def fill(
        self,
        name: str,
        account: Account,
        order: Order,
        qty: Decimal,
        price: Decimal,
        now: int,
        *,
        maker: bool,
    ) -> None:
        """Fill ``qty`` of ``order`` at ``price``; repay debt from the proceeds if its side
        effect says so; push the report and the balances."""
        trade, received, net = self._ledger.margin_fill(
            name, account, order, qty, price, now, maker=maker
        )
        if order.side_effect_type in _REPAYS:
            repay = min(account.asset(received).debt, net, account.asset(received).free)
            if repay > 0:
                self._loans.repay(account, received, repay, now)
        base, quote = self._market.split(order.symbol)
        self._market.push(
            name,
            (
                self._events.execution_report(order, "TRADE", now, trade),
                self._events.balances(account, [base, quote], now),
            ),
        )
        if order.order_list_id != -1 and self._list_hook is not None:
            self._list_hook(name, account, order, now)
        if not order.is_open:
            self._market.order_done(name, account, order, now)

    def trigger(self, name: str, account: Account, order: Order, now: int) -> None:
        """A stop order's ``stopPrice`` was reached: fill at the mark (STOP_LOSS,
        TAKE_PROFIT) or work as a LIMIT order at its price."""
        order.triggered = True
        order.update_time = now
        if order.order_list_id != -1 and self._list_hook is not None:
            self._list_hook(name, account, order, now)  # the other leg ends first
        mark = self._market.mark("MARGIN", order.symbol)
        if not order.type.endswith("_LIMIT"):
            self._lock_again(account, order, mark, now)
            if order.is_open and not self._cover(account, order, mark, now):
                self.end(name, account, order, "EXPIRED", now)
                return
            self.fill(name, account, order, order.remaining, mark, now, maker=False)
        elif self._market.marketable(order.side, order.price, mark):
            self._lock_again(account, order, order.price, now)
            self.fill(name, account, order, order.remaining, mark, now, maker=False)
        else:
            self._lock_again(account, order, order.price, now)

    def _cover(self, account: Account, order: Order, price: Decimal, now: int) -> bool:
        """Whether the account can pay for the rest of ``order`` at ``price`` (a stop
        order filled at the mark) with what it holds free plus what the order locked,
        borrowing the shortfall if the order's side effect allows."""
        asset, need = self.needs(order, price)
        held = order.locked if order.locked_asset == asset else ZERO
        shortfall = need - account.asset(asset).free - held
        if shortfall <= 0:
            return True
        if order.side_effect_type not in _BORROWS:
            return False
        try:
            self._loans.borrow(account, asset, shortfall, now)
        except SimulatedError:
            return False
        return True

    def _lock_again(self, account: Account, order: Order, price: Decimal, now: int) -> None:
        """An OCO stop leg holds nothing until its turn: lock what it spends (borrowing
        a shortfall if its side effect allows; the leg expires otherwise)."""
        if order.locked or order.locked_asset is not None:
            return
        try:
            self.fund(account, order, price, True, now)
        except SimulatedError:
            order.status = "EXPIRED"

    def triggers_at(self, order: Order, mark: Decimal) -> bool:
        """Whether a stop order not yet triggered fires at ``mark``."""
        return (
            order.type in STOP_TYPES
            and not order.triggered
            and order.is_open
            and reached(order.type, order.side, order.stop_price, mark)
        )

    # -- new order ---------------------------------------------------------------------------

    def new_order(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/margin/order``."""
        name, acc = self._market.caller(call, account)
        symbol = params["symbol"]
        mark = self._market.mark("MARGIN", symbol)
        order = self.order_from(name, acc, params, mark, call.now)
        default_type = "FULL" if order.type in ("LIMIT", "MARKET") else "ACK"
        resp_type = choice(params, "newOrderRespType", ("ACK", "RESULT", "FULL"), default_type)
        borrowed, asset = self.submit(name, acc, order, mark, call.now)
        call.applied = True
        out = self.view(order, resp_type, account=acc)
        if borrowed and resp_type != "ACK":
            out["marginBuyBorrowAmount"] = fmt8(borrowed)
            out["marginBuyBorrowAsset"] = asset
        return out

    def submit(
        self, name: str, acc: Account, order: Order, mark: Decimal, now: int, *, fund: bool = True
    ) -> tuple[Decimal, str]:
        """Check, fund, book and (if it may) fill ``order``; returns (borrowed, asset)."""
        market = self._market
        stop = order.type in STOP_TYPES
        if stop and reached(order.type, order.side, order.stop_price, mark):
            raise SimulatedError(400, -2010, "Order would trigger immediately.")
        marketable = not stop and (
            order.type == "MARKET" or market.marketable(order.side, order.price, mark)
        )
        if marketable and order.type == "LIMIT_MAKER":
            raise SimulatedError(400, -2010, "Order would immediately match and take.")
        rests = not marketable and (stop or order.time_in_force not in ("IOC", "FOK"))
        borrowed, asset = ZERO, ""
        if fund and (marketable or rests):
            at = mark if marketable else (order.price or order.stop_price)
            borrowed, asset = self.fund(acc, order, at, rests, now)
        market.book_order(name, acc, order)
        market.push(name, (self._events.execution_report(order, "NEW", now),))
        if marketable:
            self.fill(name, acc, order, order.remaining, mark, now, maker=False)
        elif not rests:
            self.end(name, acc, order, "EXPIRED", now)
        elif borrowed or order.locked:
            base, quote = market.split(order.symbol)
            market.push(name, (self._events.balances(acc, [base, quote], now),))
        return borrowed, asset

    def order_from(
        self, name: str, acc: Account, params: dict[str, str], mark: Decimal, now: int
    ) -> Order:
        """The order ``params`` describe, checked against the filters (an order id is
        taken; not booked yet)."""
        market = self._market
        symbol = params["symbol"]
        order_side = side(params)
        otype = params.get("type", "")
        if otype not in _TYPES:
            raise SimulatedError(400, -1116, "Invalid orderType.")
        side_effect = choice(params, "sideEffectType", _SIDE_EFFECTS, "NO_SIDE_EFFECT")
        rules = market.rules("MARGIN", symbol)
        qty = self._quantity(otype, params, mark, rules.step_size)
        price, tif = self._price_terms(otype, params)
        stop_price = positive(params, "stopPrice") if otype in STOP_TYPES else ZERO
        sent = {n: v for n, v in (("price", price), ("stopPrice", stop_price)) if v}
        check_margin(rules, qty=qty, prices=sent, notional_price=price or stop_price or mark)
        client_id = market.client_id(name, "MARGIN", params.get("newClientOrderId"))
        return Order(
            product="MARGIN",
            symbol=symbol,
            order_id=market.order_id(),
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
            stop_price=stop_price,
        )

    @staticmethod
    def _quantity(otype: str, params: dict[str, str], mark: Decimal, step: Decimal) -> Decimal:
        """``quantity``, or for a MARKET order without one, ``quoteOrderQty`` at the mark
        (rounded down to the step size)."""
        quote_qty = decimal(params, "quoteOrderQty", required=False)
        if otype == "MARKET" and quote_qty is not None and "quantity" not in params:
            qty = round_step(quote_qty / mark, step)
            if qty <= 0:
                raise SimulatedError(400, -1013, "Filter failure: LOT_SIZE")
            return qty
        return positive(params, "quantity")

    @staticmethod
    def _price_terms(otype: str, params: dict[str, str]) -> tuple[Decimal, str]:
        """(price, timeInForce); MARKET, STOP_LOSS and TAKE_PROFIT have neither (``""``)."""
        if otype in ("MARKET", "STOP_LOSS", "TAKE_PROFIT"):
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

    def fund(
        self, acc: Account, order: Order, price: Decimal, rests: bool, now: int
    ) -> tuple[Decimal, str]:
        """Find what ``order`` spends at ``price``: borrow a shortfall if its side effect
        allows (-2010 otherwise), lock it if the order rests.  Returns (borrowed, asset)."""
        asset, need = self.needs(order, price)
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

    def needs(self, order: Order, price: Decimal) -> tuple[str, Decimal]:
        """(asset, amount) a margin order at ``price`` spends (what is left of it)."""
        base, quote = self._market.split(order.symbol)
        if order.side == "BUY":
            return quote, (order.remaining * price).quantize(Decimal("0.00000001"))
        return base, order.remaining

    # -- cancel and queries ------------------------------------------------------------------

    def end(
        self,
        name: str,
        account: Account,
        order: Order,
        status: str,
        now: int,
        new_client_id: str | None = None,
    ) -> str:
        """Take ``order`` off the book (CANCELED / EXPIRED), releasing its lock; a cancel
        gives it a new client id.  Returns its client id before."""
        orig = order.client_order_id
        if order.locked_asset is not None and order.locked:
            st = account.asset(order.locked_asset)
            st.locked -= order.locked
            st.free += order.locked
            order.locked = ZERO
        order.status = status
        order.update_time = now
        if status == "CANCELED":
            order.client_order_id = new_client_id or self._market.new_client_id()
        base, quote = self._market.split(order.symbol)
        self._market.push(
            name,
            (
                self._events.execution_report(order, status, now, orig_client_id=orig),
                self._events.balances(account, [base, quote], now),
            ),
        )
        if order.order_list_id != -1 and self._list_hook is not None:
            self._list_hook(name, account, order, now)
        self._market.order_done(name, account, order, now)
        return orig

    def cancel_order(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``DELETE /papi/v1/margin/order`` (the locked funds are released; cancelling a
        leg of an OCO list cancels the list)."""
        name, acc = self._market.caller(call, account)
        order = self._market.find(name, acc.book, "MARGIN", params, cancel_unknown())
        if not order.is_open:
            raise cancel_unknown()
        cancel_id = params.get("newClientOrderId")
        orig = self.end(name, acc, order, "CANCELED", call.now, cancel_id)
        call.applied = True
        return self.view(order, "cancel", orig)

    def query_order(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/order``."""
        name, acc = self._market.caller(call, account)
        order = self._market.find(name, acc.book, "MARGIN", params, unknown_order())
        return self.view(order, "query")

    def open_orders(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/openOrders``."""
        _, acc = self._market.caller(call, account)
        self._market.split(params["symbol"])
        return [self.view(o, "query") for o in acc.book.open_orders("MARGIN", params["symbol"])]

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
        return [self.view(o, "query") for o in found[:most]]
