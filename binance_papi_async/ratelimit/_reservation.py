"""Reservations: the budget taken for one request, until it is sent, answered or given back."""

from __future__ import annotations

from collections.abc import Sequence
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Final

from ._model import WindowKey

if TYPE_CHECKING:
    from ._core import LimiterCore
    from ._queue import Plan
    from ._windows import Segment

PENDING: Final = 0
COMMITTED: Final = 1
RELEASED: Final = 2

# _answer: not answered yet, each budget charged to one window (or to two); answered.
ONE_WINDOW: Final = 0
SPANNING: Final = 1
ANSWERED: Final = 2


class Reservation:
    """Budget taken for one request by :meth:`RateLimiter.acquire`.

    Call :meth:`recheck` when the request's timestamp is taken (just before
    sending), :meth:`commit` when the request was (or may have been) sent, or
    :meth:`release` when it provably was not.  The first of commit and release
    wins; both are idempotent.  Pass the reservation to
    :meth:`RateLimiter.observe_headers` with the response.
    """

    __slots__ = (
        "_answer",
        "_epoch",
        "_jumps",
        "_limiter",
        "_local",
        "_marks",
        "_p",
        "_segs",
        "_state",
        "_time",
        "_until",
        "_urgent",
    )

    _limiter: LimiterCore
    _p: Plan
    _segs: Sequence[Segment]
    _marks: Sequence[int]  # per charged budget: done and open of its first window, when sent
    _jumps: int
    _local: float
    _time: float
    _state: int
    _answer: int
    _epoch: int
    _until: float
    _urgent: bool

    @property
    def admitted_at(self) -> float:
        """Server time (epoch seconds) at which the charges were taken."""
        return self._time

    @property
    def urgent(self) -> bool:
        """True if it was acquired as an urgent call."""
        return self._urgent

    @property
    def charges(self) -> tuple[tuple[WindowKey, int], ...]:
        """What was charged: ``(window, amount)`` per window and budget limit.

        A charge counted in two windows (a request that may arrive on either
        side of a boundary) appears once per window.
        """
        return tuple(
            (w.key, amount)
            for seg, (_, amount) in zip(self._segs, self._p.items, strict=True)
            for w in seg.wins
        )

    @property
    def committed(self) -> bool:
        """True once :meth:`commit` was called first."""
        return self._state == COMMITTED

    @property
    def released(self) -> bool:
        """True once :meth:`release` was called first."""
        return self._state == RELEASED

    def recheck(self) -> bool:
        """The request's timestamp is being taken now: are its charges still in the right windows?

        Admission happens before the request waits for a connection, so the
        moment it is sent may fall in a later window than the one it was
        charged in.  Call this just before taking the timestamp.  Returns True
        when the charges cover every window the request may arrive in if sent
        now: they are moved to the windows of now if needed (and if those have
        room; windows it can no longer arrive in are given back).  Returns
        False when a window it may now arrive in is full: the reservation is
        then released (nothing may be sent under it) and the caller acquires
        again.  Cheap when nothing changed.
        """
        if self._state == RELEASED:
            return False
        limiter = self._limiter
        if self._epoch == limiter._epoch:
            clock = limiter._server_clock
            if clock is not None:  # as try_acquire reads it: no call through the time model
                local = _monotonic()
                now = local + clock._offset
            else:
                local, now = limiter._tm.read()
            if now < self._until:
                self._local = local
                return True
        if not self._segs:
            return True
        return limiter._recheck(self)

    def commit(self) -> None:
        """The request was, or may have been, sent: keep the charges.  Idempotent."""
        if self._state == PENDING:
            self._state = COMMITTED

    def release(self) -> None:
        """The request was not sent: refund the charges.

        A no-op after :meth:`commit`; idempotent.  Wakes waiters that now fit.
        """
        if self._state == PENDING:
            self._state = RELEASED
            if self._segs:
                self._limiter._refund(self)

    def __repr__(self) -> str:
        state = ("pending", "committed", "released")[self._state]
        parts = ", ".join(f"{k.series}[{k.window}]={a}" for k, a in self.charges)
        return f"<Reservation {state} {parts}>"
