"""The transport: the aiohttp session's lifecycle, and the loop every request goes through."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

from .. import _constants as C
from .._client_ids import fill_client_ids
from ..clock import Clock, FakeClock, ServerClock, TimeSync
from ..endpoints import Charge, EndpointSpec
from ..errors import (
    APIConnectionError,
    APITimeoutError,
    BinancePapiError,
    ClientClosedError,
    ConfigurationError,
    RateLimitError,
    RateLimitWaitTimeout,
    TimestampError,
)
from ..events import (
    Event,
    EventHook,
    LimiterWait,
    LimiterWaitStarted,
    OutcomeUnknown,
    RequestStart,
    RetryScheduled,
)
from ..retry import RetryPolicy
from ..signing import Signer, mask_key
from ..timeouts import Timeouts
from .body import read_bounded
from .call import Call
from .classify import NOT_SENT, Answer, failed_after_send, not_sent, read_answer
from .clock_sync import ClockSync
from .deadlines import Deadlines, Slot
from .gate import Gate
from .options import Priority, check_max_wait, check_priority, check_retry, check_timeout
from .reporting import Reporter, log
from .retrying import retry_delay
from .send_once import send_once_guard
from .url import BaseUrl, query_string

if TYPE_CHECKING:  # pragma: no cover
    from ..ratelimit import RateLimiter, Reservation

__all__ = ["Transport", "account_scope"]

T = TypeVar("T")
_NO_HEADERS: Mapping[str, str] = CIMultiDictProxy(CIMultiDict())
_DEBUG = logging.DEBUG
_ENCODING = istr("Content-Encoding")
# Waits for rate budget longer than a second are logged at INFO here (see README "Logging").
wait_log = logging.getLogger("binance_papi_async.ratelimit")
_LONG_WAIT_S = 1.0
get_running_loop, current_task = asyncio.get_running_loop, asyncio.current_task


def account_scope(api_key: str | None) -> str | None:
    """The limiter's account scope of ``api_key``: a hash of it, never the key (None
    without a key).  Binance counts orders per account; two clients of one key share it."""
    if api_key is None:
        return None
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


class Transport:
    """Session lifecycle plus the request path.  Internal: use PortfolioMarginClient.

    :meth:`request` runs the steps of an attempt as plain functions around the one
    ``await`` of the send (the waits for budget or a slot only when one is short): a
    coroutine per step would be one more frame for every suspension of the send to pass.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        signer: Signer | None,
        clock: Clock,
        limiter: RateLimiter | None,
        owns_limiter: bool,
        charges: Mapping[str, tuple[Charge, ...]],
        session: aiohttp.ClientSession | None,
        timeouts: Timeouts,
        retry: RetryPolicy,
        time_sync: TimeSync,
        sync_fake_clock: bool,
        on_event: EventHook | None,
        recv_window: int | None,
        pool_size: int,
        keepalive_timeout: float,
        dns_cache_ttl: int,
        proxy: str | None,
        trust_env: bool,
        max_response_size: int = C.DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        self.base_url = base_url
        self._base = BaseUrl(base_url)
        self.api_key = api_key
        self.signer = signer
        self.clock = clock
        self.limiter = limiter
        self._owns_limiter = owns_limiter
        self.account = account_scope(api_key)
        if limiter is not None and self.account is not None:
            limiter.check((), account=self.account)  # its order budget, shown from the start
        self.charge_overrides = dict(charges)  # "METHOD /path" -> what it charges instead
        self._overridden_specs: dict[EndpointSpec, EndpointSpec] = {}
        self.timeouts = timeouts
        # What the client's own calls give aiohttp: the total timeout is ours (Deadlines).
        self._request_timeout = aiohttp.ClientTimeout(total=None, connect=timeouts.connect)
        self._deadlines: Deadlines | None = None
        self.retry = retry
        self.clock_sync = (
            ClockSync(self, clock, time_sync, timeouts)
            if time_sync.enabled
            and (
                isinstance(clock, ServerClock) or (sync_fake_clock and isinstance(clock, FakeClock))
            )
            else None
        )
        self._reporter = Reporter(on_event)
        self.recv_window = None if recv_window is None else str(recv_window)
        self.pool_size = pool_size
        self._keepalive_timeout = keepalive_timeout
        self._dns_cache_ttl = dns_cache_ttl
        self.proxy = proxy
        self._trust_env = trust_env
        self.max_response_size = max_response_size
        self._session = session
        self._owns_session = session is None
        # True when aiohttp might re-send a write by itself (a session we did not create).
        self._guard_writes = session is not None
        # REST requests in flight on the owned pool, admitted first come, first served
        # (an injected session's pool is its owner's).
        self._gate = Gate(pool_size) if session is None else None
        self._closing = False
        self._closed = False
        self._in_flight = 0
        self._idle: asyncio.Event | None = None
        # A read-only multidict: aiohttp merges it as is, with no per-call conversion.
        self._key_headers: Mapping[str, str] = CIMultiDictProxy(
            CIMultiDict({C.HEADER_API_KEY: api_key} if api_key is not None else {})
        )
        # What aiohttp gets with a request beside its method and URL, by spec.needs_key.
        # The client's own session was made with the proxy and raise_for_status=False, and
        # has no middlewares: only what it cannot know is passed.  A session given gets all.
        # (allow_redirects=False: a redirect would carry the signed query away.)
        options: dict[str, Any] = {"timeout": self._request_timeout, "allow_redirects": False}
        if session is not None:  # whatever the session given says
            options.update(proxy=proxy, raise_for_status=False, middlewares=None)
        self._send_options = (
            {**options, "headers": _NO_HEADERS},
            {**options, "headers": self._key_headers},
        )

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

    def ensure_session(self) -> aiohttp.ClientSession:
        """The session, created on first use (inside the running loop) unless one was given."""
        session = self._session
        if session is None:
            # The gate bounds REST requests in flight to pool_size, first come first served,
            # and so the REST connections too.  The connector itself is not capped: a user
            # data stream's WebSocket (one long-lived connection on the same session) must never
            # take a slot a REST call is waiting for.
            connector = aiohttp.TCPConnector(
                limit=0,
                limit_per_host=0,
                keepalive_timeout=self._keepalive_timeout,
                ttl_dns_cache=self._dns_cache_ttl,
                use_dns_cache=True,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self.timeouts.to_aiohttp(),
                headers={"User-Agent": C.USER_AGENT},
                trust_env=self._trust_env,
                raise_for_status=False,
                proxy=self.proxy,
            )
            if hasattr(session, "_retry_connection"):
                # aiohttp re-sends PUT/DELETE (and GET) on a dead kept-alive connection; a
                # write must never go out twice, so the client decides, not aiohttp.
                session._retry_connection = False
            else:  # pragma: no cover - a future aiohttp without the flag: guard per request
                self._guard_writes = True
            self._session = session
        elif session.closed:
            whose = "the client's aiohttp session" if self._owns_session else "the session given"
            raise ClientClosedError(f"{whose} has been closed (close the client with aclose())")
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
            if self.clock_sync is not None:
                self.clock_sync.cancel()
            if self._owns_limiter and self.limiter is not None:
                self.limiter.close()
            # (The deadline timers stay: a call still in flight keeps its total timeout.)
            if self._owns_session and self._session is not None and not self._session.closed:
                await self._session.close()

    async def _wait_idle(self, timeout: float) -> None:
        if self._idle is None:
            self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            log.warning(
                "closing with %d call(s) still in flight after %.1fs", self._in_flight, timeout
            )

    def _call_ended(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0 and self._idle is not None:
            self._idle.set()

    async def sync_now(self) -> None:
        """``client.sync_time()``: a forced clock sync, counted as a call in flight."""
        if self._closing:
            raise ClientClosedError("this PortfolioMarginClient is closed")
        self._in_flight += 1
        try:
            if self.clock_sync is not None:
                await self.clock_sync.sync(force=True)
        finally:
            self._call_ended()

    def emit(self, event: Event) -> None:
        self._reporter.emit(event)

    def describe(self) -> str:
        key = mask_key(self.api_key) if self.api_key is not None else None
        return (
            f"base_url={self.base_url!r}, api_key={key!r}, signer={self.signer!r}, "
            f"closed={self._closing}"
        )

    # -- the request loop ---------------------------------------------------------------------

    @overload
    async def request(
        self,
        spec: EndpointSpec,
        params: dict[str, str],
        *,
        timeout: Timeouts | float | None = ...,
        max_wait: float | None = ...,
        retry: RetryPolicy | None = ...,
        priority: Priority = ...,
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
        timeout: Timeouts | float | None = ...,
        max_wait: float | None = ...,
        retry: RetryPolicy | None = ...,
        priority: Priority = ...,
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
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        retry: RetryPolicy | None = None,
        priority: Priority = "normal",
        parse: Callable[[Any], Any] | None = None,
        encoded: str | None = None,
        url_override: str | None = None,
        counted: bool = True,
    ) -> Any:
        """One call, retried as the policy allows: the decoded JSON, or ``parse(json)`` (a
        body ``parse`` cannot read is a typed error).  ``params``: wire strings (a signed call
        adds ``recvWindow`` and ``timestamp``; ``encoded``: ``encode_params(params)``, if the
        endpoint built it).  Every option is checked before any budget is reserved.
        ``url_override``, ``counted=False``: for the clock sync."""
        times = self.timeouts if timeout is None else check_timeout(timeout, self.timeouts)
        call, session, task, deadlines = self._begin(
            spec, params, max_wait, retry, priority, encoded, counted
        )
        spec = call.spec
        limiter = self.limiter if url_override is None else None  # fapi's time is not papi's
        if counted:
            self._in_flight += 1
        try:
            if spec.signed and self.clock_sync is not None:
                await self.clock_sync.before_signed_call()
            while True:
                call.observing = self._reporter.hook is not None or log.isEnabledFor(_DEBUG)
                try:
                    reservation = self._admit_now(call, limiter)
                    if reservation is False:  # budget or a slot is short: wait, in turn
                        reservation = await self._admit(
                            call, limiter, times.connect, task, deadlines
                        )
                    sent = False
                    try:
                        self._prepare(call, session, url_override, times)
                        sent = True
                        slot = deadlines.arm(task, times.total)  # to the body's last byte
                        try:
                            resp = await session.request(spec.method, call.url, **call.options)
                            try:
                                length, limit = resp.content_length, self.max_response_size
                                if length is None or length > limit or _ENCODING in resp.headers:
                                    reporter = self._reporter  # the body's size is not known
                                    outcome = await read_bounded(call, resp, limit, reporter)
                                else:  # aiohttp reads no byte past the Content-Length
                                    outcome = Answer(resp.status, resp.headers, await resp.read())
                            finally:  # read to the end, it is released; or release() does
                                if not resp.closed:
                                    resp.release()
                                del resp  # its repr names the signed URL
                        except BaseException as exc:
                            outcome = self._send_failed(call, exc, slot, task)
                            sent = not isinstance(outcome, APIConnectionError) or outcome.sent
                        finally:
                            slot.leave(task)
                    finally:
                        if self._gate is not None:
                            self._gate.release()
                        if reservation is not None and not sent:
                            reservation.release()  # provably not sent: the budget goes back
                    if isinstance(outcome, BinancePapiError):  # a failed send, a body too large
                        if call.observing:
                            self._reporter.end(call, None, outcome)
                        raise outcome  # outside any except block: nothing foreign is chained
                    return read_answer(call, outcome, parse, limiter, reservation, self._reporter)
                except BinancePapiError as exc:
                    # Nothing foreign chained to ours (an aiohttp error can name the signed URL)
                    exc.__context__ = None
                    if not await self._before_retry(call, exc, url_override):
                        raise
        finally:
            if counted:
                self._call_ended()

    # -- the steps of an attempt --------------------------------------------------------------

    def _begin(
        self,
        spec: EndpointSpec,
        params: dict[str, str],
        max_wait: float | None,
        retry: RetryPolicy | None,
        priority: Priority,
        encoded: str | None,
        counted: bool,
    ) -> tuple[Call, aiohttp.ClientSession, asyncio.Task[Any], Deadlines]:
        """What a call needs before its first attempt, in one step: its state, its options
        checked (before any budget is reserved); the spec it is charged and sent as, and the
        errors that need no I/O (raised before the limiter is touched); an order's client
        ids filled in ``params``; the session; the current task and this loop's deadlines."""
        if max_wait is None and retry is None and priority == "normal":  # none given: no check
            call = Call(spec, params, self.retry, None, spec.urgent, self.account, encoded)
        else:
            call = self._call(spec, params, max_wait, retry, priority, encoded)
        if counted and self._closing:  # a clock sync that aclose waits for goes on
            raise ClientClosedError("this PortfolioMarginClient is closed")
        if spec.needs_key and self.api_key is None:
            raise ConfigurationError(
                f"{spec.method} {spec.path} needs an API key: pass api_key= or set BINANCE_API_KEY"
            )
        if spec.signed and self.signer is None:
            raise ConfigurationError(
                f"{spec.method} {spec.path} is signed: pass api_secret= (HMAC) or private_key= "
                "(RSA/Ed25519), or set BINANCE_API_SECRET"
            )
        if spec.weight_rules:
            spec = call.spec = spec.for_params(params)  # e.g. 40 instead of 1 without a symbol
        if self.charge_overrides:
            spec = call.spec = self._overridden(spec)
        sync = self.clock_sync
        if spec.signed and sync is not None and sync.last_sync is None and self.limiter:
            # Impossible charges fail before the first sync's I/O; on every other call the
            # limiter's own admission raises before anything is sent.
            self.limiter.check(spec.charges)
        if spec.client_ids:  # an order: the id it can be found by if its answer is lost
            fill_client_ids(spec.client_ids, params)
        session = self._session
        if session is None or session.closed:
            session = self.ensure_session()  # made on first use; or ClientClosedError
        loop, deadlines = get_running_loop(), self._deadlines
        task = current_task(loop)
        if task is None or deadlines is None or deadlines.loop is not loop:
            task, deadlines = self._task_deadlines()
        return call, session, task, deadlines

    def _call(
        self,
        spec: EndpointSpec,
        params: dict[str, str],
        max_wait: float | None,
        retry: RetryPolicy | None,
        priority: Priority,
        encoded: str | None,
    ) -> Call:
        """The call's state, the options given checked."""
        if max_wait is not None:
            max_wait = check_max_wait(max_wait)
        if retry is not None:
            retry = check_retry(retry)
        urgent = spec.urgent or (priority != "normal" and check_priority(priority))
        policy = self.retry if retry is None else retry
        return Call(spec, params, policy, max_wait, urgent, self.account, encoded)

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

    def _task_deadlines(self) -> tuple[asyncio.Task[Any], Deadlines]:
        """The current task and this event loop's :class:`Deadlines` (made on first use)."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:  # pragma: no cover - a coroutine driven by hand, not by asyncio
            raise RuntimeError("PortfolioMarginClient calls must run in an asyncio task")
        deadlines = self._deadlines
        if deadlines is None or deadlines.loop is not loop:
            # First use, or another event loop: calls still on the old one keep their slots
            # and its timers (cancelling those from here could be from another thread).
            deadlines = self._deadlines = Deadlines(loop)
        return task, deadlines

    def _admit_now(
        self, call: Call, limiter: RateLimiter | None
    ) -> Reservation | Literal[False] | None:
        """The uncontended admission, without a coroutine: a free connection slot, then the
        rate budget (``try_acquire``).  Nothing suspends from here to the timestamp, so the
        budget is taken as late as :meth:`_admit`'s check again.  False when either is short
        (nothing is then held): the caller awaits :meth:`_admit`."""
        gate = self._gate
        if gate is not None and not gate.try_acquire():
            return False
        if limiter is None:
            return None
        reservation = None
        try:
            reservation = limiter.try_acquire(
                call.spec.charges, urgent=call.urgent, account=call.account
            )
        finally:  # short, or charges that can never fit (raised): the slot goes back
            if reservation is None and gate is not None:
                gate.release()  # taken again, in turn, by _admit
        return False if reservation is None else reservation

    async def _admit(
        self,
        call: Call,
        limiter: RateLimiter | None,
        connect: float,
        task: asyncio.Task[Any],
        deadlines: Deadlines,
    ) -> Reservation | None:
        """Rate budget and a connection slot (:meth:`_admit_once`), the budget checked again
        once the slot is held, just before the timestamp is taken (nothing suspends between
        the two): if the windows moved on while the call waited for a connection, the
        budget went back; the slot is given up and both are taken again."""
        while True:
            reservation = await self._admit_once(call, limiter, connect, task, deadlines)
            if reservation is None or reservation.recheck():
                return reservation
            if self._gate is not None:
                self._gate.release()

    async def _admit_once(
        self,
        call: Call,
        limiter: RateLimiter | None,
        connect: float,
        task: asyncio.Task[Any],
        deadlines: Deadlines,
    ) -> Reservation | None:
        """Acquire the attempt's rate budget (None without a limiter), then enter the gate:
        a connection slot, waited for at most ``connect`` seconds.  If no slot comes, or the
        call is cancelled while it waits, the budget goes back (nothing was sent)."""
        reservation = None
        if limiter is not None:
            reservation = limiter.try_acquire(
                call.spec.charges, urgent=call.urgent, account=self.account
            )
            if reservation is None:
                reservation = await self._wait_for_budget(call, limiter)
        gate = self._gate
        if gate is None or gate.try_acquire():
            return reservation
        slot = deadlines.arm(task, connect)
        try:
            await gate.acquire()
        except asyncio.CancelledError:
            if reservation is not None:
                reservation.release()
            if not slot.timed_out(task):
                raise
        else:
            return reservation
        finally:
            slot.leave(task)
        raise self._no_connection(call, connect)

    async def _wait_for_budget(self, call: Call, limiter: RateLimiter) -> Reservation:
        """Wait for rate budget (the limiter's contended path), at most ``call.wait_bound``.

        When the wait starts, :class:`LimiterWaitStarted` says how long it is expected to
        last; a wait expected (or found) to last more than a second is logged at INFO on
        the ``binance_papi_async.ratelimit`` logger.
        """
        spec = call.spec
        long_waits = wait_log.isEnabledFor(logging.INFO)

        def started(expected: float) -> None:
            if call.observing:
                self.emit(LimiterWaitStarted(spec.method, spec.path, expected, call.urgent))
            if long_waits and expected > _LONG_WAIT_S:
                wait_log.info(
                    "%s %s waits for rate budget, about %.1f s", spec.method, spec.path, expected
                )

        waited_from = time.monotonic()
        reservation = await limiter.acquire(
            spec.charges,
            max_wait=call.wait_bound,
            urgent=call.urgent,
            account=self.account,
            on_wait=started if call.observing or long_waits else None,
        )
        waited = time.monotonic() - waited_from
        if call.observing and waited > 0.001:
            self.emit(LimiterWait(spec.method, spec.path, waited))
        if long_waits and waited > _LONG_WAIT_S:
            wait_log.info("%s %s admitted after %.1f s", spec.method, spec.path, waited)
        if self._closed:  # the pool closed while this call waited for budget
            reservation.release()
            raise ClientClosedError("this PortfolioMarginClient was closed")
        return reservation

    def _no_connection(self, call: Call, connect: float) -> APITimeoutError:
        spec = call.spec
        call.sent_at = time.time()
        error = APITimeoutError(
            f"{spec.method} {spec.path}: no free connection within {connect:g}s "
            f"(pool_size {self.pool_size}); the request was not sent",
            method=spec.method,
            path=spec.path,
            sent=False,
        )
        if call.observing:
            self._reporter.end(call, None, error)
        return error

    def _prepare(
        self,
        call: Call,
        session: aiohttp.ClientSession,
        url_override: str | None,
        times: Timeouts,
    ) -> None:
        """Prepare and sign: ``call.url``, its query signed when the endpoint is, and
        ``call.options``, what aiohttp gets with it (the API key among them: neither is
        ever a local, see :class:`Call`); :class:`ClientClosedError` if the client (or its
        session) closed meanwhile.  ``call.sent_at`` is now: the request goes out next."""
        spec = call.spec
        if url_override is not None:
            call.url = URL(url_override, encoded=True)
        else:
            encoded, recv_window = call.encoded, self.recv_window
            if encoded and spec.signed and recv_window and "recvWindow" not in call.params:
                # The endpoint's query lacks it as its params do: digits, appended once.
                call.encoded = encoded = f"{encoded}&recvWindow={recv_window}"
            call.url = self._base.url(
                spec.path,
                query_string(spec, call.params, self.signer, self.clock, recv_window, encoded),
            )
        if call.observing:
            self.emit(RequestStart(spec.method, spec.path, call.number))
        options = self._send_options[spec.needs_key]
        if times is not self.timeouts or (self._guard_writes and spec.is_write):
            options = dict(options)
            if times is not self.timeouts:
                options["timeout"] = aiohttp.ClientTimeout(total=None, connect=times.connect)
            if self._guard_writes and spec.is_write:
                options["middlewares"] = (send_once_guard(),)
        if self._closed or session.closed:  # aclose, or client.session closed by hand
            raise ClientClosedError("this PortfolioMarginClient was closed")
        call.options = options
        call.sent_at = time.time()

    def _send_failed(
        self, call: Call, exc: BaseException, slot: Slot, task: asyncio.Task[Any]
    ) -> BinancePapiError:
        """The typed error of a send that raised ``exc``, for the caller to raise outside
        the except block (nothing of aiohttp's is chained to it).  Anything else goes on,
        raised from here: the caller's cancellation (for a write, after an
        :class:`OutcomeUnknown`, since the request may have been sent), or what nobody
        expects; aiohttp's frames, whose locals hold the signed URL and the API key, are
        left behind."""
        spec = call.spec
        if isinstance(exc, NOT_SENT):
            return not_sent(spec, exc)
        if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError)):
            # (RuntimeError: e.g. aiohttp's "Connection closed." when client.session is
            # closed while the answer is awaited.)
            return failed_after_send(call, exc, self._reporter)
        if isinstance(exc, asyncio.CancelledError):
            if slot.timed_out(task):  # the total timeout (aiohttp has closed the connection)
                return failed_after_send(call, asyncio.TimeoutError(), self._reporter)
            if spec.is_write:
                reason = "cancelled after it may have been sent"
                params = dict(call.params)
                self.emit(OutcomeUnknown(spec.method, spec.path, reason, call.sent_at, params))
        raise exc.with_traceback(None) from None

    async def _before_retry(
        self, call: Call, error: BinancePapiError, url_override: str | None
    ) -> bool:
        """Decide the retry; after waiting what it decided, True to try again."""
        spec = call.spec
        if isinstance(error, RateLimitWaitTimeout):
            if call.last_429 is not None:  # the budget is not back within the policy
                raise call.last_429 from None
            return False
        if (
            isinstance(error, TimestampError)
            and not call.resynced
            and self.clock_sync is not None
            and url_override is None
        ):
            call.resynced = True  # rejected before execution: safe to resend once
            await self.clock_sync.sync(force=True)
            self.emit(RetryScheduled(spec.method, spec.path, call.number, 0.0, "-1021"))
            call.number += 1
            return True
        delay = retry_delay(call, error, self.limiter)
        if delay is None or self._closing:
            return False
        if isinstance(error, RateLimitError):
            call.after_429(error)
        self.emit(RetryScheduled(spec.method, spec.path, call.number, delay, type(error).__name__))
        await asyncio.sleep(delay)
        call.number += 1
        return True
