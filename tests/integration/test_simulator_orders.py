"""Orders in the simulator: algo orders, OCO lists, client ids, filters, partial fills,
answer types, amendments and the position mode, over loopback through the client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from binance_papi_async import (
    AlgoUpdate,
    BadRequestError,
    PortfolioMarginClient,
    parse_event,
)
from binance_papi_async.testing import PapiSimulator, SymbolRules

from ..conftest import BIG_LIMITS

KEY = "orders-key-0123456789abcdef"
SECRET = "orders-secret-0123456789abcdef"
UM, CM, MARGIN = "BTCUSDT", "BTCUSD_PERP", "BTCUSDT"
D = Decimal


@pytest.fixture
async def client(sim: PapiSimulator) -> AsyncIterator[PortfolioMarginClient]:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS) as c:
        yield c


@pytest.fixture
def events(sim: PapiSimulator, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The stream events the simulator pushes, parsed as the client parses them."""
    seen: list[Any] = []
    monkeypatch.setattr(sim.stream, "connections", lambda account=None: 1)
    monkeypatch.setattr(
        sim.stream, "push", lambda event, account="main": seen.append(parse_event(dict(event)))
    )
    return seen


async def buy(client: PortfolioMarginClient, qty: str, symbol: str = UM) -> None:
    desk = client.cm if "_" in symbol else client.um
    await desk.new_order(symbol=symbol, side="BUY", type="MARKET", quantity=D(qty))


def position(sim: PapiSimulator, symbol: str = UM, product: str = "UM") -> Decimal:
    pos = sim.account().book.positions.get((product, symbol, "BOTH"))
    return pos.amount if pos is not None else D(0)


# -- UM algo orders -----------------------------------------------------------------------


async def test_an_algo_stop_triggers_on_the_mark_and_reports_every_step(
    sim: PapiSimulator, client: PortfolioMarginClient, events: list[Any]
) -> None:
    with pytest.raises(BadRequestError) as at_once:
        await client.um.new_algo_order(
            algo_type="CONDITIONAL", symbol=UM, side="BUY", type="STOP_MARKET",
            quantity=D("0.01"), trigger_price=D("59000"),
        )  # fmt: skip
    assert at_once.value.code == -2021
    placed = await client.um.new_algo_order(
        algo_type="CONDITIONAL", symbol=UM, side="BUY", type="STOP_MARKET", quantity=D("0.01"),
        trigger_price=D("61000"), client_algo_id="engine-stop-1",
    )  # fmt: skip
    assert (placed.symbol, placed.order_type, placed.algo_status) == (UM, "STOP_MARKET", "NEW")
    assert placed.trigger_price == D("61000") and placed.quantity == D("0.01")
    sim.set_mark(UM, "60500")  # not yet
    assert position(sim) == 0
    sim.set_mark(UM, "61200")
    assert position(sim) == D("0.01")
    done = await client.um.query_open_algo_order(client_algo_id="engine-stop-1")
    assert done.algo_status == "FINISHED" and done.actual_order_id
    order = await client.um.query_order(symbol=UM, order_id=int(done.actual_order_id))
    assert (order.status, order.avg_price) == ("FILLED", D("61200"))
    steps = [e.status for e in events if isinstance(e, AlgoUpdate)]
    assert steps == ["NEW", "TRIGGERING", "TRIGGERED", "FINISHED"]
    with pytest.raises(BadRequestError) as gone:
        await client.um.cancel_algo_order(algo_id=placed.algo_id)
    assert gone.value.code == -2011
    with pytest.raises(BadRequestError) as unknown:
        await client.um.cancel_algo_order(algo_id=12345)
    assert unknown.value.code == -2011


async def test_close_position_closes_what_is_held_at_the_trigger(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    await buy(client, "0.5")
    await client.um.new_algo_order(
        algo_type="CONDITIONAL", symbol=UM, side="SELL", type="TAKE_PROFIT_MARKET",
        trigger_price=D("65000"), close_position=True,
    )  # fmt: skip
    await buy(client, "0.25")  # the position grows after the order was placed
    sim.set_mark(UM, "65000")
    assert position(sim) == 0
    empty = await client.um.new_algo_order(
        algo_type="CONDITIONAL", symbol=UM, side="SELL", type="STOP_MARKET",
        trigger_price=D("64000"), close_position=True,
    )  # fmt: skip
    sim.set_mark(UM, "63000")  # nothing to close: papi refuses the order at the trigger
    rejected = await client.um.query_open_algo_order(algo_id=empty.algo_id)
    assert rejected.algo_status == "REJECTED" and rejected.actual_order_id == ""


async def test_a_trailing_stop_follows_the_best_mark_and_fires_on_the_callback(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    await buy(client, "0.1")
    await client.um.new_algo_order(
        algo_type="CONDITIONAL", symbol=UM, side="SELL", type="TRAILING_STOP_MARKET",
        quantity=D("0.1"), callback_rate=D("1"), reduce_only=True,
    )  # fmt: skip
    for mark in ("61000", "62000", "61400"):  # 1 % below 62000 is 61380
        sim.set_mark(UM, mark)
        assert position(sim) == D("0.1"), mark
    sim.set_mark(UM, "61380")
    assert position(sim) == 0


# -- margin OCO lists ---------------------------------------------------------------------


async def test_an_oco_limit_fill_expires_the_stop_leg_and_frees_the_lock(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    btc = sim.account().assets["BTC"]
    with pytest.raises(BadRequestError) as wrong:
        await client.margin.new_oco(
            symbol=MARGIN, side="SELL", quantity=D("0.02"), price=D("59000"),
            stop_price=D("58000"),
        )  # fmt: skip
    assert wrong.value.code == -2010 and "relationship" in (wrong.value.msg or "")
    placed = await client.margin.new_oco(
        symbol=MARGIN, side="SELL", quantity=D("0.02"), price=D("62000"), stop_price=D("58000"),
        list_client_order_id="engine-oco-1",
    )  # fmt: skip
    assert placed.list_order_status == "EXECUTING" and btc.locked == D("0.02")
    (listed,) = await client.margin.query_open_oco()
    assert listed.order_list_id == placed.order_list_id
    sim.set_mark(MARGIN, "62500")
    assert await client.margin.query_open_oco() == ()
    done = await client.margin.query_oco(orig_client_order_id="engine-oco-1")
    assert done.list_status_type == "ALL_DONE"
    stop_id, limit_id = (o.order_id for o in done.orders or ())
    stop = await client.margin.query_order(symbol=MARGIN, order_id=stop_id)
    limit_leg = await client.margin.query_order(symbol=MARGIN, order_id=limit_id)
    assert (stop.status, limit_leg.status) == ("EXPIRED", "FILLED")
    assert btc.locked == 0 and btc.free == D("0.03")


async def test_an_oco_stop_trigger_expires_the_limit_leg_and_a_cancel_ends_both(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    usdt = sim.account().assets["USDT"]
    placed = await client.margin.new_oco(
        symbol=MARGIN, side="BUY", quantity=D("0.01"), price=D("58000"), stop_price=D("61000"),
        stop_limit_price=D("61500"), stop_limit_time_in_force="GTC",
    )  # fmt: skip
    assert usdt.locked == D("615")  # the higher of its prices
    sim.set_mark(MARGIN, "61200")  # the stop fires; its LIMIT at 61500 takes at the mark
    stop_id, limit_id = (o.order_id for o in placed.orders or ())
    assert sim.account().book.orders[limit_id].status == "EXPIRED"
    assert sim.account().book.orders[stop_id].status == "FILLED"
    assert usdt.locked == 0
    other = await client.margin.new_oco(
        symbol=MARGIN, side="SELL", quantity=D("0.01"), price=D("63000"), stop_price=D("60000"),
    )  # fmt: skip
    legs = [o.order_id for o in other.orders or ()]
    await client.margin.cancel_order(symbol=MARGIN, order_id=legs[0])  # one leg: the list
    assert [sim.account().book.orders[i].status for i in legs] == ["CANCELED", "CANCELED"]
    with pytest.raises(BadRequestError) as again:
        await client.margin.cancel_oco(symbol=MARGIN, order_list_id=other.order_list_id)
    assert again.value.code == -2011


# -- client ids ---------------------------------------------------------------------------


async def test_client_ids_are_unique_among_open_orders_only(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    args: dict[str, Any] = {
        "symbol": UM, "side": "BUY", "type": "LIMIT", "quantity": D("0.01"),
        "price": D("50000"), "time_in_force": "GTC",
    }  # fmt: skip
    with pytest.raises(BadRequestError) as too_long:
        await client.um.new_order(**args, new_client_order_id="x" * 33)  # UM: 32 at most
    assert too_long.value.code == -4015
    first = await client.um.new_order(**args, new_client_order_id="engine-7")
    with pytest.raises(BadRequestError) as twice:
        await client.um.new_order(**args, new_client_order_id="engine-7")
    assert twice.value.code == -4116
    await client.cm.new_order(  # another product: another index
        symbol=CM, side="BUY", type="LIMIT", quantity=D("1"), price=D("50000"),
        time_in_force="GTC", new_client_order_id="engine-7",
    )  # fmt: skip
    await client.um.cancel_order(symbol=UM, orig_client_order_id="engine-7")
    second = await client.um.new_order(**args, new_client_order_id="engine-7")  # freed
    found = await client.um.query_order(symbol=UM, orig_client_order_id="engine-7")
    assert found.order_id == second.order_id != first.order_id
    index = sim.exchange.market.client_ids
    assert index.open_holder("main", "UM", "engine-7") is sim.account().book.orders[second.order_id]
    await client.um.new_algo_order(
        algo_type="CONDITIONAL", symbol=UM, side="BUY", type="STOP_MARKET", quantity=D("0.01"),
        trigger_price=D("70000"), client_algo_id="a" * 36,
    )  # fmt: skip
    with pytest.raises(BadRequestError) as algo_twice:
        await client.um.new_algo_order(
            algo_type="CONDITIONAL", symbol=UM, side="BUY", type="STOP_MARKET",
            quantity=D("0.01"), trigger_price=D("70000"), client_algo_id="a" * 36,
        )  # fmt: skip
    assert algo_twice.value.code == -4116


async def test_margin_client_ids_survive_a_cancel_and_refuse_duplicates(
    client: PortfolioMarginClient,
) -> None:
    args: dict[str, Any] = {
        "symbol": MARGIN, "side": "BUY", "type": "LIMIT", "quantity": D("0.001"),
        "price": D("50000"), "time_in_force": "GTC",
    }  # fmt: skip
    await client.margin.new_order(**args, new_client_order_id="m-1")
    with pytest.raises(BadRequestError) as twice:
        await client.margin.new_order(**args, new_client_order_id="m-1")
    assert twice.value.code == -2010
    canceled = await client.margin.cancel_order(symbol=MARGIN, orig_client_order_id="m-1")
    assert canceled.orig_client_order_id == "m-1" and canceled.client_order_id != "m-1"
    found = await client.margin.query_order(symbol=MARGIN, orig_client_order_id="m-1")
    assert found.status == "CANCELED"


# -- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "code"),
    [
        ("0.01", "50000.05", -4014),  # tick 0.10: two decimals, in multiples of 0.1
        ("0.01", "50000.001", -1111),  # three decimals
        ("0.0105", "50000", -1111),  # step 0.001: one decimal too many
        ("0.001", "50000", -4164),  # notional 50 < 100
    ],
)
async def test_um_orders_follow_the_symbol_filters(
    client: PortfolioMarginClient, quantity: str, price: str, code: int
) -> None:
    with pytest.raises(BadRequestError) as refused:
        await client.um.new_order(
            symbol=UM, side="BUY", type="LIMIT", quantity=D(quantity), price=D(price),
            time_in_force="GTC",
        )  # fmt: skip
    assert refused.value.code == code


async def test_a_reduce_only_order_may_be_below_the_minimum_notional_and_steps_are_checked(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    await buy(client, "0.003")
    small = await client.um.new_order(
        symbol=UM, side="SELL", type="MARKET", quantity=D("0.001"), reduce_only=True
    )
    assert small.status == "NEW"
    with pytest.raises(BadRequestError) as small_open:
        await client.um.new_order(symbol=UM, side="SELL", type="MARKET", quantity=D("0.001"))
    assert small_open.value.msg == (
        "Order's notional must be no smaller than 100 (unless you choose reduce only)."
    )
    sim.state.symbols["UM"]["ETHUSDT"] = SymbolRules(D("0.01"), D("0.010"), D("20"))
    with pytest.raises(BadRequestError) as step:
        await client.um.new_order(symbol="ETHUSDT", side="BUY", type="MARKET", quantity=D("0.015"))
    assert step.value.code == -4023


async def test_margin_and_cm_orders_follow_their_filters(client: PortfolioMarginClient) -> None:
    cases = [
        ("0.001", "50000.005", -1013),  # PRICE_FILTER: tick 0.01
        ("0.000015", "50000", -1013),  # LOT_SIZE: step 0.00001
        ("0.123456789", "50000", -1111),  # beyond 8 decimals
        ("0.00001", "50000", -1013),  # NOTIONAL: 0.5 < 5
    ]
    for qty, price, code in cases:
        with pytest.raises(BadRequestError) as refused:
            await client.margin.new_order(
                symbol=MARGIN, side="BUY", type="LIMIT", quantity=D(qty), price=D(price),
                time_in_force="GTC",
            )  # fmt: skip
        assert refused.value.code == code, (qty, price)
    with pytest.raises(BadRequestError) as fraction:
        await client.cm.new_order(symbol=CM, side="BUY", type="MARKET", quantity=D("1.5"))
    assert fraction.value.code == -1111


# -- fills, answers, amendments, position mode ------------------------------------------------


async def test_a_resting_order_fills_in_parts_on_demand(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    order = await client.um.new_order(
        symbol=UM, side="BUY", type="LIMIT", quantity=D("0.03"), price=D("59000"),
        time_in_force="GTC",
    )  # fmt: skip
    assert order.order_id is not None
    sim.fill(order.order_id, "0.01")
    part = await client.um.query_order(symbol=UM, order_id=order.order_id)
    assert (part.status, part.executed_qty) == ("PARTIALLY_FILLED", D("0.01"))
    sim.fill(order.order_id)  # the rest
    (first, second) = await client.um.account_trade_list(symbol=UM)
    assert (first.qty, second.qty, first.maker) == (D("0.01"), D("0.02"), True)
    assert first.commission == D("0.118")  # 590 x 0.02 % maker
    with pytest.raises(ValueError, match="not resting"):
        sim.fill(order.order_id)
    resting = await client.margin.new_order(
        symbol=MARGIN, side="BUY", type="LIMIT", quantity=D("0.01"), price=D("50000"),
        time_in_force="GTC",
    )  # fmt: skip
    assert resting.order_id is not None
    sim.fill(resting.order_id, "0.004")
    usdt = sim.account().assets["USDT"]
    assert (usdt.free, usdt.locked) == (D("4500"), D("300"))  # 200 spent, 300 still held


async def test_answer_types_follow_papi(client: PortfolioMarginClient) -> None:
    ack = await client.um.new_order(symbol=UM, side="BUY", type="MARKET", quantity=D("0.01"))
    assert (ack.status, ack.executed_qty) == ("NEW", D(0))  # accepted: the fill comes after
    result = await client.um.new_order(
        symbol=UM, side="BUY", type="MARKET", quantity=D("0.01"), new_order_resp_type="RESULT"
    )
    assert (result.status, result.executed_qty) == ("FILLED", D("0.01"))
    maker = await client.margin.new_order(
        symbol=MARGIN, side="BUY", type="LIMIT_MAKER", quantity=D("0.001"), price=D("50000")
    )
    assert set(maker.raw) == {"symbol", "orderId", "clientOrderId", "transactTime"}  # ACK
    full = await client.margin.new_order(
        symbol=MARGIN, side="BUY", type="MARKET", quantity=D("0.001")
    )
    assert full.fills and full.fills[0].commission_asset == "BTC"


async def test_modifications_are_recorded_and_one_that_leaves_nothing_cancels(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    order = await client.um.new_order(
        symbol=UM, side="BUY", type="LIMIT", quantity=D("0.03"), price=D("50000"),
        time_in_force="GTC",
    )  # fmt: skip
    assert order.order_id is not None
    for price in ("50100", "50200"):
        await client.um.modify_order(
            symbol=UM, order_id=order.order_id, side="BUY", quantity=D("0.03"), price=D(price)
        )
    newest, oldest = await client.um.query_modify_order_history(symbol=UM, order_id=order.order_id)
    assert (newest.amendment.count, oldest.amendment.count) == (2, 1)
    assert newest.raw["amendment"]["price"] == {"before": "50100", "after": "50200"}
    sim.fill(order.order_id, "0.02")
    gone = await client.um.modify_order(
        symbol=UM, order_id=order.order_id, side="BUY", quantity=D("0.02"), price=D("50300")
    )
    assert gone.status == "CANCELED"


async def test_the_position_mode_changes_only_when_flat_and_rules_the_orders(
    client: PortfolioMarginClient,
) -> None:
    await buy(client, "0.01")
    with pytest.raises(BadRequestError) as held:
        await client.um.change_position_mode(dual_side_position=True)
    assert held.value.code == -4068
    await client.um.new_order(
        symbol=UM, side="SELL", type="MARKET", quantity=D("0.01"), reduce_only=True
    )
    await client.um.change_position_mode(dual_side_position=True)
    assert (await client.um.position_mode()).dual_side_position is True
    with pytest.raises(BadRequestError) as both:
        await buy(client, "0.01")
    assert both.value.code == -4061
    await client.um.new_order(
        symbol=UM, side="BUY", type="MARKET", quantity=D("0.01"), position_side="LONG"
    )
    with pytest.raises(BadRequestError) as again:
        await client.um.change_position_mode(dual_side_position=True)
    assert again.value.code == -4059
