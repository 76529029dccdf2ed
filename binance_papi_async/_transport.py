"""The one path every request takes: limit, timestamp, sign, send, decode, classify.

It owns (or borrows) the aiohttp ``ClientSession``.  The hot path builds the
exact query string once, signs those bytes, and hands aiohttp an already
encoded ``yarl.URL`` so nothing is re-encoded behind the signature's back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from yarl import URL

from . import _constants as C
from .endpoints import EndpointSpec
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    ExecutionStatusUnknown,
    IPBannedError,
    RateLimitError,
    UnexpectedResponseError,
    from_response,
)
from .signing import Signer, encode_params, percent_encode

if TYPE_CHECKING:  # pragma: no cover
    from .clock import ServerClock
    from .ratelimit import RateLimiter

__all__ = ["Timeouts", "Transport"]

log = logging.getLogger("binance_papi_async")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Request timeouts in seconds.

    ``total`` bounds the whole call from taking a pooled connection to the last
    byte of the response; ``connect`` bounds getting a connection (pool wait,
    DNS, TCP and TLS).  A request that hits ``connect`` was never sent; one that
    hits ``total`` may have been (and, for a write, raises
    :class:`ExecutionStatusUnknown`).
    """

    total: float = C.DEFAULT_TOTAL_TIMEOUT_S
    connect: float = C.DEFAULT_CONNECT_TIMEOUT_S

    def __post_init__(self) -> None:
        if not (self.total > 0 and self.connect > 0):
            raise ConfigurationError(f"timeouts must be > 0, got {self}")

    def to_aiohttp(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.total, connect=self.connect)


def _mask(key: str) -> str:
    return f"{key[:4]}...{key[-4:]}" if len(key) >= 16 else "****"


# Failures proven to happen before any byte of the request left this machine.
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


class Transport:
    """Session lifecycle plus the request path.  Internal: use PortfolioMarginClient."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        signer: Signer | None,
        clock: ServerClock,
        limiter: RateLimiter | None,
        session: aiohttp.ClientSession | None,
        timeouts: Timeouts,
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
        self.timeouts = timeouts
        self._client_timeout = timeouts.to_aiohttp()
        self.recv_window = None if recv_window is None else str(recv_window)
        self._pool_size = pool_size
        self._keepalive_timeout = keepalive_timeout
        self._dns_cache_ttl = dns_cache_ttl
        self._proxy = proxy
        self._trust_env = trust_env
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._in_flight = 0
        self._idle: asyncio.Event | None = None
        self._key_headers: Mapping[str, str] = (
            {C.HEADER_API_KEY: api_key} if api_key is not None else {}
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def owns_session(self) -> bool:
        return self._owns_session

    @property
    def session(self) -> aiohttp.ClientSession | None:
        return self._session

    def _ensure_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None:
            # Created lazily, inside the running loop: the client itself can be built anywhere.
            connector = aiohttp.TCPConnector(
                limit=self._pool_size,
                limit_per_host=self._pool_size,
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
            )
            self._session = session
        elif session.closed:
            raise ClientClosedError("the aiohttp session given to the client has been closed")
        return session

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    # -- the request path --------------------------------------------------------------------

    def check_ready(self, spec: EndpointSpec) -> None:
        """Configuration errors that need no I/O (raised before the limiter is touched)."""
        if self._closed:
            raise ClientClosedError("this PortfolioMarginClient is closed")
        if spec.security.needs_key and self.api_key is None:
            raise ConfigurationError(
                f"{spec.method} {spec.path} needs an API key: pass api_key= or set BINANCE_API_KEY"
            )
        if spec.signed and self.signer is None:
            raise ConfigurationError(
                f"{spec.method} {spec.path} is signed: pass api_secret= (HMAC) or private_key= "
                "(RSA/Ed25519), or set BINANCE_API_SECRET"
            )

    async def request(
        self,
        spec: EndpointSpec,
        params: dict[str, str],
        *,
        timeout: Timeouts | None = None,
        max_wait: float | None = None,
    ) -> Any:
        """Send one call and return the decoded JSON body.  ``params`` are wire strings."""
        self.check_ready(spec)
        session = self._ensure_session()
        limiter = self.limiter
        reservation = None
        if limiter is not None:
            reservation = await limiter.acquire(spec.charges, max_wait=max_wait)
        self._in_flight += 1
        sent_at = 0.0
        try:
            if spec.signed:
                if self.recv_window is not None and "recvWindow" not in params:
                    params["recvWindow"] = self.recv_window
                params["timestamp"] = str(self.clock.now_ms())  # taken just before the send
                query = encode_params(params)
                assert self.signer is not None
                signature = self.signer.sign(query.encode())
                url = f"{self.base_url}{spec.path}?{query}&signature={percent_encode(signature)}"
            elif params:
                url = f"{self.base_url}{spec.path}?{encode_params(params)}"
            else:
                url = f"{self.base_url}{spec.path}"
            sent_at = time.time()
            try:
                async with session.request(
                    spec.method,
                    URL(url, encoded=True),
                    headers=self._key_headers,
                    timeout=self._client_timeout if timeout is None else timeout.to_aiohttp(),
                    proxy=self._proxy,
                ) as resp:
                    body = await resp.read()
                    status = resp.status
                    headers = resp.headers
            except _NOT_SENT as exc:
                if reservation is not None:
                    reservation.release()  # nothing left the machine: give the budget back
                cls = (
                    APITimeoutError
                    if isinstance(exc, asyncio.TimeoutError)
                    else (APIConnectionError)
                )
                raise cls(
                    f"{spec.method} {spec.path}: could not connect ({type(exc).__name__}); "
                    "the request was not sent",
                    method=spec.method,
                    path=spec.path,
                    sent=False,
                ) from exc
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                raise self._after_send_failure(spec, params, sent_at, exc) from exc
            except asyncio.CancelledError:
                if spec.is_write:
                    log.warning(
                        "%s %s cancelled after it may have been sent: execution status unknown",
                        spec.method,
                        spec.path,
                    )
                raise
        finally:
            if reservation is not None:
                reservation.commit()
            self._in_flight -= 1
            if self._in_flight == 0 and self._idle is not None:
                self._idle.set()

        if limiter is not None:
            limiter.observe_headers(headers, reservation=reservation)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d used_weight=%s order_count=%s",
                spec.method,
                spec.path,
                status,
                headers.get("X-MBX-USED-WEIGHT-1M"),
                headers.get("X-MBX-ORDER-COUNT-1M"),
            )
        if status >= 400:
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
                    limiter.on_rate_limited(error.retry_after)
            raise error
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            if spec.is_write:
                raise ExecutionStatusUnknown(
                    f"HTTP {status} with a body that is not JSON",
                    method=spec.method,
                    path=spec.path,
                    params=params,
                    sent_at=sent_at,
                    status=status,
                    headers=headers,
                    body=body,
                ) from None
            raise UnexpectedResponseError(
                status=status,
                code=None,
                msg=None,
                method=spec.method,
                path=spec.path,
                headers=headers,
                body=body,
                hint="expected JSON",
            ) from None

    def _after_send_failure(
        self, spec: EndpointSpec, params: Mapping[str, str], sent_at: float, exc: BaseException
    ) -> Exception:
        timed_out = isinstance(exc, asyncio.TimeoutError)
        what = "timed out" if timed_out else f"failed ({type(exc).__name__})"
        if spec.is_write:
            log.warning(
                "%s %s %s after it may have been sent: execution status unknown",
                spec.method,
                spec.path,
                what,
            )
            return ExecutionStatusUnknown(
                f"request {what} after it may have been sent",
                method=spec.method,
                path=spec.path,
                params=params,
                sent_at=sent_at,
            )
        cls = APITimeoutError if timed_out else APIConnectionError
        return cls(
            f"{spec.method} {spec.path} {what}", method=spec.method, path=spec.path, sent=True
        )

    def describe(self) -> str:
        key = _mask(self.api_key) if self.api_key is not None else None
        return (
            f"base_url={self.base_url!r}, api_key={key!r}, signer={self.signer!r}, "
            f"closed={self._closed}"
        )
