"""A local papi server (aiohttp.web) behaving like Binance Portfolio Margin.

Routes: all 109 operations of the endpoint table (``endpoints._table.TABLE``), plus
the undocumented ``GET /papi/v1/time`` and ``GET /fapi/v1/time``, and the user data
stream ``GET /pm/ws/{listenKey}`` (see :mod:`.stream`).  Every route applies the same
pipeline (below) with the security type, parameters and charges of its spec.  The
answer comes from real state for: repay-debt, balance, account, rateLimit/order,
ping, time, listenKey here, and in :mod:`.trading` (see its fill model): UM and CM
orders (new, modify, cancel, query, open order(s), all orders, cancel all),
conditional orders (new, cancel, open order(s), history, all, cancel all),
positions (``positionRisk``), ``um/account``, ``v2/um/account``, ``cm/account``,
leverage, margin orders (new, cancel, query, open orders, all orders, cancel all),
``marginLoan`` / ``repayLoan`` and their records, ``maxBorrowable`` and
``maxWithdraw``.  Every other operation answers its doc example
(:mod:`._examples`, the same body whatever the arguments) after all the checks.
Control endpoints under ``/_sim/``
(never rate-limited, never faulted): ``GET|POST|DELETE /_sim/faults``,
``GET|DELETE /_sim/requests``, ``POST /_sim/reset``, ``GET /_sim/state``.

How a papi request is processed, in this order (each step can answer early):

1. faults (:mod:`.faults`): latency, then a "before" fault answers at once;
2. IP ban: during a ban, or when a request arrives while backing off after a 429
   (until the end of that window), the answer is 418 -1003 "Way too many
   requests; IP banned until <ms>..." with ``Retry-After``; a new ban lasts
   ``ban_seconds`` (default 120);
3. route: unknown path -> 404, known path with another method -> 405 (HTML bodies,
   like the front proxy; not charged);
4. IP request weight is charged (the spec's charges; where the spec has
   ``weight_rules``, the weight for the parameter names sent, e.g. 40 for
   ``GET /papi/v1/um/openOrders`` without ``symbol``); above
   ``ip_weight_limit`` -> 429 -1003 with ``Retry-After`` (seconds to the window
   end), and the IP is backing off until that window ends.  **Rejected requests
   consume weight**, as on Binance (a 429'd request is counted too);
5. API key (if the endpoint needs one): missing -> 401 -2014, unknown -> 401 -2015;
6. parameters: query string plus an ``application/x-www-form-urlencoded`` body
   (query wins on duplicates; a duplicate inside one of them -> -1101), decoded as
   UTF-8 (invalid -> -1100);
7. signed endpoints: ``signature`` must be present (-1102) and be the last component
   of the query or of the body (else -1022); it is checked over the **raw bytes
   received** (raw query minus its ``signature`` component, concatenated with the
   raw body minus its ``signature`` component) -> -1022; ``timestamp`` mandatory
   (-1102); ``recvWindow`` (default 5000) must be an integer in 1..60000, else
   400 -1130 "Data sent for parameter 'recvWindow' is not valid."; then
   ``timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow`` or -1021;
8. the account's order count is charged for order-counting endpoints (the spec's
   ORDERS charge: repay-debt and order placing / amending: 1, OCO: 2); above
   ``order_limit`` -> 429 -1015 (no IP back-off: the order limit is per account, the
   ban is per IP);
9. unknown parameters (not in the spec's ``params``) -> -1104 "Not all sent
   parameters were read; read 'N' parameter(s) but was sent 'M'."; missing or
   empty mandatory ones (``required`` in the spec) -> -1102;
10. the business logic (see :meth:`PapiSimulator.repay_debt` for repay-debt,
    :mod:`.trading` for orders, positions and loans) or the doc example;
11. "after" faults replace the answer (the state change, if any, stays applied).

Every papi response carries ``X-MBX-USED-WEIGHT-1M``; responses of order-counting
endpoints carry ``X-MBX-ORDER-COUNT-1M`` once the account is known.  Windows are
fixed minutes of the simulator's server time (``clock.time()`` + skew), starting
on the minute.  IP weight is counted per simulator (every client is on loopback).
With ``rate_limits=False`` the counters and headers still work but nothing is
refused (for benchmarks).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import ipaddress
import itertools
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import orjson
from aiohttp import web

from .._constants import (
    DEFAULT_RECV_WINDOW_MS,
    HEADER_API_KEY,
    IP_WEIGHT_LIMIT_PER_MINUTE,
    MAX_RECV_WINDOW_MS,
    ORDER_LIMIT_PER_MINUTE,
)
from ..clock import Clock, ServerClock
from ..endpoints import SERVER_TIME, Budget, EndpointSpec, Security
from ..endpoints._table import TABLE
from ..signing import HmacSigner
from ._errors import SimulatedError, invalid, mandatory
from ._examples import EXAMPLES
from .faults import Fault, FaultPlan
from .state import (
    DEFAULT_ACCOUNT,
    DEMO_API_KEY,
    DEMO_API_SECRET,
    EIGHT_PLACES,
    ZERO,
    Account,
    KeySpec,
    RepayRecord,
    SimState,
    demo_state,
    fmt8,
    q8,
)
from .stream import StreamHub
from .trading import Exchange

__all__ = ["MAX_REPAY_USD", "PapiSimulator", "RequestRecord", "SimulatedError", "is_loopback"]

#: repay-debt refuses more than this USD equivalent in one request.
MAX_REPAY_USD = Decimal(50_000)

_WINDOW_MS = 60_000
_USED_WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
_ORDER_COUNT_HEADER = "X-MBX-ORDER-COUNT-1M"
_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
_SIGNATURE_PREFIX = "signature="
_SIGNED_BASE = frozenset({"recvWindow", "timestamp", "signature"})
_Q8 = EIGHT_PLACES

_MSG_TOO_MANY = (
    "Too many requests; current limit is {limit} requests per minute. "
    "Please use the websocket for live updates to avoid polling the API."
)
_MSG_BANNED = (
    "Way too many requests; IP banned until {until}. "
    "Please use the websocket for live updates to avoid bans."
)
_MSG_TIMEOUT = (
    "Timeout waiting for response from backend server. Send status unknown; "
    "execution status unknown."
)
_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_503_BODIES = {
    "unknown": (-1000, "Unknown error, please check your request or try again later."),
    "unavailable": (-1000, "Service Unavailable."),
    "internal": (-1001, "Internal error; unable to process your request. Please try again."),
}

_FAPI_TIME = EndpointSpec(
    name="fapi_check_server_time",
    method="GET",
    path="/fapi/v1/time",
    security=Security.NONE,
    weight=1,
    summary="USD-M Check Server Time",
)


def _example_handler(key: str) -> Callable[..., Any]:
    """A handler answering the doc example of ``key`` (``"METHOD /path"``), byte for byte."""
    body = orjson.Fragment(EXAMPLES[key].encode())

    def handler(ctx: _Ctx, account: Account | None, params: dict[str, str]) -> Any:
        return body

    return handler


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_BAD_SIGNATURE = SimulatedError(400, -1022, "Signature for this request is not valid.")
_DUPLICATE = SimulatedError(400, -1101, "Duplicate values for a parameter detected.")
_ILLEGAL_CHARS = SimulatedError(400, -1100, "Illegal characters found in a parameter.")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the simulator saw it, and what it answered.

    ``query`` is the raw query string and ``body`` the raw body, as received but
    with the ``signature`` value replaced by ``<redacted>`` (signatures never reach a
    log); ``headers`` are the request headers with ``X-MBX-APIKEY`` masked.  ``status``
    is ``None`` when the connection was dropped without an answer; ``code`` is the
    Binance error code (``None`` on success or for non-JSON answers).  ``applied``
    says whether a state change (a repay) was applied.  ``fault`` names the fault
    that fired, if any.
    """

    seq: int
    time: int
    method: str
    path: str
    query: str
    body: bytes
    headers: Mapping[str, str]
    account: str | None
    status: int | None
    code: int | None
    applied: bool
    fault: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (``body`` decoded as UTF-8 with replacement)."""
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body.decode("utf-8", "replace"),
            "headers": dict(self.headers),
            "account": self.account,
            "status": self.status,
            "code": self.code,
            "applied": self.applied,
            "fault": self.fault,
        }


@dataclass(slots=True)
class _Key:
    account: str
    hmac: HmacSigner | None
    public_key: Any  # Ed25519PublicKey | RSAPublicKey | None

    def verify(self, payload: bytes, signature: str) -> bool:
        """Check ``signature`` (already percent-decoded) over ``payload``."""
        if self.hmac is not None:
            return hmac.compare_digest(self.hmac.sign(payload), signature.lower())
        return _verify_public(self.public_key, payload, signature)


def _verify_public(key: Any, payload: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(raw, payload)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
        else:  # pragma: no cover - add_key only accepts the two types
            return False
    except InvalidSignature:
        return False
    return True


def _load_public_key(pem: str | bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("public-key API keys need the 'cryptography' package") from exc
    key = load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        raise ValueError(f"unsupported public key type {type(key).__name__}: use RSA or Ed25519")
    return key


@dataclass(slots=True)
class _Limits:
    """Fixed one-minute windows: IP weight (whole simulator) and order counts per account."""

    window: int = -1
    ip_used: int = 0
    orders: dict[str, int] = field(default_factory=dict)
    backoff_until: int = 0
    banned_until: int = 0

    def roll(self, now_ms: int) -> None:
        window = now_ms // _WINDOW_MS
        if window != self.window:
            self.window = window
            self.ip_used = 0
            self.orders.clear()

    def window_end(self) -> int:
        return (self.window + 1) * _WINDOW_MS


@dataclass(frozen=True, slots=True)
class _Route:
    spec: EndpointSpec
    weight: int
    orders: int
    params: frozenset[str]
    required: tuple[str, ...]
    handler: Callable[[_Ctx, Account | None, dict[str, str]], Any]


@dataclass(slots=True)
class _Ctx:
    """Per-request bookkeeping for the log and the headers."""

    method: str
    path: str
    query: str
    body: bytes
    now: int
    account: str | None = None
    route: _Route | None = None
    applied: bool = False
    fault: Fault | None = None
    status: int | None = None
    code: int | None = None


_SIGNATURE_RE = re.compile(r"(?:(?<=&)|^)signature=[^&]*")
_SIGNATURE_RE_BYTES = re.compile(rb"(?:(?<=&)|^)signature=[^&]*")
_REDACTED = "signature=<redacted>"


def _is_digits(value: str) -> bool:
    """ASCII digits only (``int()`` would also take signs, spaces and underscores)."""
    return value.isascii() and value.isdigit()


def _seconds_until(now_ms: int, until_ms: int) -> int:
    return max(1, -(-(until_ms - now_ms) // 1000))


def _split_signature(raw: str) -> tuple[str, str | None]:
    """``raw`` minus a trailing ``signature=`` component, and that component's raw value.

    Raises -1022 if ``signature`` is present but not the last component, -1101 if twice.
    """
    if _SIGNATURE_PREFIX not in raw:
        return raw, None
    parts = raw.split("&")
    found = [i for i, p in enumerate(parts) if p.startswith(_SIGNATURE_PREFIX)]
    if not found:
        return raw, None
    if len(found) > 1:
        raise _DUPLICATE
    if found[0] != len(parts) - 1:
        raise _BAD_SIGNATURE
    return "&".join(parts[:-1]), parts[-1][len(_SIGNATURE_PREFIX) :]


def _parse_params(raw: str) -> dict[str, str]:
    """Percent-decode ``k=v&...`` (UTF-8, ``+`` is a space); duplicates -> -1101."""
    params: dict[str, str] = {}
    if not raw:
        return params
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        try:
            key = unquote_plus(name, errors="strict")
            val = unquote_plus(value, errors="strict")
        except UnicodeDecodeError:
            raise _ILLEGAL_CHARS from None
        if key in params:
            raise _DUPLICATE
        params[key] = val
    return params


def _price(state: SimState, asset: str) -> Decimal:
    price = state.prices.get(asset)
    if price is None:
        raise SimulatedError(400, -1108, "Invalid asset.")
    return price


class PapiSimulator:
    """A local papi server with per-account state, Binance's auth rules, limits and faults.

    ``async with PapiSimulator(api_key=..., api_secret=...) as sim:`` listens on
    ``host`` (loopback only unless ``allow_remote=True``) on ``port`` (0: a free
    port) and exposes ``sim.url``.  Without the context manager, use ``make_app()``
    / ``sim.app`` (e.g. with pytest-aiohttp's ``aiohttp_server``) or
    ``await sim.start()`` / ``await sim.close()``.

    ``state`` defaults to :func:`demo_state`; the keys of ``state.keys`` are
    registered, then ``api_key`` / ``api_secret`` (account ``"main"``); with no key
    at all the demo pair (``DEMO_API_KEY`` / ``DEMO_API_SECRET``) is registered.
    More keys: :meth:`add_key`.  ``clock`` (default: the host clock) is the
    server's clock; inject a :class:`~binance_papi_async.clock.FakeClock` to
    control time and rate-limit windows.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        state: SimState | None = None,
        ip_weight_limit: int = IP_WEIGHT_LIMIT_PER_MINUTE,
        order_limit: int = ORDER_LIMIT_PER_MINUTE,
        rate_limits: bool = True,
        ban_seconds: int = 120,
        log_limit: int | None = 10_000,
        allow_remote: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to listen on non-loopback host {host!r} (allow_remote)")
        if (api_key is None) != (api_secret is None):
            raise ValueError("give both api_key and api_secret, or neither")
        self.host = host
        self.port = port
        self.clock: Clock = clock if clock is not None else ServerClock()
        self.ip_weight_limit = ip_weight_limit
        self.order_limit = order_limit
        self.rate_limits = rate_limits
        self.ban_seconds = ban_seconds
        self.faults = FaultPlan()
        self._initial = (state if state is not None else demo_state()).copy()
        self._initial.check_prices()
        self.state = self._initial.copy()
        self._stamp_accounts()
        self._keys: dict[str, _Key] = {}
        for spec in self._initial.keys:
            self._register(spec)
        if api_key is not None and api_secret is not None:
            self.add_key(api_key, secret=api_secret)
        if not self._keys:
            self.add_key(DEMO_API_KEY, secret=DEMO_API_SECRET)
        self._limits = _Limits()
        self._log: deque[RequestRecord] = deque(maxlen=log_limit)
        self._log_enabled = log_limit != 0
        self._seq = itertools.count(1)
        #: The trading engine: orders, positions, loans (see :mod:`.trading`).
        self.exchange = Exchange(self)
        self._routes = self._build_routes()
        self._paths = {path for _, path in self._routes}
        self._app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        #: The user data stream: listen keys, connections, stream faults (see :mod:`.stream`).
        self.stream = StreamHub(self)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> PapiSimulator:
        """A simulator seeded from a JSON / TOML file (see :mod:`.state`)."""
        return cls(state=SimState.from_file(path), **kwargs)

    def make_app(self) -> web.Application:
        """The aiohttp application (created once)."""
        if self._app is None:
            app = web.Application()
            r = app.router
            r.add_route("GET", "/_sim/faults", self._ctl_get_faults)
            r.add_route("POST", "/_sim/faults", self._ctl_add_faults)
            r.add_route("DELETE", "/_sim/faults", self._ctl_clear_faults)
            r.add_route("GET", "/_sim/requests", self._ctl_get_requests)
            r.add_route("DELETE", "/_sim/requests", self._ctl_clear_requests)
            r.add_route("POST", "/_sim/reset", self._ctl_reset)
            r.add_route("GET", "/_sim/state", self._ctl_state)
            r.add_route("GET", "/pm/ws/{listen_key}", self.stream.handle)
            r.add_route("*", "/{tail:.*}", self._handle)
            self._app = app
        return self._app

    @property
    def app(self) -> web.Application:
        """Same as :meth:`make_app`."""
        return self.make_app()

    async def start(self) -> None:
        """Start listening (no-op if already started)."""
        if self._runner is not None:
            return
        runner = web.AppRunner(
            self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound_port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Stop listening and close open connections (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await self.stream.close()
            await runner.cleanup()

    async def __aenter__(self) -> PapiSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (only once started)."""
        if self._runner is None or self._bound_port is None:
            raise RuntimeError("the simulator is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}"

    # ------------------------------------------------------------------ keys, state, logs

    def add_key(
        self,
        api_key: str,
        *,
        secret: str | None = None,
        public_key_pem: str | bytes | None = None,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        """Register an API key: HMAC ``secret``, or an RSA / Ed25519 ``public_key_pem``.

        Several keys may share one ``account`` (they then see the same state);
        the account is created empty if the state has none of that name.
        """
        pem = public_key_pem.decode() if isinstance(public_key_pem, bytes) else public_key_pem
        self._register(KeySpec(api_key, secret=secret, public_key_pem=pem, account=account))

    def _register(self, spec: KeySpec) -> None:
        if spec.secret is not None:
            key = _Key(spec.account, HmacSigner(spec.secret), None)
        else:
            assert spec.public_key_pem is not None
            key = _Key(spec.account, None, _load_public_key(spec.public_key_pem))
        self.state.account(spec.account)
        self._keys[spec.api_key] = key
        self._stamp_accounts()

    def account(self, name: str = DEFAULT_ACCOUNT) -> Account:
        """The live state of account ``name`` (``applied_repays``, ``assets``...)."""
        return self.state.account(name)

    def account_of(self, api_key: str) -> Account:
        """The live state of the account ``api_key`` belongs to."""
        return self.state.account(self._keys[api_key].account)

    @property
    def requests(self) -> list[RequestRecord]:
        """The request log, oldest first (at most ``log_limit`` records)."""
        return list(self._log)

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._log.clear()

    def reset(self) -> None:
        """Back to the seed state; limits, bans, faults, skew and the log are cleared."""
        self.state = self._initial.copy()
        for key in self._keys.values():
            self.state.account(key.account)
        self._stamp_accounts()
        self._limits = _Limits()
        self.faults.clear()
        self._log.clear()

    def server_time_ms(self) -> int:
        """The server's time in ms: ``clock.time()`` plus the injected skew."""
        return int(self.clock.time() * 1000) + self.faults.skew_ms

    @property
    def used_weight(self) -> int:
        """IP request weight used in the current window."""
        self._limits.roll(self.server_time_ms())
        return self._limits.ip_used

    def order_count(self, account: str = DEFAULT_ACCOUNT) -> int:
        """Orders counted for ``account`` in the current window."""
        self._limits.roll(self.server_time_ms())
        return self._limits.orders.get(account, 0)

    @property
    def banned_until(self) -> int | None:
        """End of the current IP ban (server ms), or ``None`` when not banned."""
        until = self._limits.banned_until
        return until if until > self.server_time_ms() else None

    def _stamp_accounts(self) -> None:
        now = self.server_time_ms()
        for account in self.state.accounts.values():
            if not account.update_time:
                account.update_time = now

    # ------------------------------------------------------------------ routes

    def _build_routes(self) -> dict[tuple[str, str], _Route]:
        """Every operation of the endpoint table, plus ``/papi/v1/time`` and ``/fapi/v1/time``.

        Parameters and charges come from the table's specs; the handler is the
        stateful one where there is one (this module and :mod:`.trading`), otherwise
        the operation's doc example (:mod:`._examples`).
        """
        handlers: dict[tuple[str, str], Callable[..., Any]] = {
            ("POST", "/papi/v1/margin/repay-debt"): self._h_repay,
            ("GET", "/papi/v1/balance"): self._h_balance,
            ("GET", "/papi/v1/account"): self._h_account,
            ("GET", "/papi/v1/rateLimit/order"): self._h_rate_limit,
            ("GET", "/papi/v1/ping"): self._h_ping,
            ("GET", "/papi/v1/time"): self._h_time,
            ("GET", "/fapi/v1/time"): self._h_time,
            ("POST", "/papi/v1/listenKey"): self._h_listen_key_start,
            ("PUT", "/papi/v1/listenKey"): self._h_listen_key_keepalive,
            ("DELETE", "/papi/v1/listenKey"): self._h_listen_key_close,
            **self.exchange.routes(),
        }
        routes: dict[tuple[str, str], _Route] = {}
        for spec in (*TABLE, SERVER_TIME, _FAPI_TIME):
            key = (spec.method, spec.path)
            handler = handlers.get(key) or _example_handler(f"{spec.method} {spec.path}")
            weight = sum(c.amount for c in spec.charges if c.budget is Budget.REQUEST_WEIGHT)
            orders = sum(c.amount for c in spec.charges if c.budget is Budget.ORDERS)
            params = frozenset(p.name for p in spec.params)
            required = tuple(p.name for p in spec.params if p.required and p.name != "timestamp")
            allowed = params | _SIGNED_BASE if spec.signed else params
            routes[key] = _Route(spec, weight, orders, allowed, required, handler)
        return routes

    def set_mark(self, symbol: str, price: Decimal | str | int) -> None:
        """Move the mark price of ``symbol`` (e.g. ``"BTCUSDT"``, ``"BTCUSD_PERP"``).

        Resting LIMIT orders the new mark crosses fill at their price, and conditional
        orders whose stop price it reaches trigger (see :mod:`.trading`); the stream
        carries the resulting events.
        """
        value = Decimal(price) if isinstance(price, str | int) else price
        if not value.is_finite() or value <= 0:
            raise ValueError(f"mark price must be positive: {price!r}")
        self.state.marks[symbol] = value
        self.exchange.on_mark(symbol, self.server_time_ms())

    # ------------------------------------------------------------------ request path

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_target = request.raw_path
        qpos = raw_target.find("?")
        ctx = _Ctx(
            request.method,
            request.path,
            raw_target[qpos + 1 :] if qpos >= 0 else "",
            await request.read() if request.body_exists else b"",
            0,
        )
        response = await self._respond(request, ctx)
        if self._log_enabled:
            self._record(request, ctx)
        return response

    async def _respond(self, request: web.Request, ctx: _Ctx) -> web.StreamResponse:
        fault: Fault | None = None
        if self.faults.active:
            delay, fault = self.faults.take(ctx.path)
            if delay > 0:
                await asyncio.sleep(delay)
        ctx.now = now = self.server_time_ms()
        limits = self._limits
        limits.roll(now)
        route = ctx.route = self._routes.get((ctx.method, ctx.path))
        api_key = request.headers.get(HEADER_API_KEY)
        if api_key:
            known = self._keys.get(api_key)
            ctx.account = known.account if known is not None else None
        if fault is not None:
            ctx.fault = fault
            if not fault.after:
                return self._fault_response(request, ctx, fault)
        if self.rate_limits:
            if now < limits.banned_until:
                return self._banned(ctx, limits.banned_until)
            if now < limits.backoff_until:
                limits.backoff_until = 0
                limits.banned_until = now + self.ban_seconds * 1000
                return self._banned(ctx, limits.banned_until)
        if route is None:
            return self._not_found(ctx)
        limits.ip_used += self._weight_of(route, ctx, request)
        response: web.StreamResponse
        try:
            if self.rate_limits and limits.ip_used > self.ip_weight_limit:
                limits.backoff_until = limits.window_end()
                raise SimulatedError(429, -1003, _MSG_TOO_MANY.format(limit=self.ip_weight_limit))
            payload = self._process(request, ctx, route, api_key)
        except SimulatedError as err:
            response = self._error(ctx, err)
        else:
            response = self._json(ctx, 200, orjson.dumps(payload), None)
        if fault is not None and fault.after:
            return self._fault_response(request, ctx, fault)
        return response

    @staticmethod
    def _weight_of(route: _Route, ctx: _Ctx, request: web.Request) -> int:
        """The route's IP weight for the parameters sent (the spec's ``weight_rules``)."""
        spec = route.spec
        if not spec.weight_rules:
            return route.weight
        raw = [ctx.query]
        if ctx.body and request.content_type == _FORM:
            raw.append(ctx.body.decode("utf-8", "replace"))
        sent = {
            unquote_plus(part.partition("=")[0], errors="replace"): ""
            for text in raw
            for part in text.split("&")
            if part
        }
        return spec.for_params(sent).weight

    def _process(self, request: web.Request, ctx: _Ctx, route: _Route, api_key: str | None) -> Any:
        spec = route.spec
        key: _Key | None = None
        if spec.security.needs_key:
            if not api_key:
                raise SimulatedError(401, -2014, "API-key format invalid.")
            key = self._keys.get(api_key)
            if key is None:
                raise SimulatedError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        query = ctx.query
        body_text = ""
        if ctx.body and ctx.method != "GET":
            try:
                body_text = ctx.body.decode("utf-8")
            except UnicodeDecodeError:
                raise _ILLEGAL_CHARS from None
            if request.content_type != _FORM:
                body_text = ""  # not form-encoded: not parameters (still part of the payload)
        if spec.signed:
            assert key is not None
            q_rest, q_sig = _split_signature(query)
            b_rest, b_sig = _split_signature(body_text) if body_text else ("", None)
            if q_sig is not None and b_sig is not None:
                raise _DUPLICATE
            raw_sig = q_sig if q_sig is not None else b_sig
            if raw_sig is None or not raw_sig:
                raise mandatory("signature")
            payload = q_rest.encode("utf-8", "surrogateescape")
            if ctx.body:
                payload += b_rest.encode() if body_text else ctx.body
            signature = unquote_plus(raw_sig)
            if not key.verify(payload, signature):
                raise _BAD_SIGNATURE
        params = _parse_params(body_text) if body_text else {}
        if query:
            params.update(_parse_params(query))  # the query wins on duplicates
        if spec.signed:
            self._check_timestamp(ctx.now, params)
        account: Account | None = None
        if key is not None:
            account = self.state.account(key.account)
        if route.orders and key is not None:
            count = self._limits.orders.get(key.account, 0) + route.orders
            self._limits.orders[key.account] = count
            if self.rate_limits and count > self.order_limit:
                raise SimulatedError(
                    429,
                    -1015,
                    f"Too many new orders; current limit is {self.order_limit} orders per MINUTE.",
                )
        unread = [name for name in params if name not in route.params]
        if unread:
            sent = len(params)
            raise SimulatedError(
                400,
                -1104,
                f"Not all sent parameters were read; read '{sent - len(unread)}' "
                f"parameter(s) but was sent '{sent}'.",
            )
        for name in route.required:
            if not params.get(name):
                raise mandatory(name)
        return route.handler(ctx, account, params)

    @staticmethod
    def _check_timestamp(now: int, params: dict[str, str]) -> None:
        raw_ts = params.get("timestamp")
        if not raw_ts or not _is_digits(raw_ts):
            raise mandatory("timestamp")
        timestamp = int(raw_ts)
        raw_rw = params.get("recvWindow")
        if raw_rw is None:
            recv_window = DEFAULT_RECV_WINDOW_MS
        else:
            if not _is_digits(raw_rw):
                raise invalid("recvWindow")
            recv_window = int(raw_rw)
            if not 0 < recv_window <= MAX_RECV_WINDOW_MS:
                raise invalid("recvWindow")
        if timestamp >= now + 1000:
            raise SimulatedError(
                400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if now - timestamp > recv_window:
            raise SimulatedError(
                400, -1021, "Timestamp for this request is outside of the recvWindow."
            )

    # ------------------------------------------------------------------ responses

    def _headers(self, ctx: _Ctx) -> dict[str, str]:
        headers = {_USED_WEIGHT_HEADER: str(self._limits.ip_used)}
        route = ctx.route
        if route is not None and route.orders and ctx.account is not None:
            headers[_ORDER_COUNT_HEADER] = str(self._limits.orders.get(ctx.account, 0))
        return headers

    def _record(self, request: web.Request, ctx: _Ctx) -> None:
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            if name.lower() == "x-mbx-apikey":
                value = value[:4] + "***" if len(value) > 8 else "***"
            headers[str(name)] = value
        self._log.append(
            RequestRecord(
                seq=next(self._seq),
                time=ctx.now,
                method=ctx.method,
                path=ctx.path,
                query=_SIGNATURE_RE.sub(_REDACTED, ctx.query),
                body=_SIGNATURE_RE_BYTES.sub(_REDACTED.encode(), ctx.body),
                headers=headers,
                account=ctx.account,
                status=ctx.status,
                code=ctx.code,
                applied=ctx.applied,
                fault=ctx.fault.kind if ctx.fault is not None else None,
            )
        )

    def _json(
        self,
        ctx: _Ctx,
        status: int,
        body: bytes,
        code: int | None,
        extra: Mapping[str, str] | None = None,
    ) -> web.Response:
        headers = self._headers(ctx)
        if extra:
            headers.update(extra)
        ctx.status = status
        ctx.code = code
        return web.Response(status=status, body=body, content_type=_JSON, headers=headers)

    def _error(self, ctx: _Ctx, err: SimulatedError) -> web.Response:
        extra: dict[str, str] | None = None
        if err.status == 429:
            extra = {"Retry-After": str(_seconds_until(ctx.now, self._limits.window_end()))}
        body = orjson.dumps({"code": err.code, "msg": err.msg})
        return self._json(ctx, err.status, body, err.code, extra)

    def _banned(self, ctx: _Ctx, until: int) -> web.Response:
        body = orjson.dumps({"code": -1003, "msg": _MSG_BANNED.format(until=until)})
        extra = {"Retry-After": str(_seconds_until(ctx.now, until))}
        return self._json(ctx, 418, body, -1003, extra)

    def _html(self, ctx: _Ctx, status: int, body: bytes) -> web.Response:
        ctx.status = status
        ctx.code = None
        return web.Response(
            status=status, body=body, content_type="text/html", headers=self._headers(ctx)
        )

    def _not_found(self, ctx: _Ctx) -> web.Response:
        if ctx.path in self._paths:
            return self._html(
                ctx, 405, b"<html><body><h2>405 Method Not Allowed</h2></body></html>"
            )
        return self._html(ctx, 404, b"<html><body><h2>404 Not found</h2></body></html>")

    def _fault_response(self, request: web.Request, ctx: _Ctx, fault: Fault) -> web.Response:
        kind = fault.kind
        if kind == "drop":
            ctx.status = ctx.code = None
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)  # never sent: the connection is gone
        if kind == "rate_limit":
            retry = fault.retry_after
            if retry is None:
                retry = _seconds_until(ctx.now, self._limits.window_end())
            body = orjson.dumps(
                {"code": -1003, "msg": _MSG_TOO_MANY.format(limit=self.ip_weight_limit)}
            )
            return self._json(ctx, 429, body, -1003, {"Retry-After": str(retry)})
        if kind == "ban":
            retry = fault.retry_after if fault.retry_after is not None else self.ban_seconds
            body = orjson.dumps(
                {"code": -1003, "msg": _MSG_BANNED.format(until=ctx.now + retry * 1000)}
            )
            return self._json(ctx, 418, body, -1003, {"Retry-After": str(retry)})
        if kind == "timeout":
            body = orjson.dumps({"code": -1007, "msg": _MSG_TIMEOUT})
            return self._json(ctx, fault.status, body, -1007)
        if fault.status == 502:
            return self._html(ctx, 502, _HTML_502)
        if fault.status == 503:
            code, msg = _503_BODIES[fault.variant]
        else:
            code, msg = -1000, "Request occur unknown error."
        return self._json(ctx, fault.status, orjson.dumps({"code": code, "msg": msg}), code)

    # ------------------------------------------------------------------ business logic

    def _h_ping(self, ctx: _Ctx, account: Account | None, params: dict[str, str]) -> Any:
        return {}

    def _h_time(self, ctx: _Ctx, account: Account | None, params: dict[str, str]) -> Any:
        return {"serverTime": ctx.now}

    def _h_rate_limit(self, ctx: _Ctx, account: Account | None, params: dict[str, str]) -> Any:
        return [
            {
                "rateLimitType": "ORDERS",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.order_limit,
            }
        ]

    def _h_balance(self, ctx: _Ctx, account: Account | None, params: dict[str, str]) -> Any:
        assert account is not None
        asset = params.get("asset")
        if asset is not None:
            if not asset:
                raise mandatory("asset")
            return self._balance_entry(account, asset)
        return [self._balance_entry(account, name) for name in account.assets]

    def _balance_entry(self, account: Account, asset: str) -> dict[str, Any]:
        state = account.assets.get(asset)
        free = state.free if state is not None else ZERO
        locked = state.locked if state is not None else ZERO
        borrowed = state.borrowed if state is not None else ZERO
        interest = state.interest if state is not None else ZERO
        um, um_pnl, cm, cm_pnl = self.exchange.futures_wallet(account, asset)
        return {
            "asset": asset,
            "totalWalletBalance": fmt8(free + locked + um + cm),
            "crossMarginAsset": fmt8(free + locked),
            "crossMarginBorrowed": fmt8(borrowed),
            "crossMarginFree": fmt8(free),
            "crossMarginInterest": fmt8(interest),
            "crossMarginLocked": fmt8(locked),
            "umWalletBalance": fmt8(um),
            "umUnrealizedPNL": fmt8(um_pnl),
            "cmWalletBalance": fmt8(cm),
            "cmUnrealizedPNL": fmt8(cm_pnl),
            "updateTime": account.update_time,
            "negativeBalance": "0.00000000",
        }

    def _h_account(self, ctx: _Ctx, account: Account | None, params: dict[str, str]) -> Any:
        """Account Information, computed from USD prices (no collateral haircuts).

        equity = sum((free + locked) * price) - sum((borrowed + interest) * price), plus
        the UM / CM wallets and unrealized PnL (:mod:`.trading`);
        ``accountEquity`` = ``actualEquity`` = equity; maintenance margin = 5 % and
        initial margin = 10 % of the debt value, plus the UM / CM positions' initial
        margin (|notional| / leverage) in both; ``uniMMR`` = equity / maintenance
        margin ("999.00000000" without debt); ``virtualMaxWithdrawAmount`` and
        ``totalAvailableBalance`` = max(0, equity - initial margin);
        ``totalMarginOpenLoss`` = 0; ``accountStatus`` is always "NORMAL".
        """
        assert account is not None
        prices = self.state.prices
        assets_value = ZERO
        debt_value = ZERO
        for name, st in account.assets.items():
            price = prices[name]
            assets_value += st.total * price
            debt_value += st.debt * price
        futures_value, futures_initial = self.exchange.futures_totals(account)
        equity = assets_value - debt_value + futures_value
        maint = debt_value * Decimal("0.05") + futures_initial
        initial = debt_value * Decimal("0.10") + futures_initial
        uni_mmr = fmt8(equity / maint) if maint > 0 else "999.00000000"
        available = fmt8(max(ZERO, equity - initial))
        return {
            "uniMMR": uni_mmr,
            "accountEquity": fmt8(equity),
            "actualEquity": fmt8(equity),
            "accountInitialMargin": fmt8(initial),
            "accountMaintMargin": fmt8(maint),
            "accountStatus": "NORMAL",
            "virtualMaxWithdrawAmount": available,
            "totalAvailableBalance": available,
            "totalMarginOpenLoss": "0.00000000",
            "updateTime": account.update_time,
        }

    def _h_listen_key_start(
        self, ctx: _Ctx, account: Account | None, params: dict[str, str]
    ) -> Any:
        assert ctx.account is not None
        return {"listenKey": self.stream.create_key(ctx.account)}

    def _h_listen_key_keepalive(
        self, ctx: _Ctx, account: Account | None, params: dict[str, str]
    ) -> Any:
        assert ctx.account is not None
        self.stream.keepalive(ctx.account)
        return {}

    def _h_listen_key_close(
        self, ctx: _Ctx, account: Account | None, params: dict[str, str]
    ) -> Any:
        assert ctx.account is not None
        self.stream.delete(ctx.account)
        return {}

    def _h_repay(self, ctx: _Ctx, account: Account | None, params: dict[str, str]) -> Any:
        assert account is not None
        record = self.repay_debt(
            account,
            asset=params["asset"],
            amount=params.get("amount"),
            specify_repay_assets=params.get("specifyRepayAssets"),
            now=ctx.now,
        )
        ctx.applied = True
        return {
            "amount": fmt8(record.amount),
            "asset": record.asset,
            "specifyRepayAssets": list(record.specify_repay_assets),
            "updateTime": record.update_time,
            "success": True,
        }

    def repay_debt(
        self,
        account: Account,
        *,
        asset: str,
        amount: str | None,
        specify_repay_assets: str | None,
        now: int,
    ) -> RepayRecord:
        """Apply a repay-debt to ``account`` (all or nothing) and return its record.

        Rules (the doc's, plus the simulator's choices where the doc is silent):

        * the debt is principal + interest; **interest is repaid first**, then principal;
        * the repay amount (in ``asset``) is ``amount`` or, if omitted, the whole debt;
        * funds come from the free balance of ``asset`` itself first (whether or not it
          is listed), then from each ``specifyRepayAssets`` entry in the order given,
          converted at the USD prices (the amount taken is rounded up to 8 places);
          **without** ``specifyRepayAssets`` only ``asset`` itself is used;
        * not enough funds -> 400 -2018 "Balance is insufficient." (nothing changes; for
          an omitted ``amount`` this is "repay everything only if the assets suffice");
        * ``amount`` above the debt, or no debt at all -> 400 -3015 "Repay amount exceeds
          borrow amount." (the margin API's REPAY_EXCEED_LIABILITY);
        * more than 50,000 USD equivalent (repaid amount x price) -> 400 -1130 "The repay
          asset amount cannot exceed 50000 USD equivalent value for a single request.";
        * unknown asset (no price) -> 400 -1108 "Invalid asset."; a malformed, zero or
          negative ``amount`` -> 400 -1130; more than 8 decimals -> 400 -1111.

        The response echoes ``specifyRepayAssets`` as a list (``[]`` when not sent).
        """
        prices = self.state.prices
        price = _price(self.state, asset)
        specify: tuple[str, ...] = ()
        if specify_repay_assets:
            specify = tuple(a.strip() for a in specify_repay_assets.split(",") if a.strip())
            for other in specify:
                _price(self.state, other)
        debt_state = account.assets.get(asset)
        debt = debt_state.debt if debt_state is not None else ZERO
        if amount is None:
            wanted = debt
        else:
            try:
                wanted = Decimal(amount)
            except InvalidOperation:
                raise invalid("amount") from None
            if not wanted.is_finite() or wanted <= 0:
                raise invalid("amount")
            exponent = wanted.as_tuple().exponent
            if isinstance(exponent, int) and exponent < -8 and wanted != q8(wanted):
                raise SimulatedError(
                    400, -1111, "Precision is over the maximum defined for this asset."
                )
        if debt_state is None or debt <= 0 or wanted > debt:
            raise SimulatedError(400, -3015, "Repay amount exceeds borrow amount.")
        if wanted * price > MAX_REPAY_USD:
            raise SimulatedError(
                400,
                -1130,
                "The repay asset amount cannot exceed 50000 USD equivalent value for a single "
                "request.",
            )
        remaining = wanted
        used: dict[str, Decimal] = {}
        take = min(debt_state.free, remaining)
        if take > 0:
            used[asset] = take
            remaining -= take
        for other in specify:
            if remaining <= 0:
                break
            if other in used or other == asset:
                continue
            st = account.assets.get(other)
            if st is None or st.free <= 0:
                continue
            other_price = prices[other]
            cost = (remaining * price / other_price).quantize(_Q8, rounding=ROUND_UP)
            if cost <= st.free:
                used[other] = cost
                remaining = ZERO
            else:
                covered = (st.free * other_price / price).quantize(_Q8, rounding=ROUND_DOWN)
                if covered <= 0:
                    continue
                used[other] = st.free
                remaining -= covered
        if remaining > 0:
            raise SimulatedError(400, -2018, "Balance is insufficient.")
        for name, taken in used.items():
            account.assets[name].free -= taken
        interest_paid = min(debt_state.interest, wanted)
        principal_paid = wanted - interest_paid
        debt_state.interest -= interest_paid
        debt_state.borrowed -= principal_paid
        account.update_time = now
        record = RepayRecord(
            update_time=now,
            asset=asset,
            amount=wanted,
            interest_paid=interest_paid,
            principal_paid=principal_paid,
            used=dict(used),
            specify_repay_assets=specify,
        )
        account.applied_repays.append(record)
        self.stream.on_repay(account, record)
        return record

    # ------------------------------------------------------------------ control endpoints

    @staticmethod
    def _ctl_json(data: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, body=orjson.dumps(data), content_type=_JSON)

    async def _ctl_get_faults(self, request: web.Request) -> web.Response:
        return self._ctl_json(
            {"faults": [f.to_dict() for f in self.faults.faults], "skew_ms": self.faults.skew_ms}
        )

    async def _ctl_add_faults(self, request: web.Request) -> web.Response:
        try:
            data = orjson.loads(await request.read())
            items = data if isinstance(data, list) else [data]
            added = []
            for item in items:
                if not isinstance(item, dict):
                    raise ValueError("a fault is a JSON object")
                if self.stream.is_stream_fault(item):
                    added.append(self.stream.apply_fault(item))
                    continue
                fault = self.faults.add_from_json(item)
                if fault is not None:
                    added.append(fault.to_dict())
        except (orjson.JSONDecodeError, ValueError) as exc:
            return self._ctl_json({"error": str(exc)}, 400)
        return self._ctl_json({"added": added, "skew_ms": self.faults.skew_ms})

    async def _ctl_clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return self._ctl_json({"cleared": True})

    async def _ctl_get_requests(self, request: web.Request) -> web.Response:
        return self._ctl_json({"requests": [r.to_dict() for r in self._log]})

    async def _ctl_clear_requests(self, request: web.Request) -> web.Response:
        self._log.clear()
        return self._ctl_json({"cleared": True})

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return self._ctl_json({"reset": True})

    async def _ctl_state(self, request: web.Request) -> web.Response:
        data = self.state.to_dict()
        data["usedWeight1m"] = self.used_weight
        data["serverTime"] = self.server_time_ms()
        return self._ctl_json(data)
