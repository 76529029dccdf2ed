"""Weight-aware rate limiter: Binance's IP weight and order budgets, fair and cancellation-safe.

Binance bans an IP (HTTP 418, two minutes up to three days) that keeps sending
after a 429.  The :class:`RateLimiter` reserves budget *before* a request is
sent, so our own traffic never causes a 429, and it keeps itself in step with
the server's counters so that traffic of other programs on the same IP or
account is accounted for too.

Budgets and windows
-------------------
papi counts two budgets (``spec/papi/GENERAL.md`` section 4): the IP
request weight, **6000 per minute per IP**, and the account's order count,
**1200 per minute per account** (the account's real order limits come from
``GET /papi/v1/rateLimit/order``; feed them to :meth:`RateLimiter.set_limit`).
Each :class:`BudgetLimit` is a *fixed window* aligned to the epoch of the
server clock, as Binance counts: a one-minute window starts on the minute of
server time, a 10-second window on a multiple of ten seconds.  A budget may
have several limits (e.g. orders per 10 s and per day); a call must fit in all.
A window that has ended is never reopened, even if the clock's offset to the
server is later corrected backwards.

Every endpoint declares what it charges as data (``EndpointSpec.charges``, a
tuple of :class:`~binance_papi_async.endpoints.Charge`; see
``endpoints/_spec.py``); a caller can pass any other charges.  Charges for
budgets the limiter has no limit for are ignored; an amount of 0 charges nothing.

Why repay-debt costs 3000 IP weight plus 1 order
------------------------------------------------
The endpoint page of ``POST /papi/v1/margin/repay-debt`` says
"Request Weight(Order) 3000".  Read literally, "(Order)" would put 3000 on the
account's order budget, but that budget is 1200 per minute: a single repay
could never be admitted, so the literal reading cannot be what Binance counts.
The official generated SDKs print the same endpoint as ``Weight(IP): 3000``
(they print every "(Order)" page as ``Weight(IP)``).  We therefore charge it
3000 on the IP weight budget (so at most two repays per minute per IP; a third
waits for the next window) and 1 on the order budget, like every "(Order)"
call (``endpoints._spec.charges_for``).  The simulator charges the same way.
If Binance counts it differently, the header reconciliation below corrects the
picture upwards (a too-high local charge only costs throughput for the rest of
that window, never a 429).

Using it
--------
::

    limiter = RateLimiter()                       # DEFAULT_LIMITS; no event loop needed
    reservation = await limiter.acquire(spec.charges, max_wait=5.0)
    try:
        response = await send(...)                # the bytes may leave the machine
    except NotSentError:                          # provably nothing was sent
        reservation.release()                     # give the budget back
        raise
    finally:
        reservation.commit()                      # no-op after release()
    limiter.observe_headers(response.headers, reservation=reservation)
    if response.status == 429:
        limiter.on_rate_limited(retry_after)
    elif response.status == 418:
        limiter.on_ip_banned(retry_after, banned_until)

* :meth:`RateLimiter.acquire` waits (without polling) until *all* charges fit
  in the current windows of their budgets, charges them atomically and returns
  a :class:`Reservation`.  It raises at once :class:`WeightExceedsLimitError` if
  a charge is larger than its budget's limit (no window could ever admit it),
  :class:`IPBanActiveError` while a 418 ban is active, and
  :class:`RateLimitWaitTimeout` when admission cannot happen within ``max_wait``
  seconds (per call; ``None`` means the limiter's default, ``math.inf`` waits
  forever).  The estimate behind that early failure assumes nobody ahead gives
  budget back; if admission then still takes too long, the call fails at its
  deadline.  Either way nothing is charged.  A 429 pause makes calls wait (the
  pause counts toward ``max_wait``).
* :meth:`Reservation.release` refunds the charges when the request was
  provably not sent (only while the window it was charged in is current);
  :meth:`Reservation.commit` keeps them.  The first of the two wins; both are
  idempotent.  A reservation that is neither released nor committed stays
  charged (the safe side).
* :meth:`RateLimiter.observe_headers` reconciles with the response headers,
  :meth:`RateLimiter.on_rate_limited` handles a 429,
  :meth:`RateLimiter.on_ip_banned` a 418, :meth:`RateLimiter.set_limit`
  changes limits, :meth:`RateLimiter.snapshot` reports the state.

Reconciliation with ``X-MBX-USED-WEIGHT-*`` and ``X-MBX-ORDER-COUNT-*``
--------------------------------------------------------------------------
Every response carries the server's count for the IP weight
(``X-MBX-USED-WEIGHT-1M``; any ``<n><S|M|H|D>`` suffix is understood and
applied only to the limits of that budget whose window has that length); order
responses carry the account's order count.  A header value ``S`` is what the
server had counted when it processed that request: our requests processed
before it, this request, and everybody else's.  The rule, for the window in
which the request was admitted::

    used := max(used, S + charged_after)

where ``charged_after`` is what this limiter charged in the same window *after*
admitting that request (those requests were sent later, so ``S`` cannot
include them yet).  It is counted from admission, so it does not matter
whether :meth:`~Reservation.commit` is called before sending or after the
response.  Counts only ever go up: ``S`` may lag behind requests still
in flight, so lowering the count could admit too much.  The estimate is exact
when requests are processed in the order they were admitted; a request that
overtakes an earlier one is counted twice until the window ends (conservative,
bounded by what is in flight).  A header is ignored when the window rolled
between admission and the response (it describes another window).  Without a
reservation, ``used := max(used, S)`` for the current window.  Weight spent by
other programs on the same IP or account thus enters our count with the next
response.

429 and 418
-----------
:meth:`RateLimiter.on_rate_limited` pauses every call until ``now +
retry_after`` (``Retry-After`` is not documented for papi; without it, until
the end of the current one-minute window) and marks the current window of
every budget limit of at most one minute (or of the given ``budget``) as full:
whatever we believed, Binance says it is exhausted.  Calls waiting for the
pause to end then go in their FIFO order.
:meth:`RateLimiter.on_ip_banned` makes every :meth:`~RateLimiter.acquire`
(including those already waiting) raise :class:`IPBanActiveError` with the end
of the ban (from ``banned_until``, ``retry_after``, or at least Binance's
minimum ban of two minutes) until then, without sending.

Fairness and deadlock freedom
-----------------------------
Every budget limit has a FIFO queue.  A waiter at the head of a queue blocks
the waiters behind it on that queue, even when they would fit: a 3000-weight
repay at the head of the IP weight queue is admitted at the next window before
any of the weight-1 calls that arrived after it, so a stream of small calls
cannot starve it.

A call that charges several budgets passes their queues one after the other,
in a fixed global order: order-count limits first, the IP weight last (every
call charges IP weight).  When it reaches the head of a queue and fits, it
*holds* its amount there (held units are subtracted from what later waiters on
that queue may use) and moves on to the next queue; when it passes the last,
all its charges are taken at once and the holds turn into charges.  So:

* an exhausted order budget does not block pure-weight calls: order calls wait
  in the order queue and hold nothing on the weight budget;
* a call never gives up its place in a queue it has passed;
* there is no deadlock: a waiter only ever holds budgets that come *before*
  the one it waits for, so waits cannot form a cycle, and holds on the last
  queue are turned into charges at once.  Every blocked head is woken at the
  start of its budget's next window, by a release, or by a waiter giving up.

If a header pushed a held budget over its limit meanwhile, the call goes back
to the head of that budget's queue, keeping its place there.

Cancellation
------------
A task cancelled while waiting takes nothing: it leaves the queues (the next
waiter is woken if it was at the head) and gives back what it held.  If it was
admitted in the same instant it was cancelled, its reservation is released.
A task cancelled after :meth:`~RateLimiter.acquire` returned keeps its charge
unless the caller calls :meth:`Reservation.release`.

Costs
-----
The uncontended path creates no future and no timer.  Waiting uses one future
per waiter, at most one timer per budget limit (armed at the start of the next
window only while its queue head is blocked), one timer for all ``max_wait``
deadlines (a heap) and one for a 429 pause; no polling.  A wake-up does O(1)
work per admitted waiter (amortized).  ``benchmarks/bench_limiter.py`` measures.

The store
---------
The counters of the windows live behind :class:`BudgetStore` (keys are
:class:`WindowKey`: budget, window length, window index).  The protocol is
synchronous and called from the event loop only, so it must not block.
:class:`InMemoryBudgetStore` is the default; share one instance between
limiters to share a budget inside one process (e.g. several clients on one IP).
A store shared by processes (Redis) implements the same methods over a local
mirror of the counters: ``try_charge`` decides against the mirror and records
the delta; a background task of the store pushes the deltas (``INCRBY`` on
``{series}:{window}`` keys that expire with the window) and pulls the totals
back into the mirror (``observe``-style, taking the maximum), calling
:meth:`RateLimiter.wake` if a pulled total went down (a refund elsewhere).
Admission across processes is then optimistic by at most one sync period of
the other processes' traffic; the header reconciliation remains the backstop.
A fully atomic cross-process store would need awaitable methods; the limiter
keeps the protocol synchronous so that the uncontended path stays cheap.

The limiter is not thread-safe: use it from one event loop at a time.  It
captures no loop, so it can be created before the loop runs.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from time import monotonic as _monotonic
from typing import Final, NamedTuple, Protocol

from multidict import CIMultiDict, CIMultiDictProxy, istr

from ._constants import (
    HEADER_ORDER_COUNT_PREFIX,
    HEADER_USED_WEIGHT_PREFIX,
    IP_WEIGHT_LIMIT_PER_MINUTE,
    ORDER_LIMIT_PER_MINUTE,
)
from .clock import Clock, ServerClock, TimerHandle
from .endpoints._spec import Budget, Charge
from .errors import (
    BinancePapiError,
    ClientClosedError,
    ConfigurationError,
    IPBanActiveError,
    RateLimitWaitTimeout,
    ValidationError,
    WeightExceedsLimitError,
)

__all__ = [
    "DEFAULT_LIMITS",
    "BudgetLimit",
    "BudgetSnapshot",
    "BudgetStore",
    "IPBanActiveError",
    "InMemoryBudgetStore",
    "RateLimitSnapshot",
    "RateLimitWaitTimeout",
    "RateLimiter",
    "Reservation",
    "WeightExceedsLimitError",
    "WindowKey",
    "banned_until_from_message",
]

# A window rolls this fraction of its length early, so that a timer firing at
# the boundary (or a nanosecond before it) always sees the new window.
_EPS: Final = 1e-6
# Binance's shortest IP ban, used when a 418 says nothing about its end.
MIN_BAN_S: Final = 120.0
_MINUTE: Final = 60.0
_PLAN_CACHE_SIZE: Final = 256
_COMPACT_MIN: Final = 32

_WAITING: Final = 0
_ADMITTED: Final = 1
_DEAD: Final = 2

# What _finish did with a waiter that passed its last queue.
_DONE: Final = 0
_SENT_BACK: Final = 1
_BLOCKED: Final = 2

_PENDING: Final = 0
_COMMITTED: Final = 1
_RELEASED: Final = 2

_UNIT_SECONDS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_INTERVAL_RE: Final = re.compile(r"([0-9]{1,6})([smhd])")
_PREFIX_LEN: Final = len(HEADER_USED_WEIGHT_PREFIX)
assert len(HEADER_ORDER_COUNT_PREFIX) == _PREFIX_LEN
_HEADER_BUDGETS: Final = {
    HEADER_USED_WEIGHT_PREFIX.lower(): Budget.REQUEST_WEIGHT,
    HEADER_ORDER_COUNT_PREFIX.lower(): Budget.ORDERS,
}
_CASE_INSENSITIVE: Final = (CIMultiDict, CIMultiDictProxy)
_HEADER_PREFIXES: Final = {budget: prefix.upper() for prefix, budget in _HEADER_BUDGETS.items()}
_BAN_UNTIL_RE: Final = re.compile(r"banned until ([0-9]{10,16})", re.IGNORECASE)


def _window_index(t: float, interval: float) -> int:
    return math.floor(t / interval + _EPS)


_HEADER_INTERVALS: dict[str, float | None] = {}


def _header_interval(suffix: str) -> float | None:
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


def _parse_count(value: str) -> int | None:
    """A header's count, or None if it is not a non-negative integer."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        return None
    return count if count >= 0 else None


def _header_name(budget: Budget, interval: float) -> str | None:
    """The canonical response header for a budget limit, e.g. ``X-MBX-USED-WEIGHT-1M``."""
    prefix = _HEADER_PREFIXES.get(budget)
    if prefix is None:
        return None
    for unit, seconds in (("D", 86400.0), ("H", 3600.0), ("M", 60.0), ("S", 1.0)):
        if interval >= seconds and interval % seconds == 0:
            return f"{prefix}{int(interval // seconds)}{unit}"
    return None


def banned_until_from_message(msg: str | None) -> float | None:
    """The end of an IP ban (epoch seconds) from a -1003 message, or None.

    Binance's message reads "Way too many requests; IP banned until
    1700000000000. Please use the websocket for live updates to avoid bans."
    (milliseconds since the epoch).
    """
    if not msg:
        return None
    match = _BAN_UNTIL_RE.search(msg)
    if match is None:
        return None
    value = int(match[1])
    return value / 1000.0 if value >= 10**12 else float(value)


# -- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetLimit:
    """At most ``limit`` units of ``budget`` per fixed window of ``interval_s`` seconds.

    Windows are aligned to the epoch of server time: a 60-second window starts
    on the minute.
    """

    budget: Budget
    limit: int
    interval_s: float = _MINUTE

    def __post_init__(self) -> None:
        if not isinstance(self.budget, Budget):
            raise ConfigurationError(f"budget must be a Budget, not {self.budget!r}")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ConfigurationError(f"limit must be an int >= 1, not {self.limit!r}")
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise ConfigurationError(f"interval_s must be > 0 seconds, not {self.interval_s!r}")


#: papi's documented limits: 6000 IP request weight and 1200 orders per minute.
DEFAULT_LIMITS: Final[tuple[BudgetLimit, ...]] = (
    BudgetLimit(Budget.REQUEST_WEIGHT, IP_WEIGHT_LIMIT_PER_MINUTE),
    BudgetLimit(Budget.ORDERS, ORDER_LIMIT_PER_MINUTE),
)


# -- the store --------------------------------------------------------------------------------


class WindowKey(NamedTuple):
    """One window of one budget limit: the unit a :class:`BudgetStore` counts in.

    ``series`` (e.g. ``"REQUEST_WEIGHT/60s"``) names the budget limit and is
    the same for every window of it; ``window`` is ``floor(start / interval_s)``,
    so later windows have larger indexes.
    """

    series: str
    window: int
    budget: Budget
    interval_s: float

    @property
    def start(self) -> float:
        """Start of the window, epoch seconds (server time)."""
        return self.window * self.interval_s

    @property
    def end(self) -> float:
        """End of the window (start of the next), epoch seconds (server time)."""
        return (self.window + 1) * self.interval_s


def _series_name(budget: Budget, interval_s: float) -> str:
    return f"{budget.value}/{interval_s:g}s"


class BudgetStore(Protocol):
    """Where the window counters live.  Synchronous; called from the event loop only.

    Only the current window of each series matters: a store may forget a
    window once a later window of the same series was used.  Operations on a
    window older than the latest one the store has seen for that series are
    ignored (``used`` returns 0, ``try_charge`` refuses).
    """

    def used(self, key: WindowKey) -> int:
        """Units counted in the window ``key`` (0 for a window never charged)."""
        ...

    def try_charge(self, items: Sequence[tuple[WindowKey, int, int]]) -> bool:
        """Atomically add every ``amount`` if every ``used + amount <= limit``.

        ``items`` are ``(key, amount, limit)``.  Returns False (charging
        nothing) if any does not fit.
        """
        ...

    def refund(self, items: Sequence[tuple[WindowKey, int]]) -> None:
        """Subtract ``(key, amount)`` charges (never below zero); ignore past windows."""
        ...

    def observe(self, key: WindowKey, used: int) -> None:
        """The window is known to hold at least ``used`` units: ``used = max(used, value)``."""
        ...


class _Counter:
    __slots__ = ("used", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.used = 0


class InMemoryBudgetStore:
    """The default :class:`BudgetStore`: one counter per series, for its latest window."""

    __slots__ = ("_counters",)

    def __init__(self) -> None:
        self._counters: dict[str, _Counter | _Bucket] = {}

    def used(self, key: WindowKey) -> int:
        """Units counted in ``key``'s window."""
        counter = self._counters.get(key.series)
        if counter is not None and counter.window == key.window:
            return counter.used
        return 0

    def try_charge(self, items: Sequence[tuple[WindowKey, int, int]]) -> bool:
        """Add every amount if all fit under their limits; else charge nothing."""
        counters = self._counters
        for key, amount, limit in items:
            counter = counters.get(key.series)
            if counter is None or counter.window < key.window:
                used = 0
            elif counter.window == key.window:
                used = counter.used
            else:
                return False  # a past window
            if used + amount > limit:
                return False
        for key, amount, _ in items:
            counter = self._current(key)
            if counter is not None:
                counter.used += amount
        return True

    def refund(self, items: Sequence[tuple[WindowKey, int]]) -> None:
        """Give back charges made in windows that are still the latest of their series."""
        counters = self._counters
        for key, amount in items:
            counter = counters.get(key.series)
            if counter is not None and counter.window == key.window:
                counter.used = max(0, counter.used - amount)

    def observe(self, key: WindowKey, used: int) -> None:
        """Raise the window's count to at least ``used``."""
        counter = self._current(key)
        if counter is not None and used > counter.used:
            counter.used = used

    def _counter(self, series: str) -> _Counter | _Bucket:
        """The counter of ``series`` (kept for the store's life: limiters may hold it)."""
        counter = self._counters.get(series)
        if counter is None:
            counter = self._counters[series] = _Counter(-1)
        return counter

    def _current(self, key: WindowKey) -> _Counter | _Bucket | None:
        counter = self._counters.get(key.series)
        if counter is None:
            counter = self._counters[key.series] = _Counter(key.window)
        elif counter.window < key.window:
            counter.window = key.window
            counter.used = 0
        elif counter.window > key.window:
            return None
        return counter

    def __repr__(self) -> str:
        inner = ", ".join(f"{s}[{c.window}]={c.used}" for s, c in self._counters.items())
        return f"InMemoryBudgetStore({inner})"


class _OwnedStore(InMemoryBudgetStore):
    """The store a :class:`RateLimiter` makes for itself when given none.

    Its counters are the limiter's own buckets (which hold ``window`` and ``used``), so
    the uncontended path charges one object per budget.  It must not be given to another
    limiter (that one would move the first one's windows): share an
    :class:`InMemoryBudgetStore` you create instead.
    """

    __slots__ = ()

    def _current(self, key: WindowKey) -> _Counter | _Bucket | None:
        counter = self._counters.get(key.series)
        if isinstance(counter, _Bucket):
            # A later window (from a caller of the public store): the bucket rolls to it
            # whole (key, bounds, count), as the limiter itself would.
            if counter.window < key.window:
                counter.roll(key.start)
            elif counter.window > key.window:
                return None
            return counter
        return super()._current(key)


# -- snapshots --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    """The state of one budget limit at one moment.

    ``used`` counts the current window (``window_start`` .. ``window_reset``,
    epoch seconds of server time); ``waiters`` are calls queued for this
    budget; ``held`` are units set aside for calls that passed this budget's
    queue and now wait for another budget.
    """

    budget: Budget
    interval_s: float
    limit: int
    used: int
    window_start: float
    window_reset: float
    waiters: int
    held: int

    @property
    def remaining(self) -> int:
        """Units still available in the current window (ignoring ``held``)."""
        return max(0, self.limit - self.used)


@dataclass(frozen=True, slots=True)
class RateLimitSnapshot:
    """The limiter's state: every budget limit, waiting calls, any 429 pause or 418 ban.

    ``time`` is the server time of the snapshot; ``paused_until`` and
    ``banned_until`` (epoch seconds) are None unless a pause or ban is active.
    """

    time: float
    budgets: tuple[BudgetSnapshot, ...]
    waiters: int
    paused_until: float | None
    banned_until: float | None

    def get(self, budget: Budget, interval_s: float | None = None) -> BudgetSnapshot:
        """The snapshot of ``budget``'s limit (the shortest window unless ``interval_s``)."""
        for item in self.budgets:
            if item.budget is budget and (interval_s is None or item.interval_s == interval_s):
                return item
        raise KeyError((budget, interval_s))


# -- internals --------------------------------------------------------------------------------


class _Bucket:
    """One budget limit: its current window, FIFO queue, holds and timer."""

    __slots__ = (
        "budget",
        "charged",
        "claimed",
        "counter",
        "end",
        "header",
        "interval",
        "key",
        "limit",
        "n_dead",
        "n_waiting",
        "on_timer",
        "queue",
        "queued",
        "rank",
        "roll_at",
        "series",
        "start",
        "timer",
        "timer_at",
        "used",
        "window",
    )

    def __init__(self, budget: Budget, limit: int, interval: float) -> None:
        self.budget = budget
        self.limit = limit
        self.interval = interval
        # Global pass order: order-count limits first, the IP weight last.
        self.rank = (budget is Budget.REQUEST_WEIGHT, budget.value, interval)
        self.series = _series_name(budget, interval)
        # An istr: case-insensitive header look-ups then skip folding the name each time.
        header = _header_name(budget, interval)
        self.header = istr(header) if header is not None else None
        self.window = -1
        self.key = WindowKey(self.series, -1, budget, interval)
        self.start = 0.0
        self.end = 0.0
        self.roll_at = -math.inf
        self.charged = 0  # charged by this limiter in the current window (monotonic)
        self.queue: deque[_Waiter] = deque()
        self.n_waiting = 0  # live waiters in ``queue``
        self.n_dead = 0  # dead entries still in ``queue``
        self.queued = 0  # units wanted by the live waiters in ``queue``
        self.claimed = 0  # units held for waiters that passed this queue
        self.timer: TimerHandle | None = None
        self.timer_at = 0.0
        self.on_timer: Callable[[], None] = _noop
        # The in-memory store's counter of this series (None with any other store): the
        # uncontended path reads and charges it directly instead of through the protocol.
        # With the store a limiter makes for itself the bucket is its own counter.
        self.counter: _Counter | _Bucket | None = None
        self.used = 0  # the count of the current window, when the bucket is its own counter

    def roll(self, now: float) -> None:
        index = _window_index(now, self.interval)
        if index > self.window:
            self.window = index
            self.key = WindowKey(self.series, index, self.budget, self.interval)
            self.start = index * self.interval
            self.end = (index + 1) * self.interval
            self.roll_at = self.end - _EPS * self.interval
            self.charged = 0
            counter = self.counter
            if counter is self:
                self.used = 0
            elif counter is not None and counter.window < index:
                counter.window = index  # what InMemoryBudgetStore does on a new window
                counter.used = 0


def _noop() -> None:
    return None


_Plan = tuple[tuple[_Bucket, int], ...]
_new = object.__new__


def _plan_index(plan: _Plan) -> dict[_Bucket, int]:
    return {bucket: i for i, (bucket, _) in enumerate(plan)}


class _Waiter:
    __slots__ = ("deadline", "future", "max_wait", "plan", "stage", "state")

    def __init__(self, plan: _Plan, future: asyncio.Future[Reservation | BinancePapiError]) -> None:
        self.plan = plan
        self.future = future
        self.stage = 0
        self.state = _WAITING
        self.deadline: float | None = None
        self.max_wait = math.inf


# -- reservations -----------------------------------------------------------------------------


class Reservation:
    """Budget taken for one request by :meth:`RateLimiter.acquire`.

    Call :meth:`commit` when the request was (or may have been) sent, or
    :meth:`release` when it provably was not.  The first call wins; both are
    idempotent.  Pass the reservation to :meth:`RateLimiter.observe_headers`
    with the response.
    """

    __slots__ = ("_index", "_keys", "_limiter", "_marks", "_plan", "_state", "_time")

    def __init__(
        self,
        limiter: RateLimiter,
        plan: _Plan,
        keys: Sequence[WindowKey],
        marks: Sequence[int],
        now: float,
        index: Mapping[_Bucket, int] | None = None,
    ) -> None:
        self._limiter = limiter
        self._plan = plan
        self._keys = keys
        self._marks = marks
        self._time = now
        self._state = _PENDING
        # bucket -> its position in ``plan`` (shared by every reservation of the plan)
        self._index = index if index is not None else _plan_index(plan)

    @property
    def admitted_at(self) -> float:
        """Server time (epoch seconds) at which the charges were taken."""
        return self._time

    @property
    def charges(self) -> tuple[tuple[WindowKey, int], ...]:
        """What was charged: ``(window, amount)`` per budget limit."""
        return tuple((key, amount) for key, (_, amount) in zip(self._keys, self._plan, strict=True))

    @property
    def committed(self) -> bool:
        """True once :meth:`commit` was called first."""
        return self._state == _COMMITTED

    @property
    def released(self) -> bool:
        """True once :meth:`release` was called first."""
        return self._state == _RELEASED

    def commit(self) -> None:
        """The request was, or may have been, sent: keep the charges.  Idempotent."""
        if self._state == _PENDING:
            self._state = _COMMITTED

    def release(self) -> None:
        """The request was not sent: refund the charges (if their window is still current).

        A no-op after :meth:`commit`; idempotent.  Wakes waiters that now fit.
        """
        if self._state == _PENDING:
            self._state = _RELEASED
            if self._plan:
                self._limiter._refund(self)

    def __repr__(self) -> str:
        state = ("pending", "committed", "released")[self._state]
        parts = ", ".join(f"{k.series}[{k.window}]={a}" for k, a in self.charges)
        return f"<Reservation {state} {parts}>"


# -- the limiter ------------------------------------------------------------------------------


class RateLimiter:
    """Reserves Binance rate budget before each request.  See the module docstring.

    ``limits``: the budget limits (default :data:`DEFAULT_LIMITS`).  ``clock``:
    server time and timers (default a new :class:`~binance_papi_async.ServerClock`;
    pass the client's).  ``store``: the window counters (default a new
    :class:`InMemoryBudgetStore`).  ``max_wait``: default bound, in seconds, on
    how long :meth:`acquire` may wait (``None``: no bound).
    """

    __slots__ = (
        "_banned_until",
        "_blocked_until",
        "_buckets",
        "_by_budget",
        "_by_key",
        "_clock",
        "_closed",
        "_deadline_at",
        "_deadline_live",
        "_deadline_timer",
        "_deadlines",
        "_free",
        "_local",
        "_max_wait",
        "_n_waiters",
        "_observed",
        "_owned",
        "_pause_at",
        "_pause_timer",
        "_paused_until",
        "_plans",
        "_seq",
        "_server_clock",
        "_store",
    )

    def __init__(
        self,
        limits: Iterable[BudgetLimit] = DEFAULT_LIMITS,
        *,
        clock: Clock | None = None,
        store: BudgetStore | None = None,
        max_wait: float | None = None,
    ) -> None:
        if max_wait is not None and not max_wait >= 0:
            raise ConfigurationError(f"max_wait must be >= 0 seconds or None, not {max_wait!r}")
        self._clock: Clock = clock if clock is not None else ServerClock()
        # A ServerClock is read inline on the uncontended path (monotonic() + offset).
        self._server_clock = self._clock if type(self._clock) is ServerClock else None
        # (response header, bucket) for every bucket Binance reports a count for.
        self._observed: tuple[tuple[istr, _Bucket], ...] = ()
        if isinstance(store, _OwnedStore):
            raise ConfigurationError(
                "that store is another RateLimiter's own; to share budgets, create an "
                "InMemoryBudgetStore() and give it to every limiter"
            )
        self._owned = store is None
        self._store: BudgetStore = store if store is not None else _OwnedStore()
        self._max_wait = max_wait
        self._buckets: list[_Bucket] = []
        self._by_budget: dict[Budget, list[_Bucket]] = {}
        self._by_key: dict[tuple[Budget, float], _Bucket] = {}
        self._plans: dict[int, tuple[Sequence[Charge], _Plan, dict[_Bucket, int]]] = {}
        # The default store is read and charged directly on the uncontended path.
        self._local = self._owned or type(self._store) is InMemoryBudgetStore
        self._free: deque[_Waiter] = deque()  # waiters charging no known budget (429 pause)
        self._n_waiters = 0
        self._deadlines: list[tuple[float, int, _Waiter]] = []
        self._deadline_live = 0
        self._deadline_timer: TimerHandle | None = None
        self._deadline_at = 0.0
        self._paused_until = -math.inf
        self._pause_timer: TimerHandle | None = None
        self._pause_at = 0.0
        self._banned_until = -math.inf
        self._blocked_until = -math.inf  # max(_paused_until, _banned_until)
        self._closed = False
        self._seq = itertools.count()
        for item in limits:
            if not isinstance(item, BudgetLimit):
                raise ConfigurationError(f"limits must be BudgetLimit objects, not {item!r}")
            if (item.budget, float(item.interval_s)) in self._by_key:
                raise ConfigurationError(f"two limits for {item.budget.value}/{item.interval_s}s")
            self._add_bucket(item.budget, item.limit, float(item.interval_s))

    # -- public API ---------------------------------------------------------------------------

    @property
    def limits(self) -> tuple[BudgetLimit, ...]:
        """The budget limits in force, in queue order."""
        return tuple(BudgetLimit(b.budget, b.limit, b.interval) for b in self._buckets)

    @property
    def clock(self) -> Clock:
        """The clock windows and timers are read from."""
        return self._clock

    @property
    def store(self) -> BudgetStore:
        """The window counters."""
        return self._store

    @property
    def max_wait(self) -> float | None:
        """The default bound on waiting, seconds (None: no bound)."""
        return self._max_wait

    @property
    def waiters(self) -> int:
        """Number of :meth:`acquire` calls currently waiting."""
        return self._n_waiters

    @property
    def paused_until(self) -> float | None:
        """End of the active 429 pause (epoch seconds), or None."""
        until = self._paused_until
        return until if until > self._clock.time() else None

    @property
    def banned_until(self) -> float | None:
        """End of the active 418 ban (epoch seconds), or None."""
        until = self._banned_until
        return until if until > self._clock.time() else None

    async def acquire(
        self, charges: Sequence[Charge], *, max_wait: float | None = None
    ) -> Reservation:
        """Wait until all ``charges`` fit in their budgets' current windows, then take them.

        ``max_wait`` (seconds) overrides the limiter's default for this call;
        ``math.inf`` waits without bound.  Raises :class:`WeightExceedsLimitError`
        at once if a charge exceeds its budget's limit, :class:`IPBanActiveError`
        while a 418 ban lasts, :class:`RateLimitWaitTimeout` if admission would
        take longer than ``max_wait`` (checked before waiting, and at the
        deadline), :class:`~binance_papi_async.ClientClosedError` after
        :meth:`close`.  Nothing is charged when it raises or is cancelled.
        """
        if self._local:  # the uncontended path first (a store of our own: no side effects)
            reservation = self.try_acquire(charges)
            if reservation is not None:
                return reservation
        plan = self._plan_for(charges)
        now = self._clock.time()
        if now < self._banned_until:
            raise IPBanActiveError(banned_until=self._banned_until, now=now)
        if self._closed:
            raise ClientClosedError("the rate limiter is closed")
        if now >= self._paused_until:
            store = self._store
            for bucket, amount in plan:
                if now >= bucket.roll_at:
                    bucket.roll(now)
                if bucket.n_waiting or (
                    store.used(bucket.key) + bucket.claimed + amount > bucket.limit
                ):
                    break
            else:
                reservation = self._take(plan, now)
                if reservation is not None:
                    return reservation
        return await self._wait(plan, now, max_wait)

    def try_acquire(self, charges: Sequence[Charge]) -> Reservation | None:
        """The uncontended path of :meth:`acquire`, without a coroutine.

        Returns the reservation when all ``charges`` fit in the current windows with
        nobody waiting ahead, no 429 pause and no ban; otherwise ``None`` and nothing is
        charged (call :meth:`acquire`, which waits or raises).  Raises like
        :meth:`check` for charges that can never be admitted.
        """
        hit = self._plans.get(id(charges))
        if hit is not None and hit[0] is charges:
            plan, index = hit[1], hit[2]
        else:
            plan = self._plan_for(charges)
            index = _plan_index(plan)
        clock = self._server_clock
        now = _monotonic() + clock._offset if clock is not None else self._clock.time()
        if now < self._blocked_until or self._closed:
            return None
        keys: Sequence[WindowKey]
        marks: Sequence[int]
        if self._owned and not self._n_waiters and len(plan) == 2:
            # The common case, written out: the limiter's own store (the buckets are the
            # counters), nobody waiting, two budgets (IP weight and orders).
            (first, first_amount), (second, second_amount) = plan
            if now >= first.roll_at:
                first.roll(now)
            if now >= second.roll_at:
                second.roll(now)
            if (
                first.used + first.claimed + first_amount > first.limit
                or second.used + second.claimed + second_amount > second.limit
            ):
                return None
            first.used += first_amount
            second.used += second_amount
            first.charged += first_amount
            second.charged += second_amount
            keys = (first.key, second.key)
            marks = (first.charged, second.charged)
        elif not self._local:
            return self._try_store(plan, now)
        else:
            # An in-memory store: its counters, rolled with the buckets, are read and
            # charged here directly (the same arithmetic as InMemoryBudgetStore.try_charge).
            for bucket, amount in plan:
                if now >= bucket.roll_at:
                    bucket.roll(now)
                counter = bucket.counter
                if counter is None or counter.window != bucket.window:
                    return self._try_store(plan, now)  # another limiter moved the store on
                if counter.used + bucket.claimed + amount > bucket.limit or bucket.n_waiting:
                    return None
            key_list = []
            mark_list = []
            for bucket, amount in plan:
                bucket.counter.used += amount  # type: ignore[union-attr]  # checked above
                charged = bucket.charged = bucket.charged + amount
                key_list.append(bucket.key)
                mark_list.append(charged)
            keys = key_list
            marks = mark_list
        # Reservation(self, plan, keys, marks, now, index) without the call.
        reservation = _new(Reservation)
        reservation._limiter = self
        reservation._plan = plan
        reservation._keys = keys
        reservation._marks = marks
        reservation._time = now
        reservation._state = _PENDING
        reservation._index = index
        return reservation

    def _try_store(self, plan: _Plan, now: float) -> Reservation | None:
        """:meth:`try_acquire` through the :class:`BudgetStore` protocol."""
        store = self._store
        for bucket, amount in plan:
            if now >= bucket.roll_at:
                bucket.roll(now)
            if bucket.n_waiting or store.used(bucket.key) + bucket.claimed + amount > bucket.limit:
                return None
        return self._take(plan, now)

    def check(self, charges: Sequence[Charge]) -> None:
        """Raise now if ``charges`` can never be admitted (no waiting, no I/O, no charge).

        :class:`WeightExceedsLimitError` when a charge exceeds its budget's limit,
        :class:`~binance_papi_async.ValidationError` for a malformed charge.  The
        client calls it before anything else touches the network.
        """
        self._plan_for(charges)

    def observe_headers(
        self, headers: Mapping[str, str], *, reservation: Reservation | None = None
    ) -> None:
        """Reconcile with a response's ``X-MBX-USED-WEIGHT-*`` / ``X-MBX-ORDER-COUNT-*``.

        Header names are case-insensitive; the suffix (``1M``, ``10S``, ``1H``,
        ``1D``) selects the limits of that window length.  From aiohttp's
        case-insensitive headers the canonical names (``X-MBX-USED-WEIGHT-1M``)
        are looked up directly; any other mapping is scanned.  ``reservation``
        is the one the request was sent under (it is committed: a response
        proves the request was sent).  See the module docstring for the rule.
        Malformed values are ignored.
        """
        if reservation is not None and reservation._state == _PENDING:
            reservation._state = _COMMITTED
        if isinstance(headers, _CASE_INSENSITIVE):  # aiohttp's: this runs after every response
            clock = self._server_clock
            now = _monotonic() + clock._offset if clock is not None else self._clock.time()
            for header, bucket in self._observed:
                value = headers.get(header)
                if value is None:
                    continue
                try:
                    used = int(value)
                except ValueError:
                    continue
                if used >= 0:
                    self._observe(bucket, used, reservation, now)
            return
        for name, value in headers.items():
            if name[:1] not in ("x", "X"):
                continue
            lname = name.lower()
            budget = _HEADER_BUDGETS.get(lname[:_PREFIX_LEN])
            if budget is None:
                continue
            interval = _header_interval(lname[_PREFIX_LEN:])
            if interval is None:
                continue
            count = _parse_count(value)
            if count is not None:
                self.observe_used(budget, count, interval_s=interval, reservation=reservation)

    def observe_used(
        self,
        budget: Budget,
        used: int,
        *,
        interval_s: float = _MINUTE,
        reservation: Reservation | None = None,
    ) -> None:
        """The server counted ``used`` units of ``budget`` (window ``interval_s``) for a request.

        Applies ``used := max(used, S + charged_after)`` to the window in which
        ``reservation`` was admitted (ignored if that window is over), or
        ``max(used, S)`` to the current window without a reservation.
        """
        buckets = self._by_budget.get(budget)
        if not buckets:
            return
        now = self._clock.time()
        for bucket in buckets:
            if bucket.interval == interval_s:
                self._observe(bucket, used, reservation, now)

    def _observe(
        self, bucket: _Bucket, used: int, reservation: Reservation | None, now: float
    ) -> None:
        if now >= bucket.roll_at:
            bucket.roll(now)
        value = used
        if reservation is not None:
            i = reservation._index.get(bucket)
            if i is not None:  # charged: S + what was charged here after its admission
                if reservation._keys[i] is not bucket.key:
                    return  # the window rolled between admission and response
                value += bucket.charged - reservation._marks[i]
            elif _window_index(reservation._time, bucket.interval) != bucket.window:
                return  # the window rolled between admission and response
        counter = bucket.counter
        if counter is not None and counter.window == bucket.window:
            if value > counter.used:  # InMemoryBudgetStore.observe, without the call
                counter.used = value
        else:
            self._store.observe(bucket.key, value)

    def on_rate_limited(
        self, retry_after: float | None = None, *, budget: Budget | None = None
    ) -> None:
        """Binance answered 429: pause every call, and mark the budgets full for this window.

        The pause lasts until ``now + retry_after`` or, without it, until the
        end of the current one-minute window.  ``budget``, if known (e.g. -1015
        "too many orders"), limits the marking to that budget; otherwise every
        limit whose window is at most a minute is marked full.
        """
        now = self._clock.time()
        if retry_after is not None and math.isfinite(retry_after) and retry_after >= 0:
            until = now + retry_after
        else:
            until = (_window_index(now, _MINUTE) + 1) * _MINUTE
        if until > self._paused_until:
            self._paused_until = until
            self._blocked_until = max(self._blocked_until, until)
        for bucket in self._buckets:
            if bucket.budget is budget or (budget is None and bucket.interval <= _MINUTE):
                if now >= bucket.roll_at:
                    bucket.roll(now)
                self._store.observe(bucket.key, bucket.limit)
        if self._n_waiters:
            self._pump()

    def on_ip_banned(
        self, retry_after: float | None = None, banned_until: float | None = None
    ) -> None:
        """Binance answered 418: every call raises :class:`IPBanActiveError` until the ban ends.

        The end is the latest of ``banned_until`` (epoch seconds) and ``now +
        retry_after``; with neither, Binance's minimum ban of two minutes.
        Calls already waiting fail at once.
        """
        now = self._clock.time()
        ends = []
        if banned_until is not None and math.isfinite(banned_until):
            ends.append(banned_until)
        if retry_after is not None and math.isfinite(retry_after) and retry_after >= 0:
            ends.append(now + retry_after)
        until = max(ends) if ends else now + MIN_BAN_S
        if until > self._banned_until:
            self._banned_until = until
            self._blocked_until = max(self._blocked_until, until)
        if now < self._banned_until and self._n_waiters:
            ban = self._banned_until
            self._fail_all(lambda: IPBanActiveError(banned_until=ban, now=now))

    def set_limit(self, budget: Budget, limit: int, interval_s: float = _MINUTE) -> None:
        """Set (or add) the limit of ``budget`` per ``interval_s`` window.

        For example from ``GET /papi/v1/rateLimit/order``.  A new limit applies
        to calls that start after it was added; waiting calls that charge more
        than a lowered limit fail with :class:`WeightExceedsLimitError`.
        """
        item = BudgetLimit(budget, limit, interval_s)  # validates
        interval = float(item.interval_s)
        self._plans.clear()
        bucket = self._by_key.get((budget, interval))
        if bucket is None:
            self._add_bucket(budget, limit, interval)
            return
        bucket.limit = limit
        if not self._n_waiters:
            return
        victims: list[tuple[_Waiter, int]] = []
        for waiter in self._live_waiters():
            for charged_bucket, amount in waiter.plan:
                if charged_bucket is bucket and amount > limit:
                    victims.append((waiter, amount))
        for waiter, amount in victims:
            self._drop(waiter)
            self._compact(waiter)
            self._resolve(
                waiter,
                WeightExceedsLimitError(
                    budget=budget, amount=amount, limit=limit, interval_s=interval
                ),
            )
        self._pump()

    def snapshot(self) -> RateLimitSnapshot:
        """The state of every budget limit, the waiting calls, any pause or ban."""
        now = self._clock.time()
        store = self._store
        budgets = []
        for bucket in self._buckets:
            if now >= bucket.roll_at:
                bucket.roll(now)
            budgets.append(
                BudgetSnapshot(
                    budget=bucket.budget,
                    interval_s=bucket.interval,
                    limit=bucket.limit,
                    used=store.used(bucket.key),
                    window_start=bucket.start,
                    window_reset=bucket.end,
                    waiters=bucket.n_waiting,
                    held=bucket.claimed,
                )
            )
        budgets.sort(key=lambda s: (s.budget is not Budget.REQUEST_WEIGHT, s.interval_s))
        return RateLimitSnapshot(
            time=now,
            budgets=tuple(budgets),
            waiters=self._n_waiters,
            paused_until=self._paused_until if self._paused_until > now else None,
            banned_until=self._banned_until if self._banned_until > now else None,
        )

    def wake(self) -> None:
        """Re-examine the waiting calls now (for a store whose counters went down)."""
        if self._n_waiters:
            self._pump()

    def close(self) -> None:
        """Fail every waiting call with ClientClosedError and refuse new ones.  Idempotent."""
        self._closed = True
        if self._n_waiters:
            self._fail_all(lambda: ClientClosedError("the rate limiter was closed"))
        self._tidy()

    def __repr__(self) -> str:
        parts = ", ".join(f"{b.series}={b.limit}" for b in self._buckets)
        return f"<RateLimiter {parts} waiters={self._n_waiters}>"

    # -- admission ----------------------------------------------------------------------------

    def _add_bucket(self, budget: Budget, limit: int, interval: float) -> None:
        bucket = _Bucket(budget, limit, interval)

        def on_timer() -> None:
            bucket.timer = None
            self._pump()

        bucket.on_timer = on_timer
        store = self._store
        if self._owned and isinstance(store, _OwnedStore):
            store._counters[bucket.series] = bucket
            bucket.counter = bucket
        elif self._local and isinstance(store, InMemoryBudgetStore):
            bucket.counter = store._counter(bucket.series)
        self._by_key[(budget, interval)] = bucket
        self._by_budget.setdefault(budget, []).append(bucket)
        self._buckets.append(bucket)
        self._buckets.sort(key=lambda b: b.rank)
        self._observed = tuple((b.header, b) for b in self._buckets if b.header is not None)

    def _plan_for(self, charges: Sequence[Charge]) -> _Plan:
        """Resolve charges to (bucket, amount) in queue order, validating; cached for tuples."""
        cacheable = type(charges) is tuple
        if cacheable:
            hit = self._plans.get(id(charges))
            if hit is not None and hit[0] is charges:
                return hit[1]
        totals: dict[Budget, int] = {}
        for charge in charges:
            amount = charge.amount
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                raise ValidationError(
                    f"a charge must be a non-negative int, not {amount!r}", param="charges"
                )
            if amount and charge.budget in self._by_budget:
                totals[charge.budget] = totals.get(charge.budget, 0) + amount
        items: list[tuple[_Bucket, int]] = []
        for budget, amount in totals.items():
            for bucket in self._by_budget[budget]:
                if amount > bucket.limit:
                    raise WeightExceedsLimitError(
                        budget=budget, amount=amount, limit=bucket.limit, interval_s=bucket.interval
                    )
                items.append((bucket, amount))
        items.sort(key=lambda item: item[0].rank)
        plan = tuple(items)
        if cacheable:
            if len(self._plans) >= _PLAN_CACHE_SIZE:
                self._plans.clear()
            self._plans[id(charges)] = (charges, plan, _plan_index(plan))
        return plan

    def _take(self, plan: _Plan, now: float) -> Reservation | None:
        """Charge a whole plan (keys already rolled); None if the store refuses."""
        items = [(bucket.key, amount, bucket.limit) for bucket, amount in plan]
        if not self._store.try_charge(items):
            return None
        marks = []
        for bucket, amount in plan:
            bucket.charged += amount
            marks.append(bucket.charged)
        return Reservation(self, plan, [item[0] for item in items], marks, now)

    def _refund(self, reservation: Reservation) -> None:
        self._store.refund(
            [
                (key, amount)
                for key, (_, amount) in zip(reservation._keys, reservation._plan, strict=True)
            ]
        )
        if self._n_waiters:
            self._pump()

    def _earliest(self, plan: _Plan, now: float) -> float:
        """A lower bound on when ``plan`` can be admitted, if nobody ahead gives budget back."""
        earliest = max(now, self._paused_until)
        store = self._store
        for bucket, amount in plan:
            if now >= bucket.roll_at:
                bucket.roll(now)
            limit = bucket.limit
            demand = min(store.used(bucket.key), limit) + bucket.claimed + bucket.queued + amount
            if demand > limit:
                windows_after = (demand - 1) // limit  # ceil(demand / limit) - 1
                earliest = max(earliest, bucket.start + windows_after * bucket.interval)
        return earliest

    async def _wait(self, plan: _Plan, now: float, max_wait: float | None) -> Reservation:
        if max_wait is None:
            max_wait = self._max_wait
        elif not max_wait >= 0:
            raise ValidationError(f"max_wait must be >= 0 seconds, not {max_wait!r}")
        if max_wait is not None:
            earliest = self._earliest(plan, now)
            if earliest - now > max_wait:
                raise RateLimitWaitTimeout(
                    f"rate budget is not available within max_wait={max_wait:g} s "
                    f"(earliest admission in {earliest - now:.3f} s); nothing was sent",
                    max_wait=max_wait,
                    earliest=earliest,
                )
        waiter = _Waiter(plan, asyncio.get_running_loop().create_future())
        if plan:
            bucket, amount = plan[0]
            bucket.queue.append(waiter)
            bucket.n_waiting += 1
            bucket.queued += amount
        else:
            self._free.append(waiter)
        self._n_waiters += 1
        if max_wait is not None and max_wait != math.inf:
            waiter.deadline = deadline = now + max_wait
            waiter.max_wait = max_wait
            heapq.heappush(self._deadlines, (deadline, next(self._seq), waiter))
            self._deadline_live += 1
            self._arm_deadline()
        self._pump()
        try:
            outcome = await waiter.future
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise
        if isinstance(outcome, Reservation):
            return outcome
        raise outcome

    def _abandon(self, waiter: _Waiter) -> None:
        """The waiting task was cancelled: leave the queues, or give back what it was granted."""
        if waiter.state == _WAITING:
            self._drop(waiter)
            self._compact(waiter)
            self._pump()
        elif waiter.state == _ADMITTED:
            future = waiter.future
            if future.done() and not future.cancelled():
                outcome = future.result()
                if isinstance(outcome, Reservation):
                    outcome.release()

    def _pump(self) -> None:
        """Admit every waiter that can go now, in FIFO order per budget; arm timers for the rest."""
        if not self._n_waiters:
            self._tidy()
            return
        now = self._clock.time()
        if now < self._paused_until:
            self._arm_pause()
            return
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        free = self._free
        while free:
            waiter = free.popleft()
            if waiter.state == _WAITING:
                self._admit(waiter, Reservation(self, (), [], [], now))
        store = self._store
        again = True
        while again:
            again = False
            for bucket in self._buckets:
                queue = bucket.queue
                if queue:
                    if now >= bucket.roll_at:
                        bucket.roll(now)
                    while queue:
                        waiter = queue[0]
                        if waiter.state != _WAITING or waiter.future.done():
                            if waiter.state == _WAITING:
                                self._drop(waiter)  # cancelled, cleanup not yet run
                            queue.popleft()
                            bucket.n_dead -= 1
                            continue
                        plan = waiter.plan
                        stage = waiter.stage
                        amount = plan[stage][1]
                        if store.used(bucket.key) + bucket.claimed + amount > bucket.limit:
                            self._arm(bucket)
                            break
                        queue.popleft()
                        bucket.n_waiting -= 1
                        bucket.queued -= amount
                        stage += 1
                        if stage < len(plan):
                            bucket.claimed += amount  # hold it; move on to the next queue
                            waiter.stage = stage
                            following, more = plan[stage]
                            following.queue.append(waiter)
                            following.n_waiting += 1
                            following.queued += more
                            continue
                        outcome = self._finish(waiter, now)
                        if outcome == _BLOCKED:
                            break
                        if outcome == _SENT_BACK:
                            again = True
                if not queue and bucket.timer is not None:
                    bucket.timer.cancel()
                    bucket.timer = None
        if not self._n_waiters:
            self._tidy()

    def _finish(self, waiter: _Waiter, now: float) -> int:
        """Admit a waiter that passed its last queue (already popped from it).

        Its holds are normally still good; if a header or a 429 filled a held
        budget meanwhile, the waiter goes back to the head of that budget's
        queue (giving up the holds from there on) instead of blocking the last.
        """
        plan = waiter.plan
        last = len(plan) - 1
        store = self._store
        for i in range(last):
            bucket, amount = plan[i]
            if now >= bucket.roll_at:
                bucket.roll(now)
            if store.used(bucket.key) + amount > bucket.limit:
                for j in range(i, last):
                    held, held_amount = plan[j]
                    held.claimed -= held_amount
                waiter.stage = i
                bucket.queue.appendleft(waiter)
                bucket.n_waiting += 1
                bucket.queued += amount
                self._arm(bucket)
                return _SENT_BACK
        reservation = self._take(plan, now)
        if reservation is not None:
            for i in range(last):
                bucket, amount = plan[i]
                bucket.claimed -= amount
            self._admit(waiter, reservation)
            return _DONE
        # The store refused for its own reasons (e.g. shared with other processes):
        # stay at the head of the last queue and look again when a window rolls.
        bucket, amount = plan[last]
        bucket.queue.appendleft(waiter)
        bucket.n_waiting += 1
        bucket.queued += amount
        for bucket, _ in plan:
            self._arm(bucket)
        return _BLOCKED

    def _admit(self, waiter: _Waiter, reservation: Reservation) -> None:
        waiter.state = _ADMITTED
        self._n_waiters -= 1
        if waiter.deadline is not None:
            self._deadline_live -= 1
        if not waiter.future.done():
            waiter.future.set_result(reservation)

    def _drop(self, waiter: _Waiter) -> None:
        """Take a waiting waiter out of the accounting (its queue entry is left for later)."""
        waiter.state = _DEAD
        plan = waiter.plan
        if plan:
            stage = waiter.stage
            bucket, amount = plan[stage]
            bucket.n_waiting -= 1
            bucket.queued -= amount
            bucket.n_dead += 1
            for i in range(stage):
                held, held_amount = plan[i]
                held.claimed -= held_amount
        self._n_waiters -= 1
        if waiter.deadline is not None:
            self._deadline_live -= 1

    def _compact(self, waiter: _Waiter) -> None:
        """Tidy the queue ``waiter`` died in: forget dead entries once they outnumber the living.

        A queue left without a live waiter needs no timer either.
        """
        if waiter.plan:
            bucket = waiter.plan[waiter.stage][0]
            if not bucket.n_waiting:
                bucket.queue.clear()
                bucket.n_dead = 0
                if bucket.timer is not None:
                    bucket.timer.cancel()
                    bucket.timer = None
            elif bucket.n_dead > _COMPACT_MIN and bucket.n_dead > bucket.n_waiting:
                bucket.queue = deque(w for w in bucket.queue if w.state == _WAITING)
                bucket.n_dead = 0
        elif len(self._free) > _COMPACT_MIN:
            self._free = deque(w for w in self._free if w.state == _WAITING)

    @staticmethod
    def _resolve(waiter: _Waiter, outcome: BinancePapiError) -> None:
        if not waiter.future.done():
            waiter.future.set_result(outcome)

    def _live_waiters(self) -> list[_Waiter]:
        waiters = [w for w in self._free if w.state == _WAITING]
        for bucket in self._buckets:
            waiters.extend(w for w in bucket.queue if w.state == _WAITING)
        return waiters

    def _fail_all(self, make_error: Callable[[], BinancePapiError]) -> None:
        for waiter in self._live_waiters():
            self._drop(waiter)
            self._resolve(waiter, make_error())
        self._tidy()

    def _tidy(self) -> None:
        """No waiter left: cancel every timer and forget dead queue entries."""
        if self._n_waiters:
            return
        for bucket in self._buckets:
            if bucket.timer is not None:
                bucket.timer.cancel()
                bucket.timer = None
            if bucket.queue:
                bucket.queue.clear()
            bucket.n_dead = 0
        self._free.clear()
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None
        self._deadlines.clear()
        self._deadline_live = 0

    # -- timers -------------------------------------------------------------------------------

    def _arm(self, bucket: _Bucket) -> None:
        """Wake up at the start of ``bucket``'s next window."""
        at = bucket.end
        if bucket.timer is not None:
            if bucket.timer_at == at:
                return
            bucket.timer.cancel()
        bucket.timer = self._clock.call_at(at, bucket.on_timer)
        bucket.timer_at = at

    def _arm_pause(self) -> None:
        at = self._paused_until
        if self._pause_timer is not None:
            if self._pause_at == at:
                return
            self._pause_timer.cancel()
        self._pause_timer = self._clock.call_at(at, self._on_pause_end)
        self._pause_at = at

    def _on_pause_end(self) -> None:
        self._pause_timer = None
        self._pump()

    def _arm_deadline(self) -> None:
        heap = self._deadlines
        while heap and heap[0][2].state != _WAITING:
            heapq.heappop(heap)
        if len(heap) > _COMPACT_MIN and len(heap) > 2 * self._deadline_live:
            heap[:] = [entry for entry in heap if entry[2].state == _WAITING]
            heapq.heapify(heap)
        if not heap:
            if self._deadline_timer is not None:
                self._deadline_timer.cancel()
                self._deadline_timer = None
            return
        at = heap[0][0]
        if self._deadline_timer is not None:
            if self._deadline_at == at:
                return
            self._deadline_timer.cancel()
        self._deadline_timer = self._clock.call_at(at, self._on_deadline)
        self._deadline_at = at

    def _on_deadline(self) -> None:
        self._deadline_timer = None
        self._pump()  # admission exactly at the deadline is in time
        now = self._clock.time()
        heap = self._deadlines
        expired = False
        while heap:
            deadline, _, waiter = heap[0]
            if waiter.state != _WAITING:
                heapq.heappop(heap)
                continue
            if deadline > now:
                break
            heapq.heappop(heap)
            self._drop(waiter)
            self._compact(waiter)
            self._resolve(
                waiter,
                RateLimitWaitTimeout(
                    f"rate budget did not become available within max_wait={waiter.max_wait:g} s;"
                    " nothing was sent",
                    max_wait=waiter.max_wait,
                ),
            )
            expired = True
        if expired:
            self._pump()
        if self._n_waiters:
            self._arm_deadline()
