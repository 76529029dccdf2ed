"""Clocks: where timestamps and rate-limit windows get their time.

Everything time-dependent in the SDK (request timestamps, the limiter's fixed
windows, its wake-ups) reads a :class:`Clock`, so tests inject a
:class:`FakeClock` and never sleep.

* :class:`ServerClock` (the default) estimates Binance server time as
  ``time.monotonic() + offset``.  The offset starts as the host's wall clock
  and is replaced by a measured offset to Binance once synced, so a wall-clock
  jump on the host after start-up does not move request timestamps.
* :class:`FakeClock` is a manual clock for tests: ``advance()`` moves it and
  fires the timers that fall due, in order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "FakeClock", "ServerClock", "TimerHandle"]


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Server time in seconds since the epoch, plus timers on that time scale."""

    def time(self) -> float:
        """Current (estimated) server time, seconds since the epoch."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` (in the running event loop) once ``time()`` reaches ``when``."""
        ...


class ServerClock:
    """``time.monotonic()`` plus an offset to Binance server time."""

    __slots__ = ("_offset",)

    def __init__(self, offset: float | None = None) -> None:
        self._offset = time.time() - time.monotonic() if offset is None else offset

    @property
    def offset(self) -> float:
        """Seconds added to ``time.monotonic()`` to get server time."""
        return self._offset

    def set_server_time(self, server_time: float, at_monotonic: float | None = None) -> None:
        """Record that the server clock read ``server_time`` at ``at_monotonic`` (default: now)."""
        mono = time.monotonic() if at_monotonic is None else at_monotonic
        self._offset = server_time - mono

    def time(self) -> float:
        return time.monotonic() + self._offset

    def now_ms(self) -> int:
        return int((time.monotonic() + self._offset) * 1000)

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        loop = asyncio.get_running_loop()
        return loop.call_at(loop.time() + max(0.0, when - self.time()), callback)

    def __repr__(self) -> str:
        return (
            f"ServerClock(offset_vs_host={self._offset - (time.time() - time.monotonic()):+.3f}s)"
        )


class _FakeTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that only moves when told to.  For tests."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self._now

    def now_ms(self) -> int:
        return int(self._now * 1000)

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _FakeTimer(when, callback)
        heapq.heappush(self._timers, (when, next(self._seq), timer))
        return timer

    @property
    def pending_timers(self) -> int:
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in time order (each sees its own due time)."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        target = self._now + seconds
        while self._timers and self._timers[0][0] <= target:
            when, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            timer.callback()
        self._now = target

    def set(self, when: float) -> None:
        """Jump to an absolute time (forward only)."""
        self.advance(when - self._now)
