"""The public rate limiter: acquiring budget, and what the responses teach it."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from time import monotonic as _monotonic
from typing import Final

from multidict import CIMultiDict, CIMultiDictProxy

from ..clock import Clock
from ..endpoints._spec import Budget, Charge
from ..errors import (
    ClientClosedError,
    ConfigurationError,
    IPBanActiveError,
    RateLimitWaitTimeout,
    ValidationError,
    WeightExceedsLimitError,
)
from . import _reconcile
from ._admission import Admission
from ._bounds import ban_end, pause_end
from ._core import DEFAULT_LEASE_FRACTION, _is_seconds
from ._model import (
    ACCOUNT_BUDGETS,
    DEFAULT_LIMITS,
    DEFAULT_TRANSIT_S,
    MINUTE,
    BudgetLimit,
    window_index,
)
from ._queue import Plan
from ._reservation import ONE_WINDOW, PENDING, RELEASED, Reservation
from ._snapshot import BudgetSnapshot, RateLimitSnapshot
from ._stores import BudgetStore, InMemoryBudgetStore, Signal
from ._windows import Bucket

_new = object.__new__
_INF: Final = math.inf
_CASE_INSENSITIVE: Final = (CIMultiDict, CIMultiDictProxy)


class RateLimiter(Admission):
    """Reserves Binance rate budget before each request.  See the package docstring.

    ``limits``: the budget limits (default :data:`DEFAULT_LIMITS`).  ``clock``:
    server time, its bound, and timers (default a new
    :class:`~binance_papi_async.ServerClock`; pass the client's).  ``store``:
    the window counts (default a new in-memory store; share one
    :class:`InMemoryBudgetStore` between limiters, or give a remote store).
    ``max_wait``: default bound, in seconds, on how long :meth:`acquire` may
    wait (``None``: no bound but the limiter's own; see the package docstring).
    ``transit``: seconds allowed from taking a request's timestamp to its
    arrival at Binance.  ``lease_fraction``: the share of a limit taken at once
    from a remote store.
    """

    __slots__ = ()

    def __init__(
        self,
        limits: Iterable[BudgetLimit] = DEFAULT_LIMITS,
        *,
        clock: Clock | None = None,
        store: BudgetStore | None = None,
        max_wait: float | None = None,
        transit: float = DEFAULT_TRANSIT_S,
        lease_fraction: float = DEFAULT_LEASE_FRACTION,
    ) -> None:
        super().__init__(
            limits,
            clock=clock,
            store=store,
            max_wait=max_wait,
            transit=transit,
            lease_fraction=lease_fraction,
        )

    # -- state ------------------------------------------------------------------------------------

    @property
    def limits(self) -> tuple[BudgetLimit, ...]:
        """The budget limits in force for the default account (and the IP), in queue order."""
        return tuple(
            BudgetLimit(b.budget, b.limit, b.interval, b.reserve) for b in self._default.buckets
        )

    @property
    def clock(self) -> Clock:
        """The clock windows and timers are read from."""
        return self._tm.clock

    @property
    def store(self) -> BudgetStore:
        """The window counts."""
        return self._store

    @property
    def max_wait(self) -> float | None:
        """The default bound on waiting, seconds (None: no bound)."""
        return self._max_wait

    @property
    def transit(self) -> float:
        """Seconds allowed from a request's timestamp to its arrival at Binance."""
        return self._tm.transit

    @property
    def waiters(self) -> int:
        """Number of :meth:`acquire` calls currently waiting."""
        return self._n_waiters

    @property
    def paused_until(self) -> float | None:
        """The latest end of an active 429 pause (epoch seconds), or None."""
        now = self._tm.read()[1]
        until = max((b.paused_until for b in self._buckets), default=-_INF)
        return until if until > now else None

    @property
    def banned_until(self) -> float | None:
        """End of the active 418 ban (epoch seconds), or None."""
        until = self._banned_until
        return until if until > self._tm.read()[1] else None

    # -- admission --------------------------------------------------------------------------------

    async def acquire(
        self,
        charges: Sequence[Charge],
        *,
        max_wait: float | None = None,
        urgent: bool = False,
        account: str | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> Reservation:
        """Wait until all ``charges`` fit, then take them; see the package docstring.

        ``max_wait`` (seconds) overrides the limiter's default for this call;
        ``math.inf`` waits without bound.  ``urgent`` calls are admitted before
        normal waiters, from a small reserve of every window.  ``account`` is the
        account scope of the order budget (None: the default account).
        ``on_wait(expected)`` is called when the call starts to wait (not when it
        is admitted at once), with the expected wait in seconds: a lower bound
        that assumes nobody gives budget back.  Raises
        :class:`WeightExceedsLimitError` at once if a charge exceeds its
        budget's limit, :class:`IPBanActiveError` while a 418 ban lasts,
        :class:`RateLimitWaitTimeout` if admission would take longer than
        ``max_wait`` (checked before waiting, including any known pause, and at
        the deadline), :class:`~binance_papi_async.ClientClosedError` after
        :meth:`close`.  Nothing is charged when it raises or is cancelled.
        """
        if max_wait is not None and not _is_seconds(max_wait):
            raise ValidationError(
                f"max_wait must be a number of seconds >= 0, not {max_wait!r}", param="max_wait"
            )
        if self._local:  # the uncontended path first
            if urgent or account is not None:
                reservation = self.try_acquire(charges, urgent=urgent, account=account)
            else:
                reservation = self.try_acquire(charges)
            if reservation is not None:
                return reservation
        plan = self._plan(charges, self._default if account is None else self._group(account))
        local, now = self._tm.read()
        if now < self._banned_until:
            raise IPBanActiveError(banned_until=self._banned_until, now=now)
        if self._closed:
            raise ClientClosedError("the rate limiter is closed")
        reservation = self._admit_now(plan, local, now, urgent)
        if reservation is not None:
            return reservation
        if max_wait is None:
            max_wait = self._max_wait
        earliest = None
        if max_wait is not None and max_wait != _INF:
            earliest, paused = self._earliest(plan, local, now, urgent)
            if earliest - now > max_wait:
                pause = f"; paused by a 429 until {_iso(paused)}Z" if paused is not None else ""
                raise RateLimitWaitTimeout(
                    f"rate budget is not available within max_wait={max_wait:g} s "
                    f"(earliest admission in {earliest - now:.3f} s{pause}); nothing was sent",
                    max_wait=max_wait,
                    earliest=earliest,
                    paused_until=paused,
                )
        if on_wait is not None:
            if earliest is None:
                earliest = self._earliest(plan, local, now, urgent)[0]
            on_wait(max(0.0, earliest - now))
        return await self._wait(plan, local, now, max_wait, urgent)

    def try_acquire(
        self, charges: Sequence[Charge], *, urgent: bool = False, account: str | None = None
    ) -> Reservation | None:
        """The uncontended path of :meth:`acquire`, without a coroutine.

        Returns the reservation when all ``charges`` fit now with nobody waiting
        ahead (an urgent call may take the reserve), no pause and no ban;
        otherwise ``None`` and nothing is charged (call :meth:`acquire`, which
        waits, backfills or raises).  Raises like :meth:`check` for charges
        that can never be admitted.
        """
        group = self._default if account is None else self._groups.get(account)
        if group is None:
            group = self._group(account)
        plan = group.plans.get(id(charges))
        if plan is None or plan.charges is not charges:
            plan = self._plan(charges, group)
        clock = self._server_clock
        if clock is not None:
            local = _monotonic()
            now = local + clock._offset
        else:
            local, now = self._tm.read()
        if now < self._blocked_until or self._closed:
            return None
        if not self._n_waiters:
            items = plan.items
            if len(items) == 2 and self._local:  # IP weight and orders: as _uncontended()
                (first, first_amount), (second, second_amount) = items
                if now >= first.until:
                    first.advance(self._tm, local, now)
                if now >= second.until:
                    second.advance(self._tm, local, now)
                one = first.win
                two = second.win
                if not (
                    first.span
                    or second.span
                    or one.used - one.jumped + first_amount > first.cap
                    or two.used - two.jumped + second_amount > second.cap
                ):
                    one.used += first_amount
                    one.open += first_amount
                    two.used += second_amount
                    two.open += second_amount
                    seg1 = first.seg
                    seg2 = second.seg
                    seg1.total += first_amount  # type: ignore[union-attr]  # by advance()
                    seg1.inflight += first_amount  # type: ignore[union-attr]
                    seg2.total += second_amount  # type: ignore[union-attr]
                    seg2.inflight += second_amount  # type: ignore[union-attr]
                    reservation = _new(Reservation)
                    reservation._segs = (seg1, seg2)  # type: ignore[assignment]
                    reservation._marks = (one.done, one.open, two.done, two.open)
                    until = first.until
                    reservation._until = until if until < second.until else second.until
                    reservation._limiter = self
                    reservation._p = plan
                    reservation._jumps = 0
                    reservation._local = local
                    reservation._time = now
                    reservation._state = PENDING
                    reservation._answer = ONE_WINDOW
                    reservation._epoch = self._epoch
                    reservation._urgent = urgent
                    return reservation
            else:
                single = self._uncontended(plan, local, now, urgent)
                if single is not None:
                    return single
        return self._admit_now(plan, local, now, urgent, backfill=False)

    def _uncontended(
        self, plan: Plan, local: float, now: float, urgent: bool
    ) -> Reservation | None:
        """:meth:`try_acquire` of one budget (the IP weight), written out: nobody waiting,
        a request sure to arrive in one window, fitting the normal share (and, with a
        remote store, the lease of that window).  None: take the general path."""
        if len(plan.items) != 1:
            return None
        ((first, first_amount),) = plan.items
        if now >= first.until:
            first.advance(self._tm, local, now)
        one = first.win
        if first.span or one.used - one.jumped + first_amount > first.cap:
            return None
        granted = one.granted
        if granted is not None and granted - one.open - one.done < first_amount:
            return None  # beyond the lease taken from a remote store
        one.used += first_amount
        one.open += first_amount
        seg1 = first.seg
        seg1.total += first_amount  # type: ignore[union-attr]  # set by advance()
        seg1.inflight += first_amount  # type: ignore[union-attr]
        reservation: Reservation = _new(Reservation)
        reservation._segs = (seg1,)  # type: ignore[assignment]
        reservation._marks = (one.done, one.open)
        reservation._until = first.until
        reservation._limiter = self
        reservation._p = plan
        reservation._jumps = 0
        reservation._local = local
        reservation._time = now
        reservation._state = PENDING
        reservation._answer = ONE_WINDOW
        reservation._epoch = self._epoch
        reservation._urgent = urgent
        return reservation

    def check(self, charges: Sequence[Charge], *, account: str | None = None) -> None:
        """Raise now if ``charges`` can never be admitted (no waiting, no I/O, no charge).

        :class:`WeightExceedsLimitError` when a charge exceeds its budget's limit,
        :class:`~binance_papi_async.ValidationError` for a malformed charge.  The
        client calls it before anything else touches the network.
        """
        self._plan(charges, self._default if account is None else self._group(account))

    # -- what the responses say -------------------------------------------------------------------

    def observe_headers(
        self, headers: Mapping[str, str], *, reservation: Reservation | None = None
    ) -> None:
        """Reconcile with a response's ``X-MBX-USED-WEIGHT-*`` / ``X-MBX-ORDER-COUNT-*``.

        Header names are case-insensitive; the suffix (``1M``, ``10S``, ``1H``,
        ``1D``) selects the limits of that window length.  ``reservation`` is
        the one the request was sent under: it is committed (a response proves
        the request was sent) and its charges are settled.  See the package
        docstring for the rule.  Malformed values are ignored.
        """
        if (
            reservation is not None
            and reservation._answer == ONE_WINDOW
            and reservation._state != RELEASED
            and reservation._epoch == self._epoch
            and reservation._limiter is self
            and type(headers) in _CASE_INSENSITIVE
        ):
            _reconcile.observe_answer(self, headers, reservation)
        else:
            _reconcile.observe_headers(self, headers, reservation)

    def observe_used(
        self,
        budget: Budget,
        used: int,
        *,
        interval_s: float = MINUTE,
        reservation: Reservation | None = None,
        account: str | None = None,
    ) -> None:
        """The server counted ``used`` units of ``budget`` (window ``interval_s``) for a request:
        as one header of :meth:`observe_headers`."""
        _reconcile.observe_used(self, budget, used, interval_s, reservation, account)

    def on_rate_limited(
        self,
        retry_after: float | None = None,
        *,
        budget: Budget | None = None,
        account: str | None = None,
    ) -> None:
        """Binance answered 429: pause the budget it names, and mark its window full.

        ``budget`` is the one the 429 names: ``Budget.ORDERS`` for -1015 (too
        many orders, of ``account``), the IP weight otherwise (``None``).  Only
        calls charging it wait.  The limits of that budget whose current window
        is full (after the response's headers were observed), or else its
        shortest, are marked full; the pause lasts ``retry_after`` seconds, at
        most until their windows end (plus the clock's bound), and until then
        without a usable ``retry_after``.  A longer ``retry_after`` is clamped
        and logged.
        """
        local, now = self._tm.read()
        group = self._default if account is None else self._group(account)
        buckets = group.by_budget.get(Budget.REQUEST_WEIGHT if budget is None else budget, [])
        if not buckets:
            return
        for bucket in buckets:
            if now >= bucket.until:
                bucket.advance(self._tm, local, now)
        named = [b for b in buckets if any(w.used >= b.limit for w in b.windows())]
        if not named:
            named = [min(buckets, key=lambda b: b.interval)]
        u = self._tm.uncertainty(local)
        bound = max(w.end for b in named for w in b.windows()) + u
        until = pause_end(now, retry_after, bound)
        for bucket in named:
            for w in bucket.windows():
                w.used = max(w.used, bucket.limit)
                _reconcile._push(self, w)
        self._pause(buckets, until)
        self._publish(Signal("pause", buckets[0].budget, group.scope, until))

    def on_ip_banned(
        self, retry_after: float | None = None, banned_until: float | None = None
    ) -> None:
        """Binance answered 418: every call raises :class:`IPBanActiveError` until the ban ends.

        The end is the later of ``banned_until`` (epoch seconds) and ``now +
        retry_after``; when neither is usable (missing, 0, negative, not a
        number, past) Binance's minimum ban of two minutes; never more than
        three days (clamped and logged).  Calls already waiting fail at once.
        """
        now = self._tm.read()[1]
        until = ban_end(now, retry_after, banned_until)
        if self._ban(until, now):
            self._publish(Signal("ban", None, "", until))

    def on_signal(self, signal: Signal) -> None:
        """A pause or ban published by another limiter on the store (see :class:`Signal`)."""
        now = self._tm.read()[1]
        if signal.kind == "ban":
            self._ban(signal.until, now)
            return
        group = self._groups.get(signal.scope or None)
        if group is not None and signal.budget is not None:
            self._pause(group.by_budget.get(signal.budget, []), signal.until)

    def _pause(self, buckets: Iterable[Bucket], until: float) -> None:
        for bucket in buckets:
            if until > bucket.paused_until:
                bucket.paused_until = until
                self._blocked_until = max(self._blocked_until, until)
        if self._n_waiters:
            self._pump()

    def _ban(self, until: float, now: float) -> bool:
        if until <= self._banned_until:
            return False
        self._banned_until = until
        self._blocked_until = max(self._blocked_until, until)
        if now < until and self._n_waiters:
            self._fail_all(lambda: IPBanActiveError(banned_until=until, now=now))
        return True

    def _publish(self, signal: Signal) -> None:
        store = self._store
        if isinstance(store, InMemoryBudgetStore) and self._local:
            store.deliver(signal, sender=self)
        elif not self._local:
            self._spawn(store.publish(signal))

    # -- configuration and lifecycle --------------------------------------------------------------

    def set_limit(
        self,
        budget: Budget,
        limit: int,
        interval_s: float = MINUTE,
        *,
        reserve: int | None = None,
        account: str | None = None,
    ) -> None:
        """Set (or add) the limit of ``budget`` per ``interval_s`` window.

        For example from ``GET /papi/v1/rateLimit/order`` (``account``: the
        account scope it applies to; None: every account without its own).
        A new limit applies to calls that start after it was added; waiting
        calls that charge more than a lowered limit fail with
        :class:`WeightExceedsLimitError`.
        """
        item = BudgetLimit(budget, limit, interval_s, reserve)  # validates
        key = (budget, float(item.interval_s))
        if budget in ACCOUNT_BUDGETS:
            if account is None:
                self._templates[key] = item
            else:
                self._group(account)
                self._own[(account, key[0], key[1])] = item
        else:
            if account is not None:
                raise ConfigurationError(f"{budget.value} is the IP's budget, not an account's")
            bucket = next((b for b in self._ip if (b.budget, b.interval) == key), None)
            if bucket is None:
                self._ip.append(self._new_bucket(item, ""))
                self._ip.sort(key=lambda b: b.rank)
            else:
                bucket.set_limit(item.limit, item.reserve or 0)
        self._rebuild_groups()
        if self._n_waiters:
            self._fail_too_large()
            self._pump()

    def _fail_too_large(self) -> None:
        for waiter in self._live_waiters():
            for bucket, amount in waiter.plan.items:
                if amount > bucket.limit:
                    self._drop(waiter)
                    self._settle(waiter.plan.items[waiter.stage][0])
                    self._resolve(
                        waiter,
                        WeightExceedsLimitError(
                            budget=bucket.budget,
                            amount=amount,
                            limit=bucket.limit,
                            interval_s=bucket.interval,
                        ),
                    )
                    break

    def snapshot(self, *, account: str | None = None) -> RateLimitSnapshot:
        """The state of every budget limit, the waiting calls, any pause or ban.

        ``account``: the account whose order budget the snapshot's ``get()`` reads
        by default (every account's is in ``budgets``)."""
        local, now = self._tm.read()
        budgets = []
        for b in self._buckets:
            index = window_index(now, b.interval)
            window = b.series.windows.get(index)
            budgets.append(
                BudgetSnapshot(
                    budget=b.budget,
                    interval_s=b.interval,
                    limit=b.limit,
                    used=window.used if window is not None else 0,
                    window_start=index * b.interval,
                    window_reset=(index + 1) * b.interval,
                    waiters=b.n_waiting,
                    held=b.claimed,
                    reserve=b.reserve,
                    account=b.scope or None,
                    paused_until=b.paused_until if b.paused_until > now else None,
                )
            )
        budgets.sort(
            key=lambda s: (s.budget is not Budget.REQUEST_WEIGHT, s.account or "", s.interval_s)
        )
        return RateLimitSnapshot(
            time=now,
            budgets=tuple(budgets),
            waiters=self._n_waiters,
            paused_until=self.paused_until,
            banned_until=self._banned_until if self._banned_until > now else None,
            uncertainty=self._tm.uncertainty(local),
            account=account,
        )

    def wake(self) -> None:
        """Look at the waiting calls again now (a store's count went down, e.g. a lease came
        back from another process)."""
        for bucket in self._buckets:
            for w in bucket.windows():
                w.exhausted = 0
        if self._n_waiters:
            self._pump()

    def close(self) -> None:
        """Fail every waiting call with ClientClosedError and refuse new ones.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._n_waiters:
            self._fail_all(lambda: ClientClosedError("the rate limiter was closed"))
        self._tidy()
        remove = getattr(self._tm.uncertain, "remove_listener", None)
        if remove is not None:
            remove(self._on_clock_change)
        if self._detach is not None:
            self._detach()
        if not self._local:
            self._give_back_leases()

    def _give_back_leases(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop to talk to the store: the leases expire with their windows
        for bucket in self._buckets:
            for w in bucket.windows():
                spare = (w.granted or 0) - w.open - w.done
                if spare > 0:
                    w.granted = (w.granted or 0) - spare
                    self._spawn(self._store.give(w.key, spare))

    def __repr__(self) -> str:
        parts = ", ".join(f"{b.series.name}={b.limit}" for b in self._buckets)
        return f"<RateLimiter {parts} waiters={self._n_waiters}>"


def _iso(t: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t or 0.0))
