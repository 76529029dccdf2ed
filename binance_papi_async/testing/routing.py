"""The simulator's route table: what answers each papi operation, and with which rules.

A :class:`Route` pairs an operation's spec (``endpoints._table``: security type,
parameters, charges) with the :data:`Handler` that computes its answer.  Handlers
are registered per concern and merged by the simulator: the server's own (ping,
time, ``rateLimit/order``), the listen-key routes of the user data stream
(:mod:`.stream`) and one set per product of the trading engine (:mod:`.trading`).
An operation without a handler is one the simulator does not model
(:data:`.unmodelled.NOT_SIMULATED` says why): it answers HTTP 501 "not simulated"
after every check, or with ``examples=True`` its documentation example
(:mod:`._examples`, the same body whatever the arguments).

A handler is called as ``handler(call, account, params)`` once the request passed
every check of :mod:`.pipeline`: ``call`` is the :class:`Call` (``call.now`` is the
server time in ms, ``call.account`` the account name; a handler that changes state
sets ``call.applied``), ``account`` the live :class:`~.state.Account` of the API
key (``None`` for endpoints without a key) and ``params`` the decoded parameters.
It returns the JSON payload (anything ``orjson`` serialises) or raises
:class:`~._errors.SimulatedError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import orjson

from ..endpoints import SERVER_TIME, Budget, EndpointSpec, Security
from ..endpoints._table import TABLE
from ._errors import SimulatedError, mandatory, not_simulated
from ._examples import EXAMPLES
from .faults import Fault
from .state import Account
from .unmodelled import NOT_SIMULATED

__all__ = [
    "FAPI_TIME",
    "FORM",
    "Call",
    "Handler",
    "Route",
    "RouteKey",
    "build_routes",
    "merge_handlers",
]

#: The body content type whose parameters count (as on Binance).
FORM = "application/x-www-form-urlencoded"

#: ``GET /fapi/v1/time``: the USD-M server time, which clients also use to sync.
FAPI_TIME = EndpointSpec(
    name="fapi_check_server_time",
    method="GET",
    path="/fapi/v1/time",
    security=Security.NONE,
    weight=1,
    summary="USD-M Check Server Time",
)

_SIGNED_BASE = frozenset({"recvWindow", "timestamp", "signature"})

#: ``(method, path)``, e.g. ``("POST", "/papi/v1/um/order")``.
RouteKey = tuple[str, str]


@dataclass(slots=True)
class Call:
    """One papi request on its way through the pipeline, and what it was answered.

    ``query`` is the raw query string and ``body`` the raw body.  ``now`` (server ms)
    is set when the request is checked; ``account`` once the API key is known;
    ``applied`` by a handler that changed state; ``status`` / ``code`` by the
    answer.  The request log (:mod:`.records`) is written from these fields.
    """

    method: str
    path: str
    query: str
    body: bytes
    now: int
    account: str | None = None
    route: Route | None = None
    applied: bool = False
    fault: Fault | None = None
    status: int | None = None
    code: int | None = None


#: A route handler: ``(call, account, decoded parameters) -> JSON payload``.
Handler = Callable[[Call, Account | None, dict[str, str]], Any]


@dataclass(frozen=True, slots=True)
class Route:
    """One operation: its spec, charges, accepted parameters and handler."""

    spec: EndpointSpec
    weight: int
    orders: int
    params: frozenset[str]
    required: tuple[str, ...]
    handler: Handler

    @classmethod
    def of(cls, spec: EndpointSpec, handler: Handler, extra: Iterable[str] = ()) -> Route:
        """The route of ``spec`` (charges and parameters from the spec; ``extra``: more
        parameters the handler reads, where the spec cannot name them)."""
        weight = sum(c.amount for c in spec.charges if c.budget is Budget.REQUEST_WEIGHT)
        orders = sum(c.amount for c in spec.charges if c.budget is Budget.ORDERS)
        params = frozenset(p.name for p in spec.params) | frozenset(extra)
        required = tuple(p.name for p in spec.params if p.required and p.name != "timestamp")
        allowed = params | _SIGNED_BASE if spec.signed else params
        return cls(spec, weight, orders, allowed, required, handler)

    def weight_for(self, query: str, body: bytes, content_type: str) -> int:
        """The IP weight for the parameter names sent (the spec's ``weight_rules``)."""
        spec = self.spec
        if not spec.weight_rules:
            return self.weight
        raw = [query]
        if body and content_type == FORM:
            raw.append(body.decode("utf-8", "replace"))
        sent = {
            unquote_plus(part.partition("=")[0], errors="replace"): ""
            for text in raw
            for part in text.split("&")
            if part
        }
        return spec.for_params(sent).weight

    def check_params(self, params: Mapping[str, str]) -> None:
        """-1104 for parameters the operation does not read; -1102 for a missing one."""
        unread = [name for name in params if name not in self.params]
        if unread:
            sent = len(params)
            raise SimulatedError(
                400,
                -1104,
                f"Not all sent parameters were read; read '{sent - len(unread)}' "
                f"parameter(s) but was sent '{sent}'.",
            )
        for name in self.required:
            if not params.get(name):
                raise mandatory(name)


def _example_handler(key: str) -> Handler:
    """A handler answering the doc example of ``key`` (``"METHOD /path"``), byte for byte."""
    example = EXAMPLES.get(key)
    if example is None:
        raise ValueError(f"{key} has neither a handler nor a doc example")
    body = orjson.Fragment(example.encode())

    def handler(call: Call, account: Account | None, params: dict[str, str]) -> Any:
        return body

    return handler


def _not_simulated_handler(key: RouteKey, reason: str) -> Handler:
    """A handler answering HTTP 501 "not simulated: ..." (see :mod:`.unmodelled`)."""
    what = f"{key[0]} {key[1]}: {reason}"

    def handler(call: Call, account: Account | None, params: dict[str, str]) -> Any:
        raise not_simulated(what)

    return handler


def merge_handlers(*groups: Mapping[RouteKey, Handler]) -> dict[RouteKey, Handler]:
    """The handlers of every group; an operation served by two groups is a ``ValueError``."""
    merged: dict[RouteKey, Handler] = {}
    for group in groups:
        twice = sorted(merged.keys() & group.keys())
        if twice:
            raise ValueError(f"operations with two handlers: {twice}")
        merged.update(group)
    return merged


def build_routes(
    handlers: Mapping[RouteKey, Handler],
    extra_params: Mapping[RouteKey, Iterable[str]] | None = None,
    *,
    examples: bool = False,
) -> dict[RouteKey, Route]:
    """Every operation of the endpoint table, plus ``/papi/v1/time`` and ``/fapi/v1/time``.

    Each gets its handler from ``handlers``; an operation without one must be listed in
    :data:`.unmodelled.NOT_SIMULATED` (a ``ValueError`` otherwise) and answers 501 "not
    simulated", or its doc example with ``examples``.  A handler for an operation the
    table does not have is a ``ValueError``: an operation Binance retired is not served,
    and answers 404 as on papi.  ``extra_params``: parameters a handler reads beyond its
    spec's (by route).
    """
    extra_params = extra_params or {}
    routes: dict[RouteKey, Route] = {}
    for spec in (*TABLE, SERVER_TIME, FAPI_TIME):
        key = (spec.method, spec.path)
        handler = handlers.get(key)
        if handler is None:
            reason = NOT_SIMULATED.get(key)
            if reason is None:
                raise ValueError(f"{key} has no handler and is not listed as not simulated")
            if examples:
                handler = _example_handler(f"{spec.method} {spec.path}")
            else:
                handler = _not_simulated_handler(key, reason)
        routes[key] = Route.of(spec, handler, extra_params.get(key, ()))
    stray = sorted((set(handlers) | set(extra_params)) - set(routes))
    twice = sorted(set(handlers) & set(NOT_SIMULATED))
    if stray or twice:
        raise ValueError(
            f"handlers for operations papi does not have: {stray}; "
            f"handlers for operations listed as not simulated: {twice}"
        )
    return routes
