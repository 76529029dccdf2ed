"""Snapshots: the limiter's state at one moment, for ``client.rate_limits`` and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..endpoints._spec import Budget
from ._model import ACCOUNT_BUDGETS


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    """The state of one budget limit at one moment.

    ``used`` counts the window holding the snapshot's time (``window_start`` ..
    ``window_reset``, epoch seconds of server time); ``waiters`` are calls
    queued for this budget; ``held`` are units set aside for calls that passed
    this budget's queue and now wait for another budget.  ``reserve`` units of
    every window are kept for urgent calls; ``account`` is the account scope of
    an order budget (None: the default account, and the IP's budgets);
    ``paused_until`` the end of a 429 pause of this budget, or None.
    """

    budget: Budget
    interval_s: float
    limit: int
    used: int
    window_start: float
    window_reset: float
    waiters: int
    held: int
    reserve: int = 0
    account: str | None = None
    paused_until: float | None = None

    @property
    def remaining(self) -> int:
        """Units still available in the current window (ignoring ``held``)."""
        return max(0, self.limit - self.used)


_OWN: Final = "\x00own"  # get()'s default: the snapshot's own account


@dataclass(frozen=True, slots=True)
class RateLimitSnapshot:
    """The limiter's state: every budget limit, waiting calls, any 429 pause or 418 ban.

    ``time`` is the server time of the snapshot; ``paused_until`` (the latest
    end of any budget's 429 pause) and ``banned_until`` (epoch seconds) are
    None unless a pause or ban is active; ``uncertainty`` is the clock's bound
    on its error, seconds; ``account`` the account whose order budget
    :meth:`get` reads unless told another (a client's snapshot: its own).
    """

    time: float
    budgets: tuple[BudgetSnapshot, ...]
    waiters: int
    paused_until: float | None
    banned_until: float | None
    uncertainty: float = 0.0
    account: str | None = None

    def get(
        self, budget: Budget, interval_s: float | None = None, *, account: str | None = _OWN
    ) -> BudgetSnapshot:
        """The snapshot of ``budget``'s limit (the shortest window unless ``interval_s``;
        an order budget of ``account``, by default the snapshot's :attr:`account`)."""
        if account == _OWN:
            account = self.account
        for item in self.budgets:
            if (
                item.budget is budget
                and (interval_s is None or item.interval_s == interval_s)
                and (item.account == account or item.budget not in ACCOUNT_BUDGETS)
            ):
                return item
        raise KeyError((budget, interval_s, account))

    @property
    def own_budgets(self) -> tuple[BudgetSnapshot, ...]:
        """The budgets a call of the snapshot's :attr:`account` is charged to: the IP's,
        and that account's order budgets (not those of other accounts on the limiter)."""
        return tuple(
            b for b in self.budgets if b.account == self.account or b.budget not in ACCOUNT_BUDGETS
        )
