"""The limiter's state and the rules for one admission: budgets per scope, fits, charges.

The queue machinery (waiting, waking, timers) is in ``_admission``, the public
API in ``_limiter``; this module holds what every path shares.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, Final

from ..clock import Clock, ServerClock
from ..endpoints._spec import Budget, Charge
from ..errors import ConfigurationError, ValidationError, WeightExceedsLimitError
from ._model import ACCOUNT_BUDGETS, BudgetLimit, WindowKey, series_name
from ._queue import Plan
from ._reservation import ANSWERED, ONE_WINDOW, PENDING, RELEASED, SPANNING, Reservation
from ._stores import BudgetStore, InMemoryBudgetStore, OwnedStore
from ._windows import Bucket, Series, TimeModel, Window

log = logging.getLogger("binance_papi_async.ratelimit")

_PLAN_CACHE_SIZE: Final = 256
#: The default lease a limiter takes from a remote store: 1/32 of the limit.
DEFAULT_LEASE_FRACTION: Final = 1 / 32

_new = object.__new__


class Group:
    """The budgets of one account scope: the IP's budgets (shared) and its own order count."""

    __slots__ = ("account", "buckets", "by_budget", "observed", "plans", "scope")

    def __init__(self, account: str | None) -> None:
        self.account = account
        self.scope = account or ""
        self.buckets: list[Bucket] = []
        self.by_budget: dict[Budget, list[Bucket]] = {}
        self.plans: dict[int, Plan] = {}
        #: (response header, bucket) for every bucket Binance reports a count for
        self.observed: tuple[tuple[Any, Bucket], ...] = ()

    def rebuild(self, ip_buckets: Iterable[Bucket], own: Iterable[Bucket]) -> None:
        self.buckets = sorted([*ip_buckets, *own], key=lambda b: b.rank)
        self.by_budget = {}
        for bucket in self.buckets:
            self.by_budget.setdefault(bucket.budget, []).append(bucket)
        self.observed = tuple((b.header, b) for b in self.buckets if b.header is not None)
        self.plans.clear()


class LimiterCore:
    """State and single-admission rules of :class:`RateLimiter`."""

    __slots__ = (
        "__weakref__",
        "_banned_until",
        "_blocked_until",
        "_buckets",
        "_closed",
        "_deadline_at",
        "_deadline_live",
        "_deadline_timer",
        "_deadlines",
        "_default",
        "_detach",
        "_epoch",
        "_groups",
        "_ip",
        "_lease_fraction",
        "_local",
        "_max_wait",
        "_n_waiters",
        "_observe_now",
        "_own",
        "_owned",
        "_seq",
        "_server_clock",
        "_store",
        "_tasks",
        "_templates",
        "_tm",
    )

    def __init__(
        self,
        limits: Iterable[BudgetLimit],
        *,
        clock: Clock | None,
        store: BudgetStore | None,
        max_wait: float | None,
        transit: float,
        lease_fraction: float,
    ) -> None:
        if max_wait is not None and not _is_seconds(max_wait):
            raise ConfigurationError(f"max_wait must be >= 0 seconds or None, not {max_wait!r}")
        if not (_is_seconds(transit) and math.isfinite(transit)):
            raise ConfigurationError(f"transit must be >= 0 seconds, not {transit!r}")
        if not (_is_seconds(lease_fraction) and 0 < lease_fraction <= 1):
            raise ConfigurationError(f"lease_fraction must be in (0, 1], not {lease_fraction!r}")
        if isinstance(store, OwnedStore):
            raise ConfigurationError(
                "that store is another RateLimiter's own; to share budgets, create an "
                "InMemoryBudgetStore() and give it to every limiter"
            )
        the_clock: Clock = clock if clock is not None else ServerClock()
        self._tm = TimeModel(the_clock, float(transit))
        self._server_clock = self._tm.fast
        self._owned = store is None
        self._store: BudgetStore = store if store is not None else OwnedStore()
        # An in-memory store is charged directly; any other through leases.
        self._local = type(self._store) in (InMemoryBudgetStore, OwnedStore)
        self._max_wait = max_wait
        self._lease_fraction = float(lease_fraction)
        self._buckets: list[Bucket] = []
        self._ip: list[Bucket] = []  # the IP's budgets, shared by every account scope
        self._templates: dict[tuple[Budget, float], BudgetLimit] = {}
        self._own: dict[tuple[str | None, Budget, float], BudgetLimit] = {}  # set per account
        self._groups: dict[str | None, Group] = {}
        self._n_waiters = 0
        self._deadlines: list[tuple[float, int, Any]] = []
        self._deadline_live = 0
        self._deadline_timer: Any = None
        self._deadline_at = 0.0
        self._banned_until = -math.inf
        self._blocked_until = -math.inf  # the latest end of any pause or ban (fast-path filter)
        self._closed = False
        self._seq = itertools.count()
        self._epoch = 0  # bumped when the clock's offset changes (windows re-keyed)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._default = self._groups[None] = Group(None)
        for item in limits:
            if not isinstance(item, BudgetLimit):
                raise ConfigurationError(f"limits must be BudgetLimit objects, not {item!r}")
            key = (item.budget, float(item.interval_s))
            if key in self._templates or any(
                b.budget is key[0] and b.interval == key[1] for b in self._ip
            ):
                raise ConfigurationError(f"two limits for {item.budget.value}/{item.interval_s}s")
            if item.budget in ACCOUNT_BUDGETS:
                self._templates[key] = item
            else:
                self._ip.append(self._new_bucket(item, ""))
        self._ip.sort(key=lambda b: b.rank)
        self._rebuild_groups()
        listen = getattr(self._tm.uncertain, "add_listener", None)
        if listen is not None:
            listen(self._on_clock_change)
        #: a store's synchronous observe (it coalesces the counts of a burst of answers)
        self._observe_now: Callable[[WindowKey, int], None] | None = getattr(
            self._store, "observe_nowait", None
        )
        attach = getattr(self._store, "attach", None)
        self._detach: Callable[[], None] | None = attach(self) if attach is not None else None

    # -- budgets per scope ----------------------------------------------------------------------

    def _new_bucket(self, item: BudgetLimit, scope: str) -> Bucket:
        interval = float(item.interval_s)
        name = series_name(item.budget, interval, scope)
        store = self._store
        if self._local and isinstance(store, InMemoryBudgetStore):
            series = store.series(name, item.budget, interval, scope)
        else:
            series = Series(item.budget, interval, scope, leased=True)
        bucket = Bucket(series, item.limit, item.reserve or 0)

        def on_timer() -> None:
            bucket.timer = None
            self._pump()

        bucket.on_timer = on_timer
        return bucket

    def _group(self, account: str | None) -> Group:
        group = self._groups.get(account)
        if group is None:
            if not isinstance(account, str) or not account:
                raise ValidationError(
                    f"account must be a non-empty str or None, not {account!r}", param="account"
                )
            group = self._groups[account] = Group(account)
            self._rebuild_group(group)
        return group

    def _rebuild_groups(self) -> None:
        for group in self._groups.values():
            self._rebuild_group(group)

    def _rebuild_group(self, group: Group) -> None:
        own = []
        existing = {(b.budget, b.interval): b for b in group.buckets if b.budget in ACCOUNT_BUDGETS}
        keys = set(self._templates) | {(b, i) for a, b, i in self._own if a == group.account}
        for key in sorted(keys, key=lambda k: (k[0].value, k[1])):
            item = self._own.get((group.account, key[0], key[1])) or self._templates.get(key)
            if item is None:
                continue
            bucket = existing.get(key)
            if bucket is None:
                bucket = self._new_bucket(item, group.scope)
            else:
                bucket.set_limit(item.limit, item.reserve or 0)
            own.append(bucket)
        group.rebuild(self._ip, own)
        self._buckets = sorted(
            {b for g in self._groups.values() for b in g.buckets}, key=lambda b: b.rank
        )

    def _plan(self, charges: Sequence[Charge], group: Group) -> Plan:
        """Resolve charges to (bucket, amount) in pass order, validating; cached for tuples."""
        cacheable = type(charges) is tuple
        if cacheable:
            hit = group.plans.get(id(charges))
            if hit is not None and hit.charges is charges:
                return hit
        totals: dict[Budget, int] = {}
        for charge in charges:
            amount = charge.amount
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                raise ValidationError(
                    f"a charge must be a non-negative int, not {amount!r}", param="charges"
                )
            if amount and charge.budget in group.by_budget:
                totals[charge.budget] = totals.get(charge.budget, 0) + amount
        items: list[tuple[Bucket, int]] = []
        for budget, amount in totals.items():
            for bucket in group.by_budget[budget]:
                if amount > bucket.limit:
                    raise WeightExceedsLimitError(
                        budget=budget, amount=amount, limit=bucket.limit, interval_s=bucket.interval
                    )
                items.append((bucket, amount))
        items.sort(key=lambda item: item[0].rank)
        plan = Plan(charges, tuple(items), group)
        if cacheable:
            if len(group.plans) >= _PLAN_CACHE_SIZE:
                group.plans.clear()
            group.plans[id(charges)] = plan
        return plan

    # -- fitting and charging -------------------------------------------------------------------

    @staticmethod
    def _fits_normal(bucket: Bucket, amount: int, held: int = 0, held_jump: int = 0) -> bool:
        """``amount`` fits the normal share of every window of the current set.

        ``held``/``held_jump``: the caller's own hold there (not counted against it).
        A call larger than the normal share may take an otherwise empty window.
        """
        assert bucket.seg is not None
        others = bucket.claimed - held
        others_normal = others - (bucket.claimed_jump - held_jump)
        for w in bucket.seg.wins:
            if w.used - w.jumped + others_normal + amount > bucket.cap and not (
                amount > bucket.cap and w.used == 0 and others == 0 and amount <= bucket.limit
            ):
                return False
        return True

    @staticmethod
    def _fits_reserve(bucket: Bucket, amount: int, held: int = 0, held_jump: int = 0) -> bool:
        """``amount`` fits what is left of the urgent reserve in every window of the set."""
        assert bucket.seg is not None
        others = bucket.claimed - held
        others_jump = bucket.claimed_jump - held_jump
        for w in bucket.seg.wins:
            if w.jumped + others_jump + amount > bucket.reserve:
                return False
            if w.used + others + amount > bucket.limit:
                return False
        return True

    def _leased(
        self, bucket: Bucket, amount: int, held: int = 0, *, ask: bool = True, urgent: bool = False
    ) -> bool:
        """With a remote store: the leases of the current windows cover ``amount`` (else,
        if ``ask``, a larger lease is asked for, from the reserve too if ``urgent``; and
        False)."""
        if self._local:
            return True
        assert bucket.seg is not None
        ok = True
        others = bucket.claimed - held
        for w in bucket.seg.wins:
            assert w.granted is not None
            short = amount + others - (w.granted - w.open - w.done)
            if short > 0:
                ok = False
                if ask and not w.leasing:
                    self._ask_lease(bucket, w, short, urgent)
        return ok

    def _take(
        self,
        plan: Plan,
        local: float,
        now: float,
        jumps: int,
        urgent: bool,
    ) -> Reservation:
        """Charge a whole plan to the current segments of its buckets (already advanced)."""
        segs = []
        marks = []
        until = math.inf
        answer = ONE_WINDOW
        for i, (bucket, amount) in enumerate(plan.items):
            seg = bucket.seg
            assert seg is not None
            seg.charge(amount, bool(jumps >> i & 1))
            segs.append(seg)
            first = seg.wins[0]
            marks.append(first.done)
            marks.append(first.open)
            if len(seg.wins) > 1:
                answer = SPANNING
            until = min(until, bucket.until)
        reservation: Reservation = _new(Reservation)
        reservation._limiter = self
        reservation._p = plan
        reservation._segs = segs
        reservation._marks = marks
        reservation._jumps = jumps
        reservation._local = local
        reservation._time = now
        reservation._state = PENDING
        reservation._answer = answer
        reservation._epoch = self._epoch
        reservation._until = until
        reservation._urgent = urgent
        return reservation

    def _refund(self, reservation: Reservation) -> None:
        for i, ((_, amount), seg) in enumerate(
            zip(reservation._p.items, reservation._segs, strict=True)
        ):
            seg.uncharge(amount, bool(reservation._jumps >> i & 1))
        if self._n_waiters:
            self._pump()

    def _recheck(self, reservation: Reservation) -> bool:
        """:meth:`Reservation.recheck` when the windows may have changed since admission."""
        local, now = self._tm.read()
        if reservation._state == RELEASED:
            return False
        items = reservation._p.items
        segs = list(reservation._segs)
        moves = []
        for i, (bucket, amount) in enumerate(items):
            if now >= bucket.until:
                bucket.advance(self._tm, local, now)
            seg = bucket.seg
            old = segs[i]
            if seg is None or seg is old:
                continue
            jumped = bool(reservation._jumps >> i & 1)
            old.uncharge(amount, jumped)  # as if it were not there, to see where it fits now
            jump: bool | None = None
            if self._fits_normal(bucket, amount) and self._leased(bucket, amount):
                jump = False
            elif (
                (reservation._urgent or jumped)
                and self._fits_reserve(bucket, amount)
                and self._leased(bucket, amount, urgent=True)
            ):
                jump = True
            old.charge(amount, jumped)
            if jump is None:  # no room where it would arrive now: it must not be sent
                reservation.release()
                return False
            moves.append((i, seg, jump))
        jumps = reservation._jumps
        for i, seg, jump in moves:
            amount = items[i][1]
            segs[i].uncharge(amount, bool(jumps >> i & 1))
            seg.charge(amount, jump)
            jumps = jumps | (1 << i) if jump else jumps & ~(1 << i)
            segs[i] = seg
        marks: list[int] = []
        for charged in segs:
            first = charged.wins[0]
            marks += (first.done, first.open)
        reservation._segs = segs
        if reservation._answer != ANSWERED:
            spanning = any(len(charged.wins) > 1 for charged in segs)
            reservation._answer = SPANNING if spanning else ONE_WINDOW
        reservation._marks = marks
        reservation._jumps = jumps
        reservation._epoch = self._epoch
        reservation._until = min((b.until for b, _ in items), default=math.inf)
        reservation._local = local
        if moves and self._n_waiters:
            self._pump()
        return True

    # -- the clock and the store ----------------------------------------------------------------

    def _on_clock_change(self) -> None:
        """The clock's offset or bound changed: re-key every bucket's recent charges."""
        self._epoch += 1
        local, _ = self._tm.read()
        for bucket in self._buckets:
            bucket.rekey(self._tm, local, self._added)
            if bucket.timer is not None:
                bucket.timer.cancel()
                bucket.timer = None
        if self._n_waiters:
            self._pump()

    def _added(self, window: Window, units: int) -> None:
        """``units`` were counted in ``window`` by a re-key: a remote store counts them too."""
        if not self._local and window.granted is not None:
            window.granted += units
            self._spawn(self._store.add(window.key, units))

    def _ask_lease(self, bucket: Bucket, window: Window, short: int, urgent: bool) -> None:
        """Ask the remote store for a lease of at least ``short`` units of ``window``.

        A normal lease is ``lease_fraction`` of the limit (or ``short`` if more) and
        stops at the limit less the urgent reserve, so that the reserve stays for the
        urgent calls of every process; an urgent call asks for what it needs only, up
        to the limit.
        """
        if urgent:
            want, limit = short, bucket.limit
        else:
            want = max(short, int(bucket.limit * self._lease_fraction), 1)
            limit = bucket.cap if short <= bucket.cap else bucket.limit
        if limit <= window.exhausted:
            return  # the store granted nothing up to that limit: wait for a wake or a window
        window.leasing += want
        self._spawn(self._lease(window, want, short, limit))

    async def _lease(self, window: Window, want: int, least: int, limit: int) -> None:
        try:
            granted = await self._store.take(window.key, want, least, limit)
        except Exception:  # a failing store grants nothing: calls wait for the next window
            log.warning("rate budget store failed to grant a lease", exc_info=True)
            granted = 0
        window.leasing -= want
        assert window.granted is not None
        if granted > 0:
            window.granted += granted
        else:
            window.exhausted = max(window.exhausted, limit)
        if self._n_waiters:
            self._pump()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("rate budget store call failed: %r", task.exception())

    def _pump(self) -> None:  # the queue machinery (``_admission``)
        raise NotImplementedError


def _is_seconds(value: object) -> bool:
    """A number of seconds >= 0 (inf allowed, NaN and bool not)."""
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0  # NaN: False
    )
