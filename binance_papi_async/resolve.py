"""Resolving an unknown outcome: was the order placed, the cancel or the change applied?

A write whose answer is lost (:class:`~binance_papi_async.ExecutionStatusUnknown`, or
the :class:`~binance_papi_async.OutcomeUnknown` event of a call cancelled after it may
have been sent) is resolved by :meth:`PortfolioMarginClient.resolve`:

1. wait until the request can no longer pass papi's recvWindow check: its
   ``timestamp + recvWindow`` (papi's default 5000 ms when none was sent) on the
   client's clock, plus ``settle_margin`` seconds for the error of that clock;
2. query what the request would have changed, by the client id the SDK gave every
   order (``newClientOrderId``, ``clientAlgoId``, ``newClientStrategyId``,
   ``listClientOrderId``) or by the ids a cancel or modification named;
3. answer a :class:`Resolution`: ``placed`` / ``not_placed`` for an order,
   ``applied`` / ``not_applied`` for a cancel, a modification or a repay, or
   ``unknown`` with the evidence (the query failed, or its answer decides nothing).

``resend=True`` sends a ``not_placed`` order again, with the same client id, after
querying once more: papi refuses a second open order with that id, and that refusal
is answered ``placed``.  papi frees the id of an order that is no longer open, so an
order that may have filled at once (``MARKET``, ``IOC``, ``FOK``) is resent only with
``accept_duplicate_risk=True``.

The guarantee rests on papi's recvWindow check at its gateway and on the clock: a
request whose timestamp is older than recvWindow is refused.  Binance does not
document that a request that passed the gateway and stalled in the matching engine
(-1007) cannot execute later; such a late execution is the residual risk, which the
query before a resend and the duplicate-id refusal narrow but cannot close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from ._constants import DEFAULT_RECV_WINDOW_MS
from ._decode import writing
from .clock import Clock
from .errors import APIStatusError, BinancePapiError, ExecutionStatusUnknown, ValidationError
from .events import OutcomeUnknown
from .outcome import RepayOutcome

if TYPE_CHECKING:
    from .client import PortfolioMarginClient

__all__ = ["Product", "Resolution", "ResolutionStatus", "Resolver"]

ResolutionStatus = Literal["placed", "not_placed", "applied", "not_applied", "unknown"]
#: What ``resolve_client_order`` looks for: an order of a product, or its conditional kin.
Product = Literal["UM", "CM", "MARGIN", "UM_ALGO", "CM_CONDITIONAL", "MARGIN_OCO"]
Action = Literal["place", "cancel", "cancel_all", "modify", "repay"]

_P = "/papi/v1/"
_NOT_FOUND = frozenset({-2013, -2011})  # "Order does not exist.", "Unknown order sent."
_DUPLICATE_CODES = frozenset({-4116})  # "ClientOrderId is duplicated."
_DUPLICATE_MARGIN = "Duplicate order sent."  # -2010, the margin and OCO wording
_UNPROTECTED_TIF = frozenset({"IOC", "FOK"})


@dataclass(frozen=True, slots=True)
class Resolution:
    """What became of a write whose outcome was unknown.

    ``status``: ``placed`` / ``not_placed`` (an order), ``applied`` / ``not_applied``
    (a cancel, a cancel-all, a modification, a repay), or ``unknown``.  ``order`` is
    the order (algo order, conditional order, OCO list; for a cancel-all the open
    orders) as papi reports it now, or the answer of the resend; ``client_order_id``
    the id it was looked up by; ``evidence`` says what the conclusion rests on;
    ``error`` is the query's error when ``unknown``; ``resent`` is True when
    ``resend=True`` sent the order again; ``repay`` the repay's own outcome.
    """

    status: ResolutionStatus
    action: Action
    method: str
    path: str
    client_order_id: str | None = None
    order: Any = None
    evidence: str = ""
    error: BinancePapiError | None = None
    resent: bool = False
    repay: RepayOutcome | None = None

    @property
    def known(self) -> bool:
        return self.status != "unknown"


Query = Callable[["PortfolioMarginClient", Mapping[str, str]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class _Kind:
    """How a write of one route is resolved."""

    action: Action
    query: Query  # finds the order (list, open orders) the write placed or named
    state: Callable[[Any], str]  # the order's status as papi reports it
    model: Any = None  # placements: the model of the answer a resend decodes


def _status(order: Any) -> str:
    return str(order.status)


def _by(
    params: Mapping[str, str], numeric: str, client: str, py_numeric: str, py_client: str
) -> dict[str, Any]:
    """The keyword arguments that name an order: its numeric id, else its client id."""
    if params.get(numeric):
        return {py_numeric: int(params[numeric])}
    return {py_client: params.get(client) or None}


def _kinds() -> dict[tuple[str, str], _Kind]:
    """The routes ``resolve`` knows, built on first use (the models load with the API)."""
    from .models_generated import cm as mcm
    from .models_generated import margin as mm
    from .models_generated import um as mum

    def order_q(ns: str, key: str = "newClientOrderId") -> Query:
        def q(c: PortfolioMarginClient, p: Mapping[str, str]) -> Awaitable[Any]:
            api = getattr(c, ns)
            if key == "newClientOrderId":
                return api.query_order(symbol=p["symbol"], orig_client_order_id=p[key])  # type: ignore[no-any-return]
            ids = _by(p, "orderId", "origClientOrderId", "order_id", "orig_client_order_id")
            return api.query_order(symbol=p["symbol"], **ids)  # type: ignore[no-any-return]

        return q

    def algo_q(key: str) -> Query:
        def q(c: PortfolioMarginClient, p: Mapping[str, str]) -> Awaitable[Any]:
            if key == "clientAlgoId" or not p.get("algoId"):
                return c.um.query_open_algo_order(client_algo_id=p["clientAlgoId"])
            return c.um.query_open_algo_order(algo_id=int(p["algoId"]))

        return q

    def strategy_q(c: PortfolioMarginClient, p: Mapping[str, str]) -> Awaitable[Any]:
        ids = _by(p, "strategyId", "newClientStrategyId", "strategy_id", "new_client_strategy_id")
        return c.cm.query_conditional_order_history(symbol=p["symbol"], **ids)

    def oco_q(c: PortfolioMarginClient, p: Mapping[str, str]) -> Awaitable[Any]:
        if p.get("orderListId"):
            return c.margin.query_oco(order_list_id=int(p["orderListId"]))
        return c.margin.query_oco(orig_client_order_id=p["listClientOrderId"])

    def open_q(ns: str, method: str) -> Query:
        def q(c: PortfolioMarginClient, p: Mapping[str, str]) -> Awaitable[Any]:
            return getattr(getattr(c, ns), method)(symbol=p["symbol"])  # type: ignore[no-any-return]

        return q

    def margin_open(c: PortfolioMarginClient, p: Mapping[str, str]) -> Awaitable[Any]:
        async def both() -> Any:
            orders = await c.margin.query_open_orders(symbol=p["symbol"])
            return orders + tuple(
                lst for lst in await c.margin.query_open_oco() if lst.symbol == p["symbol"]
            )

        return both()

    algo_state = lambda o: str(o.algo_status)  # noqa: E731
    strategy_state = lambda o: str(o.strategy_status)  # noqa: E731
    list_state = lambda o: str(o.list_order_status)  # noqa: E731
    none = lambda o: ""  # noqa: E731
    return {
        ("POST", _P + "um/order"): _Kind("place", order_q("um"), _status, mum.NewUmOrderResponse),
        ("POST", _P + "cm/order"): _Kind("place", order_q("cm"), _status, mcm.NewCmOrderResponse),
        ("POST", _P + "margin/order"): _Kind("place", order_q("margin"), _status, None),
        ("POST", _P + "um/algo/order"): _Kind(
            "place", algo_q("clientAlgoId"), algo_state, mum.NewUmAlgoOrderResponse
        ),
        ("POST", _P + "cm/conditional/order"): _Kind(
            "place", strategy_q, strategy_state, mcm.NewCmConditionalOrderResponse
        ),
        ("POST", _P + "margin/order/oco"): _Kind(
            "place", oco_q, list_state, mm.MarginAccountNewOcoResponse
        ),
        ("PUT", _P + "um/order"): _Kind("modify", order_q("um", "orig"), _status),
        ("PUT", _P + "cm/order"): _Kind("modify", order_q("cm", "orig"), _status),
        ("DELETE", _P + "um/order"): _Kind("cancel", order_q("um", "orig"), _status),
        ("DELETE", _P + "cm/order"): _Kind("cancel", order_q("cm", "orig"), _status),
        ("DELETE", _P + "margin/order"): _Kind("cancel", order_q("margin", "orig"), _status),
        ("DELETE", _P + "um/algo/order"): _Kind("cancel", algo_q("algoId"), algo_state),
        ("DELETE", _P + "cm/conditional/order"): _Kind("cancel", strategy_q, strategy_state),
        ("DELETE", _P + "margin/orderList"): _Kind("cancel", oco_q, list_state),
        ("DELETE", _P + "um/allOpenOrders"): _Kind(
            "cancel_all", open_q("um", "query_open_orders"), none
        ),
        ("DELETE", _P + "cm/allOpenOrders"): _Kind(
            "cancel_all", open_q("cm", "query_open_orders"), none
        ),
        ("DELETE", _P + "um/algo/allOpenOrders"): _Kind(
            "cancel_all", open_q("um", "query_open_algo_orders"), none
        ),
        ("DELETE", _P + "cm/conditional/allOpenOrders"): _Kind(
            "cancel_all", open_q("cm", "query_open_conditional_orders"), none
        ),
        ("DELETE", _P + "margin/allOpenOrders"): _Kind("cancel_all", margin_open, none),
    }


#: ``resolve_client_order``'s products: the placement route and its client-id parameter.
_PRODUCTS: dict[str, tuple[str, str]] = {
    "UM": (_P + "um/order", "newClientOrderId"),
    "CM": (_P + "cm/order", "newClientOrderId"),
    "MARGIN": (_P + "margin/order", "newClientOrderId"),
    "UM_ALGO": (_P + "um/algo/order", "clientAlgoId"),
    "CM_CONDITIONAL": (_P + "cm/conditional/order", "newClientStrategyId"),
    "MARGIN_OCO": (_P + "margin/order/oco", "listClientOrderId"),
}


async def sleep_until(clock: Clock, when: float) -> None:
    """Wait until ``clock.time()`` reaches ``when`` (a FakeClock: until advanced there)."""
    if clock.time() >= when:
        return
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    handle = clock.call_at(when, wake)
    try:
        await future
    finally:
        handle.cancel()


def _not_found(exc: BinancePapiError) -> bool:
    return isinstance(exc, APIStatusError) and exc.code in _NOT_FOUND


def _duplicate(exc: BinancePapiError) -> bool:
    if not isinstance(exc, APIStatusError):
        return False
    return exc.code in _DUPLICATE_CODES or (exc.code == -2010 and exc.msg == _DUPLICATE_MARGIN)


def _unprotected(params: Mapping[str, str]) -> bool:
    """papi may free this order's id at once (it fills or expires as it is placed)."""
    return params.get("type") == "MARKET" or params.get("timeInForce") in _UNPROTECTED_TIF


class Resolver:
    """``client.resolve`` and ``client.resolve_client_order``.  Internal: use the client."""

    __slots__ = ("_client",)

    def __init__(self, client: PortfolioMarginClient) -> None:
        self._client = client

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
        if not isinstance(outcome, (ExecutionStatusUnknown, OutcomeUnknown)):
            raise ValidationError("resolve takes an ExecutionStatusUnknown or OutcomeUnknown")
        if settle_margin < 0 or recheck_delay < 0:
            raise ValidationError("settle_margin and recheck_delay must be >= 0")
        method, path, params = outcome.method, outcome.path, dict(outcome.params)
        if path == _P + "margin/repay-debt":
            return await self._repay(outcome, debt_before, settle_margin)
        kind = _kinds().get((method, path))
        if kind is None:
            raise ValidationError(f"resolve does not know how to resolve {method} {path}")
        if resend and kind.action != "place":
            raise ValidationError("resend=True resends orders only, not cancels or changes")
        if resend and _unprotected(params) and not accept_duplicate_risk:
            raise ValidationError(
                "this order may fill (or expire) as it is placed, which frees its client id: "
                "a resend could then place it twice; pass accept_duplicate_risk=True to resend",
                param="accept_duplicate_risk",
            )
        await self._settle(params, outcome.sent_at, settle_margin)
        if kind.action == "place":
            return await self._placed(method, path, params, kind, resend, recheck_delay)
        return await self._changed(method, path, params, kind)

    async def resolve_client_order(
        self,
        *,
        symbol: str | None,
        client_order_id: str,
        product: Product,
        sent_at: float | None = None,
        recv_window: int = DEFAULT_RECV_WINDOW_MS,
        settle_margin: float = 1.0,
    ) -> Resolution:
        route = _PRODUCTS.get(product)
        if route is None:
            raise ValidationError(f"product must be one of {sorted(_PRODUCTS)}", param="product")
        if not isinstance(client_order_id, str) or not client_order_id:
            raise ValidationError("client_order_id must be a non-empty str")
        if symbol is None and product != "UM_ALGO" and product != "MARGIN_OCO":
            raise ValidationError(f"{product} orders are looked up by symbol", param="symbol")
        path, key = route
        params = {key: client_order_id, "recvWindow": str(recv_window)}
        if symbol is not None:
            params["symbol"] = symbol
        if sent_at is not None:
            params["timestamp"] = str(int(sent_at * 1000))
            await self._settle(params, sent_at, settle_margin)
        return await self._placed("POST", path, params, _kinds()[("POST", path)], False, 0.0)

    async def _settle(self, params: Mapping[str, str], sent_at: float, margin: float) -> None:
        """Wait until the request cannot pass papi's recvWindow check any more."""
        window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW_MS)) / 1000
        stamp = int(params["timestamp"]) / 1000 if "timestamp" in params else sent_at
        await sleep_until(self._client.clock, stamp + window + margin)

    async def _query(self, kind: _Kind, params: Mapping[str, str]) -> tuple[Any, Any]:
        """``(order, None)``, ``(None, None)`` when papi knows no such order, or
        ``(None, error)`` when the query failed."""
        try:
            return await kind.query(self._client, params), None
        except BinancePapiError as exc:
            if _not_found(exc):
                return None, None
            return None, exc

    async def _placed(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        kind: _Kind,
        resend: bool,
        recheck_delay: float,
    ) -> Resolution:
        cid = _placement_id(params)
        base: dict[str, Any] = {
            "action": kind.action,
            "method": method,
            "path": path,
            "client_order_id": cid,
        }
        order, error = await self._query(kind, params)
        if error is None and order is None and resend:
            # Once more before sending again: a fresh order may not be visible yet.
            await sleep_until(self._client.clock, self._client.clock.time() + recheck_delay)
            order, error = await self._query(kind, params)
        if error is not None:
            return Resolution("unknown", **base, error=error, evidence=f"the query failed: {error}")
        if order is not None:
            return Resolution("placed", **base, order=order, evidence="found by its client id")
        if not resend:
            return Resolution("not_placed", **base, evidence="no order has its client id")
        return await self._resend(method, path, params, kind, base)

    async def _resend(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        kind: _Kind,
        base: dict[str, Any],
    ) -> Resolution:
        """Send the order again, same client id; a duplicate-id refusal means placed."""
        from .endpoints import BY_ROUTE

        spec = BY_ROUTE[(method, path)]
        params.pop("timestamp", None)
        route = f"{method} {path}"
        model = kind.model if kind.model is not None else _margin_answer(params)
        try:
            answer = await self._client._transport.request(
                spec, params, parse=writing(model, route)
            )
        except APIStatusError as exc:
            if not _duplicate(exc):
                raise
            order, _ = await self._query(kind, params)
            return Resolution(
                "placed",
                **base,
                order=order,
                evidence=f"papi refused the resend: an open order has its client id ({exc.code})",
            )
        return Resolution("placed", **base, order=answer, resent=True, evidence="resent")

    async def _changed(
        self, method: str, path: str, params: dict[str, str], kind: _Kind
    ) -> Resolution:
        from ._client_ids import client_id_of

        base: dict[str, Any] = {
            "action": kind.action,
            "method": method,
            "path": path,
            "client_order_id": client_id_of(method, params),
        }
        found, error = await self._query(kind, params)
        if error is not None:
            return Resolution("unknown", **base, error=error, evidence=f"the query failed: {error}")
        if found is None:
            return Resolution("unknown", **base, evidence="papi knows no such order")
        if kind.action == "cancel_all":
            if found:
                return Resolution("not_applied", **base, order=found, evidence="orders are open")
            return Resolution("applied", **base, order=found, evidence="no order is open")
        state = kind.state(found)
        if kind.action == "modify":
            applied = _modified(found, params)
            return Resolution(
                "applied" if applied else "not_applied",
                **base,
                order=found,
                evidence=f"price and quantity {'' if applied else 'do not '}match, {state}",
            )
        if path.endswith("orderList") and state == "ALL_DONE":
            return await self._oco_cancelled(found, base)
        applied = state == "CANCELED"
        return Resolution(
            "applied" if applied else "not_applied", **base, order=found, evidence=f"it is {state}"
        )

    async def _oco_cancelled(self, found: Any, base: dict[str, Any]) -> Resolution:
        """A list that is done was cancelled if its legs were (not if one filled)."""
        legs = found.orders or ()
        if not legs:
            return Resolution("unknown", **base, order=found, evidence="the list has no legs")
        leg = await self._client.margin.query_order(symbol=found.symbol, order_id=legs[0].order_id)
        applied = leg.status == "CANCELED"
        return Resolution(
            "applied" if applied else "not_applied",
            **base,
            order=found,
            evidence=f"the list is done, its leg {legs[0].order_id} {leg.status}",
        )

    async def _repay(
        self,
        outcome: ExecutionStatusUnknown | OutcomeUnknown,
        debt_before: Decimal | None,
        settle_margin: float,
    ) -> Resolution:
        if debt_before is None:
            raise ValidationError(
                "a repay-debt resolves by the debt: pass debt_before=", param="debt_before"
            )
        verdict = await self._client.margin.repay_debt_outcome(
            outcome, debt_before=debt_before, settle_margin=settle_margin
        )
        status: ResolutionStatus = {
            RepayOutcome.APPLIED: "applied",
            RepayOutcome.NOT_APPLIED: "not_applied",
        }.get(verdict, "unknown")  # type: ignore[assignment]
        return Resolution(
            status,
            "repay",
            outcome.method,
            outcome.path,
            evidence=f"the debt says: {verdict.value}",
            repay=verdict,
        )


def _placement_id(params: Mapping[str, str]) -> str | None:
    for key in ("newClientOrderId", "clientAlgoId", "newClientStrategyId", "listClientOrderId"):
        if params.get(key):
            return params[key]
    return None


def _modified(order: Any, params: Mapping[str, str]) -> bool:
    """The order has the price and quantity the modification asked for."""
    for key, attr in (("price", "price"), ("quantity", "orig_qty")):
        if key in params and Decimal(params[key]) != getattr(order, attr):
            return False
    return True


def _margin_answer(params: Mapping[str, str]) -> Any:
    """The model of a margin order's answer, by ``newOrderRespType`` (FULL for MARKET
    and LIMIT when not sent, ACK otherwise, as papi answers)."""
    from .models_generated import margin as mm

    resp = params.get("newOrderRespType") or (
        "FULL" if params.get("type") in ("LIMIT", "MARKET") else "ACK"
    )
    return {
        "ACK": mm.NewMarginOrderAckResponse,
        "RESULT": mm.NewMarginOrderResultResponse,
        "FULL": mm.NewMarginOrderFullResponse,
    }[resp]
