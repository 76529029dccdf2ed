"""Reconciliation with ``X-MBX-USED-WEIGHT-*`` and ``X-MBX-ORDER-COUNT-*`` response headers.

A header value ``S`` is what the server had counted in the window of the
request when it processed it: everything it processed before, the request
itself, and everybody else's.  For that window the header gives two numbers:

* an upper bound, what the window can hold at most now:
  ``S + (our charges still in flight) + (ours answered since the request was sent)``.
  Our charges answered before the request was sent were processed before it
  and are in ``S``; any other may not be, and is added on top, once;
* an estimate from below, exact when requests are processed in the order they
  were sent: ``S + (our charges taken after this request, less those given back)``.

The count becomes ``min(upper, max(count, estimate))``: the header raises it to
what it proves about other programs' traffic, and lowers it where the server
proves it was too high (a charge counted in two windows near a boundary, which
the server counted in one; our own estimate of a call's weight above Binance's).
A charge given back (never sent) is in none of these numbers, so a refund is
never counted twice.

It applies only where the server proves it: to the one window the request can
have been counted in, judged from when it was sent and when its answer came
(the clock's bound on both sides).  When that could be either of two windows
the header is left aside; when a sync re-keyed the windows since the request was
sent, it can only raise the count (``max(count, S)``).  A response also settles
the request's own charges: a request charged to two windows whose answer proves
it arrived in one is taken out of the other.  Without a reservation,
``max(count, S)`` for the current window (if a request sent now could only
arrive in one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from multidict import CIMultiDict, CIMultiDictProxy

from ..endpoints._spec import Budget
from ._core import LimiterCore
from ._model import HEADER_BUDGETS, PREFIX_LEN, header_interval, parse_count, window_index
from ._reservation import ANSWERED, COMMITTED, PENDING, RELEASED, Reservation
from ._windows import Bucket, Segment, Window

_CASE_INSENSITIVE = (CIMultiDict, CIMultiDictProxy)

# Per charged budget: the one window the request was counted in (None: either of two), and
# the marks taken when it was sent, done and open of that window (None: the windows were
# re-keyed since).
_Proof = tuple[Window | None, tuple[int, int] | None]


def observe_answer(core: LimiterCore, headers: Mapping[str, str], r: Reservation) -> None:
    """The common case of :meth:`RateLimiter.observe_headers`, written out: aiohttp's
    headers, the first answer to a reservation of this limiter, not given back, charged to
    one window per budget since the last re-key.  Per charged budget, its charge is settled
    and its header applied as :func:`apply` does, in one pass."""
    if r._state == PENDING:
        r._state = COMMITTED
    r._answer = ANSWERED
    plan = r._p
    answer = plan.answer
    marks = r._marks
    lowered = False
    i = 0
    for seg in r._segs:
        amount, header = answer[i]
        k = i + i
        i += 1
        w = seg.wins[0]
        in_flight = w.open = w.open - amount
        done = w.done = w.done + amount
        seg.inflight -= amount
        text = headers.get(header) if header is not None else None
        if text is None:
            continue
        try:
            used = int(text)
        except ValueError:
            continue
        if used < 0:
            continue
        # used := min(upper, max(used, estimate)), as apply() below, without the calls
        since = done - marks[k]  # answered since it was sent, itself included
        upper = used + in_flight + (since - amount if since > amount else 0)
        after = in_flight + since - marks[k + 1]
        value = used + after if after > 0 else used
        counted = w.used
        if value <= counted:  # no sign of more than we count
            if upper >= counted:
                continue
            value = upper  # proof of less
            lowered = True
        elif upper < value:
            value = upper
        if value < in_flight:
            value = in_flight
        w.used = value
        if w.jumped > value:
            w.jumped = value
        if not core._local:
            _push(core, w)
    if plan.uncharged:
        _uncharged_headers(core, headers, r)
    if lowered and core._n_waiters:
        core._pump()


def _uncharged_headers(core: LimiterCore, headers: Mapping[str, str], r: Reservation) -> None:
    """The headers of an answer to ``r`` that report budgets it did not charge."""
    for header, bucket in r._p.uncharged:
        text = headers.get(header)
        used = None if text is None else parse_count(text)
        if used is not None:
            _uncharged(core, bucket, r, used)


def _uncharged(core: LimiterCore, bucket: Bucket, r: Reservation, used: int) -> None:
    """A header for a budget ``r`` did not charge: raise the window it was counted in, if
    there is one (as :func:`apply` does)."""
    local, now = core._tm.read()
    if now >= bucket.until:
        bucket.advance(core._tm, local, now)
    current = bucket.seg
    sent_in_it = current is not None and not bucket.span and r._local >= current.opened
    if sent_in_it and now < bucket.until:  # sent in the current window, which still holds
        _raise(core, bucket.win, used)
        return
    lo, hi = bucket.windows_for(core._tm, r._local, local)
    if lo == hi:
        _raise(core, bucket.series.window(lo), used)


def observe_headers(
    core: LimiterCore, headers: Mapping[str, str], reservation: Reservation | None
) -> None:
    """See :meth:`RateLimiter.observe_headers`."""
    if reservation is not None and reservation._state == PENDING:
        reservation._state = COMMITTED
    r = _answered(core, reservation)
    local, now = core._tm.read()
    proofs = settle(core, r, local) if r is not None else None
    group = r._p.group if r is not None else core._default
    lowered = False
    if isinstance(headers, _CASE_INSENSITIVE):  # aiohttp's: this runs after every response
        for header, bucket in group.observed:
            value = headers.get(header)
            if value is None:
                continue
            try:
                used = int(value)
            except ValueError:
                continue
            if used >= 0:
                lowered |= apply(core, bucket, used, r, proofs, local, now)
    else:
        for name, value in headers.items():
            if name[:1] not in ("x", "X"):
                continue
            lname = name.lower()
            budget = HEADER_BUDGETS.get(lname[:PREFIX_LEN])
            if budget is None:
                continue
            interval = header_interval(lname[PREFIX_LEN:])
            count = parse_count(value) if interval is not None else None
            if count is None:
                continue
            for bucket in group.by_budget.get(budget, ()):
                if bucket.interval == interval:
                    lowered |= apply(core, bucket, count, r, proofs, local, now)
    if lowered and core._n_waiters:
        core._pump()


def observe_used(
    core: LimiterCore,
    budget: Budget,
    used: int,
    interval_s: float,
    reservation: Reservation | None,
    account: str | None,
) -> None:
    """See :meth:`RateLimiter.observe_used`."""
    if reservation is not None and reservation._state == PENDING:
        reservation._state = COMMITTED
    r = _answered(core, reservation)
    local, now = core._tm.read()
    proofs = settle(core, r, local) if r is not None else None
    group = r._p.group if r is not None else core._group(account)
    lowered = False
    for bucket in group.by_budget.get(budget, ()):
        if bucket.interval == interval_s:
            lowered |= apply(core, bucket, used, r, proofs, local, now)
    if lowered and core._n_waiters:
        core._pump()


def _answered(core: LimiterCore, reservation: Reservation | None) -> Reservation | None:
    """The reservation a header may be read against: one of ``core``'s, not given back
    (a response to another limiter's, or to a given-back one, is read as one without)."""
    if reservation is None or reservation._limiter is not core:
        return None
    return None if reservation._state == RELEASED else reservation


def settle(core: LimiterCore, r: Reservation, local: float) -> list[_Proof]:
    """The request of ``r`` was answered at local time ``local``: settle its charges (once)
    and say, per charged budget, which window it was counted in."""
    fresh = r._epoch == core._epoch
    items = r._p.items
    marks = r._marks
    if r._answer == ANSWERED:
        return [
            (seg.wins[0] if len(seg.wins) == 1 else None, _marks(marks, i) if fresh else None)
            for i, seg in enumerate(r._segs)
        ]
    r._answer = ANSWERED
    proofs: list[_Proof] = []
    segs = list(r._segs)
    arrival: tuple[float, float] | None = None  # server times it arrived between, if needed
    for i, (bucket, amount) in enumerate(items):
        seg = segs[i]
        first = seg.wins[0]
        mark = _marks(marks, i) if fresh else None
        if len(seg.wins) == 1:
            seg.complete(amount)
            proofs.append((first, mark))
            continue
        if arrival is None:
            arrival = _arrival(core, r._local, local)
        p = bucket.interval
        lo = max(window_index(arrival[0], p), seg.lo)
        hi = min(window_index(arrival[1], p), seg.hi)
        if lo > hi or (lo, hi) == (seg.lo, seg.hi):
            seg.complete(amount)
            proofs.append((None, None))
            continue
        segs[i] = _narrow(core, bucket, seg, lo, hi, amount, bool(r._jumps >> i & 1), r, local)
        proved = segs[i].wins[0] if lo == hi else None
        proofs.append((proved, mark if proved is first else None))
    r._segs = segs
    return proofs


def _arrival(core: LimiterCore, sent: float, answered: float) -> tuple[float, float]:
    """The server times between which a request sent at local ``sent`` and answered at
    local ``answered`` arrived (the clock's bound on both sides)."""
    tm = core._tm
    off = tm.offset()
    return sent + off - tm.uncertainty(sent), answered + off + tm.uncertainty(answered)


def _marks(marks: Sequence[int], i: int) -> tuple[int, int]:
    return marks[2 * i], marks[2 * i + 1]


def _narrow(
    core: LimiterCore,
    bucket: Bucket,
    seg: Segment,
    lo: int,
    hi: int,
    amount: int,
    jumped: bool,
    r: Reservation,
    local: float,
) -> Segment:
    """Move an answered charge of ``seg`` to the windows ``lo..hi`` it was proved to be in."""
    for w in seg.wins:
        if not lo <= w.index <= hi:
            w.used = max(0, w.used - amount)
            w.open = max(0, w.open - amount)
            if jumped:
                w.jumped = max(0, w.jumped - amount)
            w.jumped = min(w.jumped, w.used)
    seg.total = max(0, seg.total - amount)
    seg.inflight = max(0, seg.inflight - amount)
    wins = tuple(w for w in seg.wins if lo <= w.index <= hi)
    tm = core._tm
    proved = Segment(wins, lo, hi, r._local, tm.offset(), tm.uncertainty(r._local))
    proved.closed = local
    proved.total = amount
    proved.inflight = amount
    proved.complete(amount)
    bucket.segs.append(proved)
    return proved


def apply(
    core: LimiterCore,
    bucket: Bucket,
    used: int,
    r: Reservation | None,
    proofs: list[_Proof] | None,
    local: float,
    now: float,
) -> bool:
    """Apply a header's count to ``bucket``; True if a count went down."""
    if r is not None and proofs is not None:
        i = r._p.index.get(bucket)
        if i is not None:
            window, mark = proofs[i]
            if window is None:
                return False  # it may have been counted in either of two windows
            if mark is None:
                return _raise(core, window, used)
            amount = r._p.items[i][1]
            done_mark, open_mark = mark
            upper = used + window.open + max(0, window.done - done_mark - amount)
            estimate = used + max(0, window.open + window.done - done_mark - open_mark)
            return _set(core, window, min(upper, max(window.used, estimate)))
        lo, hi = bucket.windows_for(core._tm, r._local, local)
        return lo == hi and _raise(core, bucket.series.window(lo), used)
    if now >= bucket.until:
        bucket.advance(core._tm, local, now)
    return not bucket.span and _raise(core, bucket.win, used)


def _raise(core: LimiterCore, window: Window, used: int) -> bool:
    if used > window.used:
        window.used = used
        _push(core, window)
    return False


def _set(core: LimiterCore, window: Window, value: int) -> bool:
    value = max(value, window.open)
    lowered = value < window.used
    window.used = value
    window.jumped = min(window.jumped, value)
    _push(core, window)
    return lowered


def _push(core: LimiterCore, window: Window) -> None:
    """A remote store learns the count (it only ever raises its own); through its
    synchronous ``observe_nowait`` if it has one (no task per answer)."""
    if not core._local and window.used > window.pushed:
        window.pushed = window.used
        if core._observe_now is not None:
            core._observe_now(window.key, window.used)
        else:
            core._spawn(core._store.observe(window.key, window.used))
