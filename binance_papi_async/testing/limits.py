"""Rate-limit accounting of the simulator: IP weight, order counts, back-off and bans.

Windows are fixed minutes of the simulator's server time (``clock.time()`` plus
skew), starting on the minute (``window_ms`` sets another length, e.g. 5-second
windows for tests that run several of them).  IP weight is counted per simulator (every client is
on loopback); order counts per account.

* Every routed request is charged its IP weight, **rejected ones included** (as on
  Binance).  Above ``ip_weight_limit``: 429 -1003 with ``Retry-After`` (seconds to
  the window's end), and the IP is backing off until that window ends.
* A request arriving while backing off, or during a ban, is answered 418 -1003
  "Way too many requests; IP banned until <ms>..."; the first one starts a ban of
  ``ban_seconds``.
* Order-counting endpoints (the spec's ORDERS charge) add to the account's count
  once the key is known; above ``order_limit``: 429 -1015 (no IP back-off: the
  order limit is per account, the ban per IP).

With ``enabled=False`` the counters and headers still work but nothing is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._errors import SimulatedError

__all__ = [
    "MSG_BANNED",
    "MSG_TOO_MANY",
    "WINDOW_MS",
    "RateLimits",
    "interval_suffix",
    "seconds_until",
]

#: The length of a rate-limit window (Binance's limits are per minute).
WINDOW_MS = 60_000

MSG_TOO_MANY = (
    "Too many requests; current limit is {limit} requests per minute. "
    "Please use the websocket for live updates to avoid polling the API."
)
MSG_BANNED = (
    "Way too many requests; IP banned until {until}. "
    "Please use the websocket for live updates to avoid bans."
)


def interval_suffix(window_ms: int) -> str:
    """The suffix of the headers of a window: ``1M`` for 60 s, ``5S`` for 5 s (Binance's
    spelling: the largest whole unit)."""
    for unit, ms in (("D", 86_400_000), ("H", 3_600_000), ("M", 60_000), ("S", 1000)):
        if window_ms >= ms and window_ms % ms == 0:
            return f"{window_ms // ms}{unit}"
    raise ValueError(f"a rate-limit window must be whole seconds, not {window_ms} ms")


def seconds_until(now_ms: int, until_ms: int) -> int:
    """Whole seconds from ``now_ms`` to ``until_ms``, rounded up, at least 1."""
    return max(1, -(-(until_ms - now_ms) // 1000))


@dataclass(slots=True)
class RateLimits:
    """The limits (settable at any time) and this window's counters.

    ``window`` numbers the current window: server ms // ``window_ms``.
    """

    ip_weight_limit: int
    order_limit: int
    enabled: bool = True
    ban_seconds: int = 120
    window_ms: int = WINDOW_MS
    window: int = -1
    ip_used: int = 0
    orders: dict[str, int] = field(default_factory=dict)
    backoff_until: int = 0
    banned_until: int = 0

    def reset(self) -> None:
        """Forget the counters, the back-off and the ban (the limits stay)."""
        self.window = -1
        self.ip_used = 0
        self.orders.clear()
        self.backoff_until = 0
        self.banned_until = 0

    def roll(self, now_ms: int) -> None:
        """Start a new window (counters at 0) if ``now_ms`` is past the current one."""
        window = now_ms // self.window_ms
        if window != self.window:
            self.window = window
            self.ip_used = 0
            self.orders.clear()

    def window_end(self) -> int:
        """The end of the current window (server ms)."""
        return (self.window + 1) * self.window_ms

    def ban_answer(self, now_ms: int) -> int | None:
        """The ban end to answer 418 with, or ``None`` when the request may go on.

        A request arriving while backing off after a 429 starts a ban.
        """
        if not self.enabled:
            return None
        if now_ms < self.banned_until:
            return self.banned_until
        if now_ms < self.backoff_until:
            self.backoff_until = 0
            self.banned_until = now_ms + self.ban_seconds * 1000
            return self.banned_until
        return None

    def charge_weight(self, weight: int) -> None:
        """Add ``weight``; above the limit, back off to the window's end and raise a 429."""
        self.ip_used += weight
        if self.enabled and self.ip_used > self.ip_weight_limit:
            self.backoff_until = self.window_end()
            raise SimulatedError(429, -1003, MSG_TOO_MANY.format(limit=self.ip_weight_limit))

    def charge_orders(self, account: str, count: int) -> None:
        """Add ``count`` orders to ``account``; above the limit, raise a 429 -1015."""
        total = self.orders.get(account, 0) + count
        self.orders[account] = total
        if self.enabled and total > self.order_limit:
            raise SimulatedError(
                429,
                -1015,
                f"Too many new orders; current limit is {self.order_limit} orders per MINUTE.",
            )

    def order_count(self, account: str) -> int:
        """Orders counted for ``account`` in the current window."""
        return self.orders.get(account, 0)
