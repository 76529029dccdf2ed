"""What every trading desk shares: the live state, symbol prices, ids and the stream.

One :class:`Market` per simulator.  It reads the state through its host (the
simulator replaces ``state`` on reset), prices symbols (marks, or derived from the
USD prices), hands out order / strategy / transaction ids (increasing across
resets) and client order ids, finds orders, and pushes events to the user data
stream of an account.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from .._errors import SimulatedError
from ..book import Book, Order, Position
from ..routing import Call, Handler
from ..state import Account, RepayRecord, SimState
from .params import ZERO, integer

__all__ = ["EventSink", "Host", "Market", "ProductHandler", "bind"]

_CLIENT_ID = re.compile(r"^[.A-Za-z0-9:/_-]{1,36}$")

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

    @staticmethod
    def valid_client_id(raw: str) -> bool:
        """Whether ``raw`` is 1..36 characters of ``[.A-Za-z0-9:/_-]``."""
        return _CLIENT_ID.match(raw) is not None

    def client_id(self, book: Book, product: str, raw: str | None) -> str:
        """``newClientOrderId`` checked (-4015 / -4116; margin -1100 / -2010), or a new one."""
        if raw is None or raw == "":
            return self.new_client_id()
        if not self.valid_client_id(raw):
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

    # -- lookups -----------------------------------------------------------------------------

    @staticmethod
    def find(book: Book, product: str, params: dict[str, str], missing: SimulatedError) -> Order:
        """The order named by ``orderId`` or ``origClientOrderId`` (newest of that id)."""
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
        for order in reversed(book.orders.values()):
            if (
                order.product == product
                and order.symbol == symbol
                and order.client_order_id == client_id
            ):
                return order
        raise missing

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
