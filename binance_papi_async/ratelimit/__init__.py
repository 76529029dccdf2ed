"""Weight-aware rate limiter: Binance's IP weight and order budgets, honest about the clock.

Binance bans an IP (HTTP 418, two minutes up to three days) that keeps sending
after a 429.  The :class:`RateLimiter` reserves budget *before* a request is
sent, so that our own traffic never causes a 429, and keeps itself in step with
the server's counters so that traffic of other programs on the same IP or
account is accounted for too.

The guarantee
-------------
**No 429 from this client's own traffic, as long as the true offset to Binance's
clock lies within the clock's measured bound and every request reaches Binance
within ``transit`` seconds (default 0.5) of the moment its timestamp is taken.**
The bound comes from the round trips of the clock-sync reads, growing with the
time since the last sync at the clock's drift rate (see
:mod:`binance_papi_async.clock`).  Traffic the limiter does not see (another
program on the IP, another process without a shared store) is accounted for
from the next response's headers, not before.

Budgets and windows
-------------------
papi counts two budgets (``spec/papi/GENERAL.md`` section 4): the IP request
weight, **6000 per minute per IP**, and the order count, **1200 per minute per
account** (the account's real order limits come from
``GET /papi/v1/rateLimit/order``; feed them to :meth:`RateLimiter.set_limit`).
Each :class:`BudgetLimit` is a *fixed window* aligned to the epoch of the
server clock, as Binance counts: a one-minute window starts on the minute of
server time.  A budget may have several limits (orders per 10 s and per day);
a call must fit in all.  One limiter is one IP: clients of several accounts on
it share its IP weight, and each account (``account=`` on :meth:`~RateLimiter.acquire`)
has its own order budget.

Binance counts a request in the window of its *arrival*.  A request whose
timestamp is taken at estimated server time ``E``, with the clock's bound
``U``, arrives between ``E - U`` and ``E + U + transit``; when that interval
crosses a boundary, the request counts against *both* windows.  So a window
counts as over only once ``E - U`` has passed its end: it stays closed at most
``U`` longer than its real end, and no server window can get more than its
limit from us.  Admission happens before a request waits for a pooled
connection, so :meth:`Reservation.recheck` checks the windows again just before
the timestamp is taken (and moves the charge, or gives it back).

When a sync moves the offset (either way), every charge of the last window is
*re-keyed*: the windows of the local time it was sent in are computed again
with the new offset and bound, and the charge moves there.  While the old and
the new bound are both honest the truth lies in both, so the charge keeps only
the windows both allow; when they contradict each other (the host clock was
wrong before the first sync: 10 minutes ahead or behind), the new one alone
counts.  This is how the clock-sync reads themselves, sent before the offset was
known, end up in the server window they were really sent in.  Windows of the
last 15 minutes are remembered, so a sync that moves the offset back finds
their counts.

Every endpoint declares what it charges as data (``EndpointSpec.charges``);
a caller can pass any other charges.  Charges for budgets the limiter has no
limit for are ignored; an amount of 0 charges nothing.

Why repay-debt costs 3000 IP weight plus 1 order
------------------------------------------------
The endpoint page of ``POST /papi/v1/margin/repay-debt`` says
"Request Weight(Order) 3000".  Read literally, "(Order)" would put 3000 on the
account's order budget, but that budget is 1200 per minute: a single repay
could never be admitted, so the literal reading cannot be what Binance counts.
The official generated SDKs print the same endpoint as ``Weight(IP): 3000``
(they print every "(Order)" page as ``Weight(IP)``).  We therefore charge it
3000 on the IP weight budget and 1 on the order budget, like every "(Order)"
call (``endpoints._spec.charges_for``).  The simulator charges the same way.
If Binance counts it differently, the header reconciliation corrects the
picture.

Using it
--------
::

    limiter = RateLimiter()                       # DEFAULT_LIMITS; no event loop needed
    reservation = await limiter.acquire(spec.charges, max_wait=5.0, urgent=False)
    try:
        ...                                       # wait for a connection
        if not reservation.recheck():             # the timestamp is taken now
            reservation = await limiter.acquire(spec.charges)
        response = await send(...)                # the bytes may leave the machine
    except NotSentError:                          # provably nothing was sent
        reservation.release()                     # give the budget back
        raise
    finally:
        reservation.commit()                      # no-op after release()
    limiter.observe_headers(response.headers, reservation=reservation)
    if response.status == 429:
        limiter.on_rate_limited(retry_after, budget=Budget.ORDERS if code == -1015 else None)
    elif response.status == 418:
        limiter.on_ip_banned(retry_after, banned_until)

* :meth:`RateLimiter.acquire` waits (without polling) until all charges fit,
  takes them atomically and returns a :class:`Reservation`.  It raises at once
  :class:`WeightExceedsLimitError` if a charge is larger than its budget's limit,
  :class:`IPBanActiveError` during a 418 ban, and :class:`RateLimitWaitTimeout`
  when admission cannot happen within ``max_wait`` seconds: before waiting if a
  known pause or the queue ahead makes it impossible (the error carries the
  earliest admission and the pause's end), else at the deadline.  Nothing is
  charged when it raises or is cancelled.
* :meth:`Reservation.release` refunds the charges when the request was
  provably not sent; :meth:`Reservation.commit` keeps them.  The first of the two
  wins; both are idempotent.  A reservation neither released nor committed stays
  charged (the safe side).
* :meth:`RateLimiter.observe_headers` reconciles with the response headers
  (see ``_reconcile``: the header is authoritative for what the server has
  seen, our charges still in flight are added on top once, a refund is never
  counted twice, and a count goes down only where the server proves it).

Priority, backfill and fairness
-------------------------------
Waiters are admitted in arrival order (FIFO), with two exceptions, both bounded:

* **Urgent calls** (``urgent=True``: order cancels, the clock-sync reads,
  listen-key keep-alives, calls made with ``priority="high"``) are admitted
  before normal waiters from a reserve of every window (``BudgetLimit.reserve``,
  default 1 % of the limit) that normal calls cannot take.  Beyond the reserve
  they wait in arrival order with the others, so normal waiters are never
  starved: urgent calls take at most the reserve ahead of them per window.
* **Backfill**: when the head of a queue does not fit in the current window, a
  later call that fits in the room the head leaves there is admitted at once: a
  ping is not held behind 500 queued repays.  It takes only budget of a window
  the head cannot be admitted in, and never when the request could arrive in
  the next window, so the head is not delayed (unless budget is given back in
  that window after the backfill).  A call is never overtaken by a later call
  that charges as much or more.

A call that charges several budgets passes their queues one after the other
(order counts first, the IP weight last), holding its place; see ``_admission``.

429, 418 and how long a call waits
----------------------------------
:meth:`RateLimiter.on_rate_limited` pauses only the budget the 429 names (the
IP weight, or an account's order count for -1015), for ``Retry-After`` seconds
but never beyond the end of that limit's window (an absurd ``Retry-After`` is
clamped and logged), and marks the window full.
:meth:`RateLimiter.on_ip_banned` makes every call (including those waiting)
raise :class:`IPBanActiveError` until the ban ends: ``Retry-After`` or the
"banned until" of Binance's message, at least two minutes when neither says,
never more than three days.

``max_wait`` defaults to ``None``: a call waits as long as the budget ahead of
it needs, no longer.  Every wait is bounded by the limiter itself (a pause by
its window, a ban fails at once, the queue ahead by the windows it needs) and
a waiting call can be cancelled at any time without losing budget; a fixed
default would fail legitimate bursts (ten repays need five minutes at two per
minute) and send the caller to the back of the queue to retry.  Pass
``max_wait`` (per call, or the client's default) where a late answer is worth
less than none.

The store
---------
The counts live in a :class:`BudgetStore`.  :class:`InMemoryBudgetStore` is the
default (share one instance between limiters to share budgets in one process);
a store outside the process (Redis) implements the same asynchronous protocol:
the limiter takes leases of budget from it and admits locally from them, so
that the processes together never admit more than the limit in any window (see
``_stores``).

Cancellation and costs
----------------------
A task cancelled while waiting takes nothing; if it was admitted in the same
instant it was cancelled, its reservation is released.  The uncontended path
creates no future and no timer (about a microsecond; ``benchmarks/bench_limiter.py``).
Waiting uses one future per waiter, at most one timer per budget limit and one
for all ``max_wait`` deadlines; no polling.

The limiter is not thread-safe: use it from one event loop at a time.  It
captures no loop, so it can be created before the loop runs.
"""

from __future__ import annotations

from ..errors import (
    IPBanActiveError,
    RateLimitWaitTimeout,
    WeightExceedsLimitError,
    banned_until_from_message,
)
from ._bounds import MAX_BAN_S, MIN_BAN_S
from ._limiter import RateLimiter
from ._model import DEFAULT_LIMITS, DEFAULT_TRANSIT_S, BudgetLimit, WindowKey
from ._reservation import Reservation
from ._snapshot import BudgetSnapshot, RateLimitSnapshot
from ._stores import BudgetStore, InMemoryBudgetStore, Signal, StoreListener

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TRANSIT_S",
    "MAX_BAN_S",
    "MIN_BAN_S",
    "BudgetLimit",
    "BudgetSnapshot",
    "BudgetStore",
    "IPBanActiveError",
    "InMemoryBudgetStore",
    "RateLimitSnapshot",
    "RateLimitWaitTimeout",
    "RateLimiter",
    "Reservation",
    "Signal",
    "StoreListener",
    "WeightExceedsLimitError",
    "WindowKey",
    "banned_until_from_message",
]
