"""A progress line on stderr while an awaited call takes more than about a second.

Rate-limit waits can last up to a minute (repay-debt weighs half of papi's IP
budget), and finding out whether a repay with an unknown outcome was applied
waits for the request's ``recvWindow`` to pass.  :class:`Progress` runs the
awaited call as a task; if it is not done after ``delay`` seconds it shows what
the call waits for, refreshed every ``interval``:

* rate budget: how long the wait is expected to last (the client's
  :class:`~binance_papi_async.LimiterWaitStarted` event), and from the client's
  limiter snapshot (``client.rate_limits``) the budget that has calls queued,
  how much of it is used and when its window resets, or a 429 pause / 418 ban;
* papi's answer, once the request was sent (``RequestStart`` seen, no
  ``RequestEnd`` yet: the client's ``on_event`` hook feeds :meth:`on_event`);
* otherwise the description the command gave.

On a terminal the line is rewritten in place and erased when the call ends.  The
command shows it only when stderr is a terminal, or with ``--progress`` (then,
on a pipe or file, it is written once, as a plain line).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TextIO, TypeVar

from ..events import Event, LimiterWait, LimiterWaitStarted, RequestEnd, RequestStart
from ..ratelimit import RateLimitSnapshot

if TYPE_CHECKING:  # pragma: no cover
    from ..client import PortfolioMarginClient

__all__ = ["Progress", "describe_wait"]

T = TypeVar("T")


def describe_wait(snapshot: RateLimitSnapshot) -> str | None:
    """What the limiter holds calls for, e.g. ``REQUEST_WEIGHT 6000/6000 used, window
    resets in 42 s``; ``None`` when nothing waits for it."""
    now = snapshot.time
    if snapshot.banned_until is not None:
        return f"IP banned by papi (418), for {max(0.0, snapshot.banned_until - now):.0f} s more"
    if snapshot.paused_until is not None:
        return f"paused after a 429, for {max(0.0, snapshot.paused_until - now):.0f} s more"
    waiting = [b for b in snapshot.budgets if b.waiters]
    if not waiting:
        return None
    parts = [
        f"{b.budget.value} {b.used}/{b.limit} used, window resets in "
        f"{max(0.0, b.window_reset - now):.0f} s"
        for b in waiting
    ]
    return "rate budget (" + "; ".join(parts) + ")"


class Progress:
    """Shows what a slow call waits for (see the module docstring)."""

    def __init__(
        self,
        out: TextIO,
        *,
        delay: float = 1.0,
        interval: float = 1.0,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.delay = delay
        self.interval = interval
        self.enabled = enabled
        self._clock = clock
        self._tty = bool(getattr(out, "isatty", lambda: False)())
        self._client: PortfolioMarginClient | None = None
        self._in_flight = 0
        self._budget_until: float | None = None  # expected end of a wait for rate budget
        self._shown = False

    def bind(self, client: PortfolioMarginClient) -> None:
        """Read rate budgets from ``client``'s limiter."""
        self._client = client

    def on_event(self, event: Event) -> None:
        """The client's ``on_event`` hook: counts requests on the wire, and notes how long a
        wait for rate budget is expected to last."""
        if isinstance(event, RequestStart):
            self._in_flight += 1
        elif isinstance(event, RequestEnd):
            self._in_flight = max(0, self._in_flight - 1)
        elif isinstance(event, LimiterWaitStarted):
            self._budget_until = self._clock() + event.expected
        elif isinstance(event, LimiterWait):
            self._budget_until = None

    def status(self, what: str, elapsed: float) -> str:
        """The progress text for ``what`` after ``elapsed`` seconds."""
        detail = None
        if self._in_flight:
            detail = "waiting for papi's answer"
        else:
            held = None
            if self._client is not None and self._client.limiter is not None:
                held = describe_wait(self._client.limiter.snapshot())
            if self._budget_until is not None:
                left = max(0.0, self._budget_until - self._clock())
                held = f"{held or 'rate budget'}, about {left:.0f} s more"
            if held is not None:
                detail = f"waiting for {held}"
        text = f"{what}: {detail}" if detail else what
        return f"{text} ... {elapsed:.0f} s"

    async def run(self, call: Awaitable[T], what: str) -> T:
        """Await ``call``, showing progress after ``delay`` seconds; cancelling this
        cancels the call (and waits until it has finished cancelling)."""
        task = asyncio.ensure_future(call)
        started = self._clock()
        try:
            timeout = self.delay
            while not task.done():
                await asyncio.wait({task}, timeout=timeout)
                if not task.done():
                    self._show(self.status(what, self._clock() - started))
                timeout = self.interval
        except BaseException:
            task.cancel()
            await asyncio.wait({task})
            if not task.cancelled():
                task.exception()  # retrieved: the error that ends this command is ours
            raise
        finally:
            self._erase()
        return task.result()

    def _show(self, text: str) -> None:
        if not self.enabled:
            return
        if self._tty:
            self.out.write(f"\r{text}\x1b[K")
        elif not self._shown:
            self.out.write(text + "\n")
        else:
            return
        self._shown = True
        self.out.flush()

    def _erase(self) -> None:
        if self._shown and self._tty:
            self.out.write("\r\x1b[K")
            self.out.flush()
        self._shown = False
