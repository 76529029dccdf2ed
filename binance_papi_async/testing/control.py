"""The control API under ``/_sim/``: faults, the request log, reset and state, over HTTP.

For engines under test in another process (``python -m binance_papi_async.testing``).
These routes are never rate-limited, faulted or logged:

* ``GET /_sim/faults``: the pending faults, the clock skew and the time delay;
* ``POST /_sim/faults``: add faults (one JSON object or a list; see
  :meth:`.FaultPlan.add_from_json` and, for ``stream_*`` kinds, :mod:`.stream`);
* ``DELETE /_sim/faults``: remove every fault and reset the skew and the time delay;
* ``GET /_sim/requests`` / ``DELETE /_sim/requests``: the request log, or empty it;
* ``POST /_sim/reset``: back to the seed state (see ``PapiSimulator.reset``);
* ``GET /_sim/state``: prices, marks and accounts, plus ``usedWeight1m`` and
  ``serverTime``;
* the market events of :class:`~.simulator.PapiSimulator` (amounts as strings):
  ``POST /_sim/mark`` ``{"symbol": "BTCUSDT", "price": "61000"}``,
  ``POST /_sim/fill`` ``{"orderId": 123, "qty": "0.01", "price": "60000"}`` (``qty`` and
  ``price`` optional), ``POST /_sim/funding`` ``{"symbol": "BTCUSDT", "rate": "0.0001"}``,
  ``POST /_sim/liquidate`` ``{"symbol": "BTCUSDT", "account": "main", "adl": false}``
  and ``POST /_sim/interest`` ``{"asset": "USDT", "rate": "0.0001", "account":
  "main"}``.  A request the simulator refuses is 400 ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

import orjson
from aiohttp import web

from ._errors import SimulatedError
from .faults import FaultPlan
from .records import RequestRecord
from .state import SimState

__all__ = ["Controlled", "add_control_routes"]

_JSON = "application/json"


class _StreamFaults(Protocol):
    def is_stream_fault(self, data: Mapping[str, Any]) -> bool: ...

    def apply_fault(self, data: Mapping[str, Any]) -> dict[str, Any] | None: ...


class Controlled(Protocol):
    """What the control API reads and changes (a :class:`~.simulator.PapiSimulator`)."""

    @property
    def faults(self) -> FaultPlan: ...

    @property
    def stream(self) -> _StreamFaults: ...

    @property
    def state(self) -> SimState: ...

    @property
    def requests(self) -> Iterable[RequestRecord]: ...

    @property
    def used_weight(self) -> int: ...

    def clear_requests(self) -> None: ...

    def reset(self) -> None: ...

    def server_time_ms(self) -> int: ...

    def set_mark(self, symbol: str, price: Decimal | str | int) -> None: ...

    def fill(
        self,
        order_id: int,
        qty: Decimal | str | int | None = None,
        *,
        price: Decimal | str | int | None = None,
    ) -> None: ...

    def funding(self, symbol: str, rate: Decimal | str | int) -> dict[str, Decimal]: ...

    def liquidate(
        self,
        symbol: str,
        *,
        account: str = ...,
        adl: bool = False,
        price: Decimal | str | int | None = None,
    ) -> list[int]: ...

    def charge_interest(
        self, asset: str, rate: Decimal | str | int, *, account: str = ...
    ) -> Decimal: ...


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type=_JSON)


def add_control_routes(router: web.UrlDispatcher, sim: Controlled) -> None:
    """Add the ``/_sim/`` routes of ``sim`` to ``router``."""

    async def get_faults(request: web.Request) -> web.Response:
        plan = sim.faults
        return _json(
            {
                "faults": [f.to_dict() for f in plan.faults],
                "skew_ms": plan.skew_ms,
                "time_delay_s": plan.time_delay_s,
            }
        )

    async def add_faults(request: web.Request) -> web.Response:
        try:
            data = orjson.loads(await request.read())
            added = [_add_fault(sim, item) for item in (data if isinstance(data, list) else [data])]
        except (orjson.JSONDecodeError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"added": [a for a in added if a is not None], "skew_ms": sim.faults.skew_ms})

    async def clear_faults(request: web.Request) -> web.Response:
        sim.faults.clear()
        return _json({"cleared": True})

    async def get_requests(request: web.Request) -> web.Response:
        return _json({"requests": [r.to_dict() for r in sim.requests]})

    async def clear_requests(request: web.Request) -> web.Response:
        sim.clear_requests()
        return _json({"cleared": True})

    async def reset(request: web.Request) -> web.Response:
        sim.reset()
        return _json({"reset": True})

    async def state(request: web.Request) -> web.Response:
        data = sim.state.to_dict()
        data["usedWeight1m"] = sim.used_weight
        data["serverTime"] = sim.server_time_ms()
        return _json(data)

    router.add_route("GET", "/_sim/faults", get_faults)
    router.add_route("POST", "/_sim/faults", add_faults)
    router.add_route("DELETE", "/_sim/faults", clear_faults)
    router.add_route("GET", "/_sim/requests", get_requests)
    router.add_route("DELETE", "/_sim/requests", clear_requests)
    router.add_route("POST", "/_sim/reset", reset)
    router.add_route("GET", "/_sim/state", state)
    for path, action in _market_actions(sim).items():
        router.add_route("POST", path, _market_route(action))


_Action = Callable[[Mapping[str, Any]], Any]
_REFUSED = (ValueError, KeyError, TypeError, ArithmeticError, SimulatedError)


def _market_route(action: _Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def route(request: web.Request) -> web.Response:
        try:
            data = orjson.loads(await request.read())
            if not isinstance(data, dict):
                raise ValueError("send a JSON object")
            return _json(action(data))
        except _REFUSED as exc:
            return _json({"error": str(exc) or type(exc).__name__}, 400)

    return route


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"{name!r}: a string or an integer")
    return str(value)


def _optional(data: Mapping[str, Any], name: str) -> str | None:
    return None if data.get(name) is None else _text(data, name)


def _market_actions(sim: Controlled) -> dict[str, _Action]:
    """The ``POST /_sim/...`` market events (see the module documentation)."""

    def mark(data: Mapping[str, Any]) -> Any:
        sim.set_mark(_text(data, "symbol"), _text(data, "price"))
        return {"marked": True}

    def fill(data: Mapping[str, Any]) -> Any:
        sim.fill(
            int(_text(data, "orderId")), _optional(data, "qty"), price=_optional(data, "price")
        )
        return {"filled": True}

    def funding(data: Mapping[str, Any]) -> Any:
        paid = sim.funding(_text(data, "symbol"), _text(data, "rate"))
        return {"funding": {name: format(v, "f") for name, v in paid.items()}}

    def liquidate(data: Mapping[str, Any]) -> Any:
        ids = sim.liquidate(
            _text(data, "symbol"),
            account=_optional(data, "account") or "main",
            adl=data.get("adl") is True,
            price=_optional(data, "price"),
        )
        return {"orderIds": ids}

    def interest(data: Mapping[str, Any]) -> Any:
        account = _optional(data, "account") or "main"
        charged = sim.charge_interest(_text(data, "asset"), _text(data, "rate"), account=account)
        return {"interest": format(charged, "f")}

    return {
        "/_sim/mark": mark,
        "/_sim/fill": fill,
        "/_sim/funding": funding,
        "/_sim/liquidate": liquidate,
        "/_sim/interest": interest,
    }


def _add_fault(sim: Controlled, item: object) -> dict[str, Any] | None:
    """Add one fault from its JSON; its description, or ``None`` for a skew."""
    if not isinstance(item, dict):
        raise ValueError("a fault is a JSON object")
    if sim.stream.is_stream_fault(item):
        return sim.stream.apply_fault(item)
    fault = sim.faults.add_from_json(item)
    return fault.to_dict() if fault is not None else None
