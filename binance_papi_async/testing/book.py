"""Trading state of one simulated account: orders, conditional and algo orders, OCO lists,
positions, trades, income, amendments, loans and interest.

Plain dataclasses, held by :class:`~binance_papi_async.testing.state.Account` as
``account.book``; the rules that change them live in :mod:`.trading`.  Amounts are
:class:`~decimal.Decimal`; ids are ints (order ids beyond 2**53, like Binance's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "OPEN_STATUSES",
    "AlgoOrder",
    "Amendment",
    "Book",
    "Income",
    "InterestRecord",
    "LoanRecord",
    "Order",
    "OrderList",
    "Position",
    "RepayLoanRecord",
    "StrategyOrder",
    "Trade",
]

ZERO = Decimal(0)

#: Order statuses of an order still on the book.
OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})


@dataclass(slots=True)
class Order:
    """One UM, CM or cross-margin order (``product`` is ``"UM"``, ``"CM"`` or ``"MARGIN"``).

    ``cum_quote`` is the sum of fill quantity x fill price (UM: USDT; margin: the
    symbol's quote asset; CM: contracts x price, only used for the average price);
    ``cum_base`` the CM filled value in the base asset (contracts x contract size /
    price).  ``locked_asset`` / ``locked`` are the margin
    funds a resting margin order holds.  ``strategy_type`` / ``strategy_id`` are set
    when a conditional order placed it.
    """

    product: str
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    quantity: Decimal
    price: Decimal
    time: int
    update_time: int
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    cum_base: Decimal = ZERO
    position_side: str = "BOTH"
    reduce_only: bool = False
    self_trade_prevention_mode: str = "NONE"
    good_till_date: int = 0
    price_match: str = "NONE"
    orig_type: str = ""
    stop_price: Decimal = ZERO
    side_effect_type: str = "NO_SIDE_EFFECT"
    locked_asset: str | None = None
    locked: Decimal = ZERO
    strategy_type: str | None = None
    strategy_id: int | None = None
    amendments: int = 0
    algo_id: int | None = None
    order_list_id: int = -1
    auto_close: str | None = None
    triggered: bool = False

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.quantity - self.executed_qty

    @property
    def is_open(self) -> bool:
        """Whether the order is still working (``NEW`` or ``PARTIALLY_FILLED``)."""
        return self.status in OPEN_STATUSES

    @property
    def avg_price(self) -> Decimal:
        """Average fill price (0 before any fill)."""
        if not self.executed_qty:
            return ZERO
        return self.cum_quote / self.executed_qty


@dataclass(slots=True)
class StrategyOrder:
    """One UM or CM conditional (strategy) order."""

    product: str
    symbol: str
    strategy_id: int
    client_strategy_id: str
    strategy_type: str
    side: str
    position_side: str
    time_in_force: str
    quantity: Decimal
    price: Decimal
    stop_price: Decimal
    book_time: int
    update_time: int
    status: str = "NEW"
    reduce_only: bool = False
    working_type: str = "CONTRACT_PRICE"
    price_protect: bool = False
    activate_price: Decimal = ZERO
    price_rate: Decimal = ZERO
    self_trade_prevention_mode: str = "NONE"
    good_till_date: int = 0
    price_match: str = "NONE"
    order_id: int | None = None
    trigger_time: int = 0
    extreme: Decimal = ZERO  # trailing stops: best mark since placement
    activated: bool = False  # trailing stops: the activation price was reached

    @property
    def is_open(self) -> bool:
        """Whether the conditional order still waits for its trigger."""
        return self.status == "NEW"


@dataclass(slots=True)
class AlgoOrder:
    """One UM algo (conditional) order: ``algo_type`` is always ``CONDITIONAL``.

    ``status``: NEW until triggered, TRIGGERED once its order is placed, FINISHED when
    that order is done (filled, cancelled or expired), CANCELED, REJECTED (its order
    was refused at the trigger; ``reason`` says why).  ``actual_order_id`` is the order
    it placed.  Trailing stops keep the best mark since placement in ``extreme``.
    """

    algo_id: int
    client_algo_id: str
    order_type: str
    symbol: str
    side: str
    position_side: str
    time_in_force: str
    quantity: Decimal
    price: Decimal
    trigger_price: Decimal
    create_time: int
    update_time: int
    status: str = "NEW"
    working_type: str = "CONTRACT_PRICE"
    price_match: str = "NONE"
    close_position: bool = False
    price_protect: bool = False
    reduce_only: bool = False
    activate_price: Decimal = ZERO
    callback_rate: Decimal = ZERO
    self_trade_prevention_mode: str = "EXPIRE_MAKER"
    good_till_date: int = 0
    trigger_time: int = 0
    actual_order_id: int | None = None
    extreme: Decimal = ZERO
    activated: bool = False
    reason: str = ""

    @property
    def is_open(self) -> bool:
        """Whether the algo order still waits for its trigger."""
        return self.status == "NEW"


@dataclass(slots=True)
class OrderList:
    """One margin OCO list: a LIMIT_MAKER leg and a STOP_LOSS(_LIMIT) leg (order ids).

    ``status`` is ``EXECUTING`` while both legs work, ``ALL_DONE`` once one filled or
    both were cancelled.
    """

    order_list_id: int
    list_client_order_id: str
    symbol: str
    order_ids: tuple[int, int]
    transaction_time: int
    status: str = "EXECUTING"

    @property
    def is_open(self) -> bool:
        """Whether the list still works."""
        return self.status == "EXECUTING"


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of an order (``commission`` is positive: what was paid)."""

    product: str
    symbol: str
    trade_id: int
    order_id: int
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    realized: Decimal
    maker: bool
    position_side: str
    time: int


@dataclass(frozen=True, slots=True)
class Income:
    """One UM / CM wallet flow: REALIZED_PNL, COMMISSION, FUNDING_FEE, TRANSFER..."""

    product: str
    symbol: str
    income_type: str
    income: Decimal
    asset: str
    time: int
    tran_id: int
    trade_id: str = ""
    info: str = ""


@dataclass(frozen=True, slots=True)
class Amendment:
    """One modification of a UM / CM order (``count``: the order's modifications so far)."""

    product: str
    symbol: str
    amendment_id: int
    order_id: int
    client_order_id: str
    time: int
    price_before: Decimal
    price_after: Decimal
    qty_before: Decimal
    qty_after: Decimal
    count: int
    price_match: str = "NONE"
    modify_id: int | None = None


@dataclass(frozen=True, slots=True)
class InterestRecord:
    """Interest charged on a margin debt (``PERIODIC``)."""

    tx_id: int
    asset: str
    principal: Decimal
    interest: Decimal
    rate: Decimal
    time: int
    type: str = "PERIODIC"


@dataclass(slots=True)
class Position:
    """A UM or CM position: signed ``amount`` (contracts for CM), average ``entry_price``."""

    amount: Decimal = ZERO
    entry_price: Decimal = ZERO
    realized: Decimal = ZERO
    update_time: int = 0


@dataclass(frozen=True, slots=True)
class LoanRecord:
    """One margin borrow (``POST /papi/v1/marginLoan``, or a MARGIN_BUY order's borrow)."""

    tx_id: int
    asset: str
    principal: Decimal
    timestamp: int


@dataclass(frozen=True, slots=True)
class RepayLoanRecord:
    """One margin repay (``POST /papi/v1/repayLoan``, or an AUTO_REPAY order's repay)."""

    tx_id: int
    asset: str
    amount: Decimal
    principal: Decimal
    interest: Decimal
    timestamp: int


@dataclass(slots=True)
class Book:
    """Everything an account trades: orders by id (all products), strategies, positions.

    ``positions`` is keyed ``(product, symbol, positionSide)``; ``wallets`` keyed
    ``(product, asset)`` holds the UM / CM wallet balance (transfers in and out,
    realized PnL, commission and funding; it may go negative); ``leverage`` keyed
    ``(product, symbol)`` (default 20); ``dual_side`` by product (hedge mode; off by
    default).  ``trades``, ``income``, ``amendments`` and ``interest`` are histories,
    oldest first.
    """

    orders: dict[int, Order] = field(default_factory=dict)
    strategies: dict[int, StrategyOrder] = field(default_factory=dict)
    algos: dict[int, AlgoOrder] = field(default_factory=dict)
    order_lists: dict[int, OrderList] = field(default_factory=dict)
    positions: dict[tuple[str, str, str], Position] = field(default_factory=dict)
    wallets: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    leverage: dict[tuple[str, str], int] = field(default_factory=dict)
    loans: list[LoanRecord] = field(default_factory=list)
    repays: list[RepayLoanRecord] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    income: list[Income] = field(default_factory=list)
    amendments: list[Amendment] = field(default_factory=list)
    interest: list[InterestRecord] = field(default_factory=list)
    dual_side: dict[str, bool] = field(default_factory=dict)

    def open_orders(self, product: str, symbol: str | None = None) -> list[Order]:
        """The working orders of ``product`` (of ``symbol`` if given), oldest first."""
        return [
            o
            for o in self.orders.values()
            if o.product == product and o.is_open and (symbol is None or o.symbol == symbol)
        ]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary: order counts and non-zero positions."""
        return {
            "orders": len(self.orders),
            "openOrders": sum(1 for o in self.orders.values() if o.is_open),
            "trades": len(self.trades),
            "wallets": {f"{p}:{a}": str(v) for (p, a), v in self.wallets.items()},
            "positions": {
                f"{p}:{s}:{side}": str(pos.amount)
                for (p, s, side), pos in self.positions.items()
                if pos.amount
            },
        }
