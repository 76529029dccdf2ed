"""UM algo (conditional) orders: the replacement of the retired UM conditional orders.

Serves ``/papi/v1/um/algo/order`` (new, cancel), ``algoOrder``, ``openAlgoOrders``,
``allAlgoOrders`` and ``allOpenOrders``.

* An algo order (``algoType`` CONDITIONAL; ``type`` STOP, TAKE_PROFIT, STOP_MARKET,
  TAKE_PROFIT_MARKET or TRAILING_STOP_MARKET) waits as ``NEW``; one that would fire
  at once is refused (-2021 "Order would immediately trigger.").  Its prices and
  quantity follow the symbol's filters (:mod:`.rules`); ``positionSide`` and
  ``reduceOnly`` the account's position mode.
* When a mark move (``sim.set_mark``) fires it (:mod:`.triggers`), it goes TRIGGERING,
  then places its order (MARKET, or LIMIT at ``price``; ``reduceOnly`` kept) through the
  :class:`~.futures.FuturesDesk` and is TRIGGERED with ``actualOrderId``; FINISHED once
  that order is done.  ``closePosition`` (STOP_MARKET / TAKE_PROFIT_MARKET only, without
  ``quantity`` or ``reduceOnly``) closes the whole position on its side at the trigger.
  An order papi would refuse at the trigger (nothing to close or reduce, a post-only
  order that would take...) makes it REJECTED, with the reason in ``rm``.
* Each change pushes ``ALGO_UPDATE``.  ``clientAlgoId`` (up to 36 characters, -4015)
  is unique among the account's open algo orders (-4116).  Unknown algo orders:
  -2011 "Unknown order sent." on cancel, -2013 "Order does not exist." on queries.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import SimulatedError, invalid, mandatory
from ..book import AlgoOrder, Order
from ..routing import Call, Handler, RouteKey
from ..state import Account
from .events import StreamEvents
from .futures import FUTURES_TIF, FuturesDesk, position_side
from .market import Market
from .params import (
    ZERO,
    cancel_unknown,
    choice,
    decimal,
    flag,
    in_window,
    integer,
    limit,
    plain,
    positive,
    side,
    unknown_order,
)
from .rules import check_futures
from .triggers import TRAILING, reached, trailing_step

__all__ = ["ALGO_TYPES", "AlgoDesk"]

ALGO_TYPES = ("STOP", "TAKE_PROFIT", "STOP_MARKET", "TAKE_PROFIT_MARKET", TRAILING)
_CANCEL_ALL_MSG = "The operation of cancel all open order is done."
_BASE = "/papi/v1/um/algo"


def algo_view(a: AlgoOrder, kind: str) -> dict[str, Any]:
    """An algo order as papi prints it: ``kind`` ``new`` (the new-order answer),
    ``open`` (openAlgoOrders) or ``query`` (algoOrder, allAlgoOrders)."""
    d: dict[str, Any] = {
        "algoId": a.algo_id,
        "clientAlgoId": a.client_algo_id,
        "algoType": "CONDITIONAL",
        "orderType": a.order_type,
        "symbol": a.symbol,
        "side": a.side,
        "positionSide": a.position_side,
        "timeInForce": a.time_in_force,
        "quantity": plain(a.quantity),
        "algoStatus": a.status,
    }
    if kind == "query":
        d["actualOrderId"] = str(a.actual_order_id) if a.actual_order_id is not None else ""
        d["actualPrice"] = plain(a.price) if a.actual_order_id is not None else "0"
    d.update(
        {
            "triggerPrice": plain(a.trigger_price),
            "price": plain(a.price),
            "selfTradePreventionMode": a.self_trade_prevention_mode,
            "workingType": a.working_type,
            "priceMatch": a.price_match,
            "closePosition": a.close_position,
            "priceProtect": a.price_protect,
            "reduceOnly": a.reduce_only,
        }
    )
    if kind == "new":
        d["activatePrice"] = plain(a.activate_price) if a.activate_price else ""
        d["callbackRate"] = plain(a.callback_rate) if a.callback_rate else ""
    d.update(
        {
            "createTime": a.create_time,
            "updateTime": a.update_time,
            "triggerTime": a.trigger_time,
            "goodTillDate": a.good_till_date,
        }
    )
    return d


class AlgoDesk:
    """UM algo orders (see the module documentation)."""

    def __init__(self, market: Market, events: StreamEvents, futures: FuturesDesk) -> None:
        self._market = market
        self._events = events
        self._futures = futures
        market.on_order_done(self._order_done)

    def routes(self) -> dict[RouteKey, Handler]:
        """The UM algo order routes, by ``(method, path)``."""
        return {
            ("POST", f"{_BASE}/order"): self.new_order,
            ("DELETE", f"{_BASE}/order"): self.cancel_order,
            ("DELETE", f"{_BASE}/allOpenOrders"): self.cancel_all,
            ("GET", f"{_BASE}/algoOrder"): self.query_order,
            ("GET", f"{_BASE}/openAlgoOrders"): self.open_orders,
            ("GET", f"{_BASE}/allAlgoOrders"): self.all_orders,
        }

    def _push(self, name: str, a: AlgoOrder, now: int, order: Order | None = None) -> None:
        self._market.push(name, (self._events.algo_update(a, now, order),))

    # -- triggers ----------------------------------------------------------------------------

    def fires(self, a: AlgoOrder, mark: Decimal) -> bool:
        """Whether ``mark`` fires ``a`` (a trailing stop's tracking moves with each call)."""
        if a.order_type == TRAILING:
            a.extreme, a.activated, fires = trailing_step(
                a.side, a.activate_price, a.callback_rate, a.extreme, a.activated, mark
            )
            return fires
        return reached(a.order_type, a.side, a.trigger_price, mark)

    def trigger_crossed(self, name: str, account: Account, symbol: str, now: int) -> None:
        """Trigger the ``NEW`` algo orders of ``symbol`` the mark now fires."""
        mark = self._market.mark("UM", symbol)
        for a in list(account.book.algos.values()):
            if a.symbol == symbol and a.is_open and self.fires(a, mark):
                self._trigger(name, account, a, now)

    def _trigger(self, name: str, account: Account, a: AlgoOrder, now: int) -> None:
        a.status = "TRIGGERING"
        a.trigger_time = a.update_time = now
        self._push(name, a, now)
        try:
            order = self._order_of(account, a, now)
        except SimulatedError as err:
            self._reject(name, a, err, now)
            return
        a.status, a.actual_order_id = "TRIGGERED", order.order_id
        self._push(name, a, now, order)
        try:
            self._futures.place(name, account, order, now)  # FINISHED if it is done at once
        except SimulatedError as err:  # e.g. a post-only order that would take
            self._reject(name, a, err, now)

    def _reject(self, name: str, a: AlgoOrder, err: SimulatedError, now: int) -> None:
        a.status, a.reason, a.actual_order_id = "REJECTED", err.msg, None
        a.update_time = now
        self._push(name, a, now)

    def _order_of(self, account: Account, a: AlgoOrder, now: int) -> Order:
        """The order ``a`` places at its trigger (-2022 when it has nothing to reduce)."""
        market = self._market
        market_type = a.order_type.endswith("MARKET")
        qty = a.quantity
        if a.close_position or a.reduce_only:
            pos = account.book.positions.get(("UM", a.symbol, a.position_side))
            amount = pos.amount if pos is not None else ZERO
            closes = (amount > 0 and a.side == "SELL") or (amount < 0 and a.side == "BUY")
            if a.position_side != "BOTH":
                closes = amount != 0 and (a.position_side == "LONG") == (a.side == "SELL")
            if not closes:
                raise SimulatedError(400, -2022, "ReduceOnly Order is rejected.")
            qty = abs(amount) if a.close_position else min(qty, abs(amount))
        return Order(
            product="UM",
            symbol=a.symbol,
            order_id=market.order_id(),
            client_order_id=market.new_client_id(),
            side=a.side,
            type="MARKET" if market_type else "LIMIT",
            time_in_force=a.time_in_force,
            quantity=qty,
            price=ZERO if market_type else a.price,
            time=now,
            update_time=now,
            position_side=a.position_side,
            reduce_only=a.reduce_only or a.close_position,
            self_trade_prevention_mode=a.self_trade_prevention_mode,
            good_till_date=a.good_till_date,
            price_match=a.price_match,
            orig_type=a.order_type,
            algo_id=a.algo_id,
        )

    def _order_done(self, name: str, account: Account, order: Order, now: int) -> None:
        if order.algo_id is None:
            return
        a = account.book.algos.get(order.algo_id)
        if a is not None and a.status == "TRIGGERED":
            a.status = "FINISHED"
            a.update_time = now
            self._push(name, a, now, order)

    # -- new ---------------------------------------------------------------------------------

    def new_order(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/um/algo/order``."""
        market = self._market
        name, acc = market.caller(call, account)
        choice(params, "newOrderRespType", ("ACK", "RESULT"), "ACK")
        a = self._algo_from(name, acc, params, call.now)
        mark = market.mark("UM", a.symbol)
        if a.order_type == TRAILING:
            a.extreme, a.activated = mark, not a.activate_price
        elif self.fires(a, mark):
            raise SimulatedError(400, -2021, "Order would immediately trigger.")
        acc.book.algos[a.algo_id] = a
        market.client_ids.register(name, "UM_ALGO", a.client_algo_id, a)
        self._push(name, a, call.now)
        call.applied = True
        return algo_view(a, "new")

    def _algo_from(self, name: str, acc: Account, params: dict[str, str], now: int) -> AlgoOrder:
        """The algo order ``params`` describe, checked (an algo id is taken)."""
        market = self._market
        symbol = params["symbol"]
        mark = market.mark("UM", symbol)
        choice(params, "algoType", ("CONDITIONAL",), "CONDITIONAL")
        order_side = side(params)
        otype = params.get("type", "")
        if otype not in ALGO_TYPES:
            raise SimulatedError(400, -1116, "Invalid orderType.")
        close = flag(params, "closePosition")
        qty = self._quantity(params, otype, close)
        pos_side = position_side(acc, "UM", params)
        reduce_only = flag(params, "reduceOnly")
        price = ZERO
        if otype in ("STOP", "TAKE_PROFIT"):
            price = decimal(params, "price", required=not params.get("priceMatch")) or mark
        trigger = positive(params, "triggerPrice") if otype != TRAILING else ZERO
        activate = decimal(params, "activatePrice", required=False) or ZERO
        rate = self._callback_rate(params) if otype == TRAILING else ZERO
        sent = tuple(p for p in (price, trigger, activate) if p and p is not mark)
        check_futures(
            "UM",
            market.rules("UM", symbol),
            qty=qty if qty else None,
            prices=sent,
            notional_price=price or trigger or mark,
            reduce_only=reduce_only or close,
        )
        tif = choice(params, "timeInForce", FUTURES_TIF, "GTC")
        gtd = integer(params, "goodTillDate") or 0
        if tif == "GTD" and not gtd:
            raise mandatory("goodTillDate")
        client_id = market.client_id(name, "UM_ALGO", params.get("clientAlgoId"), "clientAlgoId")
        return AlgoOrder(
            algo_id=market.strategy_id(),
            client_algo_id=client_id,
            order_type=otype,
            symbol=symbol,
            side=order_side,
            position_side=pos_side,
            time_in_force=tif,
            quantity=qty,
            price=price,
            trigger_price=trigger,
            create_time=now,
            update_time=now,
            working_type=choice(
                params, "workingType", ("MARK_PRICE", "CONTRACT_PRICE"), "CONTRACT_PRICE"
            ),
            price_match=params.get("priceMatch") or "NONE",
            close_position=close,
            price_protect=flag(params, "priceProtect"),
            reduce_only=reduce_only,
            activate_price=activate,
            callback_rate=rate,
            self_trade_prevention_mode=params.get("selfTradePreventionMode") or "EXPIRE_MAKER",
            good_till_date=gtd,
        )

    @staticmethod
    def _quantity(params: dict[str, str], otype: str, close: bool) -> Decimal:
        """``quantity``: mandatory, except with ``closePosition`` (then refused, as is
        ``reduceOnly``; ``closePosition`` needs STOP_MARKET or TAKE_PROFIT_MARKET)."""
        if not close:
            return positive(params, "quantity")
        if otype not in ("STOP_MARKET", "TAKE_PROFIT_MARKET"):
            raise invalid("closePosition")
        opens = {("BUY", "LONG"), ("SELL", "SHORT")}
        if (params.get("side"), params.get("positionSide")) in opens:
            raise invalid("closePosition")  # hedge mode: it would open, not close
        for name in ("quantity", "reduceOnly"):
            if name in params:
                raise SimulatedError(400, -1106, f"Parameter '{name}' sent when not required.")
        return ZERO

    @staticmethod
    def _callback_rate(params: dict[str, str]) -> Decimal:
        rate = positive(params, "callbackRate")
        if not Decimal("0.1") <= rate <= 20:
            raise invalid("callbackRate")
        return rate

    # -- cancel and queries ------------------------------------------------------------------

    def _find(
        self, name: str, acc: Account, params: dict[str, str], missing: SimulatedError
    ) -> AlgoOrder:
        algo_id = integer(params, "algoId")
        client_id = params.get("clientAlgoId")
        if algo_id is None and not client_id:
            raise SimulatedError(
                400,
                -1102,
                "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!",
            )
        if algo_id is not None:
            found = acc.book.algos.get(algo_id)
        else:
            assert client_id is not None
            found = next(
                self._market.client_ids.holders(name, "UM_ALGO", client_id, AlgoOrder), None
            )
        if found is None:
            raise missing
        return found

    def _cancel(self, name: str, a: AlgoOrder, now: int) -> None:
        a.status = "CANCELED"
        a.update_time = now
        self._push(name, a, now)

    def cancel_order(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``DELETE /papi/v1/um/algo/order``: only a ``NEW`` algo order can be cancelled."""
        name, acc = self._market.caller(call, account)
        a = self._find(name, acc, params, cancel_unknown())
        if not a.is_open:
            raise cancel_unknown()
        self._cancel(name, a, call.now)
        call.applied = True
        return {"complete": True}

    def cancel_all(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``DELETE /papi/v1/um/algo/allOpenOrders``."""
        name, acc = self._market.caller(call, account)
        symbol = params["symbol"]
        self._market.mark("UM", symbol)
        for a in acc.book.algos.values():
            if a.symbol == symbol and a.is_open:
                self._cancel(name, a, call.now)
        call.applied = True
        return {"code": 200, "msg": _CANCEL_ALL_MSG}

    def query_order(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/um/algo/algoOrder`` (any status)."""
        name, acc = self._market.caller(call, account)
        return algo_view(self._find(name, acc, params, unknown_order()), "query")

    def open_orders(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/um/algo/openAlgoOrders`` (``symbol``, ``algoId`` optional)."""
        _, acc = self._market.caller(call, account)
        choice(params, "algoType", ("CONDITIONAL",), "CONDITIONAL")
        symbol = params.get("symbol")
        algo_id = integer(params, "algoId")
        return [
            algo_view(a, "open")
            for a in acc.book.algos.values()
            if a.is_open
            and (symbol is None or a.symbol == symbol)
            and (algo_id is None or a.algo_id == algo_id)
        ]

    def all_orders(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/um/algo/allAlgoOrders``: ``algoId`` (from), time window, ``limit``."""
        _, acc = self._market.caller(call, account)
        symbol = params["symbol"]
        from_id = integer(params, "algoId")
        most = limit(params)
        found = [
            a
            for a in acc.book.algos.values()
            if a.symbol == symbol
            and (from_id is None or a.algo_id >= from_id)
            and in_window(a.create_time, params)
        ]
        return [algo_view(a, "query") for a in found[:most]]
