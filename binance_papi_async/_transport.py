"""The one path every request takes: limit, timestamp, sign, send, decode, classify, retry.

It owns (or borrows) the aiohttp ``ClientSession``.  The hot path builds the
exact query string once, signs those bytes, and hands aiohttp an already
encoded ``yarl.URL`` so nothing is re-encoded behind the signature's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from math import ceil as _ceil
from operator import methodcaller
from typing import TYPE_CHECKING, Any, TypeVar, overload

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import _constants as C
from ._decode import shape_problem
from .clock import Clock, ServerClock, TimeSync, estimate_offset
from .endpoints import SERVER_TIME, Budget, Charge, EndpointSpec
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BinancePapiError,
    ClientClosedError,
    ConfigurationError,
    ExecutionStatusUnknown,
    IPBannedError,
    RateLimitError,
    RateLimitWaitTimeout,
    ServerError,
    TimestampError,
    UnexpectedResponseError,
    from_response,
)
from .events import (
    ClockResynced,
    Event,
    EventHook,
    LimiterWait,
    OutcomeUnknown,
    RequestEnd,
    RequestStart,
    RetryScheduled,
)
from .retry import NO_RETRY, TRANSIENT_CODES, RetryPolicy
from .signing import HmacSigner, Signer, encode_params, encode_signature

if TYPE_CHECKING:  # pragma: no cover
    from .ratelimit import RateLimiter, Reservation

__all__ = ["Timeouts", "Transport"]

log = logging.getLogger("binance_papi_async")
_DEBUG = logging.DEBUG


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Request timeouts in seconds.

    ``total`` bounds one attempt from taking a pooled connection to the last byte
    of the response (and a user stream's handshake); ``connect`` bounds getting a
    connection (pool wait, DNS, TCP and TLS).  A request that hits ``connect`` was
    never sent; one that hits ``total`` may have been (and, for a write, raises
    :class:`~binance_papi_async.ExecutionStatusUnknown`).  For the client's REST calls
    ``total`` is enforced by the client, not by aiohttp, and fires at most 10 ms late.
    """

    total: float = C.DEFAULT_TOTAL_TIMEOUT_S
    connect: float = C.DEFAULT_CONNECT_TIMEOUT_S

    def __post_init__(self) -> None:
        if not (self.total > 0 and self.connect > 0):
            raise ConfigurationError(f"timeouts must be > 0, got {self}")

    def to_aiohttp(self) -> aiohttp.ClientTimeout:
        """These timeouts for aiohttp (the owned session's defaults, e.g. for requests of
        your own through ``client.session``).  The client's calls pass aiohttp ``connect``
        only and enforce ``total`` themselves (see ``_Deadlines`` in ``_transport``)."""
        return aiohttp.ClientTimeout(total=self.total, connect=self.connect)

    def _connect_only(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=None, connect=self.connect)


def mask_key(key: str) -> str:
    """``abcd...wxyz`` for a long key, ``****`` otherwise."""
    return f"{key[:4]}...{key[-4:]}" if len(key) >= 16 else "****"


# Failures proven to happen before any byte of the request left this machine.
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# Errors a response parser raises on a body of the wrong shape.
_SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError)
_QUERY = re.compile(r"\?\S*")
_NO_HEADERS: Mapping[str, str] = CIMultiDictProxy(CIMultiDict())


def _build_url(scheme: str, authority: str, path: str, query: str, fragment: str) -> URL:
    """``yarl.URL.build(..., encoded=True)``: nothing is parsed or re-encoded."""
    return URL.build(
        scheme=scheme,
        authority=authority,
        path=path,
        query_string=query,
        fragment=fragment,
        encoded=True,
    )


def _pick_url_from_parts() -> Callable[[str, str, str, str, str], URL]:
    """The cheapest way yarl offers to make an encoded URL from its parts.

    ``URL.build(encoded=True)`` checks its ten arguments in Python and files every URL,
    all of them different (timestamp, signature), in an LRU cache: about 0.4 µs per call
    that yarl's own ``from_parts_uncached`` does not spend.  That function is not public,
    so it is used only if it exists and gives the same URLs as ``URL.build`` for a set of
    samples (tests/unit/test_fast_paths.py checks more); otherwise ``URL.build`` it is.
    """
    try:
        from yarl._url import from_parts_uncached
    except ImportError:  # pragma: no cover - a yarl without it
        return _build_url
    samples = (
        ("https", "papi.binance.com", "/papi/v1/x", "a=1&b=%2C&signature=ab", ""),
        ("http", "127.0.0.1:8080", "/p", "", ""),
        ("https", "u:p@[::1]:8443", "/papi/v1/margin/repay-debt", "x=%20y", ""),
    )
    try:
        for parts in samples:
            fast, slow = from_parts_uncached(*parts), _build_url(*parts)
            if not (
                type(fast) is URL
                and fast == slow
                and str(fast) == str(slow)
                and fast.raw_authority == slow.raw_authority
                and fast.raw_path == slow.raw_path
                and fast.raw_query_string == slow.raw_query_string
            ):
                return _build_url  # pragma: no cover - yarl changed
    except Exception:  # pragma: no cover - yarl changed its signature
        return _build_url
    factory: Callable[[str, str, str, str, str], URL] = from_parts_uncached
    return factory


_url_from_parts = _pick_url_from_parts()
T = TypeVar("T")


def _describe_cause(exc: BaseException) -> str:
    """``Type: message`` of a transport exception with any query string cut out.

    aiohttp puts the full URL, signature included, into some messages ("Connection
    timeout to host http://...?...&signature=..."), so the SDK never chains them.
    """
    text = _QUERY.sub("?<query>", str(exc))[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _FifoGate:
    """At most ``size`` requests on the wire at once, admitted first come, first served.

    aiohttp's pool is not fair: a task that frees a connection and sends again at once
    takes it ahead of tasks already waiting, which can then wait past their connect
    timeout (seen: 8 of 150 calls failing with 10 tasks on a pool of 2).  In front of
    the pool, this gate hands a freed slot straight to the oldest waiter, so a wait is
    bounded by the queue ahead of it.  No future and no timer on the uncontended path.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[bool]] = deque()

    def try_enter(self) -> bool:
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def enter(self, timeout: float) -> bool:
        """Wait for a slot; False after ``timeout`` seconds (nothing held then).

        One future and one timer handle per waiting call (no ``wait_for``): the timer
        resolves the future with False, a freed slot resolves it with True.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(future)
        timer = loop.call_later(timeout, _resolve, future, False)
        try:
            granted = await future
        except BaseException:  # cancelled while waiting
            timer.cancel()
            if future.done() and not future.cancelled() and future.result():
                self.leave()  # the slot arrived as this task was cancelled: pass it on
            else:
                self._forget(future)
            raise
        timer.cancel()
        if not granted:
            self._forget(future)
        return granted

    def _forget(self, future: asyncio.Future[bool]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(future)

    def leave(self) -> None:
        waiters = self._waiters
        while waiters:
            future = waiters.popleft()
            if not future.done():
                future.set_result(True)  # the slot goes straight to the oldest waiter
                return
        self._free += 1


# Python 3.11+ counts cancellation requests, so a timeout can tell its own from a caller's.
if sys.version_info >= (3, 11):
    _cancelling: Callable[[asyncio.Task[Any]], int] = methodcaller("cancelling")
    _uncancel: Callable[[asyncio.Task[Any]], int] = methodcaller("uncancel")
else:  # pragma: no cover - 3.10 cannot tell (nor can aiohttp's own timeout there)

    def _cancelling(task: asyncio.Task[Any]) -> int:
        return 0

    _uncancel = _cancelling
_get_running_loop = asyncio.get_running_loop
_current_task = asyncio.current_task


class _Slot:
    """The calls whose total timeout ends in one slot of :class:`_Deadlines`."""

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
        if task in self.calls:
            del self.calls[task]
            if self.fired:
                _uncancel(task)


class _Deadlines:
    """Total timeouts of the calls in flight: one loop timer per slot of deadlines.

    aiohttp's ``ClientTimeout(total=...)`` schedules a timer per request and cancels
    it when the response is read.  At thousands of calls a second that is most of the
    event loop's heap traffic (each push and pop compares ``TimerHandle`` objects in
    Python code, and the cancelled handles stay in the heap): about 9 % of the
    floor's CPU per repay-debt call (``benchmarks/bench_ab.py floor sdk
    sdk-aiohttp-timeout``).  Here a call instead registers its task in the slot its
    deadline falls in (deadlines rounded up to 1/``PER_SECOND`` s): the slot's one timer
    cancels the tasks still registered, and the call turns that into a timeout
    (:meth:`_Slot.timed_out`).  A timeout fires at most 10 ms late (plus event-loop
    lag), never early.  The owned session keeps aiohttp's ``total`` as its default for
    requests made through ``client.session``.
    """

    PER_SECOND = 100

    __slots__ = ("_slots", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._slots: dict[int, _Slot] = {}

    def arm(self, task: asyncio.Task[Any], total: float) -> _Slot:
        """Register ``task`` to be cancelled ``total`` s from now; its slot.

        The caller asks ``slot.timed_out(task)`` on a ``CancelledError`` raised inside
        the span, and calls ``slot.leave(task)`` when the span ends.
        """
        loop = self.loop
        key = _ceil((loop.time() + total) * self.PER_SECOND)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
            # Not cancelled when the slot empties (that would bring the heap churn back):
            # it fires at most once per PER_SECOND-th of a second, and removes the slot.
            loop.call_at(key / self.PER_SECOND, self._fire, key)
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


def _not_sent(spec: EndpointSpec, exc: BaseException) -> BinancePapiError:
    """The error for a request that provably never left the machine (no connection)."""
    cls = APITimeoutError if isinstance(exc, asyncio.TimeoutError) else APIConnectionError
    return cls(
        f"{spec.method} {spec.path}: could not connect ({_describe_cause(exc)}); "
        "the request was not sent",
        method=spec.method,
        path=spec.path,
        sent=False,
    )


def _resolve(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


class _ResendRefused(aiohttp.ClientError):
    """aiohttp tried to send a state-changing request a second time; refused."""


def _send_once() -> Any:
    """A per-request aiohttp middleware that lets a request out once only.

    aiohttp re-sends PUT and DELETE by itself when a kept-alive connection turns out
    to be dead.  On the session the client owns that is switched off; on a session the
    caller passed in, this guard refuses the second send of a write instead.
    """
    sent = False

    async def guard(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
        nonlocal sent
        if sent:
            raise _ResendRefused("a second send of a state-changing request was refused")
        sent = True
        response: aiohttp.ClientResponse = await handler(request)
        return response

    return guard


class Transport:
    """Session lifecycle plus the request path.  Internal: use PortfolioMarginClient."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        signer: Signer | None,
        clock: Clock,
        limiter: RateLimiter | None,
        owns_limiter: bool,
        session: aiohttp.ClientSession | None,
        timeouts: Timeouts,
        retry: RetryPolicy,
        time_sync: TimeSync,
        on_event: EventHook | None,
        recv_window: int | None,
        pool_size: int,
        keepalive_timeout: float,
        dns_cache_ttl: int,
        proxy: str | None,
        trust_env: bool,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.signer = signer
        self.clock = clock
        self.limiter = limiter
        self._owns_limiter = owns_limiter
        self.timeouts = timeouts
        self._client_timeout = timeouts.to_aiohttp()  # the owned session's defaults
        # What the client's own calls give aiohttp: the total timeout is ours (_Deadlines).
        self._request_timeout = timeouts._connect_only()
        self._deadlines: _Deadlines | None = None
        self.retry = retry
        self.time_sync = time_sync
        self._sync_clock: ServerClock | None = (
            clock if time_sync.enabled and isinstance(clock, ServerClock) else None
        )
        # Time samples are small: a slow one is worthless, so it gives up early.
        self._sync_timeouts = Timeouts(
            total=min(timeouts.total, 5.0), connect=min(timeouts.connect, 3.0)
        )
        self._last_sync: float | None = None
        self._sync_lock: asyncio.Lock | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self.on_event = on_event
        self.charge_overrides: dict[str, tuple[Charge, ...]] = {}
        self._overridden_specs: dict[EndpointSpec, EndpointSpec] = {}
        self.recv_window = None if recv_window is None else str(recv_window)
        self._pool_size = pool_size
        self._keepalive_timeout = keepalive_timeout
        self._dns_cache_ttl = dns_cache_ttl
        self._proxy = proxy
        self._trust_env = trust_env
        self._session = session
        self._owns_session = session is None
        # True when aiohttp might re-send a write by itself (a session we did not create).
        self._guard_writes = session is not None
        # Fair admission to our own pool (an injected session's pool is its owner's).
        self._gate = _FifoGate(pool_size) if session is None else None
        self._closing = False
        self._closed = False
        self._in_flight = 0
        self._idle: asyncio.Event | None = None
        # A read-only multidict: aiohttp merges it as is, with no per-call conversion.
        self._key_headers: Mapping[str, str] = CIMultiDictProxy(
            CIMultiDict({C.HEADER_API_KEY: api_key} if api_key is not None else {})
        )
        self._url_cache: dict[str, tuple[str, str, str]] = {}
        # An HMAC signature is hex: it goes into the query as it is.
        self._hex_signer = type(signer) is HmacSigner

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closing

    @property
    def owns_session(self) -> bool:
        return self._owns_session

    @property
    def session(self) -> aiohttp.ClientSession | None:
        return self._session

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _task_deadlines(self) -> tuple[asyncio.Task[Any], _Deadlines]:
        """The current task and this event loop's :class:`_Deadlines` (made on first use)."""
        loop = _get_running_loop()
        task = _current_task(loop)
        if task is None:  # pragma: no cover - a coroutine driven by hand, not by asyncio
            raise RuntimeError("PortfolioMarginClient calls must run in an asyncio task")
        deadlines = self._deadlines
        if deadlines is None or deadlines.loop is not loop:
            # First use, or another event loop: calls still on the old one keep their slots
            # and its timers (cancelling those from here could be from another thread).
            deadlines = self._deadlines = _Deadlines(loop)
        return task, deadlines

    def _ensure_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None:
            # Created lazily, inside the running loop: the client itself can be built anywhere.
            # The gate (_FifoGate) bounds REST requests in flight to pool_size, first come
            # first served, and so the REST connections too.  The connector itself is not
            # capped: a user data stream's WebSocket (one long-lived connection on this
            # session) must never take a slot a REST call is waiting for.
            connector = aiohttp.TCPConnector(
                limit=0,
                limit_per_host=0,
                keepalive_timeout=self._keepalive_timeout,
                ttl_dns_cache=self._dns_cache_ttl,
                use_dns_cache=True,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._client_timeout,
                headers={"User-Agent": C.USER_AGENT},
                trust_env=self._trust_env,
                raise_for_status=False,
                proxy=self._proxy,
            )
            if hasattr(session, "_retry_connection"):
                # aiohttp re-sends PUT/DELETE (and GET) on a dead kept-alive connection; a
                # write must never go out twice, so the client decides, not aiohttp.
                session._retry_connection = False
            else:  # pragma: no cover - a future aiohttp without the flag: guard per request
                self._guard_writes = True
            self._session = session
        elif session.closed:
            raise ClientClosedError("the aiohttp session given to the client has been closed")
        return session

    async def aclose(self, timeout: float) -> None:
        """Refuse new calls, wait up to ``timeout`` s for calls in flight, then close the pool.

        The pool is closed even if this coroutine is cancelled while it waits.  Calls still
        waiting for rate budget then fail with :class:`ClientClosedError` (when the client
        created its limiter; a shared limiter is left to its owner).
        """
        if self._closed:
            return
        self._closing = True
        try:
            if self._in_flight:
                await self._wait_idle(timeout)
        finally:
            self._closed = True
            task = self._sync_task
            if task is not None and not task.done():
                task.cancel()
            if self._owns_limiter and self.limiter is not None:
                self.limiter.close()
            # (The deadline timers stay: a call still in flight keeps its total timeout.)
            if self._owns_session and self._session is not None and not self._session.closed:
                await self._session.close()

    async def _wait_idle(self, timeout: float) -> None:
        if self._in_flight == 0:
            return
        if self._idle is None:
            self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            log.warning(
                "closing with %d call(s) still in flight after %.1fs", self._in_flight, timeout
            )

    # -- events ------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        hook = self.on_event
        if hook is not None:
            try:
                hook(event)
            except Exception:
                log.exception("on_event hook raised; ignored")
        if isinstance(event, OutcomeUnknown):
            log.warning(
                "%s %s: execution status unknown (%s)",
                event.method,
                event.path,
                event.reason,
                extra={"papi_event": event},
            )
        elif log.isEnabledFor(_DEBUG):
            log.debug("%s", event, extra={"papi_event": event})

    # -- the request path --------------------------------------------------------------------

    def check_ready(self, spec: EndpointSpec) -> None:
        """Configuration errors that need no I/O (raised before the limiter is touched)."""
        if self._closing:
            raise ClientClosedError("this PortfolioMarginClient is closed")
        if self.api_key is None and spec.needs_key:
            raise ConfigurationError(
                f"{spec.method} {spec.path} needs an API key: pass api_key= or set BINANCE_API_KEY"
            )
        if self.signer is None and spec.signed:
            raise ConfigurationError(
                f"{spec.method} {spec.path} is signed: pass api_secret= (HMAC) or private_key= "
                "(RSA/Ed25519), or set BINANCE_API_SECRET"
            )

    def _overridden(self, spec: EndpointSpec) -> EndpointSpec:
        replaced = self._overridden_specs.get(spec)
        if replaced is None:
            charges = self.charge_overrides.get(f"{spec.method} {spec.path}")
            replaced = (
                spec
                if charges is None or charges == spec.charges
                else dataclasses.replace(spec, charges=charges)
            )
            if len(self._overridden_specs) < 1024:  # bounded: specs are few
                self._overridden_specs[spec] = replaced
        return replaced

    def _retry_delay(
        self,
        spec: EndpointSpec,
        exc: BinancePapiError,
        policy: RetryPolicy,
        attempt: int,
        started: float,
    ) -> float | None:
        """Seconds to wait before retrying, or None when ``exc`` must be raised."""
        if attempt >= policy.max_attempts:
            return None
        if isinstance(exc, APIConnectionError) and not exc.sent:
            if spec.is_write and not policy.retry_unsent_writes:
                return None
        elif spec.is_write:
            return None  # it may have been sent: never again
        elif isinstance(exc, IPBannedError):
            return None
        elif isinstance(exc, RateLimitError):
            # With a limiter, every call is held until the pause ends and the full windows
            # roll; the retry waits in the limiter.  Without one, only a Retry-After says
            # when sending again is safe: a blind retry after a 429 risks a 418 ban.
            if self.limiter is not None:
                pause = self._rate_limit_pause()
            elif exc.retry_after is not None:
                pause = exc.retry_after
            else:
                return None
            if time.monotonic() - started + pause > policy.max_elapsed:
                return None
            return 0.0 if self.limiter is not None else pause
        elif not (
            isinstance(exc, (APIConnectionError, ServerError))
            or (isinstance(exc, APIStatusError) and exc.code in TRANSIENT_CODES)
        ):
            return None
        delay = policy.delay(attempt)
        if time.monotonic() - started + delay > policy.max_elapsed:
            return None
        return delay

    def _rate_limit_pause(self) -> float:
        """Seconds until the limiter admits calls again after a 429 (0 if it already does)."""
        limiter = self.limiter
        assert limiter is not None
        snap = limiter.snapshot()
        until = snap.paused_until or snap.time
        for budget in snap.budgets:
            if budget.used >= budget.limit:
                until = max(until, budget.window_reset)
        return max(0.0, until - snap.time)

    def _url_parts(self, path: str) -> tuple[str, str, str]:
        """``(scheme, raw authority, raw path)`` of ``base_url + path``, parsed once per path."""
        parts = self._url_cache.get(path)
        if parts is None:
            url = URL(f"{self.base_url}{path}", encoded=True)
            parts = (url.scheme, url.raw_authority, url.raw_path)
            if len(self._url_cache) >= 256:
                self._url_cache.clear()
            self._url_cache[path] = parts
        return parts

    @overload
    async def request(
        self,
        spec: EndpointSpec,
        params: dict[str, str],
        *,
        timeout: Timeouts | None = ...,
        max_wait: float | None = ...,
        retry: RetryPolicy | None = ...,
        parse: Callable[[Any], T],
        encoded: str | None = ...,
        url_override: str | None = ...,
        counted: bool = ...,
    ) -> T: ...

    @overload
    async def request(
        self,
        spec: EndpointSpec,
        params: dict[str, str],
        *,
        timeout: Timeouts | None = ...,
        max_wait: float | None = ...,
        retry: RetryPolicy | None = ...,
        parse: None = ...,
        encoded: str | None = ...,
        url_override: str | None = ...,
        counted: bool = ...,
    ) -> Any: ...

    async def request(
        self,
        spec: EndpointSpec,
        params: dict[str, str],
        *,
        timeout: Timeouts | None = None,
        max_wait: float | None = None,
        retry: RetryPolicy | None = None,
        parse: Callable[[Any], Any] | None = None,
        encoded: str | None = None,
        url_override: str | None = None,
        counted: bool = True,
    ) -> Any:
        """Send one call (with the retries the policy allows); return the decoded JSON, or
        ``parse(json)``.  A body ``parse`` cannot read is a typed error, never a KeyError.

        Every attempt runs in this one coroutine, whose common path goes straight through
        (each coroutine level is passed at every suspension); waiting for budget or a
        connection, failed sends, error answers and unreadable bodies are in the helpers
        below.  ``encoded``, if given, must be ``encode_params(params)`` (the endpoint built
        it from values it validated, more cheaply).  ``url_override`` (a full URL, not
        rate-limited) and ``counted=False`` (not a call ``aclose`` waits for) are for the
        clock sync.
        """
        if (
            (self._closing and counted)  # a clock sync that aclose waits for goes on
            or (spec.needs_key and self.api_key is None)
            or (spec.signed and self.signer is None)
        ):
            self.check_ready(spec)  # raises
        if spec.weight_rules:
            spec = spec.for_params(params)  # e.g. 40 instead of 1 without a symbol
        if self.charge_overrides:
            spec = self._overridden(spec)
        syncing = self._sync_clock is not None and spec.signed
        if syncing and self._last_sync is None and self.limiter is not None:
            # Impossible charges fail before the first sync's I/O; on every other call the
            # limiter's own admission raises before anything is sent, so no second check.
            self.limiter.check(spec.charges)
        session = self._session
        if session is None or (not self._owns_session and session.closed):
            session = self._ensure_session()
        policy = self.retry if retry is None else retry
        loop = _get_running_loop()
        deadlines = self._deadlines
        task = _current_task(loop)
        if deadlines is None or deadlines.loop is not loop or task is None:
            task, deadlines = self._task_deadlines()
        if counted:
            self._in_flight += 1
        try:
            if syncing:
                last = self._last_sync
                if last is None:
                    await self.sync_clock()  # first use: the timestamp needs it
                elif self._sync_due():
                    self._refresh_in_background()  # a trade never waits for a refresh
            attempt = 1
            started = time.monotonic()
            resynced = False
            wait_bound = max_wait
            last_429: RateLimitError | None = None
            # A fallback time URL on another host (fapi) is not papi's budget.
            limiter = self.limiter if url_override is None else None
            while True:
                try:
                    observing = self.on_event is not None or log.isEnabledFor(_DEBUG)
                    reservation = None
                    if limiter is not None:
                        reservation = limiter.try_acquire(spec.charges)  # uncontended: no await
                        if reservation is None:
                            reservation = await self._acquire(limiter, spec, wait_bound, observing)
                    gate = self._gate
                    if gate is not None and not gate.try_enter():
                        await self._enter_gate(gate, spec, timeout, reservation, attempt, observing)
                    sending = False
                    sent_at = 0.0
                    failure: BinancePapiError | None = None
                    try:
                        if url_override is not None and not spec.signed:
                            url = URL(url_override, encoded=True)
                        else:
                            if spec.signed:
                                if self.recv_window is not None and "recvWindow" not in params:
                                    params["recvWindow"] = self.recv_window
                                    if encoded is not None:  # digits: nothing to encode
                                        encoded = f"{encoded}&recvWindow={self.recv_window}"
                                # Taken just before the send; an int needs no percent-encoding.
                                timestamp = str(int(self.clock.now_ms()))
                                if "timestamp" in params:  # the caller's own: keep its place
                                    params["timestamp"] = timestamp
                                    query = encode_params(params)
                                else:  # appended last: the rest encoded (cached) or given
                                    query = encode_params(params) if encoded is None else encoded
                                    params["timestamp"] = timestamp
                                    query = (
                                        f"{query}&timestamp={timestamp}"
                                        if query
                                        else (f"timestamp={timestamp}")
                                    )
                                signature = self.signer.sign(query.encode())  # type: ignore[union-attr]
                                if not self._hex_signer:  # base64 needs encoding; hex never does
                                    signature = encode_signature(signature)
                                query = f"{query}&signature={signature}"
                            elif encoded is not None:
                                query = encoded
                            else:
                                query = encode_params(params) if params else ""
                            parts = self._url_cache.get(spec.path)
                            if parts is None:
                                parts = self._url_parts(spec.path)
                            # Encoded already: built from its parts, nothing re-encoded.
                            url = _url_from_parts(parts[0], parts[1], parts[2], query, "")
                        if observing:
                            self.emit(RequestStart(spec.method, spec.path, attempt))
                        if self._closed or session.closed:  # aclose, or client.session closed
                            raise ClientClosedError("this PortfolioMarginClient was closed")
                        sent_at = time.time()
                        sending = True
                        # The total timeout: from taking a connection to the body's last byte.
                        slot = deadlines.arm(
                            task, self.timeouts.total if timeout is None else timeout.total
                        )
                        try:
                            # Awaited, not "async with": one coroutine level less per call.
                            if timeout is None and self._owns_session and not self._guard_writes:
                                # The session was made with the proxy and
                                # raise_for_status=False: only what it cannot know is passed
                                # (aiohttp binds every keyword of **kwargs by name).
                                resp = await session.request(
                                    spec.method,
                                    url,
                                    headers=self._key_headers if spec.needs_key else _NO_HEADERS,
                                    timeout=self._request_timeout,  # no timer per request
                                    allow_redirects=False,  # would carry the signed query away
                                )
                            else:
                                resp = await session.request(
                                    spec.method,
                                    url,
                                    headers=self._key_headers if spec.needs_key else _NO_HEADERS,
                                    timeout=self._request_timeout
                                    if timeout is None
                                    else timeout._connect_only(),
                                    proxy=self._proxy,
                                    allow_redirects=False,
                                    raise_for_status=False,  # whatever an injected session says
                                    middlewares=(_send_once(),)
                                    if self._guard_writes and spec.is_write
                                    else None,
                                )
                            try:
                                body = await resp.read()
                            finally:
                                # Reading to the end hands the connection back already (the
                                # response is closed); otherwise release() does, as the
                                # context manager's exit would.
                                if not resp.closed:
                                    resp.release()
                            status = resp.status
                            headers = resp.headers
                        except _NOT_SENT as exc:
                            sending = False  # nothing left the machine: the budget goes back
                            failure = _not_sent(spec, exc)
                        except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as exc:
                            # (RuntimeError: e.g. aiohttp's "Connection closed." when
                            # client.session is closed while the answer is awaited.)
                            failure = self._after_send_failure(spec, params, sent_at, exc)
                        except asyncio.CancelledError:
                            if not slot.timed_out(task):
                                if spec.is_write:
                                    self.emit(
                                        OutcomeUnknown(
                                            spec.method,
                                            spec.path,
                                            "cancelled after it may have been sent",
                                            sent_at,
                                            dict(params),
                                        )
                                    )
                                raise
                            # The total timeout (aiohttp has closed the connection).
                            failure = self._after_send_failure(
                                spec, params, sent_at, asyncio.TimeoutError()
                            )
                        finally:
                            if slot.fired:
                                slot.leave(task)
                            else:  # slot.leave(task), without the call
                                slot.calls.pop(task, None)
                    finally:
                        if gate is not None:
                            gate.leave()
                        # Provably not sent (signing failed, the pool closed, could not
                        # connect): the budget goes back.  Otherwise it stays charged, and
                        # observe_headers commits it when the response comes.
                        if reservation is not None and not sending:
                            reservation.release()
                    if failure is not None:
                        # Raised here, outside the except block: no aiohttp exception (its
                        # message can hold the signed URL) is chained to it, not even as
                        # __context__.
                        if observing:
                            self._end(spec, attempt, None, sent_at, failure)
                        raise failure
                    if limiter is not None:
                        limiter.observe_headers(headers, reservation=reservation)
                    if status >= 300:  # redirects are never followed: a 3xx is an answer too
                        raise self._error_answer(
                            spec,
                            params,
                            status,
                            headers,
                            body,
                            sent_at,
                            attempt,
                            observing,
                            limiter,
                        )
                    if observing:
                        self._end(spec, attempt, status, sent_at, None, headers)
                    try:
                        data = orjson.loads(body)
                    except orjson.JSONDecodeError:
                        raise self._bad_body(
                            spec, params, status, headers, body, sent_at, "a body that is not JSON"
                        ) from None
                    if parse is None:
                        return data
                    try:
                        return parse(data)
                    except _SHAPE_ERRORS as exc:
                        raise self._bad_body(
                            spec, params, status, headers, body, sent_at, shape_problem(exc)
                        ) from None
                except RateLimitWaitTimeout as exc:
                    if last_429 is not None:  # the budget will not be back within the policy
                        raise last_429 from None
                    exc.__context__ = None  # see below
                    raise
                except BinancePapiError as exc:
                    # Never a foreign exception attached to ours: on Python 3.10 a coroutine
                    # resumed inside another handler would chain whatever was being handled
                    # there (an aiohttp error can name the signed URL).
                    exc.__context__ = None
                    if (
                        isinstance(exc, TimestampError)
                        and not resynced
                        and self._sync_clock is not None
                        and url_override is None
                    ):
                        resynced = True  # rejected before execution: safe to resend once
                        await self.sync_clock(force=True)
                        self.emit(RetryScheduled(spec.method, spec.path, attempt, 0.0, "-1021"))
                        attempt += 1
                        continue
                    delay = self._retry_delay(spec, exc, policy, attempt, started)
                    if delay is None or self._closing:
                        raise
                    if isinstance(exc, RateLimitError):
                        last_429 = exc
                        left = max(0.0, policy.max_elapsed - (time.monotonic() - started))
                        wait_bound = left if max_wait is None else min(max_wait, left)
                    self.emit(
                        RetryScheduled(spec.method, spec.path, attempt, delay, type(exc).__name__)
                    )
                    await asyncio.sleep(delay)
                    attempt += 1
        finally:
            if counted:
                self._in_flight -= 1
                if self._in_flight == 0 and self._idle is not None:
                    self._idle.set()

    async def _acquire(
        self, limiter: RateLimiter, spec: EndpointSpec, max_wait: float | None, observing: bool
    ) -> Reservation:
        """Wait for rate budget (the contended path of the limiter)."""
        waited_from = time.monotonic()
        reservation = await limiter.acquire(spec.charges, max_wait=max_wait)
        waited = time.monotonic() - waited_from
        if observing and waited > 0.001:
            self.emit(LimiterWait(spec.method, spec.path, waited))
        if self._closed:  # the pool closed while this call waited for budget
            reservation.release()
            raise ClientClosedError("this PortfolioMarginClient was closed")
        return reservation

    async def _enter_gate(
        self,
        gate: _FifoGate,
        spec: EndpointSpec,
        timeout: Timeouts | None,
        reservation: Reservation | None,
        attempt: int,
        observing: bool,
    ) -> None:
        """Wait for a connection slot; on a timeout or cancellation give the budget back."""
        connect = (self.timeouts if timeout is None else timeout).connect
        try:
            entered = await gate.enter(connect)
        except BaseException:  # cancelled while waiting for a connection: nothing sent
            if reservation is not None:
                reservation.release()
            raise
        if not entered:
            if reservation is not None:
                reservation.release()
            no_connection = APITimeoutError(
                f"{spec.method} {spec.path}: no free connection within {connect:g}s "
                f"(pool_size {self._pool_size}); the request was not sent",
                method=spec.method,
                path=spec.path,
                sent=False,
            )
            if observing:
                self._end(spec, attempt, None, time.time(), no_connection)
            raise no_connection

    def _error_answer(
        self,
        spec: EndpointSpec,
        params: Mapping[str, str],
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        sent_at: float,
        attempt: int,
        observing: bool,
        limiter: RateLimiter | None,
    ) -> BinancePapiError:
        """The error for an HTTP status of 300 or more; ``limiter`` (the call's: None for
        the fallback time URL, which is not papi's budget) learns of a 429 or a 418."""
        error = from_response(
            status=status,
            headers=headers,
            body=body,
            method=spec.method,
            path=spec.path,
            params=params,
            sent_at=sent_at,
        )
        if limiter is not None:
            if isinstance(error, IPBannedError):
                limiter.on_ip_banned(error.retry_after, error.banned_until)
            elif isinstance(error, RateLimitError):
                # -1015: the account's order count, not the IP's weight.
                limiter.on_rate_limited(
                    error.retry_after, budget=Budget.ORDERS if error.code == -1015 else None
                )
        if isinstance(error, ExecutionStatusUnknown):
            self._report(error)
        if observing:
            self._end(spec, attempt, status, sent_at, error, headers)
        return error

    def _bad_body(
        self,
        spec: EndpointSpec,
        params: Mapping[str, str],
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        sent_at: float,
        problem: str,
    ) -> BinancePapiError:
        """A 2xx whose body cannot be read: unknown outcome for a write, else unexpected."""
        if spec.is_write:
            unknown = ExecutionStatusUnknown(
                f"HTTP {status} with {problem}",
                method=spec.method,
                path=spec.path,
                params=params,
                sent_at=sent_at,
                status=status,
                headers=headers,
                body=body,
            )
            return self._report(unknown)
        return UnexpectedResponseError(
            status=status,
            code=None,
            msg=None,
            method=spec.method,
            path=spec.path,
            headers=headers,
            body=body,
            hint=problem,
        )

    def _report(self, unknown: ExecutionStatusUnknown) -> ExecutionStatusUnknown:
        """Emit the :class:`OutcomeUnknown` event of ``unknown``; ``unknown``."""
        self.emit(
            OutcomeUnknown(
                unknown.method, unknown.path, unknown.reason, unknown.sent_at, unknown.params
            )
        )
        return unknown

    def _end(
        self,
        spec: EndpointSpec,
        attempt: int,
        status: int | None,
        sent_at: float,
        error: BaseException | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.emit(
            RequestEnd(
                spec.method,
                spec.path,
                attempt,
                status,
                time.time() - sent_at,
                type(error).__name__ if error is not None else None,
                headers.get("X-MBX-USED-WEIGHT-1M") if headers is not None else None,
                headers.get("X-MBX-ORDER-COUNT-1M") if headers is not None else None,
            )
        )

    def _after_send_failure(
        self, spec: EndpointSpec, params: Mapping[str, str], sent_at: float, exc: BaseException
    ) -> BinancePapiError:
        timed_out = isinstance(exc, asyncio.TimeoutError)
        what = "timed out" if timed_out else f"failed ({_describe_cause(exc)})"
        if spec.is_write:
            unknown = ExecutionStatusUnknown(
                f"request {what} after it may have been sent",
                method=spec.method,
                path=spec.path,
                params=params,
                sent_at=sent_at,
            )
            return self._report(unknown)
        cls = APITimeoutError if timed_out else APIConnectionError
        return cls(
            f"{spec.method} {spec.path} {what}", method=spec.method, path=spec.path, sent=True
        )

    # -- clock sync --------------------------------------------------------------------------

    def _sync_due(self) -> bool:
        last = self._last_sync
        return last is None or time.monotonic() - last >= self.time_sync.refresh_interval

    def _fallback_time_url(self) -> str:
        if self.time_sync.fallback_url is not None:
            return self.time_sync.fallback_url
        if self.base_url == C.DEFAULT_BASE_URL:
            return f"{C.FAPI_BASE_URL}/fapi/v1/time"
        return f"{self.base_url}/fapi/v1/time"

    def _refresh_in_background(self) -> None:
        task = self._sync_task
        if task is None or task.done():
            self._sync_task = asyncio.ensure_future(self.sync_clock())
            self._sync_task.add_done_callback(_log_sync_failure)

    async def sync_now(self) -> None:
        """``client.sync_time()``: a forced sync, counted as a call in flight."""
        if self._closing:
            raise ClientClosedError("this PortfolioMarginClient is closed")
        self._in_flight += 1
        try:
            await self.sync_clock(force=True)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0 and self._idle is not None:
                self._idle.set()

    async def sync_clock(self, *, force: bool = False) -> None:
        """Measure the offset to Binance server time now (one task at a time)."""
        clock = self._sync_clock
        if clock is None or self._closing:
            return
        if self._sync_lock is None:
            self._sync_lock = asyncio.Lock()
        requested = time.monotonic()
        async with self._sync_lock:
            last = self._last_sync
            if last is not None and (last >= requested or (not force and not self._sync_due())):
                return  # another task synced while this one waited
            self._ensure_session()  # a closed injected session fails here, not per sample
            spec = (
                SERVER_TIME
                if self.time_sync.path == SERVER_TIME.path
                else EndpointSpec(
                    name="server_time",
                    method="GET",
                    path=self.time_sync.path,
                    security=SERVER_TIME.security,
                    weight=SERVER_TIME.weight,
                )
            )
            samples: list[tuple[float, float, float]] = []
            source = ""
            for url in (None, self._fallback_time_url()):
                samples.clear()
                source = spec.path if url is None else URL(url).path
                try:
                    for _ in range(self.time_sync.samples):
                        t0 = clock.local()
                        data = await self.request(
                            spec,
                            {},
                            timeout=self._sync_timeouts,
                            retry=NO_RETRY,
                            url_override=url,
                            counted=False,
                        )
                        t1 = clock.local()
                        samples.append((t0, int(data["serverTime"]) / 1000, t1))
                    break
                except (BinancePapiError, KeyError, TypeError, ValueError) as exc:
                    log.warning("server time from %s failed: %s", source, type(exc).__name__)
            self._last_sync = time.monotonic()
            if len(samples) < self.time_sync.samples:
                log.warning("clock sync failed; keeping the previous offset")
                return
            offset, rtt = estimate_offset(samples)
            clock.set_offset(offset)
            self.emit(ClockResynced(clock.host_offset(), rtt, len(samples), source))

    def describe(self) -> str:
        key = mask_key(self.api_key) if self.api_key is not None else None
        return (
            f"base_url={self.base_url!r}, api_key={key!r}, signer={self.signer!r}, "
            f"closed={self._closing}"
        )


def _log_sync_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("background clock sync failed: %s", type(task.exception()).__name__)
