"""The request path: how the simulator processes a papi request, step by step.

In this order (each step can answer early):

1. faults (:mod:`.faults`): latency (and the one-way delay of the server-time paths),
   then a "before" fault answers at once;
2. IP ban (:mod:`.limits`): during a ban, or when a request arrives while backing
   off after a 429 (until the end of that window), the answer is 418 -1003
   "Way too many requests; IP banned until <ms>..." with ``Retry-After``; a new
   ban lasts ``ban_seconds`` (default 120);
3. route (:mod:`.routing`): unknown path -> 404, known path with another method
   -> 405 (HTML bodies, like the front proxy; not charged);
4. IP request weight is charged (the spec's charges; where the spec has
   ``weight_rules``, the weight for the parameter names sent, e.g. 40 for
   ``GET /papi/v1/um/openOrders`` without ``symbol``); above ``ip_weight_limit``
   -> 429 -1003 with ``Retry-After`` (seconds to the window end), and the IP is
   backing off until that window ends.  **Rejected requests consume weight**, as
   on Binance (a 429'd request is counted too);
5. API key, 6. parameters, 7. signature and timestamp (:mod:`.auth`);
8. the account's order count is charged for order-counting endpoints (the spec's
   ORDERS charge: repay-debt and order placing / amending: 1, OCO: 2); above
   ``order_limit`` -> 429 -1015;
9. unknown parameters (not in the spec's ``params``) -> -1104 "Not all sent
   parameters were read; read 'N' parameter(s) but was sent 'M'."; missing or
   empty mandatory ones (``required`` in the spec) -> -1102;
10. the handler (:mod:`.routing`: the trading engine, the stream, or the doc
    example);
11. "after" faults replace the answer (the state change, if any, stays applied).

A ``late`` fault stops after step 9: the request is answered -1007 and its handler
runs later on the simulator's clock.  A ``query_lag`` fault hides what its write
created from reads for a while (:mod:`.lag`).

Every request is then written to the request log (:mod:`.records`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiohttp import web

from .._constants import HEADER_API_KEY
from ._errors import SimulatedError
from .answers import Answers
from .auth import KeyRing, check_timestamp, read_params
from .faults import FaultPlan
from .lag import Visibility
from .limits import RateLimits
from .records import RequestLog
from .routing import Call, Route, RouteKey
from .state import Account

__all__ = ["TIME_PATHS", "Pipeline"]

#: The paths a client reads the server's time from (``FaultPlan.time_delay`` delays them).
TIME_PATHS = frozenset({"/papi/v1/time", "/fapi/v1/time"})


class Pipeline:
    """Answers papi requests (the aiohttp handler of every papi path)."""

    def __init__(
        self,
        *,
        routes: Mapping[RouteKey, Route],
        keys: KeyRing,
        limits: RateLimits,
        faults: FaultPlan,
        log: RequestLog,
        server_time: Callable[[], int],
        account: Callable[[str], Account],
        schedule: Callable[[float, Callable[[], None]], None],
        pass_time: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._routes = routes
        self._paths = {path for _, path in routes}
        self._keys = keys
        self._limits = limits
        self._faults = faults
        self._log = log
        self._server_time = server_time
        self._pass_time = pass_time  # time going by on the simulator's clock
        self._account = account
        self._answers = Answers(limits)
        self._schedule = schedule  # (seconds, callback): run callback later on the sim clock
        #: What ``query_lag`` faults hide from reads (see :mod:`.lag`).
        self.visibility = Visibility()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one papi request and log it."""
        raw_target = request.raw_path
        qpos = raw_target.find("?")
        call = Call(
            request.method,
            request.path,
            raw_target[qpos + 1 :] if qpos >= 0 else "",
            await request.read() if request.body_exists else b"",
            0,
        )
        response = await self._respond(request, call)
        if self._log.enabled:
            self._log.record(request, call)
        return response

    async def _respond(self, request: web.Request, call: Call) -> web.StreamResponse:
        answers = self._answers
        fault = lag = None
        if self._faults.active:
            delay, fault, lag = self._faults.take_all(call.path)
            if delay > 0:
                await asyncio.sleep(delay)
            if self._faults.time_delay_s > 0 and call.path in TIME_PATHS:
                await self._pass_time(self._faults.time_delay_s)
        call.now = now = self._server_time()
        limits = self._limits
        limits.roll(now)
        route = call.route = self._routes.get((call.method, call.path))
        api_key = request.headers.get(HEADER_API_KEY)
        if api_key:
            known = self._keys.get(api_key)
            call.account = known.account if known is not None else None
        if fault is not None:
            call.fault = fault
            if not fault.after and fault.kind != "late":
                return answers.fault(request, call, fault)
        banned_until = limits.ban_answer(now)
        if banned_until is not None:
            return answers.banned(call, banned_until)
        if route is None:
            return answers.not_found(call, known_path=call.path in self._paths)
        response: web.StreamResponse
        try:
            limits.charge_weight(route.weight_for(call.query, call.body, request.content_type))
            account, params = self._check(request, call, route, api_key)
            if fault is not None and fault.kind == "late":
                self._schedule(fault.seconds, self._deferred(call, route, account, params))
                return answers.fault(request, call, fault)
            payload = self._handle(call, route, account, params)
        except SimulatedError as err:
            response = answers.error(call, err)
        else:
            if lag is not None and call.applied:
                self.visibility.hide(payload, now + int(lag.seconds * 1000), call.account)
            response = answers.json(call, 200, orjson.dumps(payload), None)
        if fault is not None and fault.after:
            return answers.fault(request, call, fault)
        return response

    def _check(
        self, request: web.Request, call: Call, route: Route, api_key: str | None
    ) -> tuple[Account | None, dict[str, str]]:
        """Steps 5 to 9: authenticate, decode, count orders, check parameters."""
        spec = route.spec
        key = self._keys.require(api_key) if spec.security.needs_key else None
        params = read_params(call, request.content_type, key if spec.signed else None)
        if spec.signed:
            check_timestamp(call.now, params)
        account = self._account(key.account) if key is not None else None
        if route.orders and key is not None:
            self._limits.charge_orders(key.account, route.orders)
        route.check_params(params)
        return account, params

    def _handle(
        self, call: Call, route: Route, account: Account | None, params: dict[str, str]
    ) -> Any:
        """Step 10: the handler (a read sees nothing a ``query_lag`` fault hides)."""
        if call.method == "GET":
            hidden = self.visibility.hidden(call.now, call.account)
            if hidden:
                return Visibility.read(hidden, params, lambda p: route.handler(call, account, p))
        return route.handler(call, account, params)

    def _deferred(
        self, call: Call, route: Route, account: Account | None, params: dict[str, str]
    ) -> Callable[[], None]:
        """The handler of a ``late`` request, to run later (refusals go unseen: nobody
        waits for the answer any more)."""

        def run() -> None:
            call.now = self._server_time()
            with contextlib.suppress(SimulatedError):
                route.handler(call, account, params)

        return run
