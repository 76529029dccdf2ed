"""The simulator's trading engine: UM / CM / margin orders, conditional orders, positions, loans.

Available as ``sim.exchange`` (an :class:`Exchange`); its handlers serve the
stateful papi routes (the others answer their doc example, see :mod:`.simulator`).

Fill model (deliberately simple, documented rather than realistic):

* **Prices.**  Every symbol has one price, its *mark*: ``state.marks[symbol]`` if
  seeded, else derived from the USD ``prices`` (``BTCUSDT`` = BTC / USDT; a CM symbol
  ``BTCUSD_PERP`` = the BTC USD price).  :meth:`PapiSimulator.set_mark` moves it.
  An unknown symbol is refused with -1121 "Invalid symbol.".
* **Matching.**  There is no order book and no liquidity limit.  A MARKET order
  fills completely at the mark.  A LIMIT order that is marketable (BUY at or above
  the mark, SELL at or below) fills completely at the mark (a taker fill), except
  post-only: a marketable futures GTX order is rejected with -5022 and a margin
  LIMIT_MAKER with -2010, neither recorded.  A futures FOK order that cannot fill is
  rejected with -5021 (not recorded); a non-marketable IOC order (and a margin FOK)
  is booked and expires; other LIMIT orders rest as ``NEW`` and
  fill completely at their own price when :meth:`PapiSimulator.set_mark` moves the
  mark through it (a maker fill).  No partial fills, no commissions, no funding,
  no self-trade prevention, no liquidation; ``priceMatch`` is echoed but ignored.
* **UM / CM fills** change the position of ``(symbol, positionSide)`` (one-way mode
  uses ``BOTH``; LONG / SHORT are accepted without checking the position mode):
  increases average the entry price (arithmetically, for CM too), decreases realize
  PnL into the product's wallet (UM: USDT, ``(price - entry) x qty``; CM: the base
  asset, ``contracts x contractSize x (1/entry - 1/price)``, contract size 100 USD
  for BTC and 10 USD otherwise).  ``reduceOnly`` orders are refused (-2022) when no
  position of the opposite direction exists.  The futures wallets start at 0 and
  only hold realized PnL (no transfers, no margin checks on futures orders).
* **Margin fills** move the cross-margin balances of the symbol's base and quote
  assets (``BTCUSDT``: BTC and USDT).  A resting margin order locks what it may
  spend (free -> locked).  Missing funds: -2010 "Account has insufficient balance
  for requested action.", unless ``sideEffectType`` is ``MARGIN_BUY`` or
  ``AUTO_BORROW_REPAY``, which borrow the shortfall (a loan record is written);
  ``AUTO_REPAY`` / ``AUTO_BORROW_REPAY`` repay debt in the received asset with the
  proceeds (interest first).
* **Borrowing** (``POST /papi/v1/marginLoan``, MARGIN_BUY) is allowed while the
  account's margin debt stays within ``MAX_DEBT_TO_EQUITY`` (3) times its equity
  (USD, from ``prices``): beyond -> 51006 "Exceeds the maximum borrowable limit.".
  ``POST /papi/v1/repayLoan`` repays interest first, then principal, from the free
  balance of the asset (-2018 "Balance is insufficient."; more than the debt, or no
  debt -> -3015 "Repay amount exceeds borrow amount.").
* **Conditional orders** (UM and CM) rest as ``NEW``; one that would trigger at once
  is refused (-2021).  When the mark crosses ``stopPrice`` (STOP / STOP_MARKET: BUY
  at or above, SELL at or below; TAKE_PROFIT / TAKE_PROFIT_MARKET the opposite) it
  becomes ``TRIGGERED`` and places its order (LIMIT at ``price``, or MARKET), which
  carries ``st`` / ``si`` on the stream.  TRAILING_STOP_MARKET orders never trigger.
* **Ids and client ids.**  Order and strategy ids are ints beyond 2**53; they keep
  increasing across :meth:`PapiSimulator.reset` (which empties the books).
  ``newClientOrderId`` / ``newClientStrategyId`` defaults to a random 22-character
  id; longer than 36 characters (or with characters outside ``[.A-Za-z0-9:/_-]``)
  -> -4015 "Client order id is not valid." (margin: -1100); the id of another open
  order -> -4116 "ClientOrderId is duplicated." (margin: -2010 "Duplicate order
  sent.").  An unknown order: -2013 "Order does not exist." on queries and modify,
  -2011 "Unknown order sent." on cancel.
* **Responses** follow the doc shapes; new / modify / cancel answers of UM and CM
  orders carry no ``cumQuote`` / ``cumBase`` / ``avgPrice`` (removed by Binance in
  2026-07); queries still do.  ``newOrderRespType`` ACK / RESULT give the same UM /
  CM answer; margin ACK, RESULT and FULL (the default) differ as on Binance.
* **Stream** (``sim.stream``): every UM / CM order change pushes
  ``ORDER_TRADE_UPDATE`` (``x`` NEW, TRADE, CANCELED, EXPIRED, AMENDMENT) and a fill
  also ``ACCOUNT_UPDATE``; margin orders push ``executionReport`` and, when balances
  move, ``outboundAccountPosition``; conditional orders push
  ``CONDITIONAL_ORDER_TRADE_UPDATE``; borrows and repays push ``liabilityChange`` +
  ``outboundAccountPosition``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from ._errors import SimulatedError, invalid, mandatory
from .book import Book, LoanRecord, Order, Position, RepayLoanRecord, StrategyOrder
from .state import Account, AssetState, fmt8, q8

if TYPE_CHECKING:  # pragma: no cover
    from .simulator import PapiSimulator

__all__ = ["DEFAULT_LEVERAGE", "MAX_DEBT_TO_EQUITY", "Exchange", "Handler"]

ZERO = Decimal(0)
#: Margin debt may reach this many times the account's equity (USD).
MAX_DEBT_TO_EQUITY = Decimal(3)
#: UM / CM leverage of a symbol until ``POST .../leverage`` changes it.
DEFAULT_LEVERAGE = 20

_SIDES = ("BUY", "SELL")
_POSITION_SIDES = ("BOTH", "LONG", "SHORT")
_FUTURES_TIF = ("GTC", "IOC", "FOK", "GTX", "GTD")
_MARGIN_TIF = ("GTC", "IOC", "FOK")
_SIDE_EFFECTS = ("NO_SIDE_EFFECT", "MARGIN_BUY", "AUTO_REPAY", "AUTO_BORROW_REPAY")
_STRATEGY_TYPES = (
    "STOP",
    "TAKE_PROFIT",
    "STOP_MARKET",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
)
_CLIENT_ID = re.compile(r"^[.A-Za-z0-9:/_-]{1,36}$")
_CANCEL_ALL_MSG = "The operation of cancel all open order is done."
_CANCEL_ALL_CONDITIONAL_MSG = "The operation of cancel all conditional open order is done."


class _Req(Protocol):
    """What a handler needs of a request (the simulator's per-request context)."""

    now: int
    account: str | None
    applied: bool


#: A route handler: (request context, account, decoded parameters) -> JSON payload.
Handler = Callable[[Any, Account | None, dict[str, str]], Any]


def _plain(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros (``"0.01"``, ``"60000"``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _err_unknown_order() -> SimulatedError:
    return SimulatedError(400, -2013, "Order does not exist.")


def _err_cancel_unknown() -> SimulatedError:
    return SimulatedError(400, -2011, "Unknown order sent.")


def _insufficient() -> SimulatedError:
    return SimulatedError(400, -2010, "Account has insufficient balance for requested action.")


def _decimal(params: dict[str, str], name: str, *, required: bool = True) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise mandatory(name)
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise invalid(name) from None
    if not value.is_finite() or value <= 0:
        raise invalid(name)
    return value


def _positive(params: dict[str, str], name: str) -> Decimal:
    value = _decimal(params, name)
    assert value is not None
    return value


def _int(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.lstrip("-").isdigit()):
        raise invalid(name)
    return int(raw)


def _choice(params: dict[str, str], name: str, allowed: Iterable[str], default: str) -> str:
    value = params.get(name) or default
    if value not in allowed:
        raise invalid(name)
    return value


def _side(params: dict[str, str]) -> str:
    side = params.get("side", "")
    if side not in _SIDES:
        raise SimulatedError(400, -1117, "Invalid side.")
    return side


def _flag(params: dict[str, str], name: str) -> bool:
    return params.get(name, "false").lower() == "true"


def _limit(params: dict[str, str], default: int = 500, maximum: int = 1000) -> int:
    value = _int(params, "limit")
    if value is None:
        return default
    if not 0 < value <= maximum:
        raise invalid("limit")
    return value


def _in_window(t: int, params: dict[str, str]) -> bool:
    start = _int(params, "startTime")
    end = _int(params, "endTime")
    return (start is None or t >= start) and (end is None or t <= end)


class Exchange:
    """The stateful part of the simulator (see the module documentation for the rules)."""

    def __init__(self, sim: PapiSimulator) -> None:
        self._sim = sim
        self._next_order_id = 9_007_199_254_740_993  # 2**53 + 1: not exact as a float
        self._next_strategy_id = 9_100_000_000_000_001
        self._next_tx_id = 2_970_933_056_000_001

    # ------------------------------------------------------------------ routing

    def routes(self) -> dict[tuple[str, str], Handler]:
        """The handlers of the stateful routes, by ``(method, path)``."""
        um, cm = "UM", "CM"
        routes: dict[tuple[str, str], Handler] = {}
        for product, prefix in ((um, "/papi/v1/um"), (cm, "/papi/v1/cm")):
            routes.update(
                {
                    ("POST", f"{prefix}/order"): self._bind(self.new_futures_order, product),
                    ("PUT", f"{prefix}/order"): self._bind(self.modify_futures_order, product),
                    ("DELETE", f"{prefix}/order"): self._bind(self.cancel_futures_order, product),
                    ("GET", f"{prefix}/order"): self._bind(self.query_futures_order, product),
                    ("GET", f"{prefix}/openOrder"): self._bind(self.query_open_order, product),
                    ("GET", f"{prefix}/openOrders"): self._bind(self.open_orders, product),
                    ("GET", f"{prefix}/allOrders"): self._bind(self.all_orders, product),
                    ("DELETE", f"{prefix}/allOpenOrders"): self._bind(
                        self.cancel_all_futures, product
                    ),
                    ("POST", f"{prefix}/conditional/order"): self._bind(self.new_strategy, product),
                    ("DELETE", f"{prefix}/conditional/order"): self._bind(
                        self.cancel_strategy, product
                    ),
                    ("GET", f"{prefix}/conditional/openOrder"): self._bind(
                        self.query_open_strategy, product
                    ),
                    ("GET", f"{prefix}/conditional/openOrders"): self._bind(
                        self.open_strategies, product
                    ),
                    ("GET", f"{prefix}/conditional/orderHistory"): self._bind(
                        self.strategy_history, product
                    ),
                    ("GET", f"{prefix}/conditional/allOrders"): self._bind(
                        self.all_strategies, product
                    ),
                    ("DELETE", f"{prefix}/conditional/allOpenOrders"): self._bind(
                        self.cancel_all_strategies, product
                    ),
                    ("GET", f"{prefix}/positionRisk"): self._bind(self.position_risk, product),
                    ("GET", f"{prefix}/account"): self._bind(self.futures_account, product),
                    ("POST", f"{prefix}/leverage"): self._bind(self.change_leverage, product),
                }
            )
        routes[("GET", "/papi/v2/um/account")] = self._bind(self.futures_account, "UM2")
        routes.update(
            {
                ("POST", "/papi/v1/margin/order"): self.new_margin_order,
                ("DELETE", "/papi/v1/margin/order"): self.cancel_margin_order,
                ("GET", "/papi/v1/margin/order"): self.query_margin_order,
                ("GET", "/papi/v1/margin/openOrders"): self.margin_open_orders,
                ("GET", "/papi/v1/margin/allOrders"): self.margin_all_orders,
                ("DELETE", "/papi/v1/margin/allOpenOrders"): self.cancel_all_margin,
                ("POST", "/papi/v1/marginLoan"): self.borrow,
                ("POST", "/papi/v1/repayLoan"): self.repay_loan,
                ("GET", "/papi/v1/margin/marginLoan"): self.loan_records,
                ("GET", "/papi/v1/margin/repayLoan"): self.repay_records,
                ("GET", "/papi/v1/margin/maxBorrowable"): self.max_borrowable,
                ("GET", "/papi/v1/margin/maxWithdraw"): self.max_withdraw,
            }
        )
        return routes

    @staticmethod
    def _bind(
        fn: Callable[[str, Any, Account | None, dict[str, str]], Any], product: str
    ) -> Handler:
        def handler(ctx: Any, account: Account | None, params: dict[str, str]) -> Any:
            return fn(product, ctx, account, params)

        return handler

    # ------------------------------------------------------------------ prices and ids

    def mark(self, product: str, symbol: str) -> Decimal:
        """The mark price of ``symbol`` (see the module documentation); -1121 if unknown."""
        marks = self._sim.state.marks
        price = marks.get(symbol)
        if price is not None:
            return price
        prices = self._sim.state.prices
        if product == "CM":
            pair = symbol.split("_", 1)[0]
            if pair.endswith("USD") and pair[:-3] in prices:
                return prices[pair[:-3]]
        else:
            base, quote = self._split(symbol)
            return prices[base] / prices[quote]
        raise SimulatedError(400, -1121, "Invalid symbol.")

    def _split(self, symbol: str) -> tuple[str, str]:
        """``BTCUSDT`` -> ``("BTC", "USDT")``, from the assets that have a price."""
        prices = self._sim.state.prices
        for quote in sorted(prices, key=len, reverse=True):
            if symbol.endswith(quote) and symbol[: -len(quote)] in prices:
                return symbol[: -len(quote)], quote
        raise SimulatedError(400, -1121, "Invalid symbol.")

    @staticmethod
    def _contract_size(symbol: str) -> Decimal:
        return Decimal(100) if symbol.startswith("BTCUSD") else Decimal(10)

    def _order_id(self) -> int:
        self._next_order_id += 1
        return self._next_order_id

    def _tx_id(self) -> int:
        self._next_tx_id += 1
        return self._next_tx_id

    @staticmethod
    def _new_client_id() -> str:
        return secrets.token_urlsafe(16)[:22]

    def _client_id(self, book: Book, product: str, raw: str | None) -> str:
        if raw is None or raw == "":
            return self._new_client_id()
        if not _CLIENT_ID.match(raw):
            if product == "MARGIN":
                raise SimulatedError(
                    400,
                    -1100,
                    "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                    "'^[a-zA-Z0-9-_]{1,36}$'.",
                )
            raise SimulatedError(400, -4015, "Client order id is not valid.")
        if any(o.client_order_id == raw for o in book.open_orders(product)):
            if product == "MARGIN":
                raise SimulatedError(400, -2010, "Duplicate order sent.")
            raise SimulatedError(400, -4116, "ClientOrderId is duplicated.")
        return raw

    def _find(
        self, book: Book, product: str, params: dict[str, str], missing: SimulatedError
    ) -> Order:
        """The order named by ``orderId`` or ``origClientOrderId`` (newest of that id)."""
        symbol = params.get("symbol")
        order_id = _int(params, "orderId")
        client_id = params.get("origClientOrderId")
        if order_id is None and not client_id:
            raise SimulatedError(
                400,
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        if order_id is not None:
            order = book.orders.get(order_id)
            if order is None or order.product != product or order.symbol != symbol:
                raise missing
            return order
        for order in reversed(book.orders.values()):
            if (
                order.product == product
                and order.symbol == symbol
                and order.client_order_id == client_id
            ):
                return order
        raise missing

    @staticmethod
    def _account(ctx: _Req, account: Account | None) -> tuple[str, Account]:
        assert account is not None and ctx.account is not None
        return ctx.account, account

    # ------------------------------------------------------------------ stream

    def _push(self, name: str, events: Iterable[dict[str, Any]]) -> None:
        stream = self._sim.stream
        if not stream.connections(name):
            return
        for event in events:
            stream.push(event, account=name)

    def _order_event(
        self,
        order: Order,
        x: str,
        now: int,
        last_qty: Decimal = ZERO,
        last_price: Decimal = ZERO,
        realized: Decimal = ZERO,
    ) -> dict[str, Any]:
        o: dict[str, Any] = {
            "s": order.symbol,
            "c": order.client_order_id,
            "S": order.side,
            "o": order.type,
            "f": order.time_in_force,
            "q": _plain(order.quantity),
            "p": _plain(order.price),
            "ap": _plain(order.avg_price),
            "sp": "0",
            "x": x,
            "X": order.status,
            "i": order.order_id,
            "l": _plain(last_qty),
            "z": _plain(order.executed_qty),
            "L": _plain(last_price),
            "T": now,
            "t": self._tx_id() if last_qty else 0,
            "b": "0",
            "a": "0",
            "m": False,
            "R": order.reduce_only,
            "ps": order.position_side,
            "rp": _plain(realized),
            "V": order.self_trade_prevention_mode,
            "gtd": order.good_till_date,
        }
        if order.strategy_id is not None:
            o["st"] = order.strategy_type
            o["si"] = order.strategy_id
        return {"e": "ORDER_TRADE_UPDATE", "fs": order.product, "E": now, "T": now, "i": "", "o": o}

    def _execution_report(
        self,
        order: Order,
        x: str,
        now: int,
        last_qty: Decimal = ZERO,
        last_price: Decimal = ZERO,
        orig_client_id: str = "",
    ) -> dict[str, Any]:
        return {
            "e": "executionReport",
            "E": now,
            "s": order.symbol,
            "c": order.client_order_id,
            "S": order.side,
            "o": order.type,
            "f": order.time_in_force,
            "q": fmt8(order.quantity),
            "p": fmt8(order.price),
            "P": fmt8(order.stop_price),
            "F": "0.00000000",
            "g": -1,
            "C": orig_client_id,
            "x": x,
            "X": order.status,
            "r": "NONE",
            "i": order.order_id,
            "l": fmt8(last_qty),
            "z": fmt8(order.executed_qty),
            "L": fmt8(last_price),
            "n": "0",
            "N": None,
            "T": now,
            "t": self._tx_id() if last_qty else -1,
            "I": self._tx_id(),
            "w": order.is_open,
            "m": False,
            "O": order.time,
            "Z": fmt8(order.cum_quote),
            "Y": fmt8(last_qty * last_price),
            "Q": "0.00000000",
            "W": order.time,
            "V": order.self_trade_prevention_mode,
        }

    def _balances_event(self, account: Account, assets: Iterable[str], now: int) -> dict[str, Any]:
        balances = []
        for name in dict.fromkeys(assets):
            st = account.assets.get(name) or AssetState()
            balances.append({"a": name, "f": fmt8(st.free), "l": fmt8(st.locked)})
        return {
            "e": "outboundAccountPosition",
            "E": now,
            "u": now,
            "U": self._tx_id(),
            "B": balances,
        }

    def _account_update(
        self, account: Account, order: Order, now: int, change: Decimal
    ) -> dict[str, Any]:
        book = account.book
        asset = self._margin_asset(order.product, order.symbol)
        wallet = book.wallets.get((order.product, asset), ZERO)
        pos = book.positions[(order.product, order.symbol, order.position_side)]
        mark = self.mark(order.product, order.symbol)
        return {
            "e": "ACCOUNT_UPDATE",
            "fs": order.product,
            "E": now,
            "T": now,
            "i": "",
            "a": {
                "m": "ORDER",
                "B": [{"a": asset, "wb": fmt8(wallet), "cw": fmt8(wallet), "bc": "0"}],
                "P": [
                    {
                        "s": order.symbol,
                        "pa": _plain(pos.amount),
                        "ep": _plain(pos.entry_price),
                        "cr": _plain(pos.realized),
                        "up": fmt8(self._unrealized(order.product, order.symbol, pos, mark)),
                        "ps": order.position_side,
                        "bep": _plain(pos.entry_price),
                    }
                ],
            },
        }

    # ------------------------------------------------------------------ futures positions

    def _margin_asset(self, product: str, symbol: str) -> str:
        if product == "CM":
            return symbol.split("_", 1)[0][:-3]
        return self._split(symbol)[1]

    def _unrealized(self, product: str, symbol: str, pos: Position, mark: Decimal) -> Decimal:
        if not pos.amount or not pos.entry_price:
            return ZERO
        if product == "CM":
            size = self._contract_size(symbol)
            return pos.amount * size * (1 / pos.entry_price - 1 / mark)
        return (mark - pos.entry_price) * pos.amount

    def _apply_futures_fill(
        self, account: Account, order: Order, qty: Decimal, price: Decimal, now: int
    ) -> Decimal:
        """Move the position; return the realized PnL (credited to the product's wallet)."""
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
                size = self._contract_size(order.symbol)
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
        wallet_key = (order.product, self._margin_asset(order.product, order.symbol))
        book.wallets[wallet_key] = book.wallets.get(wallet_key, ZERO) + realized
        order.executed_qty += qty
        order.cum_quote += qty * price
        if order.product == "CM":
            order.cum_base += qty * self._contract_size(order.symbol) / price
        order.status = "FILLED"
        order.update_time = now
        return realized

    def _fill_futures(
        self, name: str, account: Account, order: Order, price: Decimal, now: int
    ) -> None:
        qty = order.quantity - order.executed_qty
        realized = self._apply_futures_fill(account, order, qty, price, now)
        self._push(
            name,
            (
                self._order_event(order, "TRADE", now, qty, price, realized),
                self._account_update(account, order, now, realized),
            ),
        )

    @staticmethod
    def _marketable(side: str, price: Decimal, mark: Decimal) -> bool:
        return price >= mark if side == "BUY" else price <= mark

    def _place_futures(self, name: str, account: Account, order: Order, now: int) -> None:
        """Book ``order`` (status NEW), then fill or expire it per the fill model.

        As on Binance, a post-only (GTX) order that would take and a FOK order that cannot
        fill at once are rejected (-5022 / -5021) and never recorded in the order history.
        """
        mark = self.mark(order.product, order.symbol)
        if order.type != "MARKET":
            marketable = self._marketable(order.side, order.price, mark)
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
        self._push(name, (self._order_event(order, "NEW", now),))
        if order.type == "MARKET" or self._marketable(order.side, order.price, mark):
            self._fill_futures(name, account, order, mark, now)
        elif order.time_in_force == "IOC":
            self._expire(name, order, now)

    def _expire(self, name: str, order: Order, now: int) -> None:
        order.status = "EXPIRED"
        order.update_time = now
        self._push(name, (self._order_event(order, "EXPIRED", now),))

    # ------------------------------------------------------------------ futures views

    def futures_view(self, order: Order, kind: str) -> dict[str, Any]:
        """An order as papi prints it: ``kind`` is ``new``, ``modify``, ``cancel`` or ``query``."""
        d: dict[str, Any] = {
            "clientOrderId": order.client_order_id,
            "cumQty": _plain(order.executed_qty),
            "executedQty": _plain(order.executed_qty),
            "orderId": order.order_id,
            "origQty": _plain(order.quantity),
            "price": _plain(order.price),
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
            d["avgPrice"] = _plain(order.avg_price)
            if order.product == "CM":
                d["cumBase"] = _plain(order.cum_base)
            else:
                d["cumQuote"] = _plain(order.cum_quote)
            d["time"] = order.time
        return d

    # ------------------------------------------------------------------ futures handlers

    def new_futures_order(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/{um,cm}/order``."""
        name, acc = self._account(ctx, account)
        symbol = params["symbol"]
        self.mark(product, symbol)
        side = _side(params)
        otype = params.get("type", "")
        if otype not in ("LIMIT", "MARKET"):
            raise SimulatedError(400, -1116, "Invalid orderType.")
        qty = _positive(params, "quantity")
        position_side = _choice(params, "positionSide", _POSITION_SIDES, "BOTH")
        reduce_only = _flag(params, "reduceOnly")
        gtd = 0
        if otype == "LIMIT":
            price = _positive(params, "price")
            tif = params.get("timeInForce")
            if not tif:
                raise mandatory("timeInForce")
            if tif not in _FUTURES_TIF:
                raise SimulatedError(400, -1115, "Invalid timeInForce.")
            if tif == "GTD":
                gtd = _int(params, "goodTillDate") or 0
                if not gtd:
                    raise mandatory("goodTillDate")
        else:
            price = ZERO
            tif = _choice(params, "timeInForce", _FUTURES_TIF, "GTC")
        if reduce_only:
            pos = acc.book.positions.get((product, symbol, position_side))
            amount = pos.amount if pos is not None else ZERO
            if amount == 0 or (amount > 0) == (side == "BUY"):
                raise SimulatedError(400, -2022, "ReduceOnly Order is rejected.")
        client_id = self._client_id(acc.book, product, params.get("newClientOrderId"))
        order = Order(
            product=product,
            symbol=symbol,
            order_id=self._order_id(),
            client_order_id=client_id,
            side=side,
            type=otype,
            time_in_force=tif,
            quantity=qty,
            price=price,
            time=ctx.now,
            update_time=ctx.now,
            position_side=position_side,
            reduce_only=reduce_only,
            self_trade_prevention_mode=params.get("selfTradePreventionMode") or "NONE",
            good_till_date=gtd,
            price_match=params.get("priceMatch") or "NONE",
            orig_type=otype,
        )
        self._place_futures(name, acc, order, ctx.now)
        ctx.applied = True
        return self.futures_view(order, "new")

    def modify_futures_order(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``PUT /papi/v1/{um,cm}/order``: new price and quantity of a working LIMIT order."""
        name, acc = self._account(ctx, account)
        order = self._find(acc.book, product, params, _err_unknown_order())
        side = _side(params)
        qty = _positive(params, "quantity")
        price = _positive(params, "price")
        if not order.is_open:
            raise SimulatedError(400, -2013, "Order does not exist.")
        if order.type != "LIMIT":
            raise SimulatedError(400, -1116, "Invalid orderType.")
        if side != order.side:
            raise invalid("side")
        if qty < order.executed_qty:
            raise invalid("quantity")
        if qty == order.quantity and price == order.price:
            raise SimulatedError(400, -5027, "No need to modify the order.")
        order.quantity = qty
        order.price = price
        order.update_time = ctx.now
        order.amendments += 1
        self._push(name, (self._order_event(order, "AMENDMENT", ctx.now),))
        mark = self.mark(product, order.symbol)
        if self._marketable(order.side, order.price, mark):
            self._fill_futures(name, acc, order, mark, ctx.now)
        ctx.applied = True
        return self.futures_view(order, "modify")

    def cancel_futures_order(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/{um,cm}/order``."""
        name, acc = self._account(ctx, account)
        order = self._find(acc.book, product, params, _err_cancel_unknown())
        if not order.is_open:
            raise _err_cancel_unknown()
        self._cancel(name, order, ctx.now)
        ctx.applied = True
        return self.futures_view(order, "cancel")

    def _cancel(self, name: str, order: Order, now: int) -> None:
        order.status = "CANCELED"
        order.update_time = now
        self._push(name, (self._order_event(order, "CANCELED", now),))

    def query_futures_order(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/order``."""
        _, acc = self._account(ctx, account)
        order = self._find(acc.book, product, params, _err_unknown_order())
        return self.futures_view(order, "query")

    def query_open_order(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/openOrder``: -2013 unless the order is still working."""
        _, acc = self._account(ctx, account)
        order = self._find(acc.book, product, params, _err_unknown_order())
        if not order.is_open:
            raise _err_unknown_order()
        return self.futures_view(order, "query")

    def open_orders(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/openOrders`` (``symbol`` or CM ``pair`` optional)."""
        _, acc = self._account(ctx, account)
        pair = params.get("pair")
        return [
            self.futures_view(o, "query")
            for o in acc.book.open_orders(product, params.get("symbol"))
            if pair is None or o.symbol.split("_", 1)[0] == pair
        ]

    def all_orders(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/allOrders``: ``orderId`` (from), time window, ``limit``."""
        _, acc = self._account(ctx, account)
        symbol, pair = params.get("symbol"), params.get("pair")
        if symbol is None and pair is None:
            raise mandatory("symbol")
        from_id = _int(params, "orderId")
        limit = _limit(params)
        found = [
            o
            for o in acc.book.orders.values()
            if o.product == product
            and (symbol is None or o.symbol == symbol)
            and (pair is None or o.symbol.split("_", 1)[0] == pair)
            and (from_id is None or o.order_id >= from_id)
            and _in_window(o.time, params)
        ]
        return [self.futures_view(o, "query") for o in found[:limit]]

    def cancel_all_futures(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/{um,cm}/allOpenOrders``."""
        name, acc = self._account(ctx, account)
        self.mark(product, params["symbol"])
        for order in acc.book.open_orders(product, params["symbol"]):
            self._cancel(name, order, ctx.now)
        ctx.applied = True
        return {"code": 200, "msg": _CANCEL_ALL_MSG}

    def position_risk(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/positionRisk``: the account's positions at the marks.

        Without ``symbol``: every symbol the account ever held a position in; with it,
        that symbol (a zero ``BOTH`` entry if none).  ``liquidationPrice`` is "0" (no
        liquidation model).
        """
        _, acc = self._account(ctx, account)
        symbol = params.get("symbol")
        pair = params.get("pair")
        margin_asset = params.get("marginAsset")
        keys = [
            k
            for k in acc.book.positions
            if k[0] == product
            and (symbol is None or k[1] == symbol)
            and (pair is None or k[1].split("_", 1)[0] == pair)
            and (margin_asset is None or self._margin_asset(product, k[1]) == margin_asset)
        ]
        if symbol is not None and not keys:
            self.mark(product, symbol)
            keys = [(product, symbol, "BOTH")]
        return [self._position_view(acc, k) for k in keys]

    def _position_view(self, account: Account, key: tuple[str, str, str]) -> dict[str, Any]:
        product, symbol, side = key
        pos = account.book.positions.get(key) or Position()
        mark = self.mark(product, symbol)
        leverage = account.book.leverage.get((product, symbol), DEFAULT_LEVERAGE)
        up = self._unrealized(product, symbol, pos, mark)
        d: dict[str, Any] = {
            "symbol": symbol,
            "positionAmt": _plain(pos.amount),
            "entryPrice": _plain(pos.entry_price),
            "markPrice": fmt8(mark),
            "unRealizedProfit": fmt8(up),
            "liquidationPrice": "0",
            "leverage": str(leverage),
            "positionSide": side,
            "updateTime": pos.update_time,
        }
        if product == "CM":
            size = self._contract_size(symbol)
            d["maxQty"] = "1000"
            d["notionalValue"] = fmt8(pos.amount * size / mark)
        else:
            d["maxNotionalValue"] = "50000000"
            d["notional"] = fmt8(pos.amount * mark)
        return d

    def futures_account(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/um/account``, ``/papi/v2/um/account``, ``/papi/v1/cm/account``.

        Wallet = realized PnL; initial margin = |notional| / leverage; maintenance
        margin = 0.5 % of |notional|; no open-order margin.
        """
        _, acc = self._account(ctx, account)
        v2 = product == "UM2"
        product = "UM" if v2 else product
        book = acc.book
        positions = []
        totals: dict[str, list[Decimal]] = {}
        for key, pos in book.positions.items():
            if key[0] != product:
                continue
            _, symbol, side = key
            mark = self.mark(product, symbol)
            asset = self._margin_asset(product, symbol)
            leverage = book.leverage.get((product, symbol), DEFAULT_LEVERAGE)
            if product == "CM":
                notional = abs(pos.amount) * self._contract_size(symbol) / mark
            else:
                notional = abs(pos.amount) * mark
            initial = notional / leverage
            maint = notional * Decimal("0.005")
            up = self._unrealized(product, symbol, pos, mark)
            total = totals.setdefault(asset, [ZERO, ZERO, ZERO])
            total[0] += up
            total[1] += initial
            total[2] += maint
            entry: dict[str, Any] = {
                "symbol": symbol,
                "initialMargin": fmt8(initial),
                "maintMargin": fmt8(maint),
                "unrealizedProfit": fmt8(up),
                "positionSide": side,
                "positionAmt": _plain(pos.amount),
                "updateTime": pos.update_time,
            }
            if v2:
                entry["notional"] = fmt8(pos.amount * mark)
            else:
                entry.update(
                    {
                        "positionInitialMargin": fmt8(initial),
                        "openOrderInitialMargin": "0",
                        "leverage": str(leverage),
                        "entryPrice": _plain(pos.entry_price),
                    }
                )
                if product == "CM":
                    entry["maxQty"] = "1000"
                else:
                    entry.update(
                        {"maxNotional": "50000000", "bidNotional": "0", "askNotional": "0"}
                    )
            positions.append(entry)
        assets_seen = {a for (p, a) in book.wallets if p == product} | set(totals)
        if not assets_seen:
            assets_seen = {"USDT"} if product == "UM" else set()
        assets = []
        for asset in sorted(assets_seen):
            up, initial, maint = totals.get(asset, [ZERO, ZERO, ZERO])
            assets.append(
                {
                    "asset": asset,
                    "crossWalletBalance": fmt8(book.wallets.get((product, asset), ZERO)),
                    "crossUnPnl": fmt8(up),
                    "maintMargin": fmt8(maint),
                    "initialMargin": fmt8(initial),
                    "positionInitialMargin": fmt8(initial),
                    "openOrderInitialMargin": "0.00000000",
                    "updateTime": acc.update_time,
                }
            )
        return {"assets": assets, "positions": positions}

    def change_leverage(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/{um,cm}/leverage`` (1..125)."""
        _, acc = self._account(ctx, account)
        symbol = params["symbol"]
        self.mark(product, symbol)
        leverage = _int(params, "leverage")
        if leverage is None or not 1 <= leverage <= 125:
            raise invalid("leverage")
        acc.book.leverage[(product, symbol)] = leverage
        ctx.applied = True
        if product == "CM":
            return {"leverage": leverage, "maxQty": "1000", "symbol": symbol}
        return {"leverage": leverage, "maxNotionalValue": "50000000", "symbol": symbol}

    def futures_totals(self, account: Account) -> tuple[Decimal, Decimal]:
        """(USD value of the UM / CM wallets plus unrealized PnL, USD initial margin)."""
        prices = self._sim.state.prices
        value = ZERO
        initial = ZERO
        for (_, asset), wallet in account.book.wallets.items():
            value += wallet * prices.get(asset, ZERO)
        for (product, symbol, _), pos in account.book.positions.items():
            if not pos.amount:
                continue
            mark = self.mark(product, symbol)
            asset = self._margin_asset(product, symbol)
            price = prices.get(asset, ZERO)
            value += self._unrealized(product, symbol, pos, mark) * price
            leverage = account.book.leverage.get((product, symbol), DEFAULT_LEVERAGE)
            if product == "CM":
                initial += abs(pos.amount) * self._contract_size(symbol) / leverage
            else:
                initial += abs(pos.amount) * mark * price / leverage
        return value, initial

    def futures_wallet(
        self, account: Account, asset: str
    ) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(UM wallet, UM unrealized PnL, CM wallet, CM unrealized PnL) of ``asset``."""
        book = account.book
        pnl = {"UM": ZERO, "CM": ZERO}
        for (product, symbol, _), pos in book.positions.items():
            if pos.amount and self._margin_asset(product, symbol) == asset:
                pnl[product] += self._unrealized(product, symbol, pos, self.mark(product, symbol))
        return (
            book.wallets.get(("UM", asset), ZERO),
            pnl["UM"],
            book.wallets.get(("CM", asset), ZERO),
            pnl["CM"],
        )

    # ------------------------------------------------------------------ conditional orders

    def strategy_view(self, s: StrategyOrder, kind: str) -> dict[str, Any]:
        """A conditional order as papi prints it (``kind``: ``new``, ``open``, ``history``)."""
        d: dict[str, Any] = {
            "newClientStrategyId": s.client_strategy_id,
            "strategyId": s.strategy_id,
            "strategyStatus": s.status,
            "strategyType": s.strategy_type,
            "origQty": _plain(s.quantity),
            "price": _plain(s.price),
            "reduceOnly": s.reduce_only,
            "side": s.side,
            "positionSide": s.position_side,
            "stopPrice": _plain(s.stop_price),
            "symbol": s.symbol,
            "timeInForce": s.time_in_force,
            "activatePrice": _plain(s.activate_price),
            "priceRate": _plain(s.price_rate),
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
            d["orderId"] = s.order_id or 0
            d["triggerTime"] = s.trigger_time
            d["type"] = "MARKET" if s.strategy_type.endswith("MARKET") else "LIMIT"
            order = None
            if s.order_id is not None:
                owner = self._owner_of_strategy(s)
                order = owner.book.orders.get(s.order_id) if owner is not None else None
            d["status"] = order.status if order is not None else s.status
        return d

    def _owner_of_strategy(self, s: StrategyOrder) -> Account | None:
        for account in self._sim.state.accounts.values():
            if account.book.strategies.get(s.strategy_id) is s:
                return account
        return None

    def _strategy_event(self, s: StrategyOrder, now: int) -> dict[str, Any]:
        so: dict[str, Any] = {
            "s": s.symbol,
            "c": s.client_strategy_id,
            "si": s.strategy_id,
            "S": s.side,
            "st": s.strategy_type,
            "f": s.time_in_force,
            "q": _plain(s.quantity),
            "p": _plain(s.price),
            "sp": _plain(s.stop_price),
            "os": s.status,
            "T": s.book_time,
            "ut": s.update_time,
            "R": s.reduce_only,
            "wt": s.working_type,
            "ps": s.position_side,
            "cp": False,
            "V": s.self_trade_prevention_mode,
            "gtd": s.good_till_date,
        }
        if s.strategy_type == "TRAILING_STOP_MARKET":
            so["AP"] = _plain(s.activate_price)
            so["cr"] = _plain(s.price_rate)
        if s.order_id is not None:
            so["i"] = s.order_id
        return {
            "e": "CONDITIONAL_ORDER_TRADE_UPDATE",
            "T": now,
            "E": now,
            "fs": s.product,
            "so": so,
        }

    @staticmethod
    def _triggers(s: StrategyOrder, mark: Decimal) -> bool:
        if s.strategy_type == "TRAILING_STOP_MARKET":
            return False
        stop_like = s.strategy_type.startswith("STOP")
        buy = s.side == "BUY"
        if stop_like == buy:
            return mark >= s.stop_price
        return mark <= s.stop_price

    def new_strategy(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/{um,cm}/conditional/order``."""
        name, acc = self._account(ctx, account)
        symbol = params["symbol"]
        mark = self.mark(product, symbol)
        side = _side(params)
        stype = params.get("strategyType", "")
        if stype not in _STRATEGY_TYPES:
            raise SimulatedError(400, -1116, "Invalid orderType.")
        qty = _positive(params, "quantity")
        price = ZERO
        stop = ZERO
        if stype in ("STOP", "TAKE_PROFIT"):
            price = _positive(params, "price")
        if stype != "TRAILING_STOP_MARKET":
            stop = _positive(params, "stopPrice")
        rate = ZERO
        activate = _decimal(params, "activationPrice", required=False) or ZERO
        if stype == "TRAILING_STOP_MARKET":
            rate = _positive(params, "callbackRate")
        client_id = params.get("newClientStrategyId") or self._new_client_id()
        if not _CLIENT_ID.match(client_id):
            raise SimulatedError(400, -4015, "Client order id is not valid.")
        if any(
            s.client_strategy_id == client_id and s.status == "NEW"
            for s in acc.book.strategies.values()
        ):
            raise SimulatedError(400, -4116, "ClientOrderId is duplicated.")
        self._next_strategy_id += 1
        s = StrategyOrder(
            product=product,
            symbol=symbol,
            strategy_id=self._next_strategy_id,
            client_strategy_id=client_id,
            strategy_type=stype,
            side=side,
            position_side=_choice(params, "positionSide", _POSITION_SIDES, "BOTH"),
            time_in_force=_choice(params, "timeInForce", _FUTURES_TIF, "GTC"),
            quantity=qty,
            price=price,
            stop_price=stop,
            book_time=ctx.now,
            update_time=ctx.now,
            reduce_only=_flag(params, "reduceOnly"),
            working_type=params.get("workingType") or "CONTRACT_PRICE",
            price_protect=_flag(params, "priceProtect"),
            activate_price=activate,
            price_rate=rate,
            self_trade_prevention_mode=params.get("selfTradePreventionMode") or "NONE",
            good_till_date=_int(params, "goodTillDate") or 0,
            price_match=params.get("priceMatch") or "NONE",
        )
        if self._triggers(s, mark):
            raise SimulatedError(400, -2021, "Order would immediately trigger.")
        acc.book.strategies[s.strategy_id] = s
        self._push(name, (self._strategy_event(s, ctx.now),))
        ctx.applied = True
        return self.strategy_view(s, "new")

    def _find_strategy(
        self, book: Book, product: str, params: dict[str, str], missing: SimulatedError
    ) -> StrategyOrder:
        symbol = params.get("symbol")
        sid = _int(params, "strategyId")
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

    def cancel_strategy(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/{um,cm}/conditional/order``."""
        name, acc = self._account(ctx, account)
        s = self._find_strategy(acc.book, product, params, _err_cancel_unknown())
        if s.status != "NEW":
            raise _err_cancel_unknown()
        self._cancel_strategy(name, s, ctx.now)
        ctx.applied = True
        return self.strategy_view(s, "new")

    def _cancel_strategy(self, name: str, s: StrategyOrder, now: int) -> None:
        s.status = "CANCELED"
        s.update_time = now
        self._push(name, (self._strategy_event(s, now),))

    def query_open_strategy(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/conditional/openOrder``: -2013 unless still ``NEW``."""
        _, acc = self._account(ctx, account)
        s = self._find_strategy(acc.book, product, params, _err_unknown_order())
        if s.status != "NEW":
            raise _err_unknown_order()
        view = self.strategy_view(s, "new")
        del view["workingType"], view["priceProtect"]
        return view

    def open_strategies(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/conditional/openOrders`` (``symbol`` optional)."""
        _, acc = self._account(ctx, account)
        symbol = params.get("symbol")
        return [
            self.strategy_view(s, "new")
            for s in acc.book.strategies.values()
            if s.product == product and s.status == "NEW" and (symbol is None or s.symbol == symbol)
        ]

    def strategy_history(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/conditional/orderHistory`` (any status)."""
        _, acc = self._account(ctx, account)
        s = self._find_strategy(acc.book, product, params, _err_unknown_order())
        return self.strategy_view(s, "history")

    def all_strategies(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/conditional/allOrders``."""
        _, acc = self._account(ctx, account)
        symbol = params.get("symbol")
        from_id = _int(params, "strategyId")
        limit = _limit(params)
        found = [
            s
            for s in acc.book.strategies.values()
            if s.product == product
            and (symbol is None or s.symbol == symbol)
            and (from_id is None or s.strategy_id >= from_id)
            and _in_window(s.book_time, params)
        ]
        return [self.strategy_view(s, "history") for s in found[:limit]]

    def cancel_all_strategies(
        self, product: str, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/{um,cm}/conditional/allOpenOrders``."""
        name, acc = self._account(ctx, account)
        symbol = params["symbol"]
        self.mark(product, symbol)
        for s in list(acc.book.strategies.values()):
            if s.product == product and s.symbol == symbol and s.status == "NEW":
                self._cancel_strategy(name, s, ctx.now)
        ctx.applied = True
        return {"code": "200", "msg": _CANCEL_ALL_CONDITIONAL_MSG}

    # ------------------------------------------------------------------ mark moves

    def on_mark(self, symbol: str, now: int) -> None:
        """The mark of ``symbol`` moved: trigger conditional orders, fill crossed LIMIT orders."""
        for name, account in list(self._sim.state.accounts.items()):
            book = account.book
            for s in list(book.strategies.values()):
                if s.symbol != symbol or s.status != "NEW":
                    continue
                if self._triggers(s, self.mark(s.product, symbol)):
                    self._trigger(name, account, s, now)
            for order in list(book.orders.values()):
                if order.symbol != symbol or not order.is_open or order.type == "MARKET":
                    continue
                mark = self.mark(order.product, symbol)
                if not self._marketable(order.side, order.price, mark):
                    continue
                if order.product == "MARGIN":
                    self._fill_margin(name, account, order, order.price, now, resting=True)
                else:
                    self._fill_futures(name, account, order, order.price, now)

    def _trigger(self, name: str, account: Account, s: StrategyOrder, now: int) -> None:
        s.status = "TRIGGERED"
        s.trigger_time = s.update_time = now
        market = s.strategy_type.endswith("MARKET")
        order = Order(
            product=s.product,
            symbol=s.symbol,
            order_id=self._order_id(),
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
        self._push(name, (self._strategy_event(s, now),))
        self._place_futures(name, account, order, now)

    # ------------------------------------------------------------------ margin orders

    def margin_view(self, order: Order, kind: str, orig_client_id: str = "") -> dict[str, Any]:
        """A margin order as papi prints it (``kind``: ``ACK``, ``RESULT``, ``FULL``,
        ``cancel`` or ``query``)."""
        if kind == "query":
            return {
                "clientOrderId": order.client_order_id,
                "cummulativeQuoteQty": fmt8(order.cum_quote),
                "executedQty": fmt8(order.executed_qty),
                "icebergQty": "0.00000000",
                "isWorking": order.is_open,
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
                "accountId": 152_950_866,
                "selfTradePreventionMode": order.self_trade_prevention_mode,
                "preventedMatchId": None,
                "preventedQuantity": None,
            }
        if kind == "cancel":
            return {
                "symbol": order.symbol,
                "orderId": order.order_id,
                "origClientOrderId": orig_client_id,
                "clientOrderId": order.client_order_id,
                "price": fmt8(order.price),
                "origQty": fmt8(order.quantity),
                "executedQty": fmt8(order.executed_qty),
                "cummulativeQuoteQty": fmt8(order.cum_quote),
                "status": order.status,
                "timeInForce": order.time_in_force,
                "type": order.type,
                "side": order.side,
            }
        d: dict[str, Any] = {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "clientOrderId": order.client_order_id,
            "transactTime": order.time,
        }
        if kind == "ACK":
            return d
        d.update(
            {
                "price": fmt8(order.price),
                "origQty": fmt8(order.quantity),
                "executedQty": fmt8(order.executed_qty),
                "cummulativeQuoteQty": fmt8(order.cum_quote),
                "status": order.status,
                "timeInForce": order.time_in_force,
                "type": order.type,
                "side": order.side,
            }
        )
        if kind == "FULL":
            d["fills"] = (
                [
                    {
                        "price": fmt8(order.avg_price),
                        "qty": fmt8(order.executed_qty),
                        "commission": "0.00000000",
                        "commissionAsset": self._split(order.symbol)[1],
                    }
                ]
                if order.executed_qty
                else []
            )
        return d

    def _needs(self, order: Order, price: Decimal) -> tuple[str, Decimal]:
        """(asset, amount) a margin order at ``price`` spends."""
        base, quote = self._split(order.symbol)
        if order.side == "BUY":
            return quote, q8(order.quantity * price)
        return base, order.quantity

    def _borrow(self, account: Account, asset: str, amount: Decimal, now: int) -> None:
        """Borrow ``amount`` of ``asset`` (51006 beyond ``MAX_DEBT_TO_EQUITY``)."""
        price = self._sim.state.prices.get(asset)
        if price is None:
            raise SimulatedError(400, -1108, "Invalid asset.")
        equity, debt = self.margin_equity(account)
        if debt + amount * price > MAX_DEBT_TO_EQUITY * equity:
            raise SimulatedError(400, 51006, "Exceeds the maximum borrowable limit.")
        st = account.asset(asset)
        st.free += amount
        st.borrowed += amount
        account.book.loans.append(LoanRecord(self._tx_id(), asset, amount, now))
        account.update_time = now

    def _repay(self, account: Account, asset: str, amount: Decimal, now: int) -> RepayLoanRecord:
        st = account.asset(asset)
        interest = min(st.interest, amount)
        principal = amount - interest
        st.free -= amount
        st.interest -= interest
        st.borrowed -= principal
        record = RepayLoanRecord(self._tx_id(), asset, amount, principal, interest, now)
        account.book.repays.append(record)
        account.update_time = now
        return record

    def margin_equity(self, account: Account) -> tuple[Decimal, Decimal]:
        """(equity, debt) of the cross-margin balances in USD."""
        prices = self._sim.state.prices
        assets = sum((st.total * prices.get(n, ZERO) for n, st in account.assets.items()), ZERO)
        debt = sum((st.debt * prices.get(n, ZERO) for n, st in account.assets.items()), ZERO)
        return assets - debt, debt

    def _fill_margin(
        self,
        name: str,
        account: Account,
        order: Order,
        price: Decimal,
        now: int,
        *,
        resting: bool = False,
    ) -> None:
        base, quote = self._split(order.symbol)
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
        touched = [base, quote]
        if order.side_effect_type in ("AUTO_REPAY", "AUTO_BORROW_REPAY"):
            debt = account.asset(received).debt
            repay = min(debt, amount, account.asset(received).free)
            if repay > 0:
                self._repay(account, received, repay, now)
        account.update_time = now
        self._push(
            name,
            (
                self._execution_report(order, "TRADE", now, qty, price),
                self._balances_event(account, touched, now),
            ),
        )

    def new_margin_order(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/margin/order`` (LIMIT, MARKET, LIMIT_MAKER)."""
        name, acc = self._account(ctx, account)
        symbol = params["symbol"]
        base, quote = self._split(symbol)
        mark = self.mark("MARGIN", symbol)
        side = _side(params)
        otype = params.get("type", "")
        if otype not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise SimulatedError(400, -1116, "Invalid orderType.")
        side_effect = _choice(params, "sideEffectType", _SIDE_EFFECTS, "NO_SIDE_EFFECT")
        resp_type = _choice(params, "newOrderRespType", ("ACK", "RESULT", "FULL"), "FULL")
        quote_qty = _decimal(params, "quoteOrderQty", required=False)
        if otype == "MARKET" and quote_qty is not None and "quantity" not in params:
            qty = q8(quote_qty / mark)
            if qty <= 0:
                raise invalid("quoteOrderQty")
        else:
            qty = _positive(params, "quantity")
        if otype == "MARKET":
            price = ZERO
            tif = ""
        else:
            price = _positive(params, "price")
            if otype == "LIMIT_MAKER":
                tif = "GTC"
            else:
                tif = params.get("timeInForce") or ""
                if not tif:
                    raise mandatory("timeInForce")
                if tif not in _MARGIN_TIF:
                    raise SimulatedError(400, -1115, "Invalid timeInForce.")
        client_id = self._client_id(acc.book, "MARGIN", params.get("newClientOrderId"))
        order = Order(
            product="MARGIN",
            symbol=symbol,
            order_id=self._order_id(),
            client_order_id=client_id,
            side=side,
            type=otype,
            time_in_force=tif or "GTC",
            quantity=qty,
            price=price,
            time=ctx.now,
            update_time=ctx.now,
            self_trade_prevention_mode=params.get("selfTradePreventionMode") or "NONE",
            side_effect_type=side_effect,
            stop_price=ZERO,
        )
        marketable = otype == "MARKET" or self._marketable(side, price, mark)
        if marketable and otype == "LIMIT_MAKER":
            raise SimulatedError(400, -2010, "Order would immediately match and take.")
        fills = marketable
        rests = not marketable and tif not in ("IOC", "FOK")
        borrowed = ZERO
        asset = ""
        if fills or rests:
            asset, need = self._needs(order, mark if fills else price)
            st = acc.asset(asset)
            shortfall = need - st.free
            if shortfall > 0:
                if side_effect not in ("MARGIN_BUY", "AUTO_BORROW_REPAY"):
                    raise _insufficient()
                self._borrow(acc, asset, shortfall, ctx.now)
                borrowed = shortfall
            if rests:
                st.free -= need
                st.locked += need
                order.locked_asset, order.locked = asset, need
        acc.book.orders[order.order_id] = order
        self._push(name, (self._execution_report(order, "NEW", ctx.now),))
        if fills:
            self._fill_margin(name, acc, order, mark, ctx.now)
        elif not rests:
            order.status = "EXPIRED"
            self._push(name, (self._execution_report(order, "EXPIRED", ctx.now),))
        elif borrowed or order.locked:
            self._push(name, (self._balances_event(acc, [base, quote], ctx.now),))
        ctx.applied = True
        view = self.margin_view(order, resp_type)
        if borrowed and resp_type != "ACK":
            view["marginBuyBorrowAmount"] = fmt8(borrowed)
            view["marginBuyBorrowAsset"] = asset
        return view

    def _unlock(self, account: Account, order: Order) -> None:
        if order.locked_asset is not None and order.locked:
            st = account.asset(order.locked_asset)
            st.locked -= order.locked
            st.free += order.locked
            order.locked = ZERO

    def _cancel_margin(
        self, name: str, account: Account, order: Order, now: int, new_client_id: str | None
    ) -> str:
        orig = order.client_order_id
        self._unlock(account, order)
        order.status = "CANCELED"
        order.update_time = now
        order.client_order_id = new_client_id or self._new_client_id()
        base, quote = self._split(order.symbol)
        self._push(
            name,
            (
                self._execution_report(order, "CANCELED", now, orig_client_id=orig),
                self._balances_event(account, [base, quote], now),
            ),
        )
        return orig

    def cancel_margin_order(
        self, ctx: _Req, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``DELETE /papi/v1/margin/order`` (the locked funds are released)."""
        name, acc = self._account(ctx, account)
        order = self._find(acc.book, "MARGIN", params, _err_cancel_unknown())
        if not order.is_open:
            raise _err_cancel_unknown()
        orig = self._cancel_margin(name, acc, order, ctx.now, params.get("newClientOrderId"))
        ctx.applied = True
        return self.margin_view(order, "cancel", orig)

    def query_margin_order(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/order``."""
        _, acc = self._account(ctx, account)
        return self.margin_view(
            self._find(acc.book, "MARGIN", params, _err_unknown_order()), "query"
        )

    def margin_open_orders(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/openOrders``."""
        _, acc = self._account(ctx, account)
        self._split(params["symbol"])
        return [
            self.margin_view(o, "query") for o in acc.book.open_orders("MARGIN", params["symbol"])
        ]

    def margin_all_orders(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/allOrders`` (``limit`` default 500, max 500)."""
        _, acc = self._account(ctx, account)
        symbol = params["symbol"]
        from_id = _int(params, "orderId")
        limit = _limit(params, 500, 500)
        found = [
            o
            for o in acc.book.orders.values()
            if o.product == "MARGIN"
            and o.symbol == symbol
            and (from_id is None or o.order_id >= from_id)
            and _in_window(o.time, params)
        ]
        return [self.margin_view(o, "query") for o in found[:limit]]

    def cancel_all_margin(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``DELETE /papi/v1/margin/allOpenOrders``: one cancel answer per order."""
        name, acc = self._account(ctx, account)
        self._split(params["symbol"])
        out = []
        for order in acc.book.open_orders("MARGIN", params["symbol"]):
            orig = self._cancel_margin(name, acc, order, ctx.now, None)
            out.append(self.margin_view(order, "cancel", orig))
        ctx.applied = True
        return out

    # ------------------------------------------------------------------ margin loans

    def _amount(self, params: dict[str, str]) -> Decimal:
        amount = _positive(params, "amount")
        if amount != q8(amount):
            raise SimulatedError(
                400, -1111, "Precision is over the maximum defined for this asset."
            )
        return amount

    def borrow(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/marginLoan``: ``{"tranId": ...}``."""
        name, acc = self._account(ctx, account)
        asset = params["asset"]
        amount = self._amount(params)
        self._borrow(acc, asset, amount, ctx.now)
        record = acc.book.loans[-1]
        ctx.applied = True
        self._push(
            name,
            (
                {
                    "e": "liabilityChange",
                    "E": ctx.now,
                    "a": asset,
                    "t": "BORROW",
                    "T": record.tx_id,
                    "p": fmt8(amount),
                    "i": "0.00000000",
                    "l": fmt8(acc.asset(asset).debt),
                },
                self._balances_event(acc, [asset], ctx.now),
            ),
        )
        return {"tranId": record.tx_id}

    def repay_loan(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/repayLoan``: ``{"tranId": ...}`` (interest first)."""
        name, acc = self._account(ctx, account)
        asset = params["asset"]
        if asset not in self._sim.state.prices:
            raise SimulatedError(400, -1108, "Invalid asset.")
        amount = self._amount(params)
        st = acc.asset(asset)
        if st.debt <= 0 or amount > st.debt:
            raise SimulatedError(400, -3015, "Repay amount exceeds borrow amount.")
        if amount > st.free:
            raise SimulatedError(400, -2018, "Balance is insufficient.")
        record = self._repay(acc, asset, amount, ctx.now)
        ctx.applied = True
        self._push(
            name,
            (
                {
                    "e": "liabilityChange",
                    "E": ctx.now,
                    "a": asset,
                    "t": "REPAY",
                    "T": record.tx_id,
                    "p": fmt8(record.principal),
                    "i": fmt8(record.interest),
                    "l": fmt8(st.debt),
                },
                self._balances_event(acc, [asset], ctx.now),
            ),
        )
        return {"tranId": record.tx_id}

    @staticmethod
    def _page(rows: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        current = _int(params, "current") or 1
        size = _int(params, "size") or 10
        if current < 1:
            raise invalid("current")
        if not 0 < size <= 100:
            raise invalid("size")
        start = (current - 1) * size
        return {"rows": rows[start : start + size], "total": len(rows)}

    def loan_records(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/marginLoan``: newest first, paged (``current``, ``size``)."""
        _, acc = self._account(ctx, account)
        tx = _int(params, "txId")
        rows = [
            {
                "txId": r.tx_id,
                "asset": r.asset,
                "principal": fmt8(r.principal),
                "timestamp": r.timestamp,
                "status": "CONFIRMED",
            }
            for r in reversed(acc.book.loans)
            if r.asset == params["asset"]
            and (tx is None or r.tx_id == tx)
            and _in_window(r.timestamp, params)
        ]
        return self._page(rows, params)

    def repay_records(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/repayLoan``: newest first, paged (``current``, ``size``)."""
        _, acc = self._account(ctx, account)
        tx = _int(params, "txId")
        rows = [
            {
                "amount": fmt8(r.amount),
                "asset": r.asset,
                "interest": fmt8(r.interest),
                "principal": fmt8(r.principal),
                "status": "CONFIRMED",
                "timestamp": r.timestamp,
                "txId": r.tx_id,
            }
            for r in reversed(acc.book.repays)
            if r.asset == params["asset"]
            and (tx is None or r.tx_id == tx)
            and _in_window(r.timestamp, params)
        ]
        return self._page(rows, params)

    def max_borrowable(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/maxBorrowable``: from the ``MAX_DEBT_TO_EQUITY`` rule."""
        _, acc = self._account(ctx, account)
        price = self._sim.state.prices.get(params["asset"])
        if price is None:
            raise SimulatedError(400, -1108, "Invalid asset.")
        equity, debt = self.margin_equity(acc)
        limit = max(ZERO, MAX_DEBT_TO_EQUITY * equity)
        return {"amount": fmt8(max(ZERO, limit - debt) / price), "borrowLimit": fmt8(limit / price)}

    def max_withdraw(self, ctx: _Req, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/maxWithdraw``: the free balance of the asset."""
        _, acc = self._account(ctx, account)
        if params["asset"] not in self._sim.state.prices:
            raise SimulatedError(400, -1108, "Invalid asset.")
        st = acc.assets.get(params["asset"])
        return {"amount": fmt8(st.free if st is not None else ZERO)}
