"""Where the window counts live: the store protocol, and the in-memory store.

The protocol is asynchronous so that a store can live outside the process
(Redis, shared by processes and hosts).  The limiter never waits for it on the
common path: it takes *leases*, units of one window granted atomically by the
store, and admits calls locally from them.  Since every unit it admits in a
window was granted for that window, the processes sharing a store together
admit at most what the store granted, and the store grants at most the limit:
no latency of the store can make them exceed it.  A request that may arrive on
either side of a boundary needs a lease in both windows.

Everything else the limiter tells the store is a fact to be counted, not a
question: ``add`` (charges moved into a window after a clock sync showed they
arrive there), ``observe`` (the server's count from a response header), and
``publish`` (a 429 pause or a 418 ban, which stops every process on the scope).
A store calls :meth:`StoreListener.wake` when units come back (another process
gave back its lease) and :meth:`StoreListener.on_signal` for the signals of the
others.

:class:`InMemoryBudgetStore` (the default) keeps the counts in this process.
The limiter recognises it and charges its counters directly, without leases
(a call is admitted in about a microsecond); several limiters given the same
instance share its budgets (e.g. clients of several accounts on one IP).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from ..endpoints._spec import Budget
from ._model import WindowKey
from ._windows import Series, Window


@dataclass(frozen=True, slots=True)
class Signal:
    """A 429 pause or a 418 ban, shared by every limiter on the store.

    ``kind`` is ``"pause"`` (``budget`` in account ``scope``, "" for the IP's
    budgets and the default account) or ``"ban"`` (the whole IP; ``budget`` is
    None); ``until`` is its end, epoch seconds of server time.
    """

    kind: Literal["pause", "ban"]
    budget: Budget | None
    scope: str
    until: float


class StoreListener(Protocol):
    """What a store calls back on the limiters attached to it (from the event loop)."""

    def wake(self) -> None:
        """Units came back (e.g. another process gave back a lease): look again."""
        ...

    def on_signal(self, signal: Signal) -> None:
        """Another limiter on the store published a pause or a ban."""
        ...


class BudgetStore(Protocol):
    """The window counts, possibly outside the process.  See the module docstring.

    Counts are per :class:`WindowKey`.  A store forgets a window once it has
    ended (e.g. Redis keys expire with their window).  Methods are called from
    the event loop; the limiter runs them as tasks and never awaits them while
    admitting a call.
    """

    async def take(self, key: WindowKey, want: int, least: int, limit: int) -> int:
        """Atomically count up to ``want`` more units in ``key``'s window, at least
        ``least`` of them, without passing ``limit``; return the units counted (0
        when not even ``least`` fit).  The limiter admits calls from what it got.

        ``limit`` is the limit less the urgent reserve for a normal lease, the whole
        limit for an urgent call's (which asks for what it needs only): the reserve
        of a window stays for the urgent calls of every limiter on the store."""
        ...

    async def give(self, key: WindowKey, amount: int) -> None:
        """Un-count ``amount`` units taken with :meth:`take` and not used."""
        ...

    async def add(self, key: WindowKey, amount: int) -> None:
        """Count ``amount`` units whatever the limit (charges a clock sync moved here)."""
        ...

    async def observe(self, key: WindowKey, used: int) -> None:
        """The server counted at least ``used`` units in the window, everybody's, this
        process's still in flight included: the count is raised to it, never lowered.

        ``used`` includes units granted as leases and spent since, so a store shared
        by processes must not add it to its grants; the units granted and not spent
        yet are not in it.  The in-memory store keeps the larger of the two counts (in
        one process every lease is spent by the limiter that took it).

        A store may also offer ``observe_nowait(key, used)``, the same without a
        coroutine: the limiter then calls it on every answer that raises a count,
        and the store decides when to talk to its server (e.g. one round trip per
        burst, none while it counts as much already).
        """
        ...

    async def publish(self, signal: Signal) -> None:
        """Tell every other limiter on the store of a pause or a ban."""
        ...

    def attach(self, listener: StoreListener) -> Callable[[], None]:
        """Call ``listener`` back (see :class:`StoreListener`); returns the detach function."""
        ...


class InMemoryBudgetStore:
    """The default :class:`BudgetStore`: counts in this process.

    Share one instance between limiters to share their budgets (e.g. clients
    on one IP); a limiter charges its counters directly.  Through the
    asynchronous protocol it behaves as a remote store would (for tests).
    """

    __slots__ = ("__weakref__", "_listeners", "_series")

    def __init__(self) -> None:
        self._series: dict[str, Series] = {}
        self._listeners: list[weakref.ref[StoreListener]] = []

    def series(self, name: str, budget: Budget, interval: float, scope: str) -> Series:
        """The windows of a series (kept for the store's life: limiters hold them)."""
        series = self._series.get(name)
        if series is None:
            series = self._series[name] = Series(budget, interval, scope, leased=False)
        return series

    def _window(self, key: WindowKey) -> Window:
        return self.series(key.series, key.budget, key.interval_s, key.scope).window(key.window)

    def used(self, key: WindowKey) -> int:
        """Units counted in ``key``'s window."""
        series = self._series.get(key.series)
        window = series.windows.get(key.window) if series is not None else None
        return window.used if window is not None else 0

    async def take(self, key: WindowKey, want: int, least: int, limit: int) -> int:
        """Count up to ``want`` units (at least ``least``) within ``limit``."""
        window = self._window(key)
        free = limit - window.used
        if free < least or free <= 0:
            return 0
        granted = min(want, free)
        window.used += granted
        return granted

    async def give(self, key: WindowKey, amount: int) -> None:
        """Un-count unused units and wake the other limiters."""
        window = self._window(key)
        window.used = max(0, window.used - amount)
        for listener in self._live():
            listener.wake()

    async def add(self, key: WindowKey, amount: int) -> None:
        """Count units whatever the limit."""
        self._window(key).used += amount

    async def observe(self, key: WindowKey, used: int) -> None:
        """Raise the count to at least ``used``."""
        window = self._window(key)
        window.used = max(window.used, used)

    async def publish(self, signal: Signal) -> None:
        """Deliver ``signal`` to every attached limiter (the sender ignores its own)."""
        self.deliver(signal)

    def deliver(self, signal: Signal, sender: object = None) -> None:
        """:meth:`publish` without the coroutine."""
        for listener in self._live():
            if listener is not sender:
                listener.on_signal(signal)

    def attach(self, listener: StoreListener) -> Callable[[], None]:
        """Call ``listener`` back on gives and signals (held weakly)."""
        ref = weakref.ref(listener)
        self._listeners.append(ref)

        def detach() -> None:
            if ref in self._listeners:
                self._listeners.remove(ref)

        return detach

    def _live(self) -> list[StoreListener]:
        live = [listener for ref in self._listeners if (listener := ref()) is not None]
        if len(live) < len(self._listeners):
            self._listeners = [ref for ref in self._listeners if ref() is not None]
        return live

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{name}[{index}]={w.used}"
            for name, series in self._series.items()
            for index, w in sorted(series.windows.items())
        )
        return f"InMemoryBudgetStore({inner})"


class OwnedStore(InMemoryBudgetStore):
    """The store a :class:`RateLimiter` makes for itself when given none (not to be shared:
    create an :class:`InMemoryBudgetStore` and give it to every limiter instead)."""

    __slots__ = ()
