"""CM conditional (strategy) orders, and their triggers on mark moves.

Serves ``/papi/v1/cm/conditional/order`` (new, cancel), ``openOrder``, ``openOrders``,
``orderHistory``, ``allOrders`` and ``allOpenOrders``.  The UM ones
(``/papi/v1/um/conditional/*``) are retired by Binance (HTTP 404 since 2026-04-28: UM
conditional orders are algo orders, ``/papi/v1/um/algo/*``), so the simulator does not
serve them either: they answer 404.  A conditional order rests as ``NEW`` (one that
would trigger at once is refused with -2021); when the mark crosses its ``stopPrice``
(:meth:`ConditionalDesk.trigger_crossed`) it becomes ``TRIGGERED`` and places its
LIMIT or MARKET order through the :class:`~.futures.FuturesDesk`.
TRAILING_STOP_MARKET orders never trigger.
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
from .futures import FUTURES_TIF, POSITION_SIDES, FuturesDesk
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
    """Whether ``mark`` reaches the stop price of ``s`` (STOP: BUY at or above, SELL at or
    below; TAKE_PROFIT the opposite; TRAILING_STOP_MARKET never)."""
    if s.strategy_type == "TRAILING_STOP_MARKET":
        return False
    stop_like = s.strategy_type.startswith("STOP")
    buy = s.side == "BUY"
    if stop_like == buy:
        return mark >= s.stop_price
    return mark <= s.stop_price


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
        self._futures.place(name, account, order, now)

    # -- handlers ----------------------------------------------------------------------------

    def new_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/cm/conditional/order``."""
        name, acc = self._market.caller(call, account)
        mark = self._market.mark(product, params["symbol"])
        s = self._strategy_from(product, acc, params, call.now)
        if triggers(s, mark):
            raise SimulatedError(400, -2021, "Order would immediately trigger.")
        acc.book.strategies[s.strategy_id] = s
        self._market.push(name, (self._events.strategy_update(s, call.now),))
        call.applied = True
        return views.strategy(s, "new")

    def _strategy_from(
        self, product: str, acc: Account, params: dict[str, str], now: int
    ) -> StrategyOrder:
        """The conditional order ``params`` describe, checked (a strategy id is taken)."""
        order_side = side(params)
        stype = params.get("strategyType", "")
        if stype not in STRATEGY_TYPES:
            raise SimulatedError(400, -1116, "Invalid orderType.")
        qty = positive(params, "quantity")
        price = positive(params, "price") if stype in ("STOP", "TAKE_PROFIT") else ZERO
        stop = positive(params, "stopPrice") if stype != "TRAILING_STOP_MARKET" else ZERO
        activate = decimal(params, "activationPrice", required=False) or ZERO
        rate = positive(params, "callbackRate") if stype == "TRAILING_STOP_MARKET" else ZERO
        client_id = self._client_strategy_id(acc.book, params.get("newClientStrategyId"))
        return StrategyOrder(
            product=product,
            symbol=params["symbol"],
            strategy_id=self._market.strategy_id(),
            client_strategy_id=client_id,
            strategy_type=stype,
            side=order_side,
            position_side=choice(params, "positionSide", POSITION_SIDES, "BOTH"),
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

    def _client_strategy_id(self, book: Book, raw: str | None) -> str:
        client_id = raw or self._market.new_client_id()
        if not self._market.valid_client_id(client_id):
            raise SimulatedError(400, -4015, "Client order id is not valid.")
        if any(
            s.client_strategy_id == client_id and s.status == "NEW"
            for s in book.strategies.values()
        ):
            raise SimulatedError(400, -4116, "ClientOrderId is duplicated.")
        return client_id

    @staticmethod
    def _find(
        book: Book, product: str, params: dict[str, str], missing: SimulatedError
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
        for s in reversed(book.strategies.values()):
            if (
                s.product == product
                and s.symbol == symbol
                and (s.strategy_id == sid if sid is not None else s.client_strategy_id == cid)
            ):
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
        s = self._find(acc.book, product, params, cancel_unknown())
        if s.status != "NEW":
            raise cancel_unknown()
        self._cancel(name, s, call.now)
        call.applied = True
        return views.strategy(s, "new")

    def query_open_order(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/cm/conditional/openOrder``: -2013 unless still ``NEW``."""
        _, acc = self._market.caller(call, account)
        s = self._find(acc.book, product, params, unknown_order())
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
        _, acc = self._market.caller(call, account)
        s = self._find(acc.book, product, params, unknown_order())
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
