"""The Portfolio Margin user data stream: listen-key lifecycle, reconnects, typed events.

::

    async with UserStream(client) as stream:
        async for event in stream:
            if isinstance(event, (StreamReconnected, StreamOverflow)):
                ...  # resync from REST: events may have been missed
            elif isinstance(event, LiabilityChange):
                ...

What :class:`UserStream` does for you:

* **Listen key.** ``POST /papi/v1/listenKey`` before every connection (it returns the
  account's active key, or a new one), ``PUT`` every ``keepalive_interval`` seconds
  (default 30 minutes, well inside the 60-minute validity; a failed PUT is retried
  after ``keepalive_retry`` seconds), ``DELETE`` on close (``delete_key_on_close``).
  A -1125 on ``PUT`` or a ``listenKeyExpired`` event makes it reconnect with a fresh
  key.  The key never appears in logs, reprs or exception messages (masked).
* **Connection.** aiohttp's WebSocket client on the client's own session, to
  ``wss://fstream.binance.com/pm/ws/<listenKey>`` (``ws://<host:port>/pm/ws/<key>`` for
  a loopback ``base_url``: the simulator).  Server pings are answered (aiohttp
  autoping); the stream pings the server every ``heartbeat`` seconds and treats a
  missing pong within ``heartbeat / 2`` as a dead connection.  Connections are renewed
  ``max_connection_age`` seconds after they open (default 23.5 h, before Binance's
  24-hour cut).
* **Reconnects** with jittered exponential backoff (``reconnect_delay`` doubling up to
  ``max_reconnect_delay``, each delay drawn from [50 %, 100 %]).  The backoff counts
  *consecutive failures*: a failed attempt (``POST`` or WebSocket handshake) and a
  *short-lived connection*, one that ended before it had stayed open ``stable_after``
  seconds (default ``max(5, heartbeat)``, real time), are failures; a connection that
  stayed open that long resets the count.  So a lost healthy connection is replaced at
  once, but a server that accepts the socket and closes it again gets a growing pause
  before each new ``POST`` and connection, never a loop.  Planned (24-hour) and
  listen-key reconnects are immediate, unless they follow another short-lived
  connection.  ``max_reconnect_attempts`` (default ``None``: forever) bounds the
  consecutive failures; when reached, the stream ends with :class:`UserStreamError`.
  Errors that retrying cannot fix (bad API key, other 4xx answers to ``POST``, a closed
  client) end it at once.
* **No silent gaps.** After every connection, the first one included, the stream
  yields a :class:`StreamReconnected` marker before any event of that connection
  (``lost_at=None`` and ``reason="connect"`` the first time).  The optional
  ``on_reconnect(client)`` hook starts as soon as the socket is open (events are
  buffered meanwhile) and has finished when the marker is yielded; use it for REST
  snapshots (balances, open orders).
* **Bounded buffer.** At most ``max_queue`` events wait for the consumer (markers do not
  count: they never cause an overflow, and an overflow always drops events).  On overflow,
  ``overflow="resync"`` (default) drops the buffered events and puts a
  :class:`StreamOverflow` marker (with the count) in their place, followed by newer
  events: resync from REST.  ``overflow="raise"`` makes iteration raise
  :class:`StreamOverflowError` instead (the stream stops).  Nothing is ever dropped
  without one of the two.  A :class:`StreamReconnected` marker is never dropped: the
  buffered ones stay, in order, ahead of the :class:`StreamOverflow` (or the error).

Timers (keepalive, planned reconnect) run on the client's :class:`~binance_papi_async.Clock`
(or ``clock=``), so a :class:`~binance_papi_async.FakeClock` drives them in tests.
Backoff delays, ``stable_after`` and the heartbeat use real time.  Closing (or cancelling
the task in ``async with``) stops every background task, closes the socket and deletes
the key; that cleanup runs in a task of its own, so it completes even if ``aclose()`` is
cancelled (or called from the ``on_reconnect`` hook), and ``aclose()`` returns once it
is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import orjson
from yarl import URL

from ._decode import ms_to_datetime
from ._http.url import is_loopback
from .clock import Clock, TimerHandle
from .endpoints.user_stream import (
    CLOSE_USER_DATA_STREAM,
    KEEPALIVE_USER_DATA_STREAM,
    START_USER_DATA_STREAM,
)
from .errors import (
    APIStatusError,
    BinancePapiError,
    ClientClosedError,
    ConfigurationError,
    ExecutionStatusUnknown,
    IPBannedError,
    RateLimitError,
    ServerError,
)
from .signing import mask_key
from .stream_events import (
    StreamItem,
    StreamOverflow,
    StreamOverflowError,
    StreamReconnected,
    UnknownEvent,
    UserStreamError,
    parse_event,
)

if TYPE_CHECKING:  # pragma: no cover
    from .client import PortfolioMarginClient

__all__ = ["DEFAULT_STREAM_URL", "OverflowPolicy", "ReconnectHook", "UserStream"]

log = logging.getLogger("binance_papi_async.stream")

#: The Portfolio Margin stream base; connections go to ``<base>/ws/<listenKey>``.
DEFAULT_STREAM_URL = "wss://fstream.binance.com/pm"

OverflowPolicy = Literal["resync", "raise"]
ReconnectHook = Callable[["PortfolioMarginClient"], Awaitable[None]]

_INVALID_LISTEN_KEY = -1125
_MARKERS = (StreamReconnected, StreamOverflow)
#: Reasons that reconnect at once (unless the connection was short-lived and followed
#: another failure): the connection itself was fine.
_IMMEDIATE = frozenset({"planned", "listen_key_expired", "listen_key_invalid"})
_ENDED = frozenset(
    {
        aiohttp.WSMsgType.ERROR,
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSING,
        aiohttp.WSMsgType.CLOSED,
    }
)


def stream_base_url(base_url: str) -> str:
    """The stream base for a client ``base_url``: Binance's for any real host, the same
    host and port over ``ws://`` for a loopback one (the simulator)."""
    url = URL(base_url)
    if url.scheme == "http" and is_loopback(url.host):
        return f"ws://{url.raw_authority}/pm"
    return DEFAULT_STREAM_URL


class UserStream:
    """The user data stream of the client's account, as an async iterator of typed events.

    Use ``async with UserStream(client) as stream: async for item in stream: ...``
    (see the module documentation for the policies).  Arguments:

    * ``keepalive_interval`` (s, default 1800): time between ``PUT`` keepalives;
      ``keepalive_retry`` (default 60) after a failed one;
    * ``heartbeat`` (s, default 30; ``None`` disables): ping interval; a pong must
      arrive within half of it;
    * ``max_queue`` (default 10000 events; markers do not count) and ``overflow``
      (``"resync"`` or ``"raise"``);
    * ``reconnect_delay`` (default 0.5 s), ``max_reconnect_delay`` (30 s) and
      ``max_reconnect_attempts`` (``None``: retry forever) for reconnects;
    * ``stable_after`` (s, default ``max(5, heartbeat)``): how long a connection must
      stay open to count as healthy (a shorter one is a failure: backoff follows);
    * ``max_connection_age`` (s, default 84600 = 23.5 h): planned reconnect;
    * ``on_reconnect``: ``async def hook(client) -> None`` run on every connection;
    * ``stream_url``: stream base such as ``"wss://fstream.binance.com/pm"`` (the key
      is appended as ``/ws/<listenKey>``); derived from the client's base URL if omitted;
    * ``clock``: the clock of the timers (default: the client's);
    * ``delete_key_on_close`` (default ``True``): ``DELETE`` the key on close.  Turn it
      off when another process shares the account's key (papi has one per account).
    """

    def __init__(
        self,
        client: PortfolioMarginClient,
        *,
        keepalive_interval: float = 1800.0,
        keepalive_retry: float = 60.0,
        heartbeat: float | None = 30.0,
        max_queue: int = 10_000,
        overflow: OverflowPolicy = "resync",
        reconnect_delay: float = 0.5,
        max_reconnect_delay: float = 30.0,
        max_reconnect_attempts: int | None = None,
        stable_after: float | None = None,
        max_connection_age: float = 23.5 * 3600,
        on_reconnect: ReconnectHook | None = None,
        stream_url: str | None = None,
        clock: Clock | None = None,
        delete_key_on_close: bool = True,
    ) -> None:
        if not keepalive_interval > 0 or not keepalive_retry > 0:
            raise ConfigurationError("keepalive_interval and keepalive_retry must be > 0")
        if heartbeat is not None and not heartbeat > 0:
            raise ConfigurationError("heartbeat must be > 0 seconds or None")
        if max_queue < 1:
            raise ConfigurationError("max_queue must be >= 1")
        if overflow not in ("resync", "raise"):
            raise ConfigurationError("overflow must be 'resync' or 'raise'")
        if not (0 < reconnect_delay <= max_reconnect_delay):
            # 0 would turn the backoff off: a server dropping every connection at once
            # would then be hammered with listen-key POSTs and reconnects.
            raise ConfigurationError("need 0 < reconnect_delay <= max_reconnect_delay")
        if max_reconnect_attempts is not None and max_reconnect_attempts < 1:
            raise ConfigurationError("max_reconnect_attempts must be >= 1 or None")
        if stable_after is not None and not stable_after >= 0:
            raise ConfigurationError("stable_after must be >= 0 seconds or None")
        if not max_connection_age > 0:
            raise ConfigurationError("max_connection_age must be > 0")
        if stream_url is not None:
            scheme = URL(stream_url).scheme
            if scheme not in ("ws", "wss"):
                raise ConfigurationError("stream_url must be a ws:// or wss:// URL")
        self._client = client
        self.keepalive_interval = float(keepalive_interval)
        self.keepalive_retry = float(keepalive_retry)
        self.heartbeat = heartbeat
        self.max_queue = max_queue
        self.overflow: OverflowPolicy = overflow
        self.reconnect_delay = float(reconnect_delay)
        self.max_reconnect_delay = float(max_reconnect_delay)
        self.max_reconnect_attempts = max_reconnect_attempts
        self.stable_after = (
            float(stable_after) if stable_after is not None else max(5.0, heartbeat or 0.0)
        )
        self.max_connection_age = float(max_connection_age)
        self.on_reconnect = on_reconnect
        self.delete_key_on_close = delete_key_on_close
        self._stream_base = (
            stream_url.rstrip("/") if stream_url is not None else stream_base_url(client.base_url)
        )
        self._clock: Clock = clock if clock is not None else client.clock
        self._listen_key: str | None = None
        self._ws: aiohttp.ClientWebSocketResponse[bool] | None = None
        self._queue: deque[StreamItem] = deque()
        self._queued_events = 0  # items of _queue that are events (markers do not count)
        self._ready = asyncio.Event()
        self._hooks: dict[int, asyncio.Task[str | None]] = {}  # id(marker) -> hook task
        self._tasks: set[asyncio.Task[Any]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._key_requested = False  # a POST may have created a key: DELETE it on close
        self._failures = 0  # consecutive failed attempts and short-lived connections
        self._opened_at = 0.0  # loop time the current connection opened
        self._interrupt: asyncio.Future[str] | None = None
        self._timers: list[TimerHandle] = []
        self._keepalive_timer: TimerHandle | None = None
        self._failure: BaseException | None = None
        self._state: Literal["new", "connected", "reconnecting", "closing", "closed"] = "new"
        self._reconnects = 0
        self._connects = 0
        self._dropped = 0
        self._received = 0
        self._last_keepalive: float | None = None

    # -- public state ------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """``new``, ``connected``, ``reconnecting``, ``closing`` or ``closed``."""
        return self._state

    @property
    def reconnects(self) -> int:
        """How many times the stream has reconnected."""
        return self._reconnects

    @property
    def queued(self) -> int:
        """Items waiting for the consumer."""
        return len(self._queue)

    @property
    def received(self) -> int:
        """Events received from the server since the stream started."""
        return self._received

    @property
    def dropped(self) -> int:
        """Events dropped by overflows since the stream started (each one signalled)."""
        return self._dropped

    @property
    def last_keepalive(self) -> float | None:
        """Clock time of the last successful ``PUT`` keepalive (``None`` before the first)."""
        return self._last_keepalive

    def __repr__(self) -> str:
        key = mask_key(self._listen_key) if self._listen_key is not None else None
        return (
            f"UserStream(state={self._state}, listen_key={key!r}, stream={self._stream_base!r}, "
            f"reconnects={self._reconnects}, queued={len(self._queue)})"
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Create a listen key, open the first connection and start the background work.

        Raises :class:`UserStreamError` (or the REST error) if that fails for good.
        """
        if self._state != "new":
            raise UserStreamError("a UserStream can be started only once")
        self._state = "reconnecting"
        try:
            await self._connect(lost_at=None, reason="connect")
        except BaseException:
            await self.aclose()
            raise
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name="papi-user-stream"
        )

    async def aclose(self) -> None:
        """Stop: cancel background tasks and timers, close the socket, delete the key.

        The cleanup runs in a task of its own: cancelling ``aclose()`` does not stop it
        (the socket is still closed and the key deleted), and calling ``aclose()`` again
        waits for it, or redoes a cleanup that was itself interrupted.  It may be called
        from the ``on_reconnect`` hook (the calling task is not cancelled).  Idempotent;
        items still buffered can be read afterwards, then iteration ends.
        """
        if self._state == "closed":
            return
        self._state = "closing"
        self._ready.set()  # a waiting consumer sees the end of the stream
        closer = self._closer
        if closer is None or closer.done():
            closer = self._closer = asyncio.get_running_loop().create_task(
                self._shutdown(asyncio.current_task()), name="papi-user-stream-close"
            )
        await asyncio.shield(closer)

    async def _shutdown(self, caller: asyncio.Task[Any] | None) -> None:
        """The cleanup of :meth:`aclose`; ``caller`` (the task closing) is not cancelled."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._keepalive_timer is not None:
            self._keepalive_timer.cancel()
            self._keepalive_timer = None
        tasks = [
            t
            for t in (self._supervisor, *self._tasks, *self._hooks.values())
            if t is not None and t is not caller and not t.done()
        ]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)  # never raises the tasks' exceptions
            for task in tasks:
                if not task.cancelled():
                    task.exception()  # retrieved: failures were logged where they happened
        await self._close_ws()
        # A POST cancelled in flight may have created a key: papi's DELETE needs none.
        if self.delete_key_on_close and (self._listen_key is not None or self._key_requested):
            try:
                await self._client.request(CLOSE_USER_DATA_STREAM)
            except BinancePapiError as exc:
                log.warning("could not delete the listen key: %s", type(exc).__name__)
        self._listen_key = None
        self._key_requested = False
        self._state = "closed"
        self._ready.set()

    async def __aenter__(self) -> UserStream:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- iteration ---------------------------------------------------------------------------

    def __aiter__(self) -> UserStream:
        return self

    async def __anext__(self) -> StreamItem:
        while True:
            queue = self._queue
            if queue:
                head = queue[0]
                hook = self._hooks.get(id(head))
                if hook is not None:
                    # The snapshot hook runs while events are buffered behind its marker.
                    await asyncio.wait({hook})
                    self._hooks.pop(id(head), None)
                    if queue and queue[0] is head:
                        queue[0] = head = self._with_hook_result(head, hook)
                    continue
                item = queue.popleft()
                if not isinstance(item, _MARKERS):
                    self._queued_events -= 1
                return item
            if self._failure is not None:
                raise self._failure
            if self._state in ("closing", "closed"):
                raise StopAsyncIteration
            if self._state == "new":
                raise UserStreamError("start the stream first: 'async with UserStream(...)'")
            self._ready.clear()
            await self._ready.wait()

    @staticmethod
    def _with_hook_result(marker: StreamItem, hook: asyncio.Task[str | None]) -> StreamItem:
        if not isinstance(marker, StreamReconnected) or hook.cancelled():
            return marker
        error = hook.result()  # _run_hook never raises
        if error is None:
            return marker
        return StreamReconnected(
            lost_at=marker.lost_at,
            connected_at=marker.connected_at,
            reason=marker.reason,
            reconnects=marker.reconnects,
            hook_error=error,
        )

    def _put(self, item: StreamItem) -> None:
        if self._failure is not None:
            return
        is_event = not isinstance(item, _MARKERS)
        # Only events count toward max_queue: a marker never makes room by dropping events,
        # and an overflow always drops (and reports) at least one event.
        if is_event and self._queued_events >= self.max_queue and not self._overflow():
            return
        self._queue.append(item)
        if is_event:
            self._queued_events += 1
        self._ready.set()

    def _overflow(self) -> bool:
        """Drop the buffered events, keeping every :class:`StreamReconnected` (and its hook)
        in order; then one :class:`StreamOverflow` for all events dropped (absorbing an
        earlier one), or, for ``overflow="raise"``, fail the stream (False)."""
        earlier = [x for x in self._queue if isinstance(x, StreamOverflow)]
        kept = [x for x in self._queue if isinstance(x, StreamReconnected)]
        dropped, self._queued_events = self._queued_events, 0
        self._dropped += dropped
        self._queue.clear()
        self._queue.extend(kept)
        log.warning(
            "user stream consumer is behind: %d buffered event(s) dropped (policy %s)",
            dropped,
            self.overflow,
        )
        if self.overflow == "raise":
            self._fail(StreamOverflowError(self._dropped))
            return False
        lost_at = earlier[0].lost_at if earlier else self._now()
        dropped += sum(x.dropped for x in earlier)
        self._queue.append(StreamOverflow(dropped=dropped, lost_at=lost_at))
        return True

    def _fail(self, exc: BaseException) -> None:
        if self._failure is None:
            self._failure = exc
        interrupt = self._interrupt
        if interrupt is not None and not interrupt.done():
            interrupt.set_result("failed")
        self._ready.set()

    # -- connections -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return ms_to_datetime(self._clock.now_ms())

    def _url(self, key: str) -> str:
        return f"{self._stream_base}/ws/{key}"

    def _backoff(self, attempt: int) -> float:
        delay = min(self.max_reconnect_delay, self.reconnect_delay * 2 ** (attempt - 1))
        return float(delay * (0.5 + 0.5 * random.random()))

    async def _connect(self, *, lost_at: datetime | None, reason: str) -> None:
        """POST a key and open a socket (retrying with backoff), then queue the marker.

        Each failed attempt adds to the consecutive failures (``self._failures``); the
        count is reset only once a connection has proved stable (see :meth:`_supervise`).
        Errors are raised outside ``except`` blocks: aiohttp's exceptions carry the URL,
        hence the key, and must not stay reachable through ``__context__``.
        """
        while True:
            error: BaseException | None = None
            delay = 0.0
            try:
                await self._new_key()
                ws = await self._open()
                break
            except Exception as exc:
                if self._fatal(exc):
                    error = (
                        exc
                        if isinstance(exc, UserStreamError)
                        else UserStreamError(
                            f"user data stream cannot connect: {self._describe(exc)}"
                        )
                    )
                    if error is not exc:
                        error.__cause__ = exc  # a REST error: its message has no key
                else:
                    self._failures += 1
                    failure = self._describe(exc)
                    error = self._give_up(failure)
                    if error is None:
                        delay = self._backoff(self._failures)
                        log.warning(
                            "user stream connection attempt failed (%s); %d failure(s) in a "
                            "row, retrying in %.2f s",
                            failure,
                            self._failures,
                            delay,
                        )
            if error is not None:
                raise error
            await asyncio.sleep(delay)
        self._ws = ws
        self._opened_at = asyncio.get_running_loop().time()
        self._interrupt = asyncio.get_running_loop().create_future()
        self._state = "connected"
        now = self._clock.time()
        connected_at = self._now()
        marker = StreamReconnected(
            lost_at=lost_at, connected_at=connected_at, reason=reason, reconnects=self._reconnects
        )
        log.info(
            "user stream connected to %s (listen key %s, reason %s)",
            self._stream_base,
            mask_key(self._listen_key or ""),
            reason,
        )
        for timer in self._timers:
            timer.cancel()
        self._timers = [self._clock.call_at(now + self.max_connection_age, self._planned_reconnect)]
        self._schedule_keepalive(now + self.keepalive_interval)
        self._put(marker)
        if self.on_reconnect is not None and self._queue and self._queue[-1] is marker:
            hook = asyncio.get_running_loop().create_task(
                self._run_hook(self.on_reconnect), name="papi-user-stream-hook"
            )
            self._hooks[id(marker)] = hook

    def _give_up(self, failure: str) -> UserStreamError | None:
        """The error ending the stream if ``max_reconnect_attempts`` failures were reached."""
        limit = self.max_reconnect_attempts
        if limit is None or self._failures < limit:
            return None
        return UserStreamError(
            f"user data stream: {self._failures} connection attempt(s) failed in a row, "
            f"last: {failure}"
        )

    async def _new_key(self) -> None:
        """``POST`` a listen key into ``self._listen_key`` (no local keeps it)."""
        requested_before = self._key_requested
        self._key_requested = True  # from now on, close sends a DELETE even if cancelled
        try:
            data = await self._client.request(START_USER_DATA_STREAM)
        except BinancePapiError as exc:
            # An error answer (a bad API key...) or nothing sent: no key to DELETE on close.
            if not isinstance(exc, ExecutionStatusUnknown) and not getattr(exc, "sent", False):
                self._key_requested = requested_before
            raise
        key = data.get("listenKey") if isinstance(data, dict) else None
        if not isinstance(key, str) or not key:
            raise UserStreamError("POST /papi/v1/listenKey returned no listenKey")
        self._listen_key = key

    async def _run_hook(self, hook: ReconnectHook) -> str | None:
        """Run the hook; its error as text (logged), ``None`` on success."""
        try:
            await hook(self._client)
        except Exception as exc:
            log.exception("user stream on_reconnect hook failed")
            return f"{type(exc).__name__}: {exc}"
        return None

    async def _open(self) -> aiohttp.ClientWebSocketResponse[bool]:
        """Open the socket for ``self._listen_key``.

        aiohttp's errors carry the URL (the key): they are replaced by our own, raised
        outside the ``except`` block so that they are not even their ``__context__``;
        anything else (a cancellation) leaves aiohttp's frames, whose locals hold it, behind.
        """
        session = self._client._transport.ensure_session()
        error: UserStreamError
        try:
            return await session.ws_connect(
                self._url(self._listen_key or ""),
                autoping=True,
                heartbeat=self.heartbeat,
                proxy=self._client._transport.proxy,
            )
        except aiohttp.WSServerHandshakeError as exc:
            error = _HandshakeError(exc.status)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            error = _SocketError(type(exc).__name__)
        except BaseException as exc:
            raise exc.with_traceback(None) from None
        raise error

    @staticmethod
    def _fatal(exc: BaseException) -> bool:
        if isinstance(exc, _HandshakeError | _SocketError):
            return False  # a refused or broken socket: a new key and a new attempt may do
        if isinstance(exc, ClientClosedError | ConfigurationError | UserStreamError):
            return True
        if isinstance(exc, RateLimitError | IPBannedError | ServerError):
            return False
        return isinstance(exc, APIStatusError) and 400 <= exc.status < 500

    @staticmethod
    def _describe(exc: BaseException) -> str:
        if isinstance(exc, APIStatusError):
            return f"{type(exc).__name__} HTTP {exc.status} code {exc.code}"
        if isinstance(exc, UserStreamError | ConfigurationError | ClientClosedError):
            return f"{type(exc).__name__}: {exc}"  # our own messages: no URL, no key
        return type(exc).__name__  # never str(exc) of others: it could carry the URL

    async def _close_ws(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2.0)

    async def _supervise(self) -> None:
        """Read the current connection until it ends; reconnect; forever.

        A connection that stayed open ``stable_after`` seconds resets the consecutive
        failures; a shorter one is a failure: backoff before the next attempt (skipped
        for a planned or listen-key reconnect that is the first failure in a row), and
        ``max_reconnect_attempts`` applies.
        """
        loop = asyncio.get_running_loop()
        try:
            while True:
                ws, interrupt = self._ws, self._interrupt
                assert ws is not None and interrupt is not None
                reader = loop.create_task(self._read(ws), name="papi-user-stream-reader")
                try:
                    await asyncio.wait({reader, interrupt}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    if not reader.done():
                        reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
                if interrupt.done():
                    reason = interrupt.result()
                else:
                    try:
                        reason = reader.result()
                    except Exception as exc:  # a broken read is a lost connection
                        log.warning("user stream read failed: %s", self._describe(exc))
                        reason = "closed"
                if not interrupt.done():
                    interrupt.cancel()
                if reason == "failed":
                    await self._close_ws()
                    return
                lost_at = self._now()
                lived = loop.time() - self._opened_at
                self._state = "reconnecting"
                await self._close_ws()
                delay = 0.0
                if lived >= self.stable_after:
                    self._failures = 0
                else:
                    self._failures += 1
                    error = self._give_up(f"connection {reason} after {lived:.2f} s")
                    if error is not None:
                        raise error
                    if reason not in _IMMEDIATE or self._failures > 1:
                        delay = self._backoff(self._failures)
                log.warning(
                    "user stream connection lost (%s) after %.2f s; %d failure(s) in a row, "
                    "reconnecting in %.2f s",
                    reason,
                    lived,
                    self._failures,
                    delay,
                )
                if delay > 0:
                    await asyncio.sleep(delay)
                self._reconnects += 1
                await self._connect(lost_at=lost_at, reason=reason)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("user data stream stopped: %s", self._describe(exc))
            self._fail(
                exc
                if isinstance(exc, UserStreamError)
                else UserStreamError(f"user data stream stopped: {self._describe(exc)}")
            )

    async def _read(self, ws: aiohttp.ClientWebSocketResponse[bool]) -> str:
        """Queue every event of ``ws``; return why the connection ended."""
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                try:
                    data = orjson.loads(msg.data)
                except orjson.JSONDecodeError:
                    log.warning("user stream: a frame that is not JSON was ignored")
                    continue
                if not isinstance(data, dict):
                    continue
                if "data" in data and "stream" in data and isinstance(data["data"], dict):
                    data = data["data"]  # combined-stream envelope (/pm/stream)
                elif "e" not in data and "id" in data:
                    continue  # a SUBSCRIBE-style answer, not an event
                # Decided on the raw frame: a listenKeyExpired that fails to parse (an
                # UnknownEvent) must still renew the key.
                expired = data.get("e") == "listenKeyExpired"
                event = parse_event(data)
                self._received += 1
                self._put(event)
                if isinstance(event, UnknownEvent):
                    log.debug("user stream: event of unknown type %r", event.event_type)
                if expired:
                    other = data.get("listenKey")
                    if isinstance(other, str) and other and other != self._listen_key:
                        log.info("user stream: listenKeyExpired for another key ignored")
                        continue
                    return "listen_key_expired"
            elif msg.type in _ENDED:
                exc = ws.exception()
                return "heartbeat" if isinstance(exc, aiohttp.ServerTimeoutError) else "closed"

    def _request_reconnect(self, reason: str) -> None:
        interrupt = self._interrupt
        if interrupt is not None and not interrupt.done():
            interrupt.set_result(reason)

    def _planned_reconnect(self) -> None:
        if self._state == "connected":
            log.info("user stream: planned reconnect before the 24-hour limit")
            self._request_reconnect("planned")

    # -- keepalive ---------------------------------------------------------------------------

    def _schedule_keepalive(self, when: float) -> None:
        if self._keepalive_timer is not None:
            self._keepalive_timer.cancel()
        self._keepalive_timer = self._clock.call_at(when, self._keepalive_due)

    def _keepalive_due(self) -> None:
        self._keepalive_timer = None
        if self._state in ("closing", "closed"):
            return
        task = asyncio.get_running_loop().create_task(
            self._keepalive(), name="papi-user-stream-keepalive"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _keepalive(self) -> None:
        try:
            await self._client.request(KEEPALIVE_USER_DATA_STREAM)
        except APIStatusError as exc:
            if exc.code == _INVALID_LISTEN_KEY:
                log.warning("user stream: listen key no longer valid (-1125); renewing")
                self._request_reconnect("listen_key_invalid")
                return  # the new connection schedules the next keepalive
            self._keepalive_failed(exc)
            return
        except BinancePapiError as exc:
            self._keepalive_failed(exc)
            return
        self._last_keepalive = self._clock.time()
        log.debug("user stream: listen key kept alive")
        if self._state not in ("closing", "closed"):
            self._schedule_keepalive(self._clock.time() + self.keepalive_interval)

    def _keepalive_failed(self, exc: BinancePapiError) -> None:
        log.warning(
            "user stream keepalive failed (%s); retrying in %.0f s",
            self._describe(exc),
            self.keepalive_retry,
        )
        if self._state not in ("closing", "closed"):
            self._schedule_keepalive(self._clock.time() + self.keepalive_retry)


class _HandshakeError(UserStreamError):
    """The WebSocket handshake was refused (status only: the URL carries the key)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"WebSocket handshake refused with HTTP {status}")
        self.status = status


class _SocketError(UserStreamError):
    """The WebSocket connection could not be opened."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"WebSocket connection failed ({kind})")
