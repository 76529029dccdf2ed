"""One rate budget for every process and host: a :class:`BudgetStore` in Redis.

::

    from binance_papi_async import PortfolioMarginClient, RateLimiter, ServerClock
    from binance_papi_async.ratelimit.redis import RedisBudgetStore

    clock = ServerClock()
    async with RedisBudgetStore.from_url("redis://127.0.0.1:6379/0") as store:
        limiter = RateLimiter(store=store, clock=clock)
        async with PortfolioMarginClient(KEY, SECRET, clock=clock, limiter=limiter) as client:
            ...

Needs the ``redis`` extra (``pip install 'binance-papi-async[redis]'``, redis-py's
asyncio client); the rest of the package imports without it.

Scopes
------
The IP weight is counted per *IP scope* (``ip_scope``, default ``"default"``: one
for every process on the Redis; give hosts with different egress IPs different
ones).  The order count is counted per *account scope*: ``account_scope``, or by
default one derived from the API key of the first client that uses the store
(a hash: the key itself never reaches Redis).  Several API keys of one account
must name the same ``account_scope``.  A limiter's explicit account scopes
(``acquire(account=...)``) are used as they are.

Every key of a scope carries the scope as a hash tag (``{papi-rl:ip:default}``):
the scripts touch one slot, so the store works on Redis Cluster.

How a call is admitted
----------------------
The limiter admits calls locally from *leases*: units of one window taken at
once (a 1/32 share of the limit by default, see ``lease_fraction``) by an atomic
Lua script that never lets the units granted in a window pass its limit.  A
weight-1 call pays no Redis round trip; a call larger than the lease (a
3000-weight repay), an urgent call and a call near the end of the budget ask
for exactly what they need.  Normal leases stop at the limit less the urgent
reserve; urgent calls (cancels) may take the reserve, from any process.
Window keys expire a while after their window ends, taking unspent leases with
them.  Units given back (a limiter closing) wake the processes waiting for
budget (pub/sub); a new window wakes them through their own timers.  Headers
that show more than Redis counted (traffic outside the store) raise the shared
count, coalesced: one script per burst, none while Redis already counts as much.
429 pauses and 418 bans are published to every process on the scope.

A take that fails claims its units of the next window: the other processes'
takes there leave them, claims served in the order they were made, so a heavy
call waits at most until the window after the one it asked in (unless earlier
claims fill it), whatever the small calls of the other processes.

When Redis is lost
------------------
Each process heartbeats every ``heartbeat`` seconds (its server time, and the
number of processes it saw on the scope, ``P``).  A process that cannot reach
Redis keeps what it was granted, and falls back to a *share* of every window,
``limit // P`` (``P`` at least 2: never the full limit), in the windows that
start at least ``lapse`` seconds after its last heartbeat and less than
``fallback`` seconds after it.  Every take in such a window, by any process
that still reaches Redis, sets the share aside: a partial partition never
over-admits.  Past ``fallback`` the cut-off process admits nothing until Redis
returns (calls wait, or fail with ``max_wait``).  When Redis answers again the
process counts what it admitted meanwhile in Redis and switches back.  If Redis
lost its data (a restart), the processes restore each other's heartbeats and
take no new leases in the windows that started before (their units there are
gone from Redis): they finish those windows on what they hold.  Each switch is
a WARNING on the ``binance_papi_async.ratelimit`` logger and a
:class:`RedisStoreEvent` to ``on_event``.  A process killed with ``kill -9``
loses its leases until their windows end; its heartbeat lapses, so its share is
set aside in the windows starting within ``fallback`` seconds of its last
heartbeat, and never after.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from ..endpoints._spec import Budget
from ..errors import ConfigurationError
from . import _redis_scripts as scripts
from ._model import ACCOUNT_BUDGETS, WindowKey
from ._stores import Signal, StoreListener

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisBudgetStore", "RedisStoreEvent", "account_scope_of"]

log = logging.getLogger("binance_papi_async.ratelimit")

DEFAULT_PREFIX: Final = "papi-rl"
#: A window's key lives this long past the window's length after its last write.
_TTL_EXTRA_S: Final = 30.0
#: Entries of processes gone this long past their fallback are forgotten.
_PRUNE_EXTRA_S: Final = 2 * 86400.0
_KNOWN_MAX: Final = 1024


def account_scope_of(api_key: str) -> str:
    """The default account scope of an API key: a hash, never the key."""
    digest = hashlib.sha256(b"binance_papi_async/account-scope\x00" + api_key.encode())
    return "k" + digest.hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class RedisStoreEvent:
    """The store switched: ``"unavailable"`` (Redis lost: the fallback share applies),
    ``"restored"`` (Redis answers again), or ``"reset"`` (Redis lost its data)."""

    kind: Literal["unavailable", "restored", "reset"]
    detail: str


class _Tag:
    """The state of one scope (one hash tag) in Redis, as this process knows it."""

    __slots__ = (
        "account",
        "channel",
        "counted",
        "first_h",
        "gen",
        "gen_key",
        "h_acked",
        "h_sent",
        "label",
        "lock",
        "meta",
        "owed",
        "p",
        "p_sent",
        "peers",
        "procs",
        "reset_at",
        "shared",
    )

    def __init__(self, name: str, label: str, account: bool) -> None:
        self.label = label  # the limiter's scope ("" for the IP's budgets and the default account)
        self.account = account
        self.procs = f"{{{name}}}:procs"
        self.meta = f"{{{name}}}:meta"
        self.gen_key = f"{{{name}}}:gen"
        self.channel = f"{{{name}}}:ev"
        self.gen: bytes | None = None  # None: not joined yet
        self.first_h: int | None = None
        self.h_sent = 0  # the latest heartbeat sent (ms of server time): maybe written
        self.h_acked = 0  # the latest heartbeat Redis confirmed
        self.p = 2  # processes seen on the scope (at least 2)
        self.p_sent: tuple[int, int] = (2, 2)  # P of the last two heartbeats sent
        self.counted = False  # every peer has heartbeated since this process joined
        self.peers: list[tuple[bytes, int, bytes]] = []  # (pid, h_ms, meta) at the last reply
        self.reset_at = -math.inf  # server time a reset of Redis was seen
        self.owed: dict[WindowKey, int] = {}  # units counted here, to count in Redis on return
        self.shared: dict[WindowKey, int] = {}  # fallback units granted per window
        self.lock: asyncio.Lock | None = None


_REDIS_ERRORS: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError)


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, *_REDIS_ERRORS)


class RedisBudgetStore:
    """A :class:`~binance_papi_async.ratelimit.BudgetStore` in Redis, shared by processes.

    ``client``: a ``redis.asyncio.Redis`` (see :meth:`from_url`).  ``ip_scope``,
    ``account_scope``: see the module docstring.  ``prefix``: of every key.
    ``heartbeat``, ``lapse``, ``fallback``: seconds (see "When Redis is lost").
    ``clock``: server time (default: the clock of the first limiter attached).
    ``on_event``: called with every :class:`RedisStoreEvent`.  Use from one
    event loop; close with :meth:`aclose` (or ``async with``).
    """

    def __init__(
        self,
        client: Redis,
        *,
        ip_scope: str = "default",
        account_scope: str | None = None,
        prefix: str = DEFAULT_PREFIX,
        heartbeat: float = 1.0,
        lapse: float = 5.0,
        fallback: float = 60.0,
        clock: Any = None,
        on_event: Callable[[RedisStoreEvent], None] | None = None,
    ) -> None:
        for name, value in (("ip_scope", ip_scope), ("prefix", prefix)):
            _check_name(name, value)
        if account_scope is not None:
            _check_name("account_scope", account_scope)
        if not (0 < heartbeat < lapse <= fallback and math.isfinite(fallback)):
            raise ConfigurationError(
                "need 0 < heartbeat < lapse <= fallback (seconds), not "
                f"{heartbeat!r}, {lapse!r}, {fallback!r}"
            )
        self._redis = client
        self._prefix = prefix
        self._ip_scope = ip_scope
        self._account_scope = account_scope
        self._account_explicit = account_scope is not None
        self._heartbeat = float(heartbeat)
        self._lapse_ms = round(lapse * 1000)
        self._hold_ms = round(fallback * 1000)
        self._clock = clock
        self._on_event = on_event
        self._pid = f"{os.getpid()}-{os.urandom(6).hex()}".encode()
        self._tags: dict[str, _Tag] = {}
        self._listeners: list[weakref.ref[StoreListener]] = []
        self._known: dict[str, int] = {}  # window key -> the count Redis is known to hold
        self._pending: dict[WindowKey, int] = {}  # coalesced observes
        self._flush: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed: set[str] = set()
        self._lost = False
        self._closed = False
        self._longest = 60.0
        self._take = client.register_script(scripts.TAKE)
        self._give = client.register_script(scripts.GIVE)
        self._count = client.register_script(scripts.COUNT)
        self._beat = client.register_script(scripts.HEARTBEAT)
        self._leave = client.register_script(scripts.LEAVE)
        self._errors = _redis_errors()
        #: Commands sent to Redis (scripts, pings, publishes), for measurements.
        self.round_trips = 0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 1.0, **kwargs: Any) -> RedisBudgetStore:
        """A store on a new redis-py asyncio client for ``url`` (``redis://host:port/db``).

        ``timeout``: seconds a Redis command may take before the store counts
        Redis as lost.  Other keyword arguments go to :class:`RedisBudgetStore`.
        """
        try:
            from redis.asyncio import Redis
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigurationError(
                "RedisBudgetStore needs redis-py: pip install 'binance-papi-async[redis]'"
            ) from exc
        client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        return cls(client, **kwargs)

    # -- scopes -----------------------------------------------------------------------------------

    @property
    def account_scope(self) -> str | None:
        """The account scope of the default account (None until a key is bound or given)."""
        return self._account_scope

    @property
    def available(self) -> bool:
        """False while Redis is lost (the fallback share applies)."""
        return not self._lost

    def bind_api_key(self, api_key: str) -> None:
        """Derive the default account scope from ``api_key`` (the client does this).

        A second, different key raises :class:`ConfigurationError` unless
        ``account_scope`` was given: keys of one account must name it.
        """
        if self._account_explicit:
            return
        scope = account_scope_of(api_key)
        if self._account_scope is None:
            self._account_scope = scope
        elif self._account_scope != scope:
            raise ConfigurationError(
                "clients with different API keys share this RedisBudgetStore: give it "
                "account_scope= (the same for every key of one account), or use one store per "
                "account"
            )

    def _tag(self, key: WindowKey) -> _Tag:
        if key.budget in ACCOUNT_BUDGETS:
            scope = key.scope or self._account_scope or "default"
            name = f"{self._prefix}:acct:{scope}"
            label, account = key.scope, True
        else:
            name = f"{self._prefix}:ip:{self._ip_scope}"
            label, account = "", False
        tag = self._tags.get(name)
        if tag is None:
            tag = self._tags[name] = _Tag(name, label, account)
        if key.interval_s > self._longest:
            self._longest = key.interval_s
        return tag

    def _wkey(self, tag: _Tag, key: WindowKey) -> str:
        return f"{tag.procs[:-6]}:w:{key.series}:{key.window}"

    def _ckey(self, tag: _Tag, key: WindowKey, later: int) -> str:
        """The claims on the window ``later`` windows after ``key``'s."""
        return f"{tag.procs[:-6]}:c:{key.series}:{key.window + later}"

    def _ttl_ms(self, key: WindowKey) -> int:
        return math.ceil((key.interval_s + _TTL_EXTRA_S + self._hold_ms / 1000) * 1000)

    def _now(self) -> float:
        clock = self._clock
        return float(clock.time()) if clock is not None else time.time()

    # -- the protocol -----------------------------------------------------------------------------

    async def take(self, key: WindowKey, want: int, least: int, limit: int) -> int:
        """Count up to ``want`` units (at least ``least``) within ``limit`` less the shares
        set aside; from the fallback share while Redis is lost."""
        tag = self._tag(key)
        if not self._lost:
            try:
                await self._join(tag)
                if key.start < tag.reset_at + self._lapse_ms / 1000:
                    return 0  # its units before the reset are gone from Redis: hold on
                wkey = self._wkey(tag, key)
                claims = self._ckey(tag, key, 0)
                self.round_trips += 1
                granted, counted = await self._take(
                    keys=[wkey, tag.procs, tag.meta, tag.gen_key, claims, self._ckey(tag, key, 1)],
                    args=[
                        want,
                        least,
                        limit,
                        self._ttl_ms(key),
                        tag.gen or b"",
                        self._pid,
                        round(key.start * 1000),
                        self._lapse_ms,
                        self._hold_ms,
                    ],
                )
            except self._errors as exc:
                self._lose(exc)
            else:
                if granted < 0:
                    await self._on_reset(tag)
                    return 0
                self._note(wkey, int(counted))
                return int(granted)
        return self._share(tag, key, want, least, limit)

    def _share(self, tag: _Tag, key: WindowKey, want: int, least: int, limit: int) -> int:
        """A grant from the fallback share (Redis lost), or 0."""
        start_ms = key.start * 1000
        if (
            not self._lost
            or tag.gen is None
            or not tag.counted
            or start_ms < tag.h_sent + self._lapse_ms
            or start_ms >= tag.h_acked + self._hold_ms
        ):
            return 0
        share = limit // max(tag.p_sent)
        free = share - tag.shared.get(key, 0)
        if free <= 0 or free < least:
            return 0
        granted = min(want, free)
        tag.shared[key] = tag.shared.get(key, 0) + granted
        tag.owed[key] = tag.owed.get(key, 0) + granted
        return granted

    async def give(self, key: WindowKey, amount: int) -> None:
        """Un-count unused units; wakes the limiters waiting here and in other processes."""
        tag = self._tag(key)
        self._wake_local()
        if amount <= 0:
            return
        if self._lost:  # a fallback grant goes back to the share; Redis's stay counted there
            back = min(tag.shared.get(key, 0), amount)
            if back:
                tag.shared[key] -= back
                tag.owed[key] = max(0, tag.owed.get(key, 0) - back)
            return
        wkey = self._wkey(tag, key)
        self._known.pop(wkey, None)
        with contextlib.suppress(*self._errors):
            self.round_trips += 1
            await self._give(
                keys=[wkey], args=[amount, self._ttl_ms(key), tag.channel, b"w" + self._pid]
            )

    async def add(self, key: WindowKey, amount: int) -> None:
        """Count units whatever the limit (kept, and counted in Redis on its return, if lost)."""
        tag = self._tag(key)
        if amount <= 0:
            return
        if not self._lost:
            wkey = self._wkey(tag, key)
            try:
                self.round_trips += 1
                counted = await self._count(keys=[wkey], args=[amount, self._ttl_ms(key), "add"])
            except self._errors as exc:
                self._lose(exc)
            else:
                self._note(wkey, int(counted))
                return
        tag.owed[key] = tag.owed.get(key, 0) + amount

    async def observe(self, key: WindowKey, used: int) -> None:
        """Raise the shared count to at least ``used`` (no round trip when Redis counts as
        much already)."""
        tag = self._tag(key)
        wkey = self._wkey(tag, key)
        if self._lost or used <= self._known.get(wkey, -1):
            return
        try:
            self.round_trips += 1
            counted = await self._count(keys=[wkey], args=[used, self._ttl_ms(key), "max"])
        except self._errors as exc:
            self._lose(exc)
        else:
            self._note(wkey, int(counted))

    def observe_nowait(self, key: WindowKey, used: int) -> None:
        """:meth:`observe` without a coroutine: the counts of a burst of answers go to Redis
        in one round trip, and only those above what Redis is known to count."""
        if self._lost:
            return
        known = self._known.get(self._wkey(self._tag(key), key), -1)
        if used <= known or used <= self._pending.get(key, -1):
            return
        self._pending[key] = used
        if self._flush is None:
            self._flush = asyncio.ensure_future(self._flush_observed())

    async def _flush_observed(self) -> None:
        try:
            await asyncio.sleep(0)  # let the burst of answers in
            while self._pending:
                pending, self._pending = self._pending, {}
                for key, used in pending.items():
                    await self.observe(key, used)
        finally:
            self._flush = None

    async def publish(self, signal: Signal) -> None:
        """Deliver ``signal`` to the limiters of this process and, through Redis, of the others."""
        for listener in self._live():
            listener.on_signal(signal)
        if self._lost:
            log.warning("rate budget store: Redis unreachable; %s not shared", signal.kind)
            return
        if signal.kind == "ban" or signal.budget not in ACCOUNT_BUDGETS:
            key = WindowKey("", 0, Budget.REQUEST_WEIGHT, 60.0, "")
        else:
            key = WindowKey("", 0, Budget.ORDERS, 60.0, signal.scope)
        tag = self._tag(key)
        budget = signal.budget.value if signal.budget else None
        body = json.dumps({"k": signal.kind, "b": budget, "u": signal.until})
        try:
            self.round_trips += 1
            await self._redis.publish(tag.channel, b"s" + self._pid + b"|" + body.encode())
        except self._errors as exc:
            self._lose(exc)

    def attach(self, listener: StoreListener) -> Callable[[], None]:
        """Call ``listener`` back on units given back and on signals (held weakly)."""
        if self._clock is None:
            self._clock = getattr(listener, "clock", None)
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

    def _wake_local(self) -> None:
        for listener in self._live():
            listener.wake()

    def _note(self, wkey: str, counted: int) -> None:
        known = self._known
        if len(known) >= _KNOWN_MAX and wkey not in known:
            known.clear()
        if counted > known.get(wkey, -1):
            known[wkey] = counted

    # -- membership: joining, heartbeats, loss and return -----------------------------------------

    async def _join(self, tag: _Tag) -> None:
        if tag.gen is not None:
            return
        if tag.lock is None:
            tag.lock = asyncio.Lock()
        async with tag.lock:
            if tag.gen is None:
                await self._beat_tag(tag, restore=False)
        self._start()

    def _start(self) -> None:
        if self._tasks or self._closed:
            return
        self._tasks = [
            asyncio.ensure_future(self._heartbeat_loop()),
            asyncio.ensure_future(self._listen_loop()),
        ]

    async def _beat_tag(self, tag: _Tag, *, restore: bool) -> None:
        """One heartbeat of ``tag`` (with the units owed, when returning)."""
        now = self._now()
        h = round(now * 1000)
        tag.h_sent = max(tag.h_sent, h)
        p = tag.p
        tag.p_sent = (tag.p_sent[1], p)
        owed = [(k, n) for k, n in tag.owed.items() if n > 0 and k.end > now - k.interval_s]
        restored: list[bytes | int] = []
        if restore:
            for pid, h_lo, meta in tag.peers:
                if pid != self._pid:
                    p_peer = meta.split(b",")[0] if meta else b"1"
                    restored += [pid, h_lo, p_peer + b"," + str(h).encode()]
        self.round_trips += 1
        reply = await self._beat(
            keys=[tag.procs, tag.meta, tag.gen_key, *(self._wkey(tag, k) for k, _ in owed)],
            args=[
                self._pid,
                h,
                p,
                tag.gen or b"",
                os.urandom(8).hex(),
                h - self._hold_ms,
                h - self._hold_ms - round((self._longest + _PRUNE_EXTRA_S) * 1000),
                math.ceil((self._longest + _TTL_EXTRA_S + self._hold_ms / 1000) * 1000),
                len(restored) // 3,
                *restored,
                *(n for _, n in owed),
            ],
        )
        for k, n in owed:
            tag.owed[k] = tag.owed.get(k, 0) - n
        tag.owed = {k: n for k, n in tag.owed.items() if n > 0}
        tag.shared.clear()
        gen, reset, flat = reply[0], int(reply[1]), reply[2:]
        peers = [
            (bytes(flat[i]), int(float(flat[i + 1])), bytes(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]
        if tag.first_h is None:
            tag.first_h = h
        first = tag.first_h
        tag.gen = bytes(gen)
        tag.h_acked = h
        tag.peers = peers
        tag.p = max(2, len(peers))
        tag.counted = all(pid == self._pid or h_peer >= first for pid, h_peer, _ in peers)
        if reset and not restore:
            await self._on_reset(tag)

    async def _on_reset(self, tag: _Tag) -> None:
        """Redis lost its data: restore the peers this process saw, hold on in the windows
        that started before (their units are gone from Redis)."""
        tag.reset_at = self._now()
        self._known.clear()
        tag.gen = tag.gen or b"?"  # a stale one: the heartbeat below sees the reset
        await self._beat_tag(tag, restore=True)
        self._event("reset", f"Redis lost its counts; leases resume {self._lapse_ms} ms from now")
        self._wake_local()

    def _lose(self, exc: BaseException) -> None:
        if self._lost or self._closed:
            return
        self._lost = True
        self._known.clear()
        shares = ", ".join(f"{t.procs[1:-7]}: 1/{max(t.p_sent)}" for t in self._tags.values())
        self._event(
            "unavailable",
            f"Redis unreachable ({type(exc).__name__}: {exc}); fallback share per window: "
            f"{shares or 'none'}",
        )
        self._start()

    async def _return(self) -> None:
        """Redis answers again: count what was admitted meanwhile, and switch back."""
        self.round_trips += 1
        await self._redis.ping()
        for tag in list(self._tags.values()):
            if tag.gen is not None:
                await self._beat_tag(tag, restore=False)
        self._lost = False
        self._event("restored", "Redis answers again; leases from Redis")
        self._wake_local()

    async def _heartbeat_loop(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._heartbeat)
            try:
                if self._lost:
                    await self._return()
                    continue
                for tag in list(self._tags.values()):
                    if tag.gen is not None:
                        await self._beat_tag(tag, restore=False)
            except self._errors as exc:
                self._lose(exc)
            except Exception:  # pragma: no cover - a bug: keep beating, say so
                log.exception("rate budget store heartbeat failed")

    async def _listen_loop(self) -> None:
        """Wake-ups and signals of the other processes (pub/sub), resubscribing after a loss."""
        while not self._closed:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            self._subscribed = set()
            try:
                while not self._closed:
                    wanted = {t.channel for t in self._tags.values() if t.gen is not None}
                    if wanted - self._subscribed:
                        await pubsub.subscribe(*(wanted - self._subscribed))
                        self._subscribed |= wanted
                    if not self._subscribed:
                        await asyncio.sleep(self._heartbeat)
                        continue
                    message = await pubsub.get_message(timeout=self._heartbeat)
                    if message is not None:
                        self._on_message(message)
            except self._errors:
                await asyncio.sleep(self._heartbeat)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _on_message(self, message: dict[str, Any]) -> None:
        data = message.get("data")
        channel = message.get("channel")
        if not isinstance(data, bytes) or not isinstance(channel, bytes):
            return
        kind, rest = data[:1], data[1:]
        if kind == b"w":
            if rest != self._pid:
                self._known.clear()
                self._wake_local()
            return
        sender, _, body = rest.partition(b"|")
        if kind != b"s" or sender == self._pid:
            return
        tag = next((t for t in self._tags.values() if t.channel.encode() == channel), None)
        try:
            fields = json.loads(body)
            budget = Budget(fields["b"]) if fields["b"] is not None else None
            signal = Signal(fields["k"], budget, tag.label if tag else "", float(fields["u"]))
        except (ValueError, KeyError, TypeError):
            log.warning("rate budget store: ignored a malformed signal from Redis")
            return
        for listener in self._live():
            listener.on_signal(signal)

    def _event(self, kind: Literal["unavailable", "restored", "reset"], detail: str) -> None:
        log.warning("rate budget store: %s", detail)
        if self._on_event is not None:
            try:
                self._on_event(RedisStoreEvent(kind, detail))
            except Exception:
                log.exception("rate budget store: on_event raised")

    # -- lifecycle --------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Leave the scopes (this process admits nothing more), stop, close the client."""
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        if self._flush is not None:
            with contextlib.suppress(BaseException):
                await self._flush
        if not self._lost:
            for tag in self._tags.values():
                if tag.gen is not None:
                    with contextlib.suppress(*self._errors):
                        await self._leave(keys=[tag.procs, tag.meta], args=[self._pid])
        with contextlib.suppress(*self._errors):
            await self._redis.aclose()

    async def __aenter__(self) -> RedisBudgetStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "lost" if self._lost else "connected"
        return f"<RedisBudgetStore ip_scope={self._ip_scope!r} {state}>"


def _check_name(name: str, value: object) -> None:
    if not isinstance(value, str) or not value or any(c in value for c in "{}\r\n "):
        raise ConfigurationError(f"{name} must be a non-empty str without braces, not {value!r}")
