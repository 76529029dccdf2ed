"""Cancels, cancel-alls and modifications whose answer is lost resolve to the true state:
``applied`` exactly when the simulator applied the change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from binance_papi_async import ExecutionStatusUnknown, PortfolioMarginClient
from binance_papi_async.testing import FaultPlan

from .exactly_once_support import CM, KEY, MARGIN, PLACING, SECRET, UM, D, on_clock, setup

__all__ = ["KEY", "SECRET"]

Client = PortfolioMarginClient
By = {p.name: p for p in PLACING}


@dataclass(frozen=True)
class Change:
    name: str
    path: str
    placing: str  # which order of PLACING it changes
    change: Callable[[Client, Any], Awaitable[Any]]  # (client, placed answer)


CHANGES = [
    Change("um cancel", "/papi/v1/um/order", "um order",
           lambda c, o: c.um.cancel_order(symbol=UM, orig_client_order_id=o.client_order_id)),
    Change("cm cancel", "/papi/v1/cm/order", "cm order",
           lambda c, o: c.cm.cancel_order(symbol=CM, order_id=o.order_id)),
    Change("margin cancel", "/papi/v1/margin/order", "margin order",
           lambda c, o: c.margin.cancel_order(symbol=MARGIN, order_id=o.order_id)),
    Change("oco cancel", "/papi/v1/margin/orderList", "margin oco",
           lambda c, o: c.margin.cancel_oco(symbol=MARGIN, order_list_id=o.order_list_id)),
    Change("algo cancel", "/papi/v1/um/algo/order", "um algo order",
           lambda c, o: c.um.cancel_algo_order(client_algo_id=o.client_algo_id)),
    Change("cm conditional cancel", "/papi/v1/cm/conditional/order", "cm conditional order",
           lambda c, o: c.cm.cancel_conditional_order(symbol=CM, strategy_id=o.strategy_id)),
    Change("um modify", "/papi/v1/um/order", "um order",
           lambda c, o: c.um.modify_order(symbol=UM, order_id=o.order_id, side="BUY",
                                          quantity=D("0.02"), price=D("50100"))),
    Change("cm modify", "/papi/v1/cm/order", "cm order",
           lambda c, o: c.cm.modify_order(symbol=CM, order_id=o.order_id, side="BUY",
                                          quantity=D("2"), price=D("50100"))),
    Change("um cancel all", "/papi/v1/um/allOpenOrders", "um order",
           lambda c, o: c.um.cancel_all_open_orders(symbol=UM)),
    Change("cm cancel all", "/papi/v1/cm/allOpenOrders", "cm order",
           lambda c, o: c.cm.cancel_all_open_orders(symbol=CM)),
    Change("margin cancel all", "/papi/v1/margin/allOpenOrders", "margin order",
           lambda c, o: c.margin.cancel_all_open_orders(symbol=MARGIN)),
    Change("algo cancel all", "/papi/v1/um/algo/allOpenOrders", "um algo order",
           lambda c, o: c.um.cancel_all_algo_open_orders(symbol=UM)),
    Change("cm conditional cancel all", "/papi/v1/cm/conditional/allOpenOrders",
           "cm conditional order",
           lambda c, o: c.cm.cancel_all_open_conditional_orders(symbol=CM)),
]  # fmt: skip

Inject = Callable[[FaultPlan, str], Any]
FAULTS: dict[str, tuple[Inject, bool]] = {
    "drop before apply": (lambda f, p: f.drop(after_apply=False, path=p), False),
    "drop after apply": (lambda f, p: f.drop(after_apply=True, path=p), True),
    "503 unknown error": (lambda f, p: f.error(503, path=p), False),
    "-1007 timeout": (lambda f, p: f.timeout(path=p, apply=True), True),
    "query lag": (lambda f, p: (f.drop(path=p), f.query_lag(3.0, path=p)), True),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("change", CHANGES, ids=[c.name for c in CHANGES])
async def test_a_change_whose_answer_is_lost_resolves_to_what_papi_did(
    change: Change, fault: str
) -> None:
    inject, applied = FAULTS[fault]
    async with setup() as (sim, client, clock):
        placed = await By[change.placing].place(client)
        inject(sim.faults, change.path)
        method = "PUT" if "modify" in change.name else "DELETE"
        with pytest.raises(ExecutionStatusUnknown) as lost:
            await change.change(client, placed)
        assert lost.value.method == method
        told = await on_clock(clock, client.resolve(lost.value))
        assert told.status == ("applied" if applied else "not_applied"), told
        assert told.order is not None
        with pytest.raises(Exception, match="resends orders only"):
            await client.resolve(lost.value, resend=True)


async def test_a_cancel_that_lost_the_race_to_a_fill_is_not_applied_and_shows_the_fill() -> None:
    async with setup() as (sim, client, clock):
        placed = await By["um order"].place(client)
        sim.faults.drop(after_apply=False, path="/papi/v1/um/order")
        with pytest.raises(ExecutionStatusUnknown) as lost:
            await client.um.cancel_order(symbol=UM, order_id=placed.order_id)
        sim.fill(placed.order_id)
        told = await on_clock(clock, client.resolve(lost.value))
        assert told.status == "not_applied" and told.order.status == "FILLED"
