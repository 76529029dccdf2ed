"""The trading engine as one object: the desks over a shared market, and mark moves.

:class:`Exchange` builds one :class:`~.market.Market` (state, prices, ids, stream)
and the desks that share it, gathers their routes, and applies a mark move to
every account: conditional orders trigger first, then resting LIMIT orders the
new mark crosses fill at their own price.
"""

from __future__ import annotations

from ..routing import Handler, RouteKey, merge_handlers
from ..state import Account
from .conditional import ConditionalDesk
from .events import StreamEvents
from .futures import FuturesDesk
from .loans import LoanDesk
from .margin import MarginDesk
from .market import Host, Market
from .portfolio import Portfolio
from .unimmr import UniMMRNotifications

__all__ = ["Exchange"]


class Exchange:
    """The stateful part of the simulator: orders, positions, loans (see :mod:`.trading`).

    Its parts: ``market`` (shared), ``futures`` (UM / CM orders and positions),
    ``conditional`` (conditional orders), ``margin`` (margin orders), ``loans``
    (borrow, repay, repay-debt), ``portfolio`` (balances, account, positions) and
    ``unimmr`` (the uniMMR drop notification switch).
    """

    def __init__(self, host: Host) -> None:
        self.market = Market(host)
        events = StreamEvents(self.market)
        self.loans = LoanDesk(self.market, events)
        self.futures = FuturesDesk(self.market, events)
        self.conditional = ConditionalDesk(self.market, events, self.futures)
        self.margin = MarginDesk(self.market, events, self.loans)
        self.portfolio = Portfolio(self.market)
        self.unimmr = UniMMRNotifications()

    def routes(self) -> dict[RouteKey, Handler]:
        """The handlers of every desk, by ``(method, path)``."""
        desks = (
            self.futures,
            self.conditional,
            self.portfolio,
            self.margin,
            self.loans,
            self.unimmr,
        )
        return merge_handlers(*(desk.routes() for desk in desks))

    def extra_params(self) -> dict[RouteKey, tuple[str, ...]]:
        """Parameters routes read beyond their specs' (see :mod:`.unimmr`)."""
        return self.unimmr.extra_params()

    def on_mark(self, symbol: str, now: int) -> None:
        """The mark of ``symbol`` moved: trigger conditional orders, fill crossed LIMIT orders."""
        for name, account in list(self.market.state.accounts.items()):
            self.conditional.trigger_crossed(name, account, symbol, now)
            self._fill_crossed(name, account, symbol, now)

    def _fill_crossed(self, name: str, account: Account, symbol: str, now: int) -> None:
        market = self.market
        for order in list(account.book.orders.values()):
            if order.symbol != symbol or not order.is_open or order.type == "MARKET":
                continue
            mark = market.mark(order.product, symbol)
            if not market.marketable(order.side, order.price, mark):
                continue
            if order.product == "MARGIN":
                self.margin.fill(name, account, order, order.price, now, resting=True)
            else:
                self.futures.fill(name, account, order, order.price, now)
