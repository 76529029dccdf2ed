"""Windows, segments and buckets: where each charge is counted, and re-keyed after a sync.

A *window* (:class:`Window`) is one fixed window of one budget limit in server
time; it counts ``used`` units.  A *bucket* (:class:`Bucket`) is one budget limit
of the limiter: it knows, for a request whose timestamp is taken now, the
windows the request may arrive in (usually one; two near a boundary), and the
moment that set changes.  Charges made while the set stays the same form a
*segment* (:class:`Segment`): a stretch of local time and the windows its charges
were counted in.  When the clock's offset changes, every recent segment is
re-keyed: the windows of its stretch of local time are computed again with the
new offset and bound, and its charges move there (see :meth:`Bucket.rekey`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from multidict import istr

from ..clock import FakeClock, ServerClock, TimerHandle
from ..endpoints._spec import Budget
from ._model import EPS, WindowKey, header_name, series_name, window_index

if TYPE_CHECKING:
    from ..clock import Clock
    from ._queue import Entry

# Windows older than this (or two windows, if longer) are forgotten: a sync that moves the
# offset back by up to this much still finds the counts of the windows it moves into.
HISTORY_S: Final = 900.0


class TimeModel:
    """The limiter's view of time: the clock, its bound, and the transit allowance."""

    __slots__ = ("clock", "fast", "transit", "uncertain")

    def __init__(self, clock: Clock, transit: float) -> None:
        self.clock = clock
        self.transit = transit
        #: a ServerClock read inline on the fast paths (monotonic() + _offset)
        self.fast = clock if type(clock) is ServerClock else None
        uncertain = isinstance(clock, (ServerClock, FakeClock)) or all(
            callable(getattr(clock, name, None)) for name in ("local", "uncertainty")
        )
        #: a clock that knows its bound and local reading (None: taken as exact)
        self.uncertain = clock if uncertain else None

    def read(self) -> tuple[float, float]:
        """``(local, server time estimate)`` now."""
        clock = self.uncertain
        if clock is None:
            now = self.clock.time()
            return now, now
        local: float = clock.local()  # type: ignore[attr-defined]
        return local, local + self.offset()

    def offset(self) -> float:
        """Server time minus local time (0 for a clock without a local reading)."""
        if self.uncertain is None:
            return 0.0
        return float(self.uncertain.offset)  # type: ignore[attr-defined]

    def uncertainty(self, local: float) -> float:
        """The bound on the estimate's error at local time ``local``."""
        if self.uncertain is None:
            return 0.0
        return float(self.uncertain.uncertainty(local))  # type: ignore[attr-defined]

    def drift(self) -> float:
        """How fast the bound grows (seconds per second)."""
        return float(getattr(self.uncertain, "drift_rate", 0.0))


class Window:
    """One window of one budget limit (shared by the limiters of an in-memory store).

    ``used``: units counted (our charges and what headers proved of others');
    ``jumped``: units of it taken from the urgent reserve; ``open``: our charges
    not yet answered (in flight); ``done``: our answered charges (only grows);
    ``granted``: units leased from a remote store (None with an in-memory store).
    """

    __slots__ = (
        "done",
        "end",
        "exhausted",
        "granted",
        "index",
        "jumped",
        "key",
        "leasing",
        "open",
        "pushed",
        "start",
        "used",
    )

    def __init__(self, key: WindowKey, granted: int | None) -> None:
        self.key = key
        self.index = key.window
        self.start = key.start
        self.end = key.end
        self.used = 0
        self.jumped = 0
        self.open = 0
        self.done = 0
        self.granted = granted
        self.leasing = 0  # units asked of a remote store, not answered yet
        self.exhausted = 0  # the remote store granted nothing more up to this limit
        self.pushed = 0  # the highest count sent to a remote store by observe()

    def __repr__(self) -> str:
        return f"<Window {self.key.series}[{self.index}] used={self.used} open={self.open}>"


class Series:
    """The windows of one budget limit, by index."""

    __slots__ = ("budget", "interval", "leased", "name", "scope", "windows")

    def __init__(self, budget: Budget, interval: float, scope: str, leased: bool) -> None:
        self.budget = budget
        self.interval = interval
        self.scope = scope
        self.name = series_name(budget, interval, scope)
        self.windows: dict[int, Window] = {}
        self.leased = leased  # windows start with a lease of 0 (a remote store)

    def window(self, index: int) -> Window:
        """The window ``index`` (created empty when new)."""
        window = self.windows.get(index)
        if window is None:
            key = WindowKey(self.name, index, self.budget, self.interval, self.scope)
            window = self.windows[index] = Window(key, 0 if self.leased else None)
            if len(self.windows) > 4:
                keep = max(2, math.ceil(HISTORY_S / self.interval))
                for old in [i for i in self.windows if i < index - keep]:
                    del self.windows[old]
        return window


class Segment:
    """Charges counted in the same windows, from local time ``opened`` to ``closed``.

    ``offset`` and ``u`` are the clock's offset and bound when it opened (the
    offset stays the same while a segment is open).  ``total``: the charges in
    it (released ones subtracted); ``inflight``: those not answered yet.
    """

    __slots__ = (
        "closed",
        "hi",
        "inflight",
        "lo",
        "offset",
        "opened",
        "total",
        "u",
        "until",
        "wins",
    )

    def __init__(
        self, wins: tuple[Window, ...], lo: int, hi: int, opened: float, offset: float, u: float
    ) -> None:
        self.wins = wins
        self.lo = lo
        self.hi = hi
        self.opened = opened
        self.closed: float | None = None
        self.until = math.inf  # server time after which nothing is charged to it any more
        self.offset = offset
        self.u = u
        self.total = 0
        self.inflight = 0

    def charge(self, amount: int, jumped: bool) -> None:
        for w in self.wins:
            w.used += amount
            w.open += amount
            if jumped:
                w.jumped += amount
        self.total += amount
        self.inflight += amount

    def uncharge(self, amount: int, jumped: bool) -> None:
        """Take back a charge that was not sent."""
        for w in self.wins:
            w.used = max(0, w.used - amount)
            w.open = max(0, w.open - amount)
            if jumped:
                w.jumped = max(0, w.jumped - amount)
            if w.jumped > w.used:
                w.jumped = w.used
        self.total = max(0, self.total - amount)
        self.inflight = max(0, self.inflight - amount)

    def complete(self, amount: int) -> None:
        """A charge of this segment was answered."""
        for w in self.wins:
            w.open -= amount
            w.done += amount
        self.inflight -= amount


def _noop() -> None:
    return None


def _last(seg: Segment, local: float) -> float:
    """The local time of a segment's last charge, at the latest."""
    if seg.closed is not None:
        return seg.closed
    return min(local, seg.until - seg.offset)


class Bucket:
    """One budget limit of the limiter: its windows, segments, queues, holds and timer."""

    __slots__ = (
        "budget",
        "cap",
        "claimed",
        "claimed_jump",
        "header",
        "interval",
        "limit",
        "n_waiting",
        "on_timer",
        "paused_until",
        "q",
        "qu",
        "queued",
        "queued_by_amount",
        "rank",
        "reserve",
        "scan_room",
        "scope",
        "seg",
        "segs",
        "series",
        "span",
        "stale",
        "stuck",
        "timer",
        "timer_at",
        "until",
        "win",
    )

    def __init__(self, series: Series, limit: int, reserve: int) -> None:
        self.series = series
        self.budget = series.budget
        self.interval = series.interval
        self.scope = series.scope
        self.limit = limit
        self.reserve = reserve
        self.cap = limit - reserve  # what normal calls may use
        # Global pass order: order-count limits first, the IP weight last.
        self.rank = (
            self.budget is Budget.REQUEST_WEIGHT,
            self.budget.value,
            self.scope,
            self.interval,
        )
        # An istr: case-insensitive header look-ups then skip folding the name each time.
        header = header_name(self.budget, self.interval)
        self.header = istr(header) if header is not None else None
        self.seg: Segment | None = None
        # The first window of the current set (a placeholder until the first advance()).
        self.win = Window(WindowKey(series.name, -1, self.budget, self.interval, self.scope), None)
        self.span = False
        self.until = -math.inf  # server time at which the window set changes next
        self.segs: deque[Segment] = deque()
        # Waiting calls: ``q`` holds every one in arrival order, ``qu`` the urgent ones again
        # (for the reserve).  Entries are (ticket, waiter); an entry whose ticket is not the
        # waiter's current one is stale (the waiter moved on) and is skipped.
        self.q: deque[Entry] = deque()
        self.qu: deque[Entry] = deque()
        self.stale = 0
        self.n_waiting = 0
        self.queued = 0  # units wanted by the waiters here
        self.queued_by_amount: dict[int, int] = {}
        self.claimed = 0  # units held for waiters that passed this queue
        self.claimed_jump = 0  # ... of which from the reserve
        self.scan_room = -1  # the room the last backfill scan found nothing for
        self.stuck = False  # the head cannot be admitted before a later window
        self.paused_until = -math.inf
        self.timer: TimerHandle | None = None
        self.timer_at = 0.0
        self.on_timer: Callable[[], None] = _noop

    @property
    def key(self) -> WindowKey:
        """The key of the first window of the current set."""
        return self.win.key

    def set_limit(self, limit: int, reserve: int) -> None:
        self.limit = limit
        self.reserve = reserve
        self.cap = limit - reserve

    def window_set(self, tm: TimeModel, local: float, now: float) -> tuple[int, int, float]:
        """``(first, last, until)``: the windows a request stamped now may arrive in, and the
        server time at which that changes (drift included)."""
        u = tm.uncertainty(local)
        p = self.interval
        t = tm.transit
        lo = window_index(now - u, p)
        hi = max(lo, window_index(now + u + t, p))
        r = tm.drift()
        grow = ((hi + 1 - EPS) * p - u - t + r * now) / (1 + r)
        shrink = ((lo + 1 - EPS) * p + u - r * now) / (1 - r)
        until = min(grow, shrink)
        if until <= now:  # rounding at a boundary: look again a moment later
            until = now + EPS * p
        return lo, hi, until

    def advance(self, tm: TimeModel, local: float, now: float) -> None:
        """Bring the window set up to date; a new set opens a new segment."""
        lo, hi, until = self.window_set(tm, local, now)
        self.until = until
        seg = self.seg
        if seg is not None and seg.lo == lo and seg.hi == hi:
            seg.until = until
            return
        if seg is not None and seg.closed is None:
            seg.closed = local
        windows = self.series.window
        wins = tuple(windows(i) for i in range(lo, hi + 1))
        seg = Segment(wins, lo, hi, local, tm.offset(), tm.uncertainty(local))
        seg.until = until
        self.seg = seg
        self.win = wins[0]
        self.span = hi > lo
        self.stuck = False
        self.scan_room = -1
        self.segs.append(seg)
        self._prune(tm, local)

    def _prune(self, tm: TimeModel, local: float) -> None:
        """Forget segments whose charges can no longer arrive in a window that matters."""
        horizon = local - self.interval - 2 * (tm.uncertainty(local) + tm.transit) - 1.0
        segs = self.segs
        while segs and segs[0] is not self.seg and _last(segs[0], local) < horizon:
            segs.popleft()

    def windows_for(self, tm: TimeModel, first: float, last: float) -> tuple[int, int]:
        """Window indexes a request may arrive in if sent at local ``first`` and answered
        (or arriving at the latest) at local ``last``."""
        off = tm.offset()
        lo = window_index(first + off - tm.uncertainty(first), self.interval)
        hi = window_index(last + off + tm.uncertainty(last), self.interval)
        return lo, max(lo, hi)

    def rekey(self, tm: TimeModel, local: float, added: Callable[[Window, int], None]) -> None:
        """The clock's offset or bound changed: move every recent segment's charges.

        The old and the new estimate each bound the true arrival times of a
        segment's charges; while both are honest, the truth lies in both, so the
        segment keeps only the windows of their intersection.  If they do not
        overlap, the old estimate was wrong and the new one alone counts.  A
        window a segment leaves gives back its charges still in flight
        (answered ones stay counted: a header may already stand for them,
        unless the window has surely not begun at the server: then they are
        not there, and no header can stand for them); a window it enters
        counts all of them.  ``added(window, units)`` is told of every
        increase (a remote store counts them too).
        """
        p = self.interval
        t = tm.transit
        off = tm.offset()
        drift = tm.drift()
        # Windows starting after this server time have surely not begun at the server.
        unbegun = local + off + tm.uncertainty(local)
        self.seg = None
        self._prune(tm, local)
        for seg in self.segs:
            closed = seg.closed = _last(seg, local)
            old_lo = seg.opened + seg.offset - seg.u
            old_hi = closed + seg.offset + seg.u + drift * (closed - seg.opened) + t
            new_lo = seg.opened + off - tm.uncertainty(seg.opened)
            new_hi = closed + off + tm.uncertainty(closed) + t
            if max(old_lo, new_lo) <= min(old_hi, new_hi):
                new_lo, new_hi = max(old_lo, new_lo), min(old_hi, new_hi)
            lo = window_index(new_lo, p)
            hi = max(lo, window_index(new_hi, p))
            if (lo, hi) != (seg.lo, seg.hi):
                self._move(seg, lo, hi, added, unbegun)
        self.until = -math.inf
        self.stuck = False
        self.scan_room = -1

    def _move(
        self,
        seg: Segment,
        lo: int,
        hi: int,
        added: Callable[[Window, int], None],
        unbegun: float,
    ) -> None:
        old = {w.index: w for w in seg.wins}
        answered = seg.total - seg.inflight
        windows = self.series.window
        wins = tuple(windows(i) for i in range(lo, hi + 1))
        for w in wins:
            if w.index not in old and seg.total:
                w.used += seg.total
                w.open += seg.inflight
                added(w, seg.total)
        for index, w in old.items():
            if not lo <= index <= hi:
                gone = seg.inflight
                if w.start > unbegun and answered > 0:  # answered before it began: not there
                    gone += answered
                    w.done = max(0, w.done - answered)
                w.used = max(0, w.used - gone)
                w.open = max(0, w.open - seg.inflight)
                w.jumped = min(w.jumped, w.used)
        seg.wins = wins
        seg.lo = lo
        seg.hi = hi

    def windows(self) -> Iterable[Window]:
        """The windows of the current set."""
        return self.seg.wins if self.seg is not None else ()

    def __repr__(self) -> str:
        return f"<Bucket {self.series.name} limit={self.limit} waiting={self.n_waiting}>"
