"""``PortfolioMarginClient``: the session manager users hold."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar, overload

import aiohttp

from . import _constants as C
from ._client_ids import DEFAULT_PREFIX, new_client_order_id
from ._http import Transport
from ._http.options import Priority, check_client_max_wait, check_client_timeouts
from ._http.url import check_base_url, check_path, check_time_url
from ._params import check_recv_window, wire_params
from .clock import Clock, ServerClock, TimeSync
from .endpoints import Budget, Charge, EndpointSpec, HttpMethod, Security, WeightKind
from .errors import ConfigurationError, ExecutionStatusUnknown, ValidationError
from .events import EventHook, OutcomeUnknown
from .models import OrderRateLimit
from .ratelimit import DEFAULT_LIMITS, BudgetLimit, RateLimiter, RateLimitSnapshot
from .retry import RetryPolicy
from .signing import HmacSigner, Signer, load_private_key
from .timeouts import Timeouts

if TYPE_CHECKING:  # the namespaces load with the client's first use (see _api)
    from decimal import Decimal

    from .api.account import AccountAPI
    from .api.cm import CmAPI
    from .api.margin import MarginAPI
    from .api.market import MarketAPI
    from .api.um import UmAPI
    from .api.user_stream import UserStreamAPI
    from .resolve import Product, Resolution

_C = TypeVar("_C", bound="PortfolioMarginClient")
# What Binance issues is 64 letters and digits; any visible ASCII is let through.
_API_KEY_RE = re.compile(r"[\x21-\x7e]+")
log = logging.getLogger("binance_papi_async")

__all__ = ["PortfolioMarginClient"]


class _Namespaces(NamedTuple):
    account: AccountAPI
    margin: MarginAPI
    um: UmAPI
    cm: CmAPI
    user_stream: UserStreamAPI
    market: MarketAPI


def _credentials(
    api_key: str | None,
    api_secret: str | None,
    private_key: str | bytes | None,
    private_key_password: str | bytes | None,
    signer: Signer | None,
) -> tuple[str | None, Signer | None]:
    """The API key and the signer, from the arguments or else the environment."""
    api_key = api_key if api_key is not None else os.environ.get("BINANCE_API_KEY")
    if api_key is not None:
        if not isinstance(api_key, str):
            raise ConfigurationError(f"api_key must be a str, not {type(api_key).__name__}")
        if not _API_KEY_RE.fullmatch(api_key):
            # Sent as a header: a space, a newline or a non-ASCII character is never right.
            raise ConfigurationError(
                "api_key (or BINANCE_API_KEY) must be non-empty printable ASCII without spaces "
                "or surrounding whitespace"
            )
    if sum(x is not None for x in (api_secret, private_key, signer)) > 1:
        raise ConfigurationError("give only one of api_secret, private_key and signer")
    if signer is not None:
        if not isinstance(signer, Signer):
            raise ConfigurationError("signer must have a sign(payload: bytes) -> str method")
        return api_key, signer
    if private_key is not None:
        return api_key, load_private_key(private_key, private_key_password)
    if api_secret is None:
        api_secret = os.environ.get("BINANCE_API_SECRET")
    elif not isinstance(api_secret, str):
        raise ConfigurationError(f"api_secret must be a str, not {type(api_secret).__name__}")
    return api_key, HmacSigner(api_secret) if api_secret is not None else None


def _limiter(
    limiter: RateLimiter | Literal[False] | None,
    rate_limits: Iterable[BudgetLimit] | None,
    max_wait: float | None,
    clock: Clock,
) -> RateLimiter | None:
    """The limiter given, none (``False``), or a new one on the client's clock."""
    max_wait = check_client_max_wait(max_wait)
    if limiter is None:
        limits = DEFAULT_LIMITS if rate_limits is None else rate_limits
        return RateLimiter(limits, clock=clock, max_wait=max_wait)
    if limiter is False:
        return None
    if rate_limits is not None or max_wait is not None:
        raise ConfigurationError("rate_limits and max_wait configure the default limiter only")
    return limiter


def _time_sync(time_sync: TimeSync | None) -> TimeSync:
    """``time_sync`` (default: :class:`TimeSync`), its fallback URL checked."""
    if time_sync is None:
        return TimeSync()
    if not isinstance(time_sync, TimeSync):
        raise ConfigurationError(f"time_sync must be a TimeSync, not {type(time_sync).__name__}")
    if isinstance(time_sync.fallback_url, str):
        check_time_url(time_sync.fallback_url)
    check_path(time_sync.path, "TimeSync.path")
    return time_sync


def _charge_overrides(
    charges: Mapping[str, Sequence[Charge]] | None,
) -> dict[str, tuple[Charge, ...]]:
    """``charges`` checked: keys ``"METHOD /path"``, values sequences of :class:`Charge`."""
    overrides: dict[str, tuple[Charge, ...]] = {}
    for route, items in (charges or {}).items():
        method, _, path = route.partition(" ")
        if method not in ("GET", "POST", "PUT", "DELETE") or not path.startswith("/"):
            raise ConfigurationError(
                "charges keys are 'METHOD /path', e.g. 'POST /papi/v1/margin/repay-debt'"
                f", got {route!r}"
            )
        if not all(isinstance(c, Charge) for c in items):
            raise ConfigurationError(f"charges[{route!r}] must be Charge objects")
        overrides[route] = tuple(items)
    return overrides


class PortfolioMarginClient:
    """An asyncio client for the Binance Portfolio Margin REST API.

    Use it as an async context manager (or call :meth:`aclose`)::

        async with PortfolioMarginClient(api_key=KEY, api_secret=SECRET) as client:
            result = await client.margin.repay_debt("BNB", Decimal("0.1"))

    Credentials: ``api_key`` and ``api_secret`` (HMAC-SHA256), or ``private_key``
    (PEM of an RSA or Ed25519 key; needs the ``crypto`` extra), or any object
    implementing :class:`~binance_papi_async.signing.Signer` as ``signer``.
    ``api_key``/``api_secret`` fall back to ``BINANCE_API_KEY``/``BINANCE_API_SECRET``.

    Connection pool: unless you pass your own ``session`` (which the client then
    never closes), the client creates one ``aiohttp.ClientSession`` on first use,
    inside the running loop, over a ``TCPConnector`` with

    * ``pool_size`` (default 64) REST requests in flight at most, and so at most that
      many REST connections to the papi host: enough for an engine's concurrency
      without opening hundreds of TLS sessions; calls beyond it wait their turn, first
      come first served, bounded by the connect timeout (a user data stream's
      WebSocket is on top of these, never in their place);
    * ``keepalive_timeout`` (default 30 s) idle keep-alive, so steady traffic
      reuses warm TLS connections while idle sockets do not linger;
    * ``dns_cache_ttl`` (default 60 s): DNS is resolved at most once a minute,
      short enough to follow Binance's DNS changes.

    ``max_response_size`` (default 8 MiB, bytes) bounds the body read of any response:
    a larger one is refused unread past the bound (its connection closed) with
    :class:`~binance_papi_async.ResponseTooLargeError` (a write's:
    :class:`~binance_papi_async.ExecutionStatusUnknown`); papi's largest answers are
    well under 1 MiB.

    ``base_url`` must be ``https://`` except for a loopback host (the local
    simulator).  ``recv_window`` (1..60000 ms) is sent on every signed call when
    set; Binance's default is 5000.

    Reliability: ``timeouts`` (a :class:`~binance_papi_async.Timeouts`, or seconds
    for the whole attempt; default total 10 s, connect 3 s) and ``retry`` (a
    :class:`~binance_papi_async.RetryPolicy`) are defaults for every call;
    endpoints take ``timeout=`` (seconds or a ``Timeouts``), ``max_wait=``,
    ``priority=`` (``"high"``: admitted by the limiter before normal waiters) and,
    reads, ``retry=`` per call, all checked before any rate budget is reserved.
    ``time_sync`` controls the offset to Binance server time (measured on first
    use of a signed endpoint, then every 10 minutes and after a -1021).  ``clock``
    is the time source (a :class:`~binance_papi_async.ServerClock` by default;
    any other :class:`~binance_papi_async.Clock` is taken as authoritative and
    never resynced, except a :class:`~binance_papi_async.FakeClock` with
    ``time_sync`` given: tests of the clock sync against the simulator).
    ``on_event`` receives a typed event for every request start and end, retry,
    limiter wait (when it starts and when it ends), unknown outcome and clock resync.

    Rate limits: by default the client creates a
    :class:`~binance_papi_async.RateLimiter` with papi's limits (6000 IP weight
    and 1200 orders per minute), or ``rate_limits`` if given; ``max_wait`` is its
    default bound on waiting for budget (default None: as long as the budget ahead
    needs; see the README, "Rate limits").  Pass ``limiter=`` to share one limiter
    between clients on the same IP, or ``limiter=False`` to disable it: they share
    the IP weight, and each account's order count is kept apart (keyed by a hash of
    the API key, :attr:`account_scope`).
    ``charges`` overrides what endpoints charge, keyed by ``"METHOD /path"``, e.g.
    ``{"POST /papi/v1/margin/repay-debt": [Charge(Budget.REQUEST_WEIGHT, 3000)]}``.
    ``proxy`` (an ``http://`` proxy URL) and ``trust_env`` (read ``HTTP(S)_PROXY``
    and ``.netrc``) go to aiohttp.
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        *,
        base_url: str = C.DEFAULT_BASE_URL,
        private_key: str | bytes | None = None,
        private_key_password: str | bytes | None = None,
        signer: Signer | None = None,
        session: aiohttp.ClientSession | None = None,
        recv_window: int | None = None,
        timeouts: Timeouts | float | None = None,
        pool_size: int = C.DEFAULT_POOL_SIZE,
        keepalive_timeout: float = C.DEFAULT_KEEPALIVE_TIMEOUT_S,
        dns_cache_ttl: int = C.DEFAULT_DNS_TTL_S,
        retry: RetryPolicy | None = None,
        time_sync: TimeSync | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | Literal[False] | None = None,
        rate_limits: Iterable[BudgetLimit] | None = None,
        max_wait: float | None = None,
        on_event: EventHook | None = None,
        charges: Mapping[str, Sequence[Charge]] | None = None,
        proxy: str | None = None,
        trust_env: bool = False,
        max_response_size: int = C.DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        api_key, signer = _credentials(
            api_key, api_secret, private_key, private_key_password, signer
        )
        if recv_window is not None:
            try:
                check_recv_window(recv_window)
            except ValueError as exc:
                raise ConfigurationError(str(exc)) from None
        if pool_size < 1:
            raise ConfigurationError("pool_size must be >= 1")
        if type(max_response_size) is not int or max_response_size < 1:
            raise ConfigurationError(
                f"max_response_size must be a number of bytes >= 1, got {max_response_size!r}"
            )
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ConfigurationError("session must be an aiohttp.ClientSession")
        the_clock: Clock = clock if clock is not None else ServerClock()
        if limiter and api_key is not None:  # a shared store scopes the order count by key
            bind = getattr(limiter.store, "bind_api_key", None)
            if bind is not None:
                bind(api_key)
        self._transport = Transport(
            base_url=check_base_url(base_url),
            api_key=api_key,
            signer=signer,
            clock=the_clock,
            limiter=_limiter(limiter, rate_limits, max_wait, the_clock),
            owns_limiter=limiter is None,
            charges=_charge_overrides(charges),
            session=session,
            timeouts=check_client_timeouts(timeouts),
            retry=retry if retry is not None else RetryPolicy(),
            time_sync=_time_sync(time_sync),
            sync_fake_clock=time_sync is not None,
            on_event=on_event,
            recv_window=recv_window,
            pool_size=pool_size,
            keepalive_timeout=keepalive_timeout,
            dns_cache_ttl=dns_cache_ttl,
            proxy=proxy,
            trust_env=trust_env,
            max_response_size=max_response_size,
        )

    # -- endpoint namespaces -----------------------------------------------------------------
    # Their modules and the response models they return (about 300 dataclasses) load on
    # the first use of any of them, or when the client opens (__aenter__), never in the
    # first call of an engine that opened it: importing the package stays cheap.

    @cached_property
    def _api(self) -> _Namespaces:
        from .api.account import AccountAPI
        from .api.cm import CmAPI
        from .api.margin import MarginAPI
        from .api.market import MarketAPI
        from .api.um import UmAPI
        from .api.user_stream import UserStreamAPI

        return _Namespaces(
            AccountAPI(self), MarginAPI(self), UmAPI(self), CmAPI(self),
            UserStreamAPI(self), MarketAPI(self),
        )  # fmt: skip

    @cached_property
    def account(self) -> AccountAPI:
        """Account-wide endpoints (balances, transfers, collections, negative balance)."""
        return self._api.account

    @cached_property
    def margin(self) -> MarginAPI:
        """Cross-margin endpoints (orders, OCO, loans, repays, margin records)."""
        return self._api.margin

    @cached_property
    def um(self) -> UmAPI:
        """USDⓈ-M futures endpoints (orders, algo orders, positions, income)."""
        return self._api.um

    @cached_property
    def cm(self) -> CmAPI:
        """COIN-M futures endpoints (orders, conditional orders, positions, income)."""
        return self._api.cm

    @cached_property
    def user_stream(self) -> UserStreamAPI:
        """The user data stream (``client.user_stream()``) and its listenKey endpoints."""
        return self._api.user_stream

    @cached_property
    def market(self) -> MarketAPI:
        """Unsigned connectivity endpoints."""
        return self._api.market

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def closed(self) -> bool:
        return self._transport.closed

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The aiohttp session in use (``None`` before the first call of an owning client)."""
        return self._transport.session

    @property
    def limiter(self) -> RateLimiter | None:
        """The rate limiter in use (``None`` when disabled)."""
        return self._transport.limiter

    @property
    def rate_limits(self) -> RateLimitSnapshot:
        """A snapshot of every rate budget: used, limit, window reset, waiters.  Its
        ``get(Budget.ORDERS)`` reads this client's account."""
        limiter = self._transport.limiter
        if limiter is None:
            raise ConfigurationError("this client has no rate limiter (limiter=False)")
        return limiter.snapshot(account=self._transport.account)

    @property
    def account_scope(self) -> str | None:
        """The limiter's account scope of this client's order budget: a hash of the API
        key, never the key (``None`` without a key).  E.g.
        ``client.rate_limits.get(Budget.ORDERS, account=client.account_scope)``."""
        return self._transport.account

    @property
    def clock(self) -> Clock:
        """The clock that stamps requests (estimated Binance server time)."""
        return self._transport.clock

    async def refresh_order_limits(self) -> tuple[OrderRateLimit, ...]:
        """Fetch the account's order limits (``GET /papi/v1/rateLimit/order``) and apply
        them to the rate limiter's ORDERS budget.  Returns what Binance reported."""
        limits = await self.account.order_rate_limits()
        limiter = self._transport.limiter
        if limiter is not None:
            for item in limits:
                if item.rate_limit_type == "ORDERS":
                    limiter.set_limit(
                        Budget.ORDERS,
                        item.limit,
                        item.interval_seconds,
                        account=self._transport.account,
                    )
        return limits

    async def sync_time(self) -> None:
        """Measure the offset to Binance server time now (it is also done automatically)."""
        await self._transport.sync_now()

    async def aclose(self, timeout: float = 10.0) -> None:
        """Close the client: refuse new calls, let calls in flight finish (up to ``timeout``
        seconds), then close the connection pool.  Idempotent.  A session passed in by the
        caller is left open."""
        await self._transport.aclose(timeout)

    async def __aenter__(self: _C) -> _C:
        _ = self._api  # load the namespaces and their models now, not in a first call
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"PortfolioMarginClient({self._transport.describe()})"

    def __del__(self, _warn: Any = warnings.warn, _log: logging.Logger = log) -> None:
        # A WARNING on the package's logger, which Python prints to stderr when logging is
        # not configured (ResourceWarning alone is hidden by the default warning filters),
        # then the ResourceWarning that -W error, -X dev and test runners look for: what
        # asyncio and aiohttp do for an unclosed transport or session.
        transport = getattr(self, "_transport", None)
        if transport is None or transport.closed or not transport.owns_session:
            return
        session = transport.session
        if session is not None and not session.closed:
            message = (
                f"unclosed {self!r}: its connections stay open until the process ends; "
                "use 'async with PortfolioMarginClient(...)' or await client.aclose()"
            )
            with contextlib.suppress(Exception):  # logging torn down at interpreter exit
                _log.warning("%s", message)
            _warn(message, ResourceWarning, source=self)

    # -- exactly-once orders ------------------------------------------------------------------

    @staticmethod
    def new_client_order_id(prefix: str = DEFAULT_PREFIX, *, max_length: int = 32) -> str:
        """A new client order id (``prefix`` + time + process nonce + counter: unique
        across clients and restarts), to persist before sending the order with it, so
        that :meth:`resolve_client_order` can tell after a crash whether it was placed.
        The SDK makes one itself for every order sent without."""
        try:
            return new_client_order_id(prefix, max_length=max_length)
        except ValueError as exc:
            raise ValidationError(str(exc), param="prefix") from None

    async def resolve(
        self,
        outcome: ExecutionStatusUnknown | OutcomeUnknown,
        *,
        resend: bool = False,
        accept_duplicate_risk: bool = False,
        settle_margin: float = 1.0,
        recheck_delay: float = 1.0,
        debt_before: Decimal | None = None,
    ) -> Resolution:
        """What became of a write whose outcome is unknown: an order (UM, CM, margin,
        OCO, UM algo, CM conditional), its cancel or modification, a cancel-all, or a
        repay-debt (with ``debt_before``, see ``margin.repay_debt_outcome``).

        Waits until the request can no longer pass papi's recvWindow check
        (``timestamp + recvWindow`` on the client's clock, plus ``settle_margin``
        seconds), queries by the client id (cancel-all: the open orders), and returns a
        :class:`~binance_papi_async.Resolution`: ``placed`` / ``not_placed``,
        ``applied`` / ``not_applied``, or ``unknown`` with the evidence.

        ``resend=True`` sends a ``not_placed`` order again with the same client id,
        after querying once more ``recheck_delay`` seconds later; papi refusing the id
        as a duplicate is answered ``placed``.  An order that may fill or expire as it
        is placed (MARKET, IOC, FOK) frees its id at once: it is resent only with
        ``accept_duplicate_risk=True``.  A resend whose outcome is unknown again raises
        :class:`~binance_papi_async.ExecutionStatusUnknown` (same client id: resolve it).
        The queries are reads charged like any (1 to 10 weight; see the README).
        """
        from .resolve import Resolver

        return await Resolver(self).resolve(
            outcome,
            resend=resend,
            accept_duplicate_risk=accept_duplicate_risk,
            settle_margin=settle_margin,
            recheck_delay=recheck_delay,
            debt_before=debt_before,
        )

    async def resolve_client_order(
        self,
        *,
        symbol: str | None,
        client_order_id: str,
        product: Product,
        sent_at: float | None = None,
        recv_window: int = C.DEFAULT_RECV_WINDOW_MS,
        settle_margin: float = 1.0,
    ) -> Resolution:
        """Whether the order with ``client_order_id`` (an id the engine persisted before
        sending, e.g. from :meth:`new_client_order_id`) was placed: ``placed`` with the
        order as papi reports it now, ``not_placed`` or ``unknown``.  ``product``: ``UM``,
        ``CM``, ``MARGIN``, ``UM_ALGO`` (``clientAlgoId``), ``CM_CONDITIONAL``
        (``newClientStrategyId``) or ``MARGIN_OCO`` (``listClientOrderId``; no symbol
        needed for it and UM_ALGO).  With ``sent_at`` (epoch seconds, server time, when
        it may have been sent) it first waits until ``sent_at + recv_window`` plus
        ``settle_margin``, so that a request still in flight cannot be missed."""
        from .resolve import Resolver

        return await Resolver(self).resolve_client_order(
            symbol=symbol,
            client_order_id=client_order_id,
            product=product,
            sent_at=sent_at,
            recv_window=recv_window,
            settle_margin=settle_margin,
        )

    # -- any endpoint -------------------------------------------------------------------------

    @overload
    async def request(
        self,
        endpoint: EndpointSpec,
        params: Mapping[str, Any] | None = None,
        /,
        *,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        retry: RetryPolicy | None = None,
        priority: Priority = "normal",
    ) -> Any: ...

    @overload
    async def request(
        self,
        endpoint: HttpMethod,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        security: Security | str = Security.USER_DATA,
        weight: int = 1,
        weight_kind: WeightKind | str = WeightKind.IP,
        charges: Sequence[Charge] | None = None,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        retry: RetryPolicy | None = None,
        priority: Priority = "normal",
    ) -> Any: ...

    async def request(
        self,
        endpoint: EndpointSpec | HttpMethod,
        path: str | Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        security: Security | str | None = None,
        weight: int | None = None,
        weight_kind: WeightKind | str | None = None,
        charges: Sequence[Charge] | None = None,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        retry: RetryPolicy | None = None,
        priority: Priority = "normal",
    ) -> Any:
        """Call any papi endpoint; returns the decoded JSON body.

        ``endpoint`` is an :class:`~binance_papi_async.EndpointSpec` (e.g. one of
        ``binance_papi_async.endpoints``), followed by ``params``; or an HTTP method and a
        path, followed by ``params``, that declare the endpoint on the spot: ``security``
        (default ``USER_DATA``) decides whether the key is sent and the call signed;
        ``weight`` and ``weight_kind`` (as printed on the endpoint's page) decide what the
        rate limiter charges, unless ``charges`` are given explicitly.

        ``params`` use Binance's names; values may be ``str``, ``int``, ``bool``,
        ``Decimal``, enums, aware ``datetime`` or sequences (comma-joined); ``None``
        values are omitted.  The call is signed, rate-limited, retried and its errors
        classified exactly as the typed methods' are.
        """
        if isinstance(endpoint, EndpointSpec):
            if any(x is not None for x in (security, weight, weight_kind, charges)):
                raise ConfigurationError(
                    "security, weight, weight_kind and charges describe an endpoint given by "
                    "method and path; an EndpointSpec carries its own"
                )
            if path is not None and not isinstance(path, str):
                if params is not None:
                    raise ConfigurationError("params given twice")
                params = path
            elif path is not None:
                raise ConfigurationError("an EndpointSpec carries its path; pass params only")
            check_path(endpoint.path)
            spec = endpoint
        elif isinstance(path, str):
            spec = _declared(endpoint, path, security, weight, weight_kind, charges)
        else:
            raise ConfigurationError("give an EndpointSpec, or an HTTP method and a path")
        return await self._transport.request(
            spec,
            wire_params(params),
            timeout=timeout,
            max_wait=max_wait,
            retry=retry,
            priority=priority,
        )


def _declared(
    method: HttpMethod,
    path: str,
    security: Security | str | None,
    weight: int | None,
    weight_kind: WeightKind | str | None,
    charges: Sequence[Charge] | None,
) -> EndpointSpec:
    """An endpoint declared by hand, checked."""
    if method not in ("GET", "POST", "PUT", "DELETE"):
        raise ConfigurationError(f"unsupported HTTP method {method!r}")
    check_path(path)  # no query, fragment, space, "..", control or non-ASCII character
    weight = 1 if weight is None else weight
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
        raise ConfigurationError(f"weight must be an int >= 0, got {weight!r}")
    return EndpointSpec(
        name=f"{method} {path}",
        method=method,
        path=path,
        security=Security(security if security is not None else Security.USER_DATA),
        weight=weight,
        weight_kind=WeightKind(weight_kind if weight_kind is not None else WeightKind.IP),
        charges=tuple(charges) if charges is not None else (),
    )
