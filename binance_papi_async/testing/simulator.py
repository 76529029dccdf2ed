"""A local papi server (aiohttp.web) behaving like Binance Portfolio Margin.

Routes: every operation of the endpoint table (``endpoints._table.TABLE``), plus
the undocumented ``GET /papi/v1/time`` and ``GET /fapi/v1/time``, and the user data
stream ``GET /pm/ws/{listenKey}`` (see :mod:`.stream`).  Every route goes through
the same request path (:mod:`.pipeline`: faults, bans, weight, auth, order count,
parameters) with the security type, parameters and charges of its spec.  Every
operation acts on and reads from the simulated state: ping, time, rateLimit/order
(here), listenKey (:mod:`.stream`) and the rest in :mod:`.trading` (orders of every
product, algo and conditional orders, OCO lists, positions, balances, loans,
transfers, histories, reference data, switches), except the few it does not model
(:mod:`.unmodelled`: history downloads, trading-rule indicators, negative-balance
interest and exchange), which answer HTTP 501 ``{"code": -501, "msg": "not
simulated: ..."}`` (``examples=True``: their documentation examples instead).  An
operation Binance retired (the UM conditional orders) is not served: 404, as on
papi.  Control endpoints under ``/_sim/`` (:mod:`.control`; never rate-limited,
never faulted).

Every papi response carries ``X-MBX-USED-WEIGHT-1M``; responses of order-counting
endpoints carry ``X-MBX-ORDER-COUNT-1M`` once the account is known.  Windows are
fixed minutes of the simulator's server time (``clock.time()`` + skew), starting
on the minute (:mod:`.limits`).  IP weight is counted per simulator (every client
is on loopback).  With ``rate_limits=False`` the counters and headers still work
but nothing is refused (for benchmarks).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from .._constants import IP_WEIGHT_LIMIT_PER_MINUTE, ORDER_LIMIT_PER_MINUTE
from ..clock import Clock, FakeClock, ServerClock, TimerHandle
from ._errors import SimulatedError
from .auth import KeyRing
from .control import add_control_routes
from .faults import FaultPlan
from .limits import RateLimits
from .pipeline import Pipeline
from .records import RequestLog, RequestRecord
from .routing import Call, Handler, RouteKey, build_routes, merge_handlers
from .state import (
    DEFAULT_ACCOUNT,
    DEMO_API_KEY,
    DEMO_API_SECRET,
    Account,
    KeySpec,
    RepayRecord,
    SimState,
    demo_state,
)
from .stream import StreamHub
from .trading import MAX_REPAY_USD, Exchange

__all__ = ["MAX_REPAY_USD", "PapiSimulator", "RequestRecord", "SimulatedError", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    control time and rate-limit windows.  ``window_s``: the length of the
    rate-limit windows (Binance's: 60; e.g. 5 for tests that run several of them;
    the headers then say ``X-MBX-USED-WEIGHT-5S``).

    ``examples=True`` answers the documentation example of each operation the
    simulator does not model (:mod:`.unmodelled`) instead of HTTP 501 "not simulated".

    Its parts: ``faults`` (:mod:`.faults`), ``exchange`` (the trading engine,
    :mod:`.trading`) and ``stream`` (the user data stream, :mod:`.stream`).  What a
    test makes happen in the market: :meth:`set_mark`, :meth:`fill`, :meth:`funding`,
    :meth:`liquidate` and :meth:`charge_interest`.
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
        window_s: int = 60,
        log_limit: int | None = 10_000,
        allow_remote: bool = False,
        examples: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to listen on non-loopback host {host!r} (allow_remote)")
        if (api_key is None) != (api_secret is None):
            raise ValueError("give both api_key and api_secret, or neither")
        self.host = host
        self.port = port
        self.examples = examples
        self.clock: Clock = clock if clock is not None else ServerClock()
        if isinstance(window_s, bool) or not isinstance(window_s, int) or window_s < 1:
            raise ValueError(f"window_s must be whole seconds >= 1, not {window_s!r}")
        self._limits = RateLimits(
            ip_weight_limit, order_limit, rate_limits, ban_seconds, window_ms=window_s * 1000
        )
        self.faults = FaultPlan()
        self._initial = (state if state is not None else demo_state()).copy()
        self._initial.check_prices()
        self.state = self._initial.copy()
        self._stamp_accounts()
        self._keys = KeyRing()
        for spec in self._initial.keys:
            self._register(spec)
        if api_key is not None and api_secret is not None:
            self.add_key(api_key, secret=api_secret)
        if not self._keys:
            self.add_key(DEMO_API_KEY, secret=DEMO_API_SECRET)
        self._log = RequestLog(log_limit)
        #: The user data stream: listen keys, connections, stream faults (see :mod:`.stream`).
        self.stream = StreamHub(self)
        #: The trading engine: orders, positions, loans (see :mod:`.trading`).
        self.exchange = Exchange(self)
        handlers = merge_handlers(
            self._server_routes(), self.stream.routes(), self.exchange.routes()
        )
        self._pending: dict[object, TimerHandle] = {}  # late requests not run yet
        self._pipeline = Pipeline(
            routes=build_routes(handlers, self.exchange.extra_params(), examples=examples),
            keys=self._keys,
            limits=self._limits,
            faults=self.faults,
            log=self._log,
            server_time=self.server_time_ms,
            account=self.account,
            schedule=self._later,
            pass_time=self._pass_time,
        )
        self._app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None

    # ------------------------------------------------------------------ limits (settable)

    @property
    def ip_weight_limit(self) -> int:
        """IP request weight allowed per minute."""
        return self._limits.ip_weight_limit

    @ip_weight_limit.setter
    def ip_weight_limit(self, value: int) -> None:
        self._limits.ip_weight_limit = value

    @property
    def order_limit(self) -> int:
        """Orders allowed per account and minute."""
        return self._limits.order_limit

    @order_limit.setter
    def order_limit(self, value: int) -> None:
        self._limits.order_limit = value

    @property
    def rate_limits(self) -> bool:
        """Whether the limits are enforced (``False``: counted, never refused)."""
        return self._limits.enabled

    @rate_limits.setter
    def rate_limits(self, value: bool) -> None:
        self._limits.enabled = value

    @property
    def ban_seconds(self) -> int:
        """Length of an IP ban."""
        return self._limits.ban_seconds

    @ban_seconds.setter
    def ban_seconds(self, value: int) -> None:
        self._limits.ban_seconds = value

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> PapiSimulator:
        """A simulator seeded from a JSON / TOML file (see :mod:`.state`)."""
        return cls(state=SimState.from_file(path), **kwargs)

    def make_app(self) -> web.Application:
        """The aiohttp application (created once)."""
        if self._app is None:
            app = web.Application()
            add_control_routes(app.router, self)
            app.router.add_route("GET", "/pm/ws/{listen_key}", self.stream.handle)
            app.router.add_route("*", "/{tail:.*}", self._pipeline.handle)
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
        self._keys.add(spec)
        self.state.account(spec.account)
        self._stamp_accounts()

    def account(self, name: str = DEFAULT_ACCOUNT) -> Account:
        """The live state of account ``name`` (``applied_repays``, ``assets``...)."""
        return self.state.account(name)

    def account_of(self, api_key: str) -> Account:
        """The live state of the account ``api_key`` belongs to."""
        key = self._keys.get(api_key)
        if key is None:
            raise KeyError(api_key)
        return self.state.account(key.account)

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
        for account in self._keys.accounts():
            self.state.account(account)
        self._stamp_accounts()
        self.exchange.reset()
        self._limits.reset()
        self.faults.clear()
        self._pipeline.visibility.clear()
        for handle in self._pending.values():  # late requests are forgotten with the faults
            handle.cancel()
        self._pending.clear()
        self._log.clear()

    def server_time_ms(self) -> int:
        """The server's time in ms: ``clock.time()`` plus the injected skew.

        A :class:`FakeClock` shared with a client is read at its local reading (the
        true time of the test), not at ``local + offset`` (the client's estimate, which
        the client's clock syncs move)."""
        clock = self.clock
        now = clock.local() if isinstance(clock, FakeClock) else clock.time()
        return int(now * 1000) + self.faults.skew_ms

    async def _pass_time(self, seconds: float) -> None:
        """``seconds`` go by on the server's clock: a :class:`FakeClock` is moved, the
        host's clock is slept on."""
        if isinstance(self.clock, FakeClock):
            self.clock.advance(seconds)
        else:
            await asyncio.sleep(seconds)

    def _later(self, seconds: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` ``seconds`` from now on the simulator's clock (unless reset)."""
        key = object()

        def run() -> None:
            self._pending.pop(key, None)
            callback()

        self._pending[key] = self.clock.call_at(self.clock.time() + seconds, run)

    @property
    def used_weight(self) -> int:
        """IP request weight used in the current window."""
        self._limits.roll(self.server_time_ms())
        return self._limits.ip_used

    def order_count(self, account: str = DEFAULT_ACCOUNT) -> int:
        """Orders counted for ``account`` in the current window."""
        self._limits.roll(self.server_time_ms())
        return self._limits.order_count(account)

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

    # ------------------------------------------------------------------ trading

    def set_mark(self, symbol: str, price: Decimal | str | int) -> None:
        """Move the mark price of ``symbol`` (e.g. ``"BTCUSDT"``, ``"BTCUSD_PERP"``).

        UM algo, CM conditional and margin stop orders it fires trigger, then resting
        LIMIT orders the new mark crosses fill at their price (see :mod:`.trading`);
        the stream carries the resulting events.
        """
        value = _price(price, "mark price")
        self.state.marks[symbol] = value
        self.exchange.on_mark(symbol, self.server_time_ms())

    def fill(
        self,
        order_id: int,
        qty: Decimal | str | int | None = None,
        *,
        price: Decimal | str | int | None = None,
    ) -> None:
        """Fill ``qty`` (default: all that is left) of the resting order ``order_id``, of
        any account and product, at ``price`` (default: its own) as a maker: a partial
        fill leaves it PARTIALLY_FILLED.  Positions, balances, commission, trades, income
        and the stream follow.  ``KeyError`` for an unknown order, ``ValueError`` for one
        not resting on the book or a ``qty`` beyond what is left."""
        amount = None if qty is None else _price(qty, "qty")
        at = None if price is None else _price(price, "price")
        self.exchange.fill(order_id, amount, at, self.server_time_ms())

    def funding(self, symbol: str, rate: Decimal | str | int) -> dict[str, Decimal]:
        """Settle funding of ``symbol`` at ``rate`` (0.0001 is 0.01 %; positive: longs
        pay shorts) at the current mark, for every account holding a position in it:
        a FUNDING_FEE income and an ``ACCOUNT_UPDATE``.  Returns what each account got
        (negative: paid)."""
        value = Decimal(rate) if isinstance(rate, str | int) else rate
        if not value.is_finite():
            raise ValueError(f"funding rate must be finite: {rate!r}")
        return self.exchange.funding(symbol, value, self.server_time_ms())

    def liquidate(
        self,
        symbol: str,
        *,
        account: str = DEFAULT_ACCOUNT,
        adl: bool = False,
        price: Decimal | str | int | None = None,
    ) -> list[int]:
        """Close ``account``'s positions in ``symbol`` (UM or CM) with force orders at
        ``price`` (default: the mark): a liquidation, or an auto-deleveraging with
        ``adl``.  They appear in ``forceOrders``, the order and trade lists and the
        income.  Returns their order ids; ``ValueError`` without a position."""
        at = None if price is None else _price(price, "price")
        kind = "ADL" if adl else "LIQUIDATION"
        orders = self.exchange.liquidate(account, symbol, kind, at, self.server_time_ms())
        return [o.order_id for o in orders]

    def charge_interest(
        self, asset: str, rate: Decimal | str | int, *, account: str = DEFAULT_ACCOUNT
    ) -> Decimal:
        """Charge ``rate`` x the borrowed principal of ``asset`` as margin interest (added
        to the debt; a PERIODIC row of ``marginInterestHistory``).  Returns it."""
        value = _price(rate, "interest rate")
        return self.exchange.charge_interest(account, asset, value, self.server_time_ms())

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

        The rules are on :meth:`.trading.loans.LoanDesk.repay_debt`; refusals raise
        :class:`SimulatedError` and change nothing.
        """
        return self.exchange.loans.repay_debt(
            account,
            asset=asset,
            amount=amount,
            specify_repay_assets=specify_repay_assets,
            now=now,
        )

    # ------------------------------------------------------------------ server routes

    def _server_routes(self) -> dict[RouteKey, Handler]:
        """Ping, server time and the order rate limit."""

        def ping(call: Call, account: Account | None, params: dict[str, str]) -> Any:
            return {}

        def server_time(call: Call, account: Account | None, params: dict[str, str]) -> Any:
            return {"serverTime": call.now}

        def rate_limit(call: Call, account: Account | None, params: dict[str, str]) -> Any:
            return [
                {
                    "rateLimitType": "ORDERS",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": self.order_limit,
                }
            ]

        return {
            ("GET", "/papi/v1/ping"): ping,
            ("GET", "/papi/v1/time"): server_time,
            ("GET", "/fapi/v1/time"): server_time,
            ("GET", "/papi/v1/rateLimit/order"): rate_limit,
        }


def _price(value: Decimal | str | int, what: str) -> Decimal:
    """A positive finite decimal from Python (``ValueError`` otherwise)."""
    result = Decimal(value) if isinstance(value, str | int) else value
    if not result.is_finite() or result <= 0:
        raise ValueError(f"{what} must be positive: {value!r}")
    return result
