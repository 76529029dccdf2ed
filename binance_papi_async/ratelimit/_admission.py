"""Waiting for budget: who is admitted when budget frees up, and the timers that wake them.

Order of admission at a bucket, every time it is looked at (a window opens, a
release, a header, a lease, a waiter leaving):

1. urgent waiters, in their arrival order, from the window's reserve;
2. every waiter in arrival order from the normal share (an urgent waiter too,
   in its turn), until the head does not fit;
3. when the head does not fit in the current window at all (and the request
   could not arrive in the next one), *backfill*: later waiters that fit in
   the room the head leaves unused, in their order.  The head is not delayed
   by them: they take only budget of a window it cannot be admitted in.

When 2 or 3 admits the first urgent waiter, 1 runs again for the next one.

A call charging several budgets passes their queues one after the other in a
fixed order (order-count limits first, the IP weight last), *holding* its
amount at each queue it passed until it passes the last; then all its charges
are taken at once.  Waits cannot form a cycle (a waiter holds only budgets
before the one it waits for), so there is no deadlock.  If a held budget filled
up meanwhile (a header, a 429, a new window), the call goes back to the head of
that budget's queue, keeping its place.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import Callable
from typing import Final

from ..errors import BinancePapiError, RateLimitWaitTimeout
from ._core import LimiterCore
from ._queue import (
    ADMITTED,
    DEAD,
    WAITING,
    Plan,
    Waiter,
    compact,
    enter,
    head,
    leave,
    live,
    queued_up_to,
)
from ._reservation import Reservation
from ._windows import Bucket

_COMPACT_MIN: Final = 32
# A timer may fire a hair before its moment (epoch seconds as floats resolve about 0.2 us):
# the queues are looked at as of this much later, and a deadline this close is due.
_AHEAD: Final = 1e-6
_DEADLINE_SLACK: Final = 1e-6

# What _pass did with a waiter.
_PASSED: Final = 0  # on to the next budget's queue
_DONE: Final = 1  # admitted
_SENT_BACK: Final = 2  # back to an earlier budget's queue


class Admission(LimiterCore):
    """The queue machinery of :class:`RateLimiter`."""

    __slots__ = ()

    def _admit_now(
        self, plan: Plan, local: float, now: float, urgent: bool, *, backfill: bool = True
    ) -> Reservation | None:
        """Admit at once if every budget allows it without waiting (reserve, backfill)."""
        jumps = 0
        for i, (bucket, amount) in enumerate(plan.items):
            if now >= bucket.until:
                bucket.advance(self._tm, local, now)
            if now < bucket.paused_until:
                return None
            if bucket.n_waiting:
                if (
                    urgent
                    and head(bucket, bucket.qu) is None
                    and self._fits_reserve(bucket, amount)
                ):
                    jumps |= 1 << i
                elif not (
                    backfill
                    and bucket.stuck
                    and not bucket.span
                    and self._fits_normal(bucket, amount)
                ):
                    return None
            elif not self._fits_normal(bucket, amount):
                if urgent and self._fits_reserve(bucket, amount):
                    jumps |= 1 << i
                else:
                    return None
            if not self._local and not self._leased(
                bucket, amount, ask=backfill, urgent=bool(jumps >> i & 1)
            ):
                return None
        return self._take(plan, local, now, jumps, urgent)

    def _earliest(
        self, plan: Plan, local: float, now: float, urgent: bool
    ) -> tuple[float, float | None]:
        """A lower bound on when ``plan`` can be admitted, and the pause that holds it (if any).

        It assumes nobody gives budget back.  Waiters ahead that charge at most
        as much are counted (a call overtakes a waiter only by backfill, into
        room too small for that waiter); larger ones are not.
        """
        earliest = now
        paused: float | None = None
        u = self._tm.uncertainty(local)
        for bucket, amount in plan.items:
            if now >= bucket.until:
                bucket.advance(self._tm, local, now)
            if bucket.paused_until > now:
                earliest = max(earliest, bucket.paused_until)
                paused = max(paused or -math.inf, bucket.paused_until)
            w = bucket.win
            if urgent:
                if not (self._fits_reserve(bucket, amount) or self._fits_normal(bucket, amount)):
                    earliest = max(earliest, w.end + u)
                continue
            cap = bucket.cap if amount <= bucket.cap else bucket.limit
            held = bucket.claimed - bucket.claimed_jump
            demand = min(max(0, w.used - w.jumped), cap) + held + amount
            demand += queued_up_to(bucket, amount)
            if demand > cap:
                windows_after = (demand - 1) // cap
                earliest = max(earliest, (w.index + windows_after) * bucket.interval + u)
        return earliest, paused

    async def _wait(
        self, plan: Plan, local: float, now: float, max_wait: float | None, urgent: bool
    ) -> Reservation:
        waiter = Waiter(plan, asyncio.get_running_loop().create_future(), urgent, next(self._seq))
        enter(plan.items[0][0], waiter)
        self._n_waiters += 1
        if max_wait is not None and max_wait != math.inf:
            waiter.deadline = deadline = local + max_wait
            waiter.max_wait = max_wait
            heapq.heappush(self._deadlines, (deadline, waiter.seq, waiter))
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

    def _abandon(self, waiter: Waiter) -> None:
        """The waiting task was cancelled: leave the queues, or give back what it was granted."""
        if waiter.state == WAITING:
            bucket = waiter.plan.items[waiter.stage][0]
            self._drop(waiter)
            self._settle(bucket)
            self._pump()
        elif waiter.state == ADMITTED:
            future = waiter.future
            if future.done() and not future.cancelled():
                outcome = future.result()
                if isinstance(outcome, Reservation):
                    outcome.release()

    # -- waking -----------------------------------------------------------------------------------

    def _pump(self) -> None:
        """Admit every waiter that can go now; arm timers for the rest."""
        if not self._n_waiters:
            self._tidy()
            return
        local, now = self._tm.read()
        now += _AHEAD
        again = True
        while again:
            again = False
            for bucket in self._buckets:
                if bucket.n_waiting and self._pump_bucket(bucket, local, now):
                    again = True
                elif not bucket.n_waiting and bucket.q:
                    self._settle(bucket)
        if not self._n_waiters:
            self._tidy()

    def _head(self, bucket: Bucket, urgent: bool) -> Waiter | None:
        """The live head of a queue of ``bucket`` (the urgent one or the whole), dropping
        waiters cancelled meanwhile."""
        while True:
            waiter = head(bucket, bucket.qu if urgent else bucket.q)
            if waiter is None or not waiter.future.done():
                return waiter
            self._drop(waiter)  # cancelled; its task has not run its cleanup yet

    def _pump_bucket(self, bucket: Bucket, local: float, now: float) -> bool:
        """Admit what can go at ``bucket``; True if a waiter went back to an earlier queue."""
        if now >= bucket.until:
            bucket.advance(self._tm, local, now)
        if now < bucket.paused_until:
            self._arm(bucket, bucket.paused_until)
            return False
        sent_back = False
        moved = True
        while moved:  # again if the urgent calls have a new head
            while True:  # urgent calls first, from the reserve
                waiter = self._head(bucket, True)
                if waiter is None or not self._fits_reserve(bucket, waiter.amount):
                    break
                if not self._leased(bucket, waiter.amount, urgent=True):
                    break
                sent_back |= self._pass(bucket, waiter, True, local, now) == _SENT_BACK
            blocked = moved = False
            while True:  # then everyone in arrival order
                waiter = self._head(bucket, False)
                if waiter is None:
                    break
                if not self._fits_normal(bucket, waiter.amount):
                    blocked = True
                    break
                if not self._leased(bucket, waiter.amount):
                    break
                moved = moved or waiter.urgent
                sent_back |= self._pass(bucket, waiter, False, local, now) == _SENT_BACK
            bucket.stuck = blocked and not bucket.span
            if bucket.stuck:
                first = self._head(bucket, True)
                sent_back |= self._backfill(bucket, local, now)
                # backfill may have taken the urgent head: the next one may fit the reserve
                moved = moved or (first is not None and self._head(bucket, True) is not first)
        if bucket.n_waiting:
            self._arm(bucket, bucket.until)
        else:
            self._settle(bucket)
        return sent_back

    def _backfill(self, bucket: Bucket, local: float, now: float) -> bool:
        """Admit later waiters into the room the blocked head leaves unused in this window."""
        room = self._normal_room(bucket)
        if room <= 0 or room <= bucket.scan_room:
            bucket.scan_room = room  # the waiters did not fit more; they do not fit less
            return False
        sent_back = False
        for waiter in live(bucket)[1:]:
            amount = waiter.amount
            if waiter.state != WAITING or amount > room or waiter.future.done():
                continue
            if not self._fits_normal(bucket, amount):
                continue
            if not self._leased(bucket, amount):
                break
            sent_back |= self._pass(bucket, waiter, False, local, now) == _SENT_BACK
            room = self._normal_room(bucket)
            if room <= 0:
                break
        bucket.scan_room = room
        return sent_back

    @staticmethod
    def _normal_room(bucket: Bucket) -> int:
        w = bucket.win
        held = bucket.claimed - bucket.claimed_jump
        return bucket.cap - (w.used - w.jumped) - held

    def _pass(self, bucket: Bucket, waiter: Waiter, jumped: bool, local: float, now: float) -> int:
        """``waiter`` passes ``bucket``: hold and move on, or, at its last, be admitted."""
        items = waiter.plan.items
        stage = waiter.stage
        amount = items[stage][1]
        leave(bucket, waiter)
        if jumped:
            waiter.jumps |= 1 << stage
        stage += 1
        if stage < len(items):
            bucket.claimed += amount  # hold it; on to the next queue
            if jumped:
                bucket.claimed_jump += amount
            waiter.stage = stage
            enter(items[stage][0], waiter)
            return _PASSED
        return self._finish(waiter, local, now)

    def _finish(self, waiter: Waiter, local: float, now: float) -> int:
        """Admit a waiter that passed its last queue, if its holds are still good.

        If a header, a 429 or a new window filled a held budget meanwhile, the
        waiter goes back to the head of that budget's queue (giving up the holds
        from there on) instead of blocking the last.
        """
        items = waiter.plan.items
        last = len(items) - 1
        for i in range(last):
            bucket, amount = items[i]
            if now >= bucket.until:
                bucket.advance(self._tm, local, now)
            jumped = bool(waiter.jumps >> i & 1)
            if jumped:
                fits = self._fits_reserve(bucket, amount, amount, amount)
            else:
                fits = self._fits_normal(bucket, amount, amount, 0)
            if (
                now < bucket.paused_until
                or not fits
                or not self._leased(bucket, amount, amount, urgent=jumped)
            ):
                for j in range(i, last):
                    self._unhold(waiter, j)
                waiter.jumps &= (1 << i) - 1
                waiter.stage = i
                enter(bucket, waiter, front=True)
                self._arm(bucket, max(bucket.until, bucket.paused_until))
                return _SENT_BACK
        for i in range(last):
            self._unhold(waiter, i)
        self._admit(waiter, self._take(waiter.plan, local, now, waiter.jumps, waiter.urgent))
        return _DONE

    @staticmethod
    def _unhold(waiter: Waiter, i: int) -> None:
        bucket, amount = waiter.plan.items[i]
        bucket.claimed -= amount
        if waiter.jumps >> i & 1:
            bucket.claimed_jump -= amount

    def _admit(self, waiter: Waiter, reservation: Reservation) -> None:
        waiter.state = ADMITTED
        self._n_waiters -= 1
        if waiter.deadline is not None:
            self._deadline_live -= 1
        if waiter.future.done():  # cancelled in the same instant: nobody will send it
            reservation.release()
        else:
            waiter.future.set_result(reservation)

    def _drop(self, waiter: Waiter) -> None:
        """Take a waiting waiter out of the queues and the accounting."""
        bucket = waiter.plan.items[waiter.stage][0]
        leave(bucket, waiter)
        waiter.state = DEAD
        for i in range(waiter.stage):
            self._unhold(waiter, i)
        self._n_waiters -= 1
        if waiter.deadline is not None:
            self._deadline_live -= 1

    def _settle(self, bucket: Bucket) -> None:
        """Tidy a bucket's queues after waiters left; no waiter, no timer."""
        compact(bucket)
        if not bucket.n_waiting and bucket.timer is not None:
            bucket.timer.cancel()
            bucket.timer = None

    @staticmethod
    def _resolve(waiter: Waiter, outcome: BinancePapiError) -> None:
        if not waiter.future.done():
            waiter.future.set_result(outcome)

    def _live_waiters(self) -> list[Waiter]:
        return [w for bucket in self._buckets for w in live(bucket)]

    def _fail_all(self, make_error: Callable[[], BinancePapiError]) -> None:
        for waiter in self._live_waiters():
            self._drop(waiter)
            self._resolve(waiter, make_error())
        self._tidy()

    def _tidy(self) -> None:
        """No waiter left: cancel every timer and forget stale queue entries."""
        if self._n_waiters:
            return
        for bucket in self._buckets:
            if bucket.timer is not None:
                bucket.timer.cancel()
                bucket.timer = None
            compact(bucket)
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None
        self._deadlines.clear()
        self._deadline_live = 0

    # -- timers -----------------------------------------------------------------------------------

    def _arm(self, bucket: Bucket, at: float) -> None:
        """Look at ``bucket`` again at server time ``at``."""
        if bucket.timer is not None:
            if bucket.timer_at == at:
                return
            bucket.timer.cancel()
        bucket.timer = self._tm.clock.call_at(at, bucket.on_timer)
        bucket.timer_at = at

    def _arm_deadline(self) -> None:
        heap = self._deadlines
        while heap and heap[0][2].state != WAITING:
            heapq.heappop(heap)
        if len(heap) > _COMPACT_MIN and len(heap) > 2 * self._deadline_live:
            heap[:] = [entry for entry in heap if entry[2].state == WAITING]
            heapq.heapify(heap)
        if not heap:
            if self._deadline_timer is not None:
                self._deadline_timer.cancel()
                self._deadline_timer = None
            return
        at = heap[0][0]  # local time: a change of the offset does not move it
        if self._deadline_timer is not None:
            if self._deadline_at == at:
                return
            self._deadline_timer.cancel()
        self._deadline_timer = self._tm.clock.call_at(at + self._tm.offset(), self._on_deadline)
        self._deadline_at = at

    def _on_deadline(self) -> None:
        self._deadline_timer = None
        self._pump()  # admission exactly at the deadline is in time
        local, _ = self._tm.read()
        heap = self._deadlines
        expired = False
        while heap:
            deadline, _, waiter = heap[0]
            if waiter.state != WAITING:
                heapq.heappop(heap)
                continue
            if deadline > local + _DEADLINE_SLACK:
                break
            heapq.heappop(heap)
            bucket = waiter.plan.items[waiter.stage][0]
            self._drop(waiter)
            self._settle(bucket)
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
