"""The offset of a :class:`~binance_papi_async.ServerClock` to Binance server time.

Measured on the first signed call (which waits for it), again every
``TimeSync.refresh_interval`` seconds in the background (a trade never waits for a
refresh), after a -1021, and on ``client.sync_time()``.  Samples of the time endpoint
are not counted as calls in flight and not retried; the fallback time URL on another
host (fapi; ``TimeSync(fallback_url=False)`` turns it off) is not charged to papi's
budget.  The offset and its error bound come from the samples' round trips
(:meth:`ServerClock.sync`); the rate limiter keys its windows with that bound.  The
time reads are urgent (``EndpointSpec.urgent``): a resync never queues behind heavy
calls.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from yarl import URL

from .. import _constants as C
from ..clock import FakeClock, ServerClock, TimeSync
from ..endpoints import SERVER_TIME, EndpointSpec
from ..errors import BinancePapiError
from ..events import ClockResynced
from ..retry import NO_RETRY
from ..timeouts import Timeouts
from .reporting import log

if TYPE_CHECKING:  # pragma: no cover
    from .transport import Transport

__all__ = ["ClockSync"]


class ClockSync:
    """Keeps ``clock``'s offset for ``transport`` (one sync at a time)."""

    def __init__(
        self,
        transport: Transport,
        clock: ServerClock | FakeClock,
        settings: TimeSync,
        timeouts: Timeouts,
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.settings = settings
        # Time samples are small: a slow one is worthless, so it gives up early.
        self.timeouts = Timeouts(total=min(timeouts.total, 5.0), connect=min(timeouts.connect, 3.0))
        self.last_sync: float | None = None  # time.monotonic() of the last attempt
        self.task: asyncio.Task[None] | None = None  # the background refresh
        self._lock: asyncio.Lock | None = None
        self._spec = (
            SERVER_TIME
            if settings.path == SERVER_TIME.path
            else EndpointSpec(
                name="server_time",
                method="GET",
                path=settings.path,
                security=SERVER_TIME.security,
                weight=SERVER_TIME.weight,
                urgent=True,
            )
        )

    def due(self) -> bool:
        last = self.last_sync
        return last is None or time.monotonic() - last >= self.settings.refresh_interval

    async def before_signed_call(self) -> None:
        """Sync first if the clock never was; start a background refresh if one is due."""
        if self.last_sync is None:
            await self.sync()  # first use: the timestamp needs it
        elif self.due():
            self.refresh_in_background()

    def refresh_in_background(self) -> None:
        task = self.task
        if task is None or task.done():
            self.task = asyncio.ensure_future(self.sync())
            self.task.add_done_callback(_log_sync_failure)

    def cancel(self) -> None:
        """Stop a background refresh (the client is closing)."""
        task = self.task
        if task is not None and not task.done():
            task.cancel()

    def fallback_url(self) -> str | None:
        """The time URL tried when papi's fails (``None``: no fallback, ``fallback_url=False``)."""
        fallback = self.settings.fallback_url
        if fallback is False:
            return None
        if fallback is not None:
            return fallback
        base_url = self.transport.base_url
        if base_url == C.DEFAULT_BASE_URL:
            return f"{C.FAPI_BASE_URL}/fapi/v1/time"
        return f"{base_url}/fapi/v1/time"

    async def sync(self, *, force: bool = False) -> None:
        """Measure the offset now, unless another task did while this one waited (or, without
        ``force``, unless no refresh is due)."""
        if self.transport.closed:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        requested = time.monotonic()
        async with self._lock:
            last = self.last_sync
            if last is not None and (last >= requested or (not force and not self.due())):
                return  # another task synced while this one waited
            self.transport.ensure_session()  # a closed injected session fails here, not per sample
            samples, source = await self._sample()
            self.last_sync = time.monotonic()
            if len(samples) < self.settings.samples:
                log.warning("clock sync failed; keeping the previous offset")
                return
            clock = self.clock
            estimate = clock.sync(samples)
            offset = clock.host_offset() if isinstance(clock, ServerClock) else clock.offset
            self.transport.emit(ClockResynced(offset, estimate.rtt, len(samples), source))

    async def _sample(self) -> tuple[list[tuple[float, float, float]], str]:
        """``(local sent, server time, local received)`` readings, from papi's time path or,
        if that fails, from the fallback URL; and the path they came from."""
        samples: list[tuple[float, float, float]] = []
        source = ""
        fallback = self.fallback_url()
        for url in (None, fallback) if fallback is not None else (None,):
            samples.clear()
            source = self._spec.path if url is None else URL(url).path
            try:
                for _ in range(self.settings.samples):
                    t0 = self.clock.local()
                    data = await self.transport.request(
                        self._spec,
                        {},
                        timeout=self.timeouts,
                        retry=NO_RETRY,
                        url_override=url,
                        counted=False,
                    )
                    t1 = self.clock.local()
                    samples.append((t0, int(data["serverTime"]) / 1000, t1))
                break
            except (BinancePapiError, KeyError, TypeError, ValueError) as exc:
                log.warning("server time from %s failed: %s", source, type(exc).__name__)
        return samples, source


def _log_sync_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("background clock sync failed: %s", type(task.exception()).__name__)
