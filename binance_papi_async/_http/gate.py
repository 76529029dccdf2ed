"""The connection gate: at most ``pool_size`` REST requests in flight on the client's own
pool, admitted first come, first served.

aiohttp's pool is not fair: a task that frees a connection and sends again at once takes it
ahead of tasks already waiting, which can then wait past their connect timeout.
``asyncio.Semaphore`` is FIFO on the supported Pythons, also when a task frees a slot and
asks again at once (tests/unit/test_connection_gate.py).  :class:`Gate` adds what the
request path needs beside it: taking a free slot without creating a coroutine, and giving
one back with nobody waiting in one step.
"""

from __future__ import annotations

import asyncio

__all__ = ["Gate"]


class Gate(asyncio.Semaphore):
    """An ``asyncio.Semaphore`` whose free slot can be taken without an ``await``."""

    def try_acquire(self) -> bool:
        """Take a slot if ``acquire()`` would take one without suspending; whether it did.

        That is when a slot is free and nobody waits: ``acquire()`` then only decrements
        the count.  Otherwise the caller awaits ``acquire()``, behind the tasks waiting.
        """
        if self._value > 0 and not self._waiters:
            self._value -= 1
            return True
        return False

    def release(self) -> None:
        """Give a slot back: ``Semaphore.release()``, one call shorter when nobody waits
        (it would then only increment the count)."""
        # 2.9k of the SDK's 140k instructions per call (bench_icount.py sdk --stub, +-1k)
        if self._waiters:
            super().release()  # wakes the first waiter
        else:
            self._value += 1
