"""CM conditional (strategy) orders, and their triggers on mark moves.

Serves ``/papi/v1/cm/conditional/order`` (new, cancel), ``openOrder``, ``openOrders``,
``orderHistory``, ``allOrders`` and ``allOpenOrders``.  The UM ones
(``/papi/v1/um/conditional/*``) are retired by Binance (HTTP 404 since 2026-04-28: UM
conditional orders are algo orders, ``/papi/v1/um/algo/*``), so the simulator does not
serve them either: they answer 404.  A conditional order rests as ``NEW`` (one that
would trigger at once is refused with -2021); when the mark crosses its ``stopPrice``
(:meth:`ConditionalDesk.trigger_crossed`, rules in :mod:`.triggers`, trailing stops
included) it becomes ``TRIGGERED`` and places its LIMIT or MARKET order through the
:class:`~.futures.FuturesDesk`.  ``newClientStrategyId`` is unique among the account's
open conditional orders (-4116) and at most 36 characters (-4015).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import SimulatedError
from ..book import Book, Order, StrategyOrder
from ..routing import Call, Handler, RouteKey
from ..state import Account
from . import views
from .events import StreamEvents
from .futures import FUTURES_TIF, FuturesDesk, position_side
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
from .triggers import TRAILING, reached, trailing_step

__all__ = ["STRATEGY_TYPES", "ConditionalDesk"]

STRATEGY_TYPES = (
    "STOP",
    "TAKE_PROFIT",
    "STOP_MARKET",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
)
_CANCEL_ALL_MSG = "The operation of cancel all conditional open order is done."


def triggers(s: StrategyOrder, mark: Decimal) -> bool:
    """Whether ``mark`` fires ``s`` (see :mod:`.triggers`); a trailing stop's tracking
    state moves with each call."""
    if s.strategy_type == TRAILING:
        s.extreme, s.activated, fires = trailing_step(
            s.side, s.activate_price, s.price_rate, s.extreme, s.activated, mark
        )
        return fires
    return reached(s.strategy_type, s.side, s.stop_price, mark)


class ConditionalDesk:
    """CM conditional orders (see the module documentation)."""

    def __init__(self, market: Market, events: StreamEvents, futures: FuturesDesk) -> None:
        self._market = market
        self._events = events
        self._futures = futures

    def routes(self) -> dict[RouteKey, Handler]:
        """The CM conditional order routes, by ``(method, path)``."""
        base, product = "/papi/v1/cm/conditional", "CM"
        return {
            ("POST", f"{base}/order"): bind(self.new_order, product),
            ("DELETE", f"{base}/order"): bind(self.cancel_order, product),
            ("GET", f"{base}/openOrder"): bind(self.query_open_order, product),
            ("GET", f"{base}/openOrders"): bind(self.open_orders, product),
            ("GET", f"{base}/orderHistory"): bind(self.order_history, product),
            ("GET", f"{base}/allOrders"): bind(self.all_orders, product),
            ("DELETE", f"{base}/allOpenOrders"): bind(self.cancel_all, product),
        }

    # -- triggers ----------------------------------------------------------------------------

    def trigger_crossed(self, name: str, account: Account, symbol: str, now: int) -> None:
        """Trigger the ``NEW`` conditional orders of ``symbol`` the mark now reaches."""
        for s in list(account.book.strategies.values()):
            if s.symbol != symbol or s.status != "NEW":
                continue
            if triggers(s, self._market.mark(s.product, symbol)):
                self._trigger(name, account, s, now)

    def _trigger(self, name: str, account: Account, s: StrategyOrder, now: int) -> None:
        s.status = "TRIGGERED"
        s.trigger_time = s.update_time = now
        market = s.strategy_type.endswith("MARKET")
        order = Order(
            product=s.product,
            symbol=s.symbol,
            order_id=self._market.order_id(),
            client_order_id=s.client_strategy_id,
            side=s.side,
            type="MARKET" if market else "LIMIT",
            time_in_force=s.time_in_force,
            quantity=s.quantity,
            price=ZERO if market else s.price,
            time=now,
            update_time=now,
            position_side=s.position_side,
            reduce_only=s.reduce_only,
            self_trade_prevention_mode=s.self_trade_prevention_mode,
            orig_type=s.strategy_type,
            strategy_type=s.strategy_type,
            strategy_id=s.strategy_id,
        )
        s.order_id = order.order_id
        self._market.push(name, (self._events.strategy_update(s, now),))
        try:
            self._futures.place(name, account, order, now)
        except SimulatedError:  # e.g. a post-only order that would take: it never books
            s.status = "EXPIRED"
            self._market.push(name, (self._events.strategy_update(s, now),))

    # -- handlers ----------------------------------------------------------------------------

    def new_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/cm/conditional/order``."""
        name, acc = self._market.caller(call, account)
        mark = self._market.mark(product, params["symbol"])
        s = self._strategy_from(name, product, acc, params, call.now)
        if s.strategy_type == TRAILING:
            s.extreme, s.activated = mark, not s.activate_price
        elif triggers(s, mark):
            raise SimulatedError(400, -2021, "Order would immediately trigger.")
        acc.book.strategies[s.strategy_id] = s
        self._market.client_ids.register(name, "CM_STRATEGY", s.client_strategy_id, s)
        self._market.push(name, (self._events.strategy_update(s, call.now),))
        call.applied = True
        return views.strategy(s, "new")

    def _strategy_from(
        self, name: str, product: str, acc: Account, params: dict[str, str], now: int
    ) -> StrategyOrder:
        """The conditional order ``params`` describe, checked (a strategy id is taken)."""
        market = self._market
        symbol = params["symbol"]
        order_side = side(params)
        stype = params.get("strategyType", "")
        if stype not in STRATEGY_TYPES:
            raise SimulatedError(400, -1116, "Invalid orderType.")
        qty = positive(params, "quantity")
        price = positive(params, "price") if stype in ("STOP", "TAKE_PROFIT") else ZERO
        stop = positive(params, "stopPrice") if stype != TRAILING else ZERO
        activate = decimal(params, "activationPrice", required=False) or ZERO
        rate = positive(params, "callbackRate") if stype == TRAILING else ZERO
        sent = tuple(p for p in (price, stop, activate) if p)
        check_futures(product, market.rules(product, symbol), qty=qty, prices=sent)
        pos_side = position_side(acc, product, params)
        client_id = market.client_id(
            name, "CM_STRATEGY", params.get("newClientStrategyId"), "newClientStrategyId"
        )
        return StrategyOrder(
            product=product,
            symbol=params["symbol"],
            strategy_id=self._market.strategy_id(),
            client_strategy_id=client_id,
            strategy_type=stype,
            side=order_side,
            position_side=pos_side,
            time_in_force=choice(params, "timeInForce", FUTURES_TIF, "GTC"),
            quantity=qty,
            price=price,
            stop_price=stop,
            book_time=now,
            update_time=now,
            reduce_only=flag(params, "reduceOnly"),
            working_type=params.get("workingType") or "CONTRACT_PRICE",
            price_protect=flag(params, "priceProtect"),
            activate_price=activate,
            price_rate=rate,
            self_trade_prevention_mode=params.get("selfTradePreventionMode") or "NONE",
            good_till_date=integer(params, "goodTillDate") or 0,
            price_match=params.get("priceMatch") or "NONE",
        )

    def _find(
        self, name: str, book: Book, product: str, params: dict[str, str], missing: SimulatedError
    ) -> StrategyOrder:
        symbol = params.get("symbol")
        sid = integer(params, "strategyId")
        cid = params.get("newClientStrategyId")
        if sid is None and not cid:
            raise SimulatedError(
                400,
                -1102,
                "Param 'newClientStrategyId' or 'strategyId' must be sent, but both were "
                "empty/null!",
            )
        if sid is not None:
            found = book.strategies.get(sid)
            if found is not None and found.product == product and found.symbol == symbol:
                return found
            raise missing
        assert cid is not None
        for s in self._market.client_ids.holders(name, "CM_STRATEGY", cid, StrategyOrder):
            if s.symbol == symbol:
                return s
        raise missing

    @staticmethod
    def _history(book: Book, s: StrategyOrder) -> dict[str, Any]:
        order = book.orders.get(s.order_id) if s.order_id is not None else None
        return views.strategy(s, "history", order)

    def _cancel(self, name: str, s: StrategyOrder, now: int) -> None:
        s.status = "CANCELED"
        s.update_time = now
        self._market.push(name, (self._events.strategy_update(s, now),))

    def cancel_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/cm/conditional/order``."""
        name, acc = self._market.caller(call, account)
        s = self._find(name, acc.book, product, params, cancel_unknown())
        if s.status != "NEW":
            raise cancel_unknown()
        self._cancel(name, s, call.now)
        call.applied = True
        return views.strategy(s, "new")

    def query_open_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/cm/conditional/openOrder``: -2013 unless still ``NEW``."""
        name, acc = self._market.caller(call, account)
        s = self._find(name, acc.book, product, params, unknown_order())
        if s.status != "NEW":
            raise unknown_order()
        view = views.strategy(s, "new")
        del view["workingType"], view["priceProtect"]
        return view

    def open_orders(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/cm/conditional/openOrders`` (``symbol`` optional)."""
        _, acc = self._market.caller(call, account)
        symbol = params.get("symbol")
        return [
            views.strategy(s, "new")
            for s in acc.book.strategies.values()
            if s.product == product and s.status == "NEW" and (symbol is None or s.symbol == symbol)
        ]

    def order_history(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/cm/conditional/orderHistory`` (any status)."""
        name, acc = self._market.caller(call, account)
        s = self._find(name, acc.book, product, params, unknown_order())
        return self._history(acc.book, s)

    def all_orders(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/cm/conditional/allOrders``."""
        _, acc = self._market.caller(call, account)
        symbol = params.get("symbol")
        from_id = integer(params, "strategyId")
        most = limit(params)
        found = [
            s
            for s in acc.book.strategies.values()
            if s.product == product
            and (symbol is None or s.symbol == symbol)
            and (from_id is None or s.strategy_id >= from_id)
            and in_window(s.book_time, params)
        ]
        return [self._history(acc.book, s) for s in found[:most]]

    def cancel_all(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/cm/conditional/allOpenOrders``."""
        name, acc = self._market.caller(call, account)
        symbol = params["symbol"]
        self._market.mark(product, symbol)
        for s in list(acc.book.strategies.values()):
            if s.product == product and s.symbol == symbol and s.status == "NEW":
                self._cancel(name, s, call.now)
        call.applied = True
        return {"code": "200", "msg": _CANCEL_ALL_MSG}
