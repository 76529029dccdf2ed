"""Timeouts of the calls in flight, kept with one event-loop timer per 10 ms of deadlines.

aiohttp's ``ClientTimeout(total=...)`` schedules a timer per request and cancels it
when the response is read.  At thousands of calls a second that is most of the event
loop's heap traffic: each push and pop compares ``TimerHandle`` objects in Python
code, and cancelled handles stay in the heap until a clean-up.  Here a call instead
registers its task in the slot its deadline falls in (deadlines rounded up to
1/``PER_SECOND`` s); the slot's one timer cancels the tasks still registered, and the
call turns that cancellation into its timeout (:meth:`Slot.timed_out`), withdrawing
it as ``asyncio.timeout`` does, so a caller's own cancellation is never taken for a
timeout.  A timeout fires at most 10 ms late (plus event-loop lag), never early.
11 % of the floor's CPU per call, c=32: bench_ab.py floor sdk sdk-aiohttp-timeout --repeats 30
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from math import ceil
from operator import methodcaller
from typing import Any

__all__ = ["Deadlines", "Slot"]

_PER_SECOND = 100  # slots per second (Deadlines.PER_SECOND)

# Python 3.11+ counts cancellation requests, so a timeout can tell its own from a caller's.
if sys.version_info >= (3, 11):
    _cancelling: Callable[[asyncio.Task[Any]], int] = methodcaller("cancelling")
    _uncancel: Callable[[asyncio.Task[Any]], int] = methodcaller("uncancel")
else:  # pragma: no cover - 3.10 cannot tell (nor can aiohttp's own timeout there)

    def _cancelling(task: asyncio.Task[Any]) -> int:
        return 0

    _uncancel = _cancelling


class Slot:
    """The calls whose deadline ends in one slot of :class:`Deadlines`."""

    __slots__ = ("calls", "fired")

    def __init__(self) -> None:
        # task -> its cancellation count when armed (asyncio.timeout's rule, see timed_out)
        self.calls: dict[asyncio.Task[Any], int] = {}
        self.fired = False

    def timed_out(self, task: asyncio.Task[Any]) -> bool:
        """After a ``CancelledError`` in the armed span: was it this slot's timeout alone?

        Like ``asyncio.timeout``: the timeout's own cancellation is withdrawn; if
        somebody else cancelled the task as well, the ``CancelledError`` must go on.
        (Python 3.10 does not count cancellations: there a caller's cancel that lands
        as the slot fires is taken for the timeout, as with aiohttp's own timeout.)
        """
        if not self.fired or task not in self.calls:
            return False
        cancelling = self.calls.pop(task)
        return _uncancel(task) <= cancelling

    def leave(self, task: asyncio.Task[Any]) -> None:
        """End ``task``'s armed span.

        If the slot's timer cancelled the task but the span ended with another error
        (one that the cancellation was turned into), the timeout's cancellation request
        is withdrawn, so that the task's count of them (``Task.cancelling()``) is right.
        """
        if self.calls.pop(task, None) is not None and self.fired:
            _uncancel(task)


class Deadlines:
    """The deadlines of one event loop's calls, by slot of 1/``PER_SECOND`` s.

    ``arm(task, seconds)`` registers the task in its slot and returns the slot; the
    caller asks ``slot.timed_out(task)`` on a ``CancelledError`` raised inside the
    span, and calls ``slot.leave(task)`` when the span ends.
    """

    PER_SECOND = _PER_SECOND

    __slots__ = ("_monotonic", "_slots", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._slots: dict[int, Slot] = {}
        # asyncio's loop.time() is time.monotonic() behind a Python frame: read that directly
        # (looked up on the module each time, as loop.time() does, so a patched clock is seen).
        self._monotonic = getattr(loop.time, "__func__", None) is asyncio.BaseEventLoop.time

    def arm(self, task: asyncio.Task[Any], seconds: float) -> Slot:
        """Register ``task`` to be cancelled ``seconds`` from now; its slot."""
        now = time.monotonic() if self._monotonic else self.loop.time()
        key = ceil((now + seconds) * _PER_SECOND)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = Slot()
            # Not cancelled when the slot empties (that would bring the heap churn back):
            # it fires at most once per PER_SECOND-th of a second, and removes the slot.
            self.loop.call_at(key / _PER_SECOND, self._fire, key)
        slot.calls[task] = _cancelling(task)
        return slot

    def _fire(self, key: int) -> None:
        slot = self._slots.pop(key)
        slot.fired = True
        for task in slot.calls:
            task.cancel()

    def __len__(self) -> int:
        """The calls armed now (for tests: nothing may stay registered)."""
        return sum(len(slot.calls) for slot in self._slots.values())
