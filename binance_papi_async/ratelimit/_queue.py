"""Waiting calls and the queues of a bucket (the order in which waiters are considered).

Every bucket keeps its waiters in arrival order (``q``) and its urgent waiters
once more (``qu``), so that the urgent ones can be taken from the reserve ahead
of the rest.  A waiter is in the queues of one bucket at a time: that of the
budget it waits for (its *stage*).  Leaving a bucket does not search the deques:
the waiter's ticket changes and its entries become stale; stale entries are
dropped when they reach a head, and all of them once they outnumber the living.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Union

from ..endpoints._spec import Charge
from ..errors import BinancePapiError

if TYPE_CHECKING:
    from ._core import Group
    from ._reservation import Reservation
    from ._windows import Bucket

WAITING: Final = 0
ADMITTED: Final = 1
DEAD: Final = 2

_COMPACT_MIN: Final = 32


class Plan:
    """What a call charges, resolved to buckets (in pass order); cached per charges tuple."""

    __slots__ = ("answer", "charges", "group", "index", "items", "uncharged")

    def __init__(
        self, charges: Sequence[Charge], items: tuple[tuple[Bucket, int], ...], group: Group
    ) -> None:
        self.charges = charges
        self.items = items
        self.group = group
        #: bucket -> its position in ``items``
        self.index = {bucket: i for i, (bucket, _) in enumerate(items)}
        #: per item: its amount and the header that reports its bucket (None: none does)
        self.answer = tuple((amount, bucket.header) for bucket, amount in items)
        #: (response header, bucket) of the group's reported buckets it does not charge
        self.uncharged = tuple((h, b) for h, b in group.observed if b not in self.index)


Outcome = Union["Reservation", BinancePapiError]


class Waiter:
    """One call waiting in :meth:`RateLimiter.acquire`."""

    __slots__ = (
        "deadline",
        "future",
        "jumps",
        "max_wait",
        "plan",
        "seq",
        "stage",
        "state",
        "ticket",
        "urgent",
    )

    def __init__(self, plan: Plan, future: asyncio.Future[Outcome], urgent: bool, seq: int) -> None:
        self.plan = plan
        self.future = future
        self.urgent = urgent
        self.seq = seq
        self.stage = 0
        self.state = WAITING
        self.ticket = 0
        self.jumps = 0  # bit i: stage i was passed on the urgent reserve
        self.deadline: float | None = None  # local time
        self.max_wait = math.inf

    @property
    def amount(self) -> int:
        """What it charges the bucket it waits at."""
        return self.plan.items[self.stage][1]


Entry = tuple[int, Waiter]


def enter(bucket: Bucket, waiter: Waiter, *, front: bool = False) -> None:
    """Queue ``waiter`` at ``bucket`` (at the back, or at the front when sent back)."""
    waiter.ticket += 1
    entry = (waiter.ticket, waiter)
    if front:
        bucket.q.appendleft(entry)
        if waiter.urgent:
            bucket.qu.appendleft(entry)
    else:
        bucket.q.append(entry)
        if waiter.urgent:
            bucket.qu.append(entry)
    amount = waiter.amount
    bucket.n_waiting += 1
    bucket.queued += amount
    by_amount = bucket.queued_by_amount
    by_amount[amount] = by_amount.get(amount, 0) + amount


def leave(bucket: Bucket, waiter: Waiter) -> None:
    """``waiter`` leaves ``bucket`` (it passed, gave up or was failed)."""
    amount = waiter.amount
    waiter.ticket += 1
    bucket.stale += 2 if waiter.urgent else 1
    bucket.n_waiting -= 1
    bucket.queued -= amount
    by_amount = bucket.queued_by_amount
    left = by_amount.get(amount, 0) - amount
    if left > 0:
        by_amount[amount] = left
    else:
        by_amount.pop(amount, None)


def head(bucket: Bucket, queue: deque[Entry]) -> Waiter | None:
    """The first live waiter of ``queue`` (stale entries before it are dropped)."""
    while queue:
        ticket, waiter = queue[0]
        if ticket == waiter.ticket and waiter.state == WAITING:
            return waiter
        queue.popleft()
        bucket.stale -= 1
    return None


def live(bucket: Bucket) -> list[Waiter]:
    """The live waiters at ``bucket``, in arrival order."""
    return [w for t, w in bucket.q if t == w.ticket and w.state == WAITING]


def compact(bucket: Bucket) -> None:
    """Forget stale entries once they outnumber the live ones (all of them when none lives)."""
    if not bucket.n_waiting:
        bucket.q.clear()
        bucket.qu.clear()
        bucket.stale = 0
    elif bucket.stale > _COMPACT_MIN and bucket.stale > bucket.n_waiting:
        keep = [(t, w) for t, w in bucket.q if t == w.ticket and w.state == WAITING]
        bucket.q = deque(keep)
        bucket.qu = deque(e for e in keep if e[1].urgent)
        bucket.stale = 0


def queued_up_to(bucket: Bucket, amount: int) -> int:
    """Units wanted by the waiters at ``bucket`` that charge at most ``amount`` each.

    A later call can overtake a waiter only by backfill, into room the waiter
    does not fit in, so only when it charges less: these waiters are ahead of
    a call of ``amount`` for sure.
    """
    return sum(total for each, total in bucket.queued_by_amount.items() if each <= amount)
