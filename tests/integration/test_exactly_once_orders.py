"""Exactly-once orders: every order-placing endpoint under every fault that hides the
outcome, resolved by client id (and resent where not placed), leaves exactly one order
with that id in the simulator.  Simulator and client share a FakeClock: no test waits
out a recvWindow on the wall clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from binance_papi_async import ExecutionStatusUnknown, OutcomeUnknown, ValidationError
from binance_papi_async.testing import FaultPlan

from .exactly_once_support import (
    KEY,
    PLACING,
    SECRET,
    UM,
    D,
    Placing,
    holders,
    on_clock,
    setup,
)

__all__ = ["KEY", "SECRET"]

Inject = Callable[[FaultPlan, str], Any]
FAULTS: dict[str, tuple[Inject, bool]] = {  # fault, and whether papi applied the order
    "drop before apply": (lambda f, p: f.drop(after_apply=False, path=p), False),
    "drop after apply": (lambda f, p: f.drop(after_apply=True, path=p), True),
    "503 unknown error": (lambda f, p: f.error(503, path=p), False),
    "-1007 timeout": (lambda f, p: f.timeout(path=p, apply=True), True),
    # Applied, but invisible to queries past the recvWindow wait and the re-check: the
    # resend is refused as a duplicate id, which is answered "placed".
    "query lag": (lambda f, p: (f.drop(path=p), f.query_lag(10.0, path=p)), True),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("placing", PLACING, ids=[p.name for p in PLACING])
async def test_an_order_whose_answer_is_lost_ends_up_placed_exactly_once(
    placing: Placing, fault: str
) -> None:
    inject, applied = FAULTS[fault]
    async with setup() as (sim, client, clock):
        inject(sim.faults, placing.path)
        with pytest.raises(ExecutionStatusUnknown) as lost:
            await placing.place(client)
        cid = lost.value.client_order_id
        assert cid is not None and cid in str(lost.value)
        assert len(holders(sim, placing.kind, cid)) == int(applied)
        told = await on_clock(clock, client.resolve(lost.value))
        if fault != "query lag":  # the lag outlasts the wait: not visible yet
            assert told.status == ("placed" if applied else "not_placed"), told
        if told.status == "not_placed":
            told = await on_clock(clock, client.resolve(lost.value, resend=True))
        assert told.status == "placed" and told.client_order_id == cid
        assert told.resent is not applied
        assert len(holders(sim, placing.kind, cid)) == 1  # zero lost, zero duplicated


async def test_resolve_waits_until_the_request_can_no_longer_pass_the_recv_window() -> None:
    async with setup() as (sim, client, clock):
        sim.faults.drop(after_apply=False, path="/papi/v1/um/order")
        with pytest.raises(ExecutionStatusUnknown) as lost:
            await client.um.new_order(
                symbol=UM, side="BUY", type="LIMIT", quantity=D("0.01"), price=D("50000"),
                time_in_force="GTC", recv_window=3000,
            )  # fmt: skip
        stamp = int(lost.value.params["timestamp"]) / 1000
        told = await on_clock(clock, client.resolve(lost.value, settle_margin=0.5), step=0.1)
        assert told.status == "not_placed"
        assert clock.time() >= stamp + 3.0 + 0.5  # the window and the clock margin
        assert clock.time() < stamp + 3.0 + 0.5 + 0.2


async def test_a_late_execution_beyond_the_wait_is_refused_by_the_open_orders_id() -> None:
    """The residual case, a LIMIT order: papi said nothing, the order executes after the
    recvWindow wait and after the resend; the resend holds the id, so the late one is
    refused (-4116) and one order remains."""
    async with setup() as (sim, client, clock):
        sim.faults.late(30.0, path="/papi/v1/um/order")
        with pytest.raises(ExecutionStatusUnknown) as lost:
            await PLACING[0].place(client)
        cid = lost.value.client_order_id
        assert cid is not None
        told = await on_clock(clock, client.resolve(lost.value, resend=True))
        assert (told.status, told.resent) == ("placed", True)
        clock.advance(30.0)  # the stalled request executes now
        (order,) = holders(sim, "UM", cid)
        assert order.is_open


async def test_a_late_execution_after_a_market_order_filled_is_the_documented_duplicate() -> None:
    """A MARKET order frees its id as it fills: with accept_duplicate_risk=True a late
    execution of the first request becomes a second order, as the README states."""
    async with setup() as (sim, client, clock):
        sim.faults.late(30.0, path="/papi/v1/um/order")
        with pytest.raises(ExecutionStatusUnknown) as lost:
            await client.um.new_order(symbol=UM, side="BUY", type="MARKET", quantity=D("0.01"))
        with pytest.raises(ValidationError, match="accept_duplicate_risk"):
            await client.resolve(lost.value, resend=True)
        told = await on_clock(
            clock, client.resolve(lost.value, resend=True, accept_duplicate_risk=True)
        )
        assert (told.status, told.resent) == ("placed", True)
        clock.advance(30.0)
        cid = lost.value.client_order_id
        assert cid is not None
        assert [o.status for o in holders(sim, "UM", cid)] == ["FILLED", "FILLED"]


async def test_an_order_cancelled_after_it_was_sent_resolves_from_its_event() -> None:
    events: list[Any] = []
    async with setup(on_event=events.append) as (sim, client, clock):
        sim.faults.latency(0.3, path="/papi/v1/um/order")
        task = asyncio.ensure_future(PLACING[0].place(client))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        (event,) = [e for e in events if isinstance(e, OutcomeUnknown)]
        cid = event.client_order_id
        assert cid is not None and "signature" not in event.params
        await asyncio.sleep(0.3)  # the simulator applies it once its latency is over
        told = await on_clock(clock, client.resolve(event))
        assert told.status == "placed" and len(holders(sim, "UM", cid)) == 1


async def test_an_id_persisted_before_a_crash_resolves_without_the_exception() -> None:
    async with setup() as (sim, client, clock):
        cid = client.new_client_order_id("eng1")
        assert cid.startswith("eng1") and len(cid) == 26
        sim.faults.drop(path="/papi/v1/um/order")
        sent_at = clock.time()
        with pytest.raises(ExecutionStatusUnknown):
            await client.um.new_order(
                symbol=UM, side="BUY", type="LIMIT", quantity=D("0.01"), price=D("50000"),
                time_in_force="GTC", new_client_order_id=cid,
            )  # fmt: skip
        told = await on_clock(
            clock,
            client.resolve_client_order(
                symbol=UM, client_order_id=cid, product="UM", sent_at=sent_at
            ),
        )
        assert told.status == "placed" and told.order.client_order_id == cid
        other = await client.resolve_client_order(
            symbol=UM, client_order_id=client.new_client_order_id(), product="UM"
        )
        assert other.status == "not_placed"
