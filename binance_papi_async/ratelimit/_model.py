"""Limits, windows and their keys: the vocabulary of the rate limiter (no state here)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final, NamedTuple

from .._constants import (
    HEADER_ORDER_COUNT_PREFIX,
    HEADER_USED_WEIGHT_PREFIX,
    IP_WEIGHT_LIMIT_PER_MINUTE,
    ORDER_LIMIT_PER_MINUTE,
)
from ..endpoints._spec import Budget
from ..errors import ConfigurationError

# A window index is computed this fraction of a window late, so that a timer firing at a
# boundary (or a nanosecond before it) always sees the new window.
EPS: Final = 1e-6
MINUTE: Final = 60.0
#: The default share of each limit kept for urgent calls: 1 %.
RESERVE_FRACTION: Final = 0.01
#: Time allowed from taking a request's timestamp to its arrival at Binance, seconds.
DEFAULT_TRANSIT_S: Final = 0.5

#: Budgets Binance counts per account (the rest are counted per IP).
ACCOUNT_BUDGETS: Final = frozenset({Budget.ORDERS})

_UNIT_SECONDS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_INTERVAL_RE: Final = re.compile(r"([0-9]{1,6})([smhd])")
PREFIX_LEN: Final = len(HEADER_USED_WEIGHT_PREFIX)
assert len(HEADER_ORDER_COUNT_PREFIX) == PREFIX_LEN
HEADER_BUDGETS: Final = {
    HEADER_USED_WEIGHT_PREFIX.lower(): Budget.REQUEST_WEIGHT,
    HEADER_ORDER_COUNT_PREFIX.lower(): Budget.ORDERS,
}
_HEADER_PREFIXES: Final = {budget: prefix.upper() for prefix, budget in HEADER_BUDGETS.items()}


def window_index(t: float, interval: float) -> int:
    """The index of the window of length ``interval`` holding server time ``t``."""
    return math.floor(t / interval + EPS)


_HEADER_INTERVALS: dict[str, float | None] = {}


def header_interval(suffix: str) -> float | None:
    """Seconds of a header suffix such as ``1m`` or ``10s`` (lower case); None if malformed."""
    cache = _HEADER_INTERVALS
    if suffix in cache:
        return cache[suffix]
    match = _INTERVAL_RE.fullmatch(suffix)
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]] if match is not None else None
    if seconds == 0:
        seconds = None
    if len(cache) < 64:
        cache[suffix] = seconds
    return seconds


def parse_count(value: str) -> int | None:
    """A header's count, or None if it is not a non-negative integer."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        return None
    return count if count >= 0 else None


def header_name(budget: Budget, interval: float) -> str | None:
    """The canonical response header for a budget limit, e.g. ``X-MBX-USED-WEIGHT-1M``."""
    prefix = _HEADER_PREFIXES.get(budget)
    if prefix is None:
        return None
    for unit, seconds in (("D", 86400.0), ("H", 3600.0), ("M", 60.0), ("S", 1.0)):
        if interval >= seconds and interval % seconds == 0:
            return f"{prefix}{int(interval // seconds)}{unit}"
    return None


@dataclass(frozen=True, slots=True)
class BudgetLimit:
    """At most ``limit`` units of ``budget`` per fixed window of ``interval_s`` seconds.

    Windows are aligned to the epoch of server time: a 60-second window starts
    on the minute.  ``reserve`` units of every window are kept for urgent calls
    (order cancels, clock-sync reads, listen-key keep-alives, ``priority="high"``):
    normal calls use at most ``limit - reserve``.  The default is 1 % of the
    limit, rounded down (60 of papi's 6000 IP weight, 12 of its 1200 orders);
    ``reserve=0`` turns the reserve off.
    """

    budget: Budget
    limit: int
    interval_s: float = MINUTE
    reserve: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.budget, Budget):
            raise ConfigurationError(f"budget must be a Budget, not {self.budget!r}")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ConfigurationError(f"limit must be an int >= 1, not {self.limit!r}")
        if not (
            isinstance(self.interval_s, (int, float)) and not isinstance(self.interval_s, bool)
        ):
            raise ConfigurationError(f"interval_s must be seconds, not {self.interval_s!r}")
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise ConfigurationError(f"interval_s must be > 0 seconds, not {self.interval_s!r}")
        reserve = self.reserve
        if reserve is None:
            object.__setattr__(self, "reserve", int(self.limit * RESERVE_FRACTION))
        elif (
            isinstance(reserve, bool)
            or not isinstance(reserve, int)
            or not 0 <= reserve < self.limit
        ):
            raise ConfigurationError(
                f"reserve must be an int in [0, limit), not {reserve!r} (limit {self.limit})"
            )

    @property
    def normal_limit(self) -> int:
        """Units per window normal calls may use: ``limit - reserve``."""
        return self.limit - (self.reserve or 0)


#: papi's documented limits: 6000 IP request weight and 1200 orders per minute.
DEFAULT_LIMITS: Final[tuple[BudgetLimit, ...]] = (
    BudgetLimit(Budget.REQUEST_WEIGHT, IP_WEIGHT_LIMIT_PER_MINUTE),
    BudgetLimit(Budget.ORDERS, ORDER_LIMIT_PER_MINUTE),
)


class WindowKey(NamedTuple):
    """One window of one budget limit: the unit a :class:`BudgetStore` counts in.

    ``series`` (e.g. ``"REQUEST_WEIGHT/60s"``, or ``"ORDERS/60s@acct"`` for the
    order count of account scope ``acct``) names the budget limit and is the
    same for every window of it; ``window`` is ``floor(start / interval_s)``,
    so later windows have larger indexes.  ``scope`` is the account scope of an
    account budget ("" for the IP's budgets and the default account).
    """

    series: str
    window: int
    budget: Budget
    interval_s: float
    scope: str = ""

    @property
    def start(self) -> float:
        """Start of the window, epoch seconds (server time)."""
        return self.window * self.interval_s

    @property
    def end(self) -> float:
        """End of the window (start of the next), epoch seconds (server time)."""
        return (self.window + 1) * self.interval_s


def series_name(budget: Budget, interval_s: float, scope: str = "") -> str:
    """``"REQUEST_WEIGHT/60s"``, or ``"ORDERS/60s@scope"`` for an account scope."""
    name = f"{budget.value}/{interval_s:g}s"
    return f"{name}@{scope}" if scope else name
