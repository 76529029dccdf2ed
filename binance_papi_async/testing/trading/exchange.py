"""The trading engine as one object: the desks over a shared market, mark moves, and the
market events a test causes (fills, funding, liquidations, interest).

:class:`Exchange` builds one :class:`~.market.Market` (state, prices, ids, client-id
index, stream) and the desks that share it, gathers their routes, and applies a mark
move to every account: UM algo orders, CM conditional orders and margin stop orders
trigger first, then resting LIMIT orders the new mark crosses fill at their own price.
"""

from __future__ import annotations

from decimal import Decimal

from ..book import InterestRecord, Order
from ..routing import Handler, RouteKey, merge_handlers
from ..state import Account, q8
from .algo import AlgoDesk
from .conditional import ConditionalDesk
from .events import StreamEvents
from .futures import FuturesDesk
from .history import History
from .ledger import Ledger
from .loans import LoanDesk
from .margin import MarginDesk
from .market import Host, Market
from .oco import OcoDesk
from .portfolio import Portfolio
from .reference import Reference
from .transfers import Transfers
from .unimmr import UniMMRNotifications

__all__ = ["Exchange"]


class Exchange:
    """The stateful part of the simulator: orders, positions, loans (see :mod:`.trading`).

    Its parts: ``market`` (shared), ``ledger`` (fills, commission, funding),
    ``futures`` (UM / CM orders and positions), ``conditional`` (CM conditional orders),
    ``algo`` (UM algo orders), ``margin`` (margin orders), ``oco`` (margin OCO lists),
    ``loans`` (borrow, repay, repay-debt), ``portfolio`` (balances, account,
    positions), ``history`` (trades, income, amendments...), ``reference`` (commission
    rates, brackets, configuration), ``transfers`` (transfers and switches) and
    ``unimmr`` (the uniMMR drop notification switch).
    """

    def __init__(self, host: Host) -> None:
        self.market = market = Market(host)
        events = StreamEvents(market)
        self.ledger = Ledger(market, events)
        self.loans = LoanDesk(market, events)
        self.futures = FuturesDesk(market, events, self.ledger)
        self.conditional = ConditionalDesk(market, events, self.futures)
        self.algo = AlgoDesk(market, events, self.futures)
        self.margin = MarginDesk(market, events, self.loans, self.ledger)
        self.oco = OcoDesk(market, self.margin)
        self.portfolio = Portfolio(market)
        self.history = History(market)
        self.reference = Reference(market)
        self.transfers = Transfers(market, self.ledger)
        self.unimmr = UniMMRNotifications()

    def routes(self) -> dict[RouteKey, Handler]:
        """The handlers of every desk, by ``(method, path)``."""
        desks = (
            self.futures,
            self.conditional,
            self.algo,
            self.portfolio,
            self.margin,
            self.oco,
            self.loans,
            self.history,
            self.reference,
            self.transfers,
            self.unimmr,
        )
        return merge_handlers(*(desk.routes() for desk in desks))

    def extra_params(self) -> dict[RouteKey, tuple[str, ...]]:
        """Parameters routes read beyond their specs' (see :mod:`.unimmr`)."""
        return self.unimmr.extra_params()

    def reset(self) -> None:
        """The simulator went back to its seed state."""
        self.market.reset()

    # -- mark moves --------------------------------------------------------------------------

    def on_mark(self, symbol: str, now: int) -> None:
        """The mark of ``symbol`` moved: trigger what it fires, fill crossed LIMIT orders."""
        for name, account in list(self.market.state.accounts.items()):
            book = account.book
            if any(a.symbol == symbol and a.is_open for a in book.algos.values()):
                self.algo.trigger_crossed(name, account, symbol, now)
            self.conditional.trigger_crossed(name, account, symbol, now)
            self._trigger_stops(name, account, symbol, now)
            self._fill_crossed(name, account, symbol, now)

    def _trigger_stops(self, name: str, account: Account, symbol: str, now: int) -> None:
        stops = [
            o
            for o in account.book.orders.values()
            if o.product == "MARGIN" and o.symbol == symbol and o.stop_price and not o.triggered
        ]
        if not stops:
            return
        mark = self.market.mark("MARGIN", symbol)
        for order in stops:
            if self.margin.triggers_at(order, mark):
                self.margin.trigger(name, account, order, now)

    def _fill_crossed(self, name: str, account: Account, symbol: str, now: int) -> None:
        market = self.market
        for order in list(account.book.orders.values()):
            if order.symbol != symbol or not self.resting(order):
                continue
            mark = market.mark(order.product, symbol)
            if market.marketable(order.side, order.price, mark):
                self._fill(name, account, order, order.remaining, order.price, now)

    @staticmethod
    def resting(order: Order) -> bool:
        """Whether ``order`` works on the book at its price (a LIMIT order, or a margin
        ``_LIMIT`` stop order once triggered)."""
        if not order.is_open or order.type == "MARKET" or not order.price:
            return False
        return not order.stop_price or order.triggered

    def _fill(
        self, name: str, account: Account, order: Order, qty: Decimal, price: Decimal, now: int
    ) -> None:
        if order.product == "MARGIN":
            self.margin.fill(name, account, order, qty, price, now, maker=True)
        else:
            self.futures.fill(name, account, order, qty, price, now)

    # -- events a test causes ----------------------------------------------------------------

    def _owner(self, order_id: int) -> tuple[str, Account, Order]:
        for name, account in self.market.state.accounts.items():
            order = account.book.orders.get(order_id)
            if order is not None:
                return name, account, order
        raise KeyError(f"no order {order_id}")

    def fill(self, order_id: int, qty: Decimal | None, price: Decimal | None, now: int) -> Order:
        """Fill ``qty`` (default: the rest) of the resting order ``order_id`` at ``price``
        (default: its own), as a maker.  ``ValueError`` if it is not resting or ``qty``
        is not in (0, remaining]."""
        name, account, order = self._owner(order_id)
        if not self.resting(order):
            raise ValueError(f"order {order_id} is not resting on the book ({order.status})")
        qty = order.remaining if qty is None else qty
        if not 0 < qty <= order.remaining:
            raise ValueError(f"qty must be in (0, {order.remaining}]: {qty}")
        self._fill(name, account, order, qty, order.price if price is None else price, now)
        return order

    def funding(self, symbol: str, rate: Decimal, now: int) -> dict[str, Decimal]:
        """Settle funding of ``symbol`` at ``rate`` for every account: what each got
        (negative: paid)."""
        product = "CM" if "_" in symbol else "UM"
        mark = self.market.mark(product, symbol)
        return {
            name: self.ledger.funding(name, account, product, symbol, rate, mark, now)
            for name, account in list(self.market.state.accounts.items())
        }

    def liquidate(
        self, account_name: str, symbol: str, kind: str, price: Decimal | None, now: int
    ) -> list[Order]:
        """Close every position of ``symbol`` held by ``account_name`` with a force order
        (``kind`` LIQUIDATION or ADL) at ``price`` (default: the mark)."""
        market = self.market
        account = market.state.accounts[account_name]
        product = "CM" if "_" in symbol else "UM"
        closed = []
        for (p, s, side), pos in list(account.book.positions.items()):
            if p != product or s != symbol or not pos.amount:
                continue
            at = price if price is not None else market.mark(product, symbol)
            order = Order(
                product=product,
                symbol=symbol,
                order_id=market.order_id(),
                client_order_id=f"autoclose-{now}" if kind == "LIQUIDATION" else "adl_autoclose",
                side="SELL" if pos.amount > 0 else "BUY",
                type="LIMIT",
                time_in_force="IOC",
                quantity=abs(pos.amount),
                price=at,
                time=now,
                update_time=now,
                position_side=side,
                reduce_only=True,
                orig_type="LIMIT",
                auto_close=kind,
            )
            market.book_order(account_name, account, order)
            self.ledger.futures_fill(
                account_name, account, order, order.quantity, at, now, maker=False
            )
            closed.append(order)
        if not closed:
            raise ValueError(f"account {account_name!r} has no {symbol} position to close")
        return closed

    def charge_interest(self, account_name: str, asset: str, rate: Decimal, now: int) -> Decimal:
        """Charge ``rate`` x the borrowed principal of ``asset`` as interest (a PERIODIC
        record of the interest history); returns the interest."""
        account = self.market.state.accounts[account_name]
        st = account.asset(asset)
        interest = q8(st.borrowed * rate)
        st.interest += interest
        account.update_time = now
        account.book.interest.append(
            InterestRecord(self.market.tx_id(), asset, st.borrowed, interest, rate, now)
        )
        return interest
