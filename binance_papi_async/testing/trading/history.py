"""Histories read from the state: trades, income, amendments, force orders, ADL quantiles
and margin interest.

Serves ``GET /papi/v1/{um,cm}/userTrades``, ``/papi/v1/margin/myTrades``,
``/papi/v1/{um,cm}/income``, ``/papi/v1/{um,cm}/orderAmendment``,
``/papi/v1/{um,cm,margin}/forceOrders``, ``/papi/v1/{um,cm}/adlQuantile`` and
``/papi/v1/margin/marginInterestHistory``.  Every list is what happened in the
simulator (fills, funding, transfers, modifications, liquidations, charged
interest), empty when nothing did; there is no other history.

* Without ``startTime`` / ``endTime`` (and ``fromId``), trades and income cover the
  last 7 days, as on papi; ``fromId`` with a time window is -1128.
* Commission is printed as paid (positive); income is signed (a fee is negative).
* ADL quantile (the simulator has no other traders to rank against): per position
  side, 0 without a position, else 1 at a loss or even, and 2 / 3 / 4 for a profit
  under 10 %, under 50 %, and from 50 % of the position's initial margin
  (|notional| / leverage); one-way mode reports ``BOTH`` (LONG and SHORT 0), hedge mode
  LONG and SHORT (and ``HEDGE`` 0 for CM).
* Force orders are the orders :meth:`~..simulator.PapiSimulator.liquidate` placed
  (``autoCloseType`` LIQUIDATION or ADL); the simulator never liquidates margin
  positions, so the margin list stays empty.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import SimulatedError, mandatory
from ..book import Order, Trade
from ..routing import Call, Handler, RouteKey
from ..state import Account, fmt8
from .market import Market, bind
from .params import choice, in_window, integer, limit, plain, unknown_order
from .portfolio import DEFAULT_LEVERAGE

__all__ = ["History"]

_WEEK_MS = 7 * 86_400_000


def _window(params: dict[str, str], now: int) -> tuple[int, int]:
    """(start, end) of a query: the last 7 days unless a bound is given."""
    start = integer(params, "startTime")
    end = integer(params, "endTime")
    if start is None and end is None:
        return now - _WEEK_MS, now
    if start is None:
        assert end is not None
        return end - _WEEK_MS, end
    return start, end if end is not None else now


def _page(rows: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
    current = integer(params, "current") or 1
    size = integer(params, "size") or 10
    if current < 1 or not 0 < size <= 100:
        raise SimulatedError(400, -1130, "Data sent for parameter 'size' is not valid.")
    start = (current - 1) * size
    return {"rows": rows[start : start + size], "total": len(rows)}


class History:
    """The history routes (see the module documentation)."""

    def __init__(self, market: Market) -> None:
        self._market = market

    def routes(self) -> dict[RouteKey, Handler]:
        """The history routes, by ``(method, path)``."""
        routes: dict[RouteKey, Handler] = {
            ("GET", "/papi/v1/margin/myTrades"): self.margin_trades,
            ("GET", "/papi/v1/margin/forceOrders"): self.margin_force_orders,
            ("GET", "/papi/v1/margin/marginInterestHistory"): self.interest,
        }
        for product, prefix in (("UM", "/papi/v1/um"), ("CM", "/papi/v1/cm")):
            routes.update(
                {
                    ("GET", f"{prefix}/userTrades"): bind(self.futures_trades, product),
                    ("GET", f"{prefix}/income"): bind(self.income, product),
                    ("GET", f"{prefix}/orderAmendment"): bind(self.amendments, product),
                    ("GET", f"{prefix}/forceOrders"): bind(self.force_orders, product),
                    ("GET", f"{prefix}/adlQuantile"): bind(self.adl_quantile, product),
                }
            )
        return routes

    # -- trades ------------------------------------------------------------------------------

    def _trades(
        self, acc: Account, product: str, params: dict[str, str], now: int, default: int
    ) -> list[Trade]:
        symbol, pair = params.get("symbol"), params.get("pair")
        from_id = integer(params, "fromId")
        if from_id is not None and ("startTime" in params or "endTime" in params):
            raise SimulatedError(400, -1128, "Combination of optional parameters invalid.")
        start, end = _window(params, now) if from_id is None else (0, now)
        order_id = integer(params, "orderId")
        found = [
            t
            for t in acc.book.trades
            if t.product == product
            and (symbol is None or t.symbol == symbol)
            and (pair is None or t.symbol.split("_", 1)[0] == pair)
            and (order_id is None or t.order_id == order_id)
            and (from_id is None or t.trade_id >= from_id)
            and start <= t.time <= end
        ]
        most = limit(params, default, 1000)
        return found[:most] if from_id is not None else found[-most:]

    def futures_trades(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/userTrades``."""
        _, acc = self._market.caller(call, account)
        if product == "CM" and not (params.get("symbol") or params.get("pair")):
            raise mandatory("symbol")
        out = []
        for t in self._trades(acc, product, params, call.now, 500):
            d: dict[str, Any] = {
                "symbol": t.symbol,
                "id": t.trade_id,
                "orderId": t.order_id,
                "side": t.side,
                "price": plain(t.price),
                "qty": plain(t.qty),
                "realizedPnl": fmt8(t.realized),
                "commission": fmt8(t.commission),
                "commissionAsset": t.commission_asset,
                "time": t.time,
                "buyer": t.side == "BUY",
                "maker": t.maker,
                "positionSide": t.position_side,
            }
            if product == "CM":
                d["pair"] = t.symbol.split("_", 1)[0]
                d["marginAsset"] = t.commission_asset
                d["baseQty"] = fmt8(t.quote_qty)
            else:
                d["quoteQty"] = fmt8(t.quote_qty)
            out.append(d)
        return out

    def margin_trades(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/myTrades``."""
        _, acc = self._market.caller(call, account)
        self._market.split(params["symbol"])
        return [
            {
                "commission": fmt8(t.commission),
                "commissionAsset": t.commission_asset,
                "id": t.trade_id,
                "isBestMatch": True,
                "isBuyer": t.side == "BUY",
                "isMaker": t.maker,
                "orderId": t.order_id,
                "price": fmt8(t.price),
                "qty": fmt8(t.qty),
                "quoteQty": fmt8(t.quote_qty),
                "symbol": t.symbol,
                "time": t.time,
            }
            for t in self._trades(acc, "MARGIN", params, call.now, 500)
        ]

    # -- income and amendments ---------------------------------------------------------------

    def income(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/income``: newest ``limit`` (default 100) of the window."""
        _, acc = self._market.caller(call, account)
        symbol = params.get("symbol")
        kind = params.get("incomeType")
        start, end = _window(params, call.now)
        found = [
            r
            for r in acc.book.income
            if r.product == product
            and (symbol is None or r.symbol == symbol)
            and (kind is None or r.income_type == kind)
            and start <= r.time <= end
        ]
        most = limit(params, 100, 1000)
        return [
            {
                "symbol": r.symbol,
                "incomeType": r.income_type,
                "income": fmt8(r.income),
                "asset": r.asset,
                "info": r.info,
                "time": r.time,
                "tranId": str(r.tran_id),
                "tradeId": r.trade_id,
            }
            for r in found[-most:]
        ]

    def amendments(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/orderAmendment``: the modifications of one order, newest
        first (-2013 for an order that does not exist)."""
        name, acc = self._market.caller(call, account)
        order = self._market.find(name, acc.book, product, params, unknown_order())
        found = [
            a
            for a in acc.book.amendments
            if a.order_id == order.order_id and in_window(a.time, params)
        ]
        out = []
        for a in reversed(found[-limit(params, 500, 1000) :]):
            amendment: dict[str, Any] = {
                "price": {"before": plain(a.price_before), "after": plain(a.price_after)},
                "origQty": {"before": plain(a.qty_before), "after": plain(a.qty_after)},
                "count": a.count,
            }
            if a.modify_id is not None:
                amendment["modifyId"] = a.modify_id
            d: dict[str, Any] = {
                "amendmentId": a.amendment_id,
                "symbol": a.symbol,
                "pair": a.symbol.split("_", 1)[0],
                "orderId": a.order_id,
                "clientOrderId": a.client_order_id,
                "time": a.time,
                "amendment": amendment,
            }
            if product == "UM":
                d["priceMatch"] = a.price_match
            out.append(d)
        return out

    # -- force orders ------------------------------------------------------------------------

    def force_orders(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/forceOrders``: the orders ``sim.liquidate`` placed."""
        _, acc = self._market.caller(call, account)
        symbol = params.get("symbol")
        kind = choice(params, "autoCloseType", ("LIQUIDATION", "ADL", ""), "") or None
        start, end = _window(params, call.now)
        found = [
            o
            for o in acc.book.orders.values()
            if o.product == product
            and o.auto_close is not None
            and (kind is None or o.auto_close == kind)
            and (symbol is None or o.symbol == symbol)
            and start <= o.time <= end
        ]
        return [self._force_view(o) for o in found[-limit(params, 50, 100) :]]

    @staticmethod
    def _force_view(o: Order) -> dict[str, Any]:
        d: dict[str, Any] = {
            "orderId": o.order_id,
            "symbol": o.symbol,
            "status": o.status,
            "clientOrderId": o.client_order_id,
            "price": plain(o.price),
            "avgPrice": plain(o.avg_price),
            "origQty": plain(o.quantity),
            "executedQty": plain(o.executed_qty),
            "timeInForce": o.time_in_force,
            "type": o.type,
            "reduceOnly": o.reduce_only,
            "side": o.side,
            "positionSide": o.position_side,
            "origType": o.orig_type or o.type,
            "time": o.time,
            "updateTime": o.update_time,
        }
        if o.product == "CM":
            d["pair"] = o.symbol.split("_", 1)[0]
            d["cumBase"] = plain(o.cum_base)
        else:
            d["cumQuote"] = plain(o.cum_quote)
        return d

    def margin_force_orders(
        self, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/margin/forceOrders``: always empty (no margin liquidation)."""
        self._market.caller(call, account)
        return _page([], params)

    # -- ADL quantile ------------------------------------------------------------------------

    def adl_quantile(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/adlQuantile``: per symbol with a position (see the module
        documentation)."""
        _, acc = self._market.caller(call, account)
        wanted = params.get("symbol")
        symbols = sorted(
            {s for (p, s, _), pos in acc.book.positions.items() if p == product and pos.amount}
        )
        hedge = acc.book.dual_side.get(product, False)
        out = []
        for symbol in symbols:
            if wanted is not None and symbol != wanted:
                continue
            q = {side: self._quantile(acc, product, symbol, side) for side in ("LONG", "SHORT")}
            if hedge:
                quantiles = {**q, "HEDGE": 0} if product == "CM" else {**q, "BOTH": 0}
            else:
                quantiles = {
                    "LONG": 0,
                    "SHORT": 0,
                    "BOTH": self._quantile(acc, product, symbol, "BOTH"),
                }
            out.append({"symbol": symbol, "adlQuantile": quantiles})
        return out

    def _quantile(self, acc: Account, product: str, symbol: str, side: str) -> int:
        pos = acc.book.positions.get((product, symbol, side))
        if pos is None or not pos.amount:
            return 0
        market = self._market
        mark = market.mark(product, symbol)
        pnl = market.unrealized(product, symbol, pos, mark)
        if pnl <= 0:
            return 1
        leverage = acc.book.leverage.get((product, symbol), DEFAULT_LEVERAGE)
        if product == "CM":
            notional = abs(pos.amount) * market.contract_size(symbol) / mark
        else:
            notional = abs(pos.amount) * mark
        ratio = pnl / (notional / leverage)
        return 2 if ratio < Decimal("0.1") else 3 if ratio < Decimal("0.5") else 4

    # -- margin interest ---------------------------------------------------------------------

    def interest(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/marginInterestHistory``: the interest ``sim.charge_interest``
        charged, newest first, paged."""
        _, acc = self._market.caller(call, account)
        asset = params.get("asset")
        start, end = _window(params, call.now)
        rows = [
            {
                "txId": r.tx_id,
                "interestAccuredTime": r.time,
                "asset": r.asset,
                "rawAsset": r.asset,
                "principal": fmt8(r.principal),
                "interest": fmt8(r.interest),
                "interestRate": fmt8(r.rate),
                "type": r.type,
            }
            for r in reversed(acc.book.interest)
            if (asset is None or r.asset == asset) and start <= r.time <= end
        ]
        return _page(rows, params)
