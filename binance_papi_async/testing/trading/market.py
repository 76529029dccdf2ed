"""What every trading desk shares: the live state, symbol prices, ids and the stream.

One :class:`Market` per simulator.  It reads the state through its host (the
simulator replaces ``state`` on reset), prices symbols (marks, or derived from the
USD prices), gives their filters and commission rates, hands out order / strategy /
transaction ids (increasing across resets), keeps the client-id index
(:attr:`Market.client_ids`, :mod:`.clientids`), finds orders, tells the desks when an
order is done, and pushes events to the user data stream of an account.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from .._errors import SimulatedError
from ..book import Book, Order, Position
from ..routing import Call, Handler
from ..state import Account, Commission, RepayRecord, SimState, SymbolRules
from .clientids import CLIENT_ID_RULES, ClientIds
from .params import ZERO, integer

__all__ = ["EventSink", "Host", "Market", "OrderDone", "ProductHandler", "bind"]

#: Called when an order is done (filled, cancelled, expired): ``(account name, account,
#: order, server ms)``.
OrderDone = Callable[[str, Account, Order, int], None]

#: A handler serving both products: ``(product, call, account, params) -> payload``.
ProductHandler = Callable[[str, Call, Account | None, dict[str, str]], Any]


def bind(fn: ProductHandler, product: str) -> Handler:
    """The route handler of ``product`` (``"UM"`` or ``"CM"``) for ``fn``."""

    def handler(call: Call, account: Account | None, params: dict[str, str]) -> Any:
        return fn(product, call, account, params)

    return handler


class EventSink(Protocol):
    """The user data stream as the trading engine uses it (:class:`~..stream.StreamHub`)."""

    def connections(self, account: str | None = None) -> int: ...

    def push(self, event: Mapping[str, Any], *, account: str = ...) -> int: ...

    def on_repay(self, account: Account, record: RepayRecord) -> None: ...


class Host(Protocol):
    """What the trading engine needs of the simulator: its live state and its stream."""

    @property
    def state(self) -> SimState: ...

    @property
    def stream(self) -> EventSink: ...


class Market:
    """Prices, ids, order lookup and event delivery, shared by the desks."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self._next_order_id = 9_007_199_254_740_993  # 2**53 + 1: not exact as a float
        self._next_strategy_id = 9_100_000_000_000_001
        self._next_tx_id = 2_970_933_056_000_001
        #: Which order holds which client id (see :mod:`.clientids`).
        self.client_ids = ClientIds()
        self._done: list[OrderDone] = []

    def reset(self) -> None:
        """The books were replaced: forget their client ids (ids keep increasing)."""
        self.client_ids.clear()

    def on_order_done(self, listener: OrderDone) -> None:
        """Call ``listener`` whenever an order is done (see :meth:`order_done`)."""
        self._done.append(listener)

    def order_done(self, name: str, account: Account, order: Order, now: int) -> None:
        """``order`` was filled, cancelled or expired: tell the listeners (e.g. the algo
        order that placed it)."""
        for listener in self._done:
            listener(name, account, order, now)

    @property
    def state(self) -> SimState:
        """The simulator's live state (a new object after each reset)."""
        return self._host.state

    @property
    def stream(self) -> EventSink:
        """The simulator's user data stream."""
        return self._host.stream

    # -- prices ------------------------------------------------------------------------------

    def mark(self, product: str, symbol: str) -> Decimal:
        """The mark price of ``symbol`` (see :mod:`.trading`); -1121 if unknown."""
        state = self._host.state
        price = state.marks.get(symbol)
        if price is not None:
            return price
        prices = state.prices
        if product == "CM":
            pair = symbol.split("_", 1)[0]
            if pair.endswith("USD") and pair[:-3] in prices:
                return prices[pair[:-3]]
        else:
            base, quote = self.split(symbol)
            return prices[base] / prices[quote]
        raise SimulatedError(400, -1121, "Invalid symbol.")

    def split(self, symbol: str) -> tuple[str, str]:
        """``BTCUSDT`` -> ``("BTC", "USDT")``, from the assets that have a price."""
        prices = self._host.state.prices
        for quote in sorted(prices, key=len, reverse=True):
            if symbol.endswith(quote) and symbol[: -len(quote)] in prices:
                return symbol[: -len(quote)], quote
        raise SimulatedError(400, -1121, "Invalid symbol.")

    def rules(self, product: str, symbol: str) -> SymbolRules:
        """The filters of ``symbol`` (see :mod:`.rules`)."""
        return self._host.state.rules(product, symbol)

    def rates(self, product: str) -> Commission:
        """The maker / taker commission rates of ``product``."""
        return self._host.state.rates(product)

    @staticmethod
    def contract_size(symbol: str) -> Decimal:
        """USD per CM contract: 100 for BTC, 10 otherwise."""
        return Decimal(100) if symbol.startswith("BTCUSD") else Decimal(10)

    def margin_asset(self, product: str, symbol: str) -> str:
        """The asset a UM (quote) or CM (base) position is margined and settled in."""
        if product == "CM":
            return symbol.split("_", 1)[0][:-3]
        return self.split(symbol)[1]

    def unrealized(self, product: str, symbol: str, pos: Position, mark: Decimal) -> Decimal:
        """Unrealized PnL of ``pos`` at ``mark`` (UM: quote asset; CM: base asset)."""
        if not pos.amount or not pos.entry_price:
            return ZERO
        if product == "CM":
            size = self.contract_size(symbol)
            return pos.amount * size * (1 / pos.entry_price - 1 / mark)
        return (mark - pos.entry_price) * pos.amount

    @staticmethod
    def marketable(side: str, price: Decimal, mark: Decimal) -> bool:
        """Whether a LIMIT order at ``price`` would take at ``mark``."""
        return price >= mark if side == "BUY" else price <= mark

    # -- ids ---------------------------------------------------------------------------------

    def order_id(self) -> int:
        """A new order id (beyond 2**53)."""
        self._next_order_id += 1
        return self._next_order_id

    def strategy_id(self) -> int:
        """A new conditional order (strategy) id."""
        self._next_strategy_id += 1
        return self._next_strategy_id

    def tx_id(self) -> int:
        """A new transaction id (trades, loans, repays, balance updates)."""
        self._next_tx_id += 1
        return self._next_tx_id

    @staticmethod
    def new_client_id() -> str:
        """A random 22-character client order id, like Binance's."""
        return secrets.token_urlsafe(16)[:22]

    def client_id(
        self, name: str, kind: str, raw: str | None, param: str = "newClientOrderId"
    ) -> str:
        """The client id ``raw`` checked for ``kind`` (see :mod:`.clientids`), or a new one.

        Not allowed: -4015 "Client order id is not valid." (margin: -1100 naming
        ``param``); held by an open order of the account: -4116 "ClientOrderId is
        duplicated." (margin: -2010 "Duplicate order sent.").
        """
        margin = kind.startswith("MARGIN")
        if raw is None or raw == "":
            return self.new_client_id()
        if not self.client_ids.valid(kind, raw):
            if margin:
                legal = CLIENT_ID_RULES[kind].pattern
                raise SimulatedError(
                    400,
                    -1100,
                    f"Illegal characters found in parameter '{param}'; legal range is '{legal}'.",
                )
            raise SimulatedError(400, -4015, "Client order id is not valid.")
        if self.client_ids.open_holder(name, kind, raw) is not None:
            if margin:
                raise SimulatedError(400, -2010, "Duplicate order sent.")
            raise SimulatedError(400, -4116, "ClientOrderId is duplicated.")
        return raw

    # -- lookups -----------------------------------------------------------------------------

    def find(
        self,
        name: str,
        book: Book,
        product: str,
        params: dict[str, str],
        missing: SimulatedError,
    ) -> Order:
        """The order named by ``orderId`` (which prevails) or ``origClientOrderId`` (the
        newest order of the symbol that carried that id)."""
        symbol = params.get("symbol")
        order_id = integer(params, "orderId")
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
        assert client_id is not None
        for order in self.client_ids.holders(name, product, client_id, Order):
            if order.symbol == symbol:
                return order
        raise missing

    def book_order(self, name: str, account: Account, order: Order) -> None:
        """Record ``order`` in the account's book and the client-id index."""
        account.book.orders[order.order_id] = order
        self.client_ids.register(name, order.product, order.client_order_id, order)

    @staticmethod
    def caller(call: Call, account: Account | None) -> tuple[str, Account]:
        """The account name and state of a keyed request."""
        assert account is not None and call.account is not None
        return call.account, account

    # -- stream ------------------------------------------------------------------------------

    def push(self, name: str, events: Iterable[dict[str, Any]]) -> None:
        """Send ``events`` to the stream connections of account ``name``, if it has any."""
        stream = self._host.stream
        if not stream.connections(name):
            return
        for event in events:
            stream.push(event, account=name)
