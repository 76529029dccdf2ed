"""Clocks: where timestamps and rate-limit windows get their time, and how sure they are of it.

Everything time-dependent in the SDK (request timestamps, the limiter's fixed
windows, its wake-ups) reads a :class:`Clock`, so tests inject a
:class:`FakeClock` and never sleep.

* :class:`ServerClock` (the default) estimates Binance server time as
  ``time.monotonic() + offset``.  The offset starts as the host's wall clock
  and is replaced by a measured offset to Binance once synced, so a wall-clock
  jump on the host after start-up does not move request timestamps.
* :class:`FakeClock` is a manual clock for tests: ``advance()`` moves it and
  fires the timers that fall due, in order.

How far off the estimate may be
-------------------------------
Both clocks also know a bound on their error, :meth:`ServerClock.uncertainty`:
the true server time lies within ``time() ± uncertainty()``.  A sync measures
it: the server read its clock at some moment between sending a ``/time``
request and receiving the answer, so each sample ``(sent, server, received)``
pins the offset to ``[server - received, server + 1 ms - sent]`` (``serverTime``
is whole milliseconds).  :func:`estimate_offset_bound` intersects the samples'
intervals and takes the middle: the uncertainty is half the width of the
intersection, at most half the best round trip.  After the sync the bound grows
with the time since, at ``drift_rate`` (default :data:`DEFAULT_DRIFT_RATE`,
100 ppm: quartz oscillators are specified within ±20 to ±100 ppm, and Binance's
servers and an NTP-disciplined host drift far less), e.g. 60 ms over the
client's 10-minute refresh.  Before any sync, or after :meth:`ServerClock.set_offset`
without a measured bound, the clock claims :data:`UNSYNCED_UNCERTAINTY_S` (1 s):
a host clock further ahead of Binance than that gets every signed request
refused (-1021, "ahead of the server's time by more than 1000 ms"), which makes
the client resync.

Objects that depend on the offset (the rate limiter re-keys its windows) register
with :meth:`ServerClock.add_listener` and are told after every change.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import statistics
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_DRIFT_RATE",
    "UNSYNCED_UNCERTAINTY_S",
    "Clock",
    "FakeClock",
    "OffsetEstimate",
    "ServerClock",
    "TimeSync",
    "TimerHandle",
    "estimate_offset",
    "estimate_offset_bound",
]

#: How fast the bound on the offset's error grows after a sync: 100 ppm (0.1 ms per second).
DEFAULT_DRIFT_RATE: Final = 1e-4
#: The error claimed for an offset that was not measured (the host's wall clock): 1 s.
UNSYNCED_UNCERTAINTY_S: Final = 1.0
# serverTime is in whole milliseconds: the server's clock read between s and s + 1 ms.
_SERVER_RESOLUTION_S: Final = 0.001


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Server time in seconds since the epoch, plus timers on that time scale.

    A clock may also offer ``local()``, ``uncertainty(local=None)`` and
    ``add_listener``/``remove_listener`` (as :class:`ServerClock` and
    :class:`FakeClock` do); the rate limiter then keys its windows with the
    clock's uncertainty and re-keys them when the offset changes.  Without them
    the clock is taken as exact.
    """

    def time(self) -> float:
        """Current (estimated) server time, seconds since the epoch."""
        ...

    def now_ms(self) -> int:
        """Current (estimated) server time in integer milliseconds (request timestamps)."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` (in the running event loop) once ``time()`` reaches ``when``."""
        ...


@dataclass(frozen=True, slots=True)
class OffsetEstimate:
    """The offset to server time measured by a sync, with its error bound.

    ``offset``: seconds added to the local clock to get server time;
    ``uncertainty``: the true offset lies within ``offset ± uncertainty``;
    ``rtt``: the best round trip of the samples, seconds.
    """

    offset: float
    uncertainty: float
    rtt: float


class _Listeners:
    """Callbacks told of an offset change; bound methods are held weakly."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[Callable[[], Callable[[], None] | None]] = []

    def add(self, callback: Callable[[], None]) -> None:
        if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
            self._items.append(weakref.WeakMethod(callback))
        else:
            self._items.append(lambda: callback)

    def remove(self, callback: Callable[[], None]) -> None:
        self._items = [ref for ref in self._items if ref() not in (callback, None)]

    def notify(self) -> None:
        if not self._items:
            return
        live = []
        for ref in list(self._items):
            callback = ref()
            if callback is not None:
                live.append(ref)
                callback()
        self._items = live

    def __len__(self) -> int:
        return sum(1 for ref in self._items if ref() is not None)


class _Uncertain:
    """The error bound shared by both clocks: ``base + drift_rate * |local - synced_at|``."""

    __slots__ = ("_base", "_drift", "_listeners", "_synced_at")

    def __init__(self, base: float, drift_rate: float, synced_at: float) -> None:
        if not (math.isfinite(base) and base >= 0):
            raise ConfigurationError(f"uncertainty must be >= 0 seconds, not {base!r}")
        if not (math.isfinite(drift_rate) and 0 <= drift_rate < 0.01):
            raise ConfigurationError(f"drift_rate must be in [0, 0.01), not {drift_rate!r}")
        self._base = base
        self._drift = drift_rate
        self._synced_at = synced_at
        self._listeners = _Listeners()

    def local(self) -> float:
        raise NotImplementedError

    @property
    def drift_rate(self) -> float:
        """How fast the bound grows with the time since the last sync (seconds per second)."""
        return self._drift

    def uncertainty(self, local: float | None = None) -> float:
        """Bound on ``|time() - true server time|`` (seconds) at local time ``local`` (now).

        It grows with the distance from the last sync, in both directions: a
        sync also bounds what the offset was shortly before it.
        """
        at = self.local() if local is None else local
        return self._base + self._drift * abs(at - self._synced_at)

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change of the offset or its bound (held weakly
        when it is a bound method)."""
        self._listeners.add(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback``."""
        self._listeners.remove(callback)

    def _set_bound(self, uncertainty: float | None) -> None:
        base = UNSYNCED_UNCERTAINTY_S if uncertainty is None else uncertainty
        if not (math.isfinite(base) and base >= 0):
            raise ConfigurationError(f"uncertainty must be >= 0 seconds, not {uncertainty!r}")
        self._base = base
        self._synced_at = self.local()


class ServerClock(_Uncertain):
    """``time.monotonic()`` plus an offset to Binance server time, with an error bound.

    ``offset`` defaults to the host's wall clock; ``uncertainty`` (seconds)
    defaults to :data:`UNSYNCED_UNCERTAINTY_S` until a sync measures it;
    ``drift_rate`` is how fast the bound grows after a sync.
    """

    __slots__ = ("__weakref__", "_offset")

    def __init__(
        self,
        offset: float | None = None,
        *,
        uncertainty: float | None = None,
        drift_rate: float = DEFAULT_DRIFT_RATE,
    ) -> None:
        super().__init__(
            UNSYNCED_UNCERTAINTY_S if uncertainty is None else uncertainty,
            drift_rate,
            time.monotonic(),
        )
        self._offset = time.time() - time.monotonic() if offset is None else offset

    @property
    def offset(self) -> float:
        """Seconds added to ``time.monotonic()`` to get server time."""
        return self._offset

    def set_offset(self, offset: float, *, uncertainty: float | None = None) -> None:
        """Set the offset so that server time is ``time.monotonic() + offset``.

        ``uncertainty`` is its error bound in seconds; ``None`` (not measured)
        claims :data:`UNSYNCED_UNCERTAINTY_S`.  Listeners are told.
        """
        self._set_bound(uncertainty)
        self._offset = offset
        self._listeners.notify()

    def sync(self, samples: Sequence[tuple[float, float, float]]) -> OffsetEstimate:
        """Set the offset and its bound from ``(sent, server_time, received)`` samples.

        ``sent`` and ``received`` are :meth:`local` readings around each
        ``/time`` request, ``server_time`` its answer in seconds.  See
        :func:`estimate_offset_bound`.
        """
        estimate = estimate_offset_bound(samples)
        self.set_offset(estimate.offset, uncertainty=estimate.uncertainty)
        return estimate

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
            f"ServerClock(offset_vs_host={self.host_offset():+.3f}s, "
            f"uncertainty={self.uncertainty():.3f}s)"
        )


class _FakeTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock(_Uncertain):
    """A clock that only moves when told to.  For tests.

    ``time()`` is ``local() + offset``: ``advance()`` moves the local reading,
    :meth:`set_offset` the estimate of server time (as a sync would), with the
    bound ``uncertainty`` (0 unless given).  A timer set for ``when`` fires once
    the local reading reaches ``when - offset`` with the offset of the moment it
    was set, as :class:`ServerClock`'s timers (which the event loop keeps in its
    own time) do.
    """

    __slots__ = ("__weakref__", "_now", "_offset", "_seq", "_timers")

    def __init__(
        self, start: float = 1_700_000_000.0, *, uncertainty: float = 0.0, drift_rate: float = 0.0
    ) -> None:
        super().__init__(uncertainty, drift_rate, start)
        self._now = start  # the local reading
        self._offset = 0.0
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()

    def local(self) -> float:
        """The local reading (what ``advance`` moves)."""
        return self._now

    @property
    def offset(self) -> float:
        """Seconds added to :meth:`local` to get the estimated server time."""
        return self._offset

    def set_offset(self, offset: float, *, uncertainty: float | None = 0.0) -> None:
        """Change the estimate of server time by setting its offset (listeners are told).

        ``uncertainty`` is the new bound (seconds; ``None``: not measured, as
        :meth:`ServerClock.set_offset`).
        """
        self._set_bound(uncertainty)
        self._offset = offset
        self._listeners.notify()

    def set_uncertainty(self, uncertainty: float) -> None:
        """Set the error bound now (listeners are told)."""
        self._set_bound(uncertainty)
        self._listeners.notify()

    def sync(self, samples: Sequence[tuple[float, float, float]]) -> OffsetEstimate:
        """As :meth:`ServerClock.sync` (samples in :meth:`local` time)."""
        estimate = estimate_offset_bound(samples)
        self.set_offset(estimate.offset, uncertainty=estimate.uncertainty)
        return estimate

    def time(self) -> float:
        return self._now + self._offset

    def now_ms(self) -> int:
        return int((self._now + self._offset) * 1000)

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _FakeTimer(when - self._offset, callback)
        heapq.heappush(self._timers, (timer.when, next(self._seq), timer))
        return timer

    @property
    def pending_timers(self) -> int:
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    def next_due(self) -> float | None:
        """The local reading at which the next pending timer fires (None: no timer), e.g.
        ``clock.advance(clock.next_due() - clock.local())`` to run an event loop's way."""
        timers = self._timers
        while timers and timers[0][2].cancelled:
            heapq.heappop(timers)
        return timers[0][0] if timers else None

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
        """Jump to an absolute (estimated) server time (forward only)."""
        self.advance(when - self.time())


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


def estimate_offset_bound(samples: Sequence[tuple[float, float, float]]) -> OffsetEstimate:
    """The offset and a bound on its error from ``(sent, server_time, received)`` readings.

    The server read its clock between ``sent`` and ``received`` (causality), and
    ``server_time`` is truncated to the millisecond, so each sample says the
    offset lies in ``[server - received, server + 0.001 - sent]``.  If the
    samples' intervals intersect, the estimate is the middle of the intersection
    and the bound half its width.  If they do not (the server's clock stepped
    between samples, or the answers came from servers whose clocks disagree),
    the estimate is the median of the midpoints and the bound wide enough to
    cover every sample's interval.
    """
    if not samples:
        raise ValueError("no samples")
    lows = [server - received for sent, server, received in samples]
    highs = [server + _SERVER_RESOLUTION_S - sent for sent, server, received in samples]
    rtt = min(received - sent for sent, _, received in samples)
    if any(h < lo for lo, h in zip(lows, highs, strict=True)):
        raise ValueError("a sample was received before it was sent")
    low, high = max(lows), min(highs)
    if low <= high:
        return OffsetEstimate((low + high) / 2, (high - low) / 2, rtt)
    offset = statistics.median((lo + h) / 2 for lo, h in zip(lows, highs, strict=True))
    bound = max(max(offset - lo, h - offset) for lo, h in zip(lows, highs, strict=True))
    return OffsetEstimate(offset, bound, rtt)
