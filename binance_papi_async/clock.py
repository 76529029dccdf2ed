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
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from .errors import ConfigurationError

__all__ = ["Clock", "FakeClock", "ServerClock", "TimeSync", "TimerHandle", "estimate_offset"]


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Server time in seconds since the epoch, plus timers on that time scale."""

    def time(self) -> float:
        """Current (estimated) server time, seconds since the epoch."""
        ...

    def now_ms(self) -> int:
        """Current (estimated) server time in integer milliseconds (request timestamps)."""
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

    def set_offset(self, offset: float) -> None:
        """Set the offset so that server time is ``time.monotonic() + offset``."""
        self._offset = offset

    def host_offset(self) -> float:
        """Estimated server time minus the host's wall clock, in seconds."""
        return self._offset - (time.time() - time.monotonic())

    @staticmethod
    def local() -> float:
        """The local reading the offset applies to (``time.monotonic()``)."""
        return time.monotonic()

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


@dataclass(frozen=True, slots=True)
class TimeSync:
    """How the client keeps its offset to Binance server time.

    On first use of a signed endpoint the client takes ``samples`` readings of
    ``GET {base_url}{path}`` (``/papi/v1/time``: served by papi though not
    documented), each corrected by half its round trip, and uses their median.
    If that path fails it takes them from ``fallback_url``: ``None`` (the default)
    means ``https://fapi.binance.com/fapi/v1/time`` (a second host: mind egress
    allow-lists) for the default papi host and ``{base_url}/fapi/v1/time`` for any
    other base URL (the simulator serves it), so a client pointed at a local server
    never reaches out to Binance; a full URL means that URL; ``False`` means no
    fallback (a failed sync keeps the previous offset).  The offset is measured
    again every ``refresh_interval`` seconds and after a -1021.  A failed sync is
    logged and the previous offset kept.  ``enabled=False`` sends none of these.
    """

    enabled: bool = True
    samples: int = 5
    refresh_interval: float = 600.0
    path: str = "/papi/v1/time"
    fallback_url: str | Literal[False] | None = None

    def __post_init__(self) -> None:
        if self.samples < 1 or self.refresh_interval <= 0:
            raise ConfigurationError(f"invalid time sync settings: {self}")
        fallback: object = self.fallback_url
        if not (fallback is None or fallback is False or isinstance(fallback, str)):
            raise ConfigurationError(
                f"fallback_url is a full URL, None (the default) or False (none), "
                f"got {self.fallback_url!r}"
            )


def estimate_offset(samples: Sequence[tuple[float, float, float]]) -> tuple[float, float]:
    """``(offset, best_rtt)`` from ``(sent, server_time, received)`` readings.

    ``sent`` and ``received`` are local clock readings around each request and
    ``server_time`` the server's answer, all in seconds.  Each reading assumes
    the server read its clock half way through the round trip; the median of the
    per-sample offsets resists one slow or skewed sample.  ``server ≈ local + offset``.
    """
    if not samples:
        raise ValueError("no samples")
    offsets = [server - (sent + received) / 2 for sent, server, received in samples]
    return statistics.median(offsets), min(received - sent for sent, _, received in samples)
