"""Every papi operation, through the SDK's generated methods, against the simulator.

One round trip per documented operation of the endpoint table (all 104), over real loopback
sockets: the call succeeds (or, for the few the simulator does not model, raises
``NotSimulatedError``), the typed model comes back, and the simulator charged what the
table declares.  Then focused tests of the stateful families: UM orders
(new, modify, cancel, queries), margin orders, borrow / repay, CM conditional orders,
positions, the uniMMR drop notification switch, and the stream events they push.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from yarl import URL

from binance_papi_async import (
    AccountInformation,
    AccountUpdate,
    AssetBalance,
    BadRequestError,
    ConditionalOrderTradeUpdate,
    ExecutionReport,
    LiabilityChange,
    NotSimulatedError,
    OrderRateLimit,
    OrderTradeUpdate,
    OutboundAccountPosition,
    PortfolioMarginClient,
    RepayDebtResult,
    parse_event,
)
from binance_papi_async.api._generated import METHODS
from binance_papi_async.endpoints import (
    SERVER_TIME,
    TABLE,
    Budget,
    EndpointSpec,
    HttpMethod,
    Security,
)
from binance_papi_async.models_generated import RESPONSE_MODELS
from binance_papi_async.signing import HmacSigner, encode_params, signed_query
from binance_papi_async.testing import UNIMMR_SWITCH_PARAM, PapiSimulator
from binance_papi_async.testing.unmodelled import NOT_SIMULATED

from ..conftest import BIG_LIMITS

KEY = "surface-key-0123456789abcdef"
SECRET = "surface-secret-0123456789abcdef"
UM, CM, MARGIN = "BTCUSDT", "BTCUSD_PERP", "BTCUSDT"
HANDWRITTEN_MODELS: dict[str, type] = {
    "GET /papi/v1/account": AccountInformation,
    "GET /papi/v1/balance": AssetBalance,
    "GET /papi/v1/rateLimit/order": OrderRateLimit,
    "POST /papi/v1/margin/repay-debt": RepayDebtResult,
}


@pytest.fixture
async def client(sim: PapiSimulator) -> AsyncIterator[PortfolioMarginClient]:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS) as c:
        yield c


def symbol_for(spec: EndpointSpec) -> str:
    return CM if "/cm/" in spec.path else UM


# Minimal valid arguments by parameter name (required parameters only).
def default_arg(spec: EndpointSpec, name: str) -> Any:
    values: dict[str, Any] = {
        "symbol": symbol_for(spec),
        "side": "BUY",
        "type": "LIMIT",
        "asset": "USDT",
        "amount": Decimal("0.1"),
        "transfer_side": "TO_UM",
        "auto_repay": True,
        "start_time": 1_700_000_000_000,
        "end_time": 1_700_086_400_000,
        "download_id": "545923594199212032",
        "leverage": 10,
        "dual_side_position": False,
        "fee_burn": True,
        "quantity": Decimal("0.01"),
        "price": Decimal("50000"),
        "stop_price": Decimal("49000"),
        "strategy_type": "STOP_MARKET",
        "algo_type": "CONDITIONAL",
    }
    return values[name]


Setup = Callable[[PortfolioMarginClient], Awaitable[dict[str, Any]]]


async def _um_order(client: PortfolioMarginClient) -> dict[str, Any]:
    order = await client.um.new_order(
        symbol=UM, side="BUY", type="LIMIT", quantity=Decimal("0.01"),
        price=Decimal("50000"), time_in_force="GTC",
    )  # fmt: skip
    return {"symbol": UM, "order_id": order.order_id}


async def _cm_order(client: PortfolioMarginClient) -> dict[str, Any]:
    order = await client.cm.new_order(
        symbol=CM, side="BUY", type="LIMIT", quantity=Decimal("1"),
        price=Decimal("50000"), time_in_force="GTC",
    )  # fmt: skip
    return {"symbol": CM, "order_id": order.order_id}


async def _oco_id(client: PortfolioMarginClient) -> dict[str, Any]:
    return {"order_list_id": (await _oco(client))["order_list_id"]}


async def _amended(client: PortfolioMarginClient, place: Setup, product: str) -> dict[str, Any]:
    placed = await place(client)
    qty = Decimal("1") if product == "cm" else Decimal("0.01")
    await getattr(client, product).modify_order(
        symbol=placed["symbol"], order_id=placed["order_id"], side="BUY", quantity=qty,
        price=Decimal("49000"),
    )  # fmt: skip
    return placed


async def _amended_um_order(client: PortfolioMarginClient) -> dict[str, Any]:
    return await _amended(client, _um_order, "um")


async def _amended_cm_order(client: PortfolioMarginClient) -> dict[str, Any]:
    return await _amended(client, _cm_order, "cm")


async def _flat(client: PortfolioMarginClient, product: str) -> dict[str, Any]:
    """No open order and no position in ``product``: the position mode may change."""
    desk = getattr(client, product)
    symbol = CM if product == "cm" else UM
    await desk.cancel_all_open_orders(symbol=symbol)
    if product == "cm":
        await desk.cancel_all_open_conditional_orders(symbol=symbol)
    else:
        await desk.cancel_all_algo_open_orders(symbol=symbol)
    for pos in (
        await desk.position_information(symbol=symbol)
        if product == "um"
        else (await desk.position_information(pair="BTCUSD"))
    ):
        if pos.position_amt:
            await desk.new_order(
                symbol=symbol, side="SELL" if pos.position_amt > 0 else "BUY", type="MARKET",
                quantity=abs(pos.position_amt), reduce_only=True,
            )  # fmt: skip
    return {"dual_side_position": True}


async def _flat_um(client: PortfolioMarginClient) -> dict[str, Any]:
    return await _flat(client, "um")


async def _flat_cm(client: PortfolioMarginClient) -> dict[str, Any]:
    return await _flat(client, "cm")


async def _margin_order(client: PortfolioMarginClient) -> dict[str, Any]:
    order = await client.margin.new_order(
        symbol=MARGIN, side="BUY", type="LIMIT", quantity=Decimal("0.001"),
        price=Decimal("50000"), time_in_force="GTC",
    )  # fmt: skip
    return {"symbol": MARGIN, "order_id": order.order_id}


async def _cm_strategy(client: PortfolioMarginClient) -> dict[str, Any]:
    s = await client.cm.new_conditional_order(
        symbol=CM, side="BUY", strategy_type="STOP_MARKET", quantity=Decimal("1"),
        stop_price=Decimal("70000"),
    )  # fmt: skip
    return {"symbol": CM, "strategy_id": s.strategy_id}


async def _borrowed_usdt(client: PortfolioMarginClient) -> dict[str, Any]:
    await client.margin.borrow(asset="USDT", amount=Decimal("10"))
    return {"asset": "USDT", "amount": Decimal("1")}


async def _algo_id(client: PortfolioMarginClient) -> dict[str, Any]:
    algo = await client.um.new_algo_order(
        algo_type="CONDITIONAL", symbol=UM, side="BUY", type="STOP_MARKET",
        quantity=Decimal("0.01"), trigger_price=Decimal("70000"),
    )  # fmt: skip
    return {"algo_id": algo.algo_id}


async def _oco(client: PortfolioMarginClient) -> dict[str, Any]:
    oco = await client.margin.new_oco(  # locks 14 USDT: many can be placed
        symbol=MARGIN, side="BUY", quantity=Decimal("0.0002"), price=Decimal("50000"),
        stop_price=Decimal("70000"),
    )  # fmt: skip
    return {"symbol": MARGIN, "order_list_id": oco.order_list_id}


# Operations whose arguments come from a previous call (an existing order, a debt...)
# or that need more than their required parameters.
SETUPS: dict[str, Setup] = {
    "modify_um_order": _um_order,
    "cancel_um_order": _um_order,
    "query_um_order": _um_order,
    "query_current_um_open_order": _um_order,
    "query_um_modify_order_history": _amended_um_order,
    "modify_cm_order": _cm_order,
    "cancel_cm_order": _cm_order,
    "query_cm_order": _cm_order,
    "query_current_cm_open_order": _cm_order,
    "query_cm_modify_order_history": _amended_cm_order,
    "cancel_margin_account_order": _margin_order,
    "query_margin_account_order": _margin_order,
    "cancel_cm_conditional_order": _cm_strategy,
    "query_current_cm_open_conditional_order": _cm_strategy,
    "query_cm_conditional_order_history": _cm_strategy,
    "margin_account_repay": _borrowed_usdt,
    "change_um_position_mode": _flat_um,
    "change_cm_position_mode": _flat_cm,
    "cancel_margin_account_oco_orders": _oco,
    "query_margin_accounts_oco": _oco_id,
    "cancel_um_algo_order": _algo_id,
    "query_current_um_open_algo_order": _algo_id,
}
EXTRA: dict[str, dict[str, Any]] = {
    "new_um_order": {
        "quantity": Decimal("0.01"),
        "price": Decimal("50000"),
        "time_in_force": "GTC",
    },
    "new_cm_order": {"quantity": Decimal("1"), "price": Decimal("50000"), "time_in_force": "GTC"},
    "new_margin_order": {
        "quantity": Decimal("0.001"),
        "price": Decimal("50000"),
        "time_in_force": "GTC",
    },
    "new_cm_conditional_order": {"quantity": Decimal("1"), "stop_price": Decimal("70000")},
    "modify_um_order": {"price": Decimal("51000")},
    "modify_cm_order": {"quantity": Decimal("1"), "price": Decimal("51000")},
    "query_all_cm_orders": {"symbol": CM},
    "cm_account_trade_list": {"symbol": CM},
    "query_margin_loan_record": {"start_time": 1_700_000_000_000},
    "query_margin_repay_record": {"start_time": 1_700_000_000_000},
    "margin_account_repay_debt": {"asset": "BNB", "amount": Decimal("0.1")},
    "margin_account_new_oco": {  # a BUY list locks quantity x 70000 USDT
        "quantity": Decimal("0.0002"),
        "stop_price": Decimal("70000"),
        "price": Decimal("50000"),
    },
    "new_um_algo_order": {
        "type": "STOP_MARKET",
        "trigger_price": Decimal("70000"),
        "quantity": Decimal("0.01"),
    },
    "set_unimmr_drop_notification_status": {"extra_params": {UNIMMR_SWITCH_PARAM: True}},
}


# Lists that are empty when nothing of the kind happened (no liquidation, no interest
# charged), or emptied by an earlier operation of the table (cancel-all before open orders).
MAY_BE_EMPTY = {
    "query_current_margin_open_order",
    "query_users_um_force_orders",
    "query_users_cm_force_orders",
    "query_margin_accounts_open_oco",
    "query_all_current_um_open_algo_orders",
    "um_position_adl_quantile_estimation",
    "cm_position_adl_quantile_estimation",
}


async def warm_up(client: PortfolioMarginClient) -> None:
    """An order, a conditional order and a position in each product, so lists are not empty."""
    for setup in (_um_order, _cm_order, _margin_order, _cm_strategy):
        await setup(client)
    await client.um.new_order(symbol=UM, side="BUY", type="MARKET", quantity=Decimal("0.01"))
    await client.cm.new_order(symbol=CM, side="BUY", type="MARKET", quantity=Decimal("1"))
    await client.margin.new_order(
        symbol=MARGIN, side="BUY", type="MARKET", quantity=Decimal("0.001")
    )
    await _oco(client)


def kwargs_for(spec: EndpointSpec) -> dict[str, Any]:
    return {
        p.py_name: default_arg(spec, p.py_name)
        for p in spec.params
        if p.required and p.name != "timestamp"
    }


def expected_model(spec: EndpointSpec) -> type | None:
    key = f"{spec.method} {spec.path}"
    return HANDWRITTEN_MODELS.get(key) or RESPONSE_MODELS.get(key)


def test_every_operation_has_a_client_method() -> None:
    # The 104 operations of endpoints.json and the undocumented GET /papi/v1/time.
    assert len(TABLE) == 105 and set(METHODS) == {s.name for s in TABLE}
    assert METHODS[SERVER_TIME.name] == ("market", "server_time")


async def test_one_round_trip_per_operation(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    served: list[str] = []
    await warm_up(client)
    for spec in TABLE:
        if spec is SERVER_TIME:  # the clock sync's own endpoint: not told apart from syncs
            continue
        namespace, method_name = METHODS[spec.name]
        method = getattr(getattr(client, namespace), method_name)
        kwargs = kwargs_for(spec)
        setup = SETUPS.get(spec.name)
        if setup is not None:
            kwargs.update(await setup(client))
        kwargs.update(EXTRA.get(spec.name, {}))
        weight_before = sim.used_weight
        orders_before = sim.order_count()
        sim.clear_requests()
        result: Any = None
        if (spec.method, spec.path) in NOT_SIMULATED:
            with pytest.raises(NotSimulatedError) as refused:
                await method(**kwargs)
            assert (refused.value.status, refused.value.code) == (501, -501), spec.name
        else:
            result = await method(**kwargs)
        model = expected_model(spec)
        if (spec.method, spec.path) in NOT_SIMULATED:
            pass
        elif spec.path == "/papi/v1/unimmr/notification":  # no page documents the answer
            assert isinstance(result[UNIMMR_SWITCH_PARAM], bool), spec.name
        elif model is None:
            assert result is None, spec.name
        elif isinstance(result, tuple):
            assert all(isinstance(item, model) for item in result), spec.name
            assert result or spec.name in MAY_BE_EMPTY, spec.name
        else:
            assert isinstance(result, model), spec.name
        (record,) = [r for r in sim.requests if r.path != "/papi/v1/time"]  # not clock syncs
        status = 501 if (spec.method, spec.path) in NOT_SIMULATED else 200
        assert (record.method, record.path, record.status) == (spec.method, spec.path, status)
        # Charges as the table declares them (unless a one-minute window rolled over).
        weight_after = sim.used_weight
        syncs = sum(r.path == "/papi/v1/time" for r in sim.requests)
        weight_before += syncs  # a clock sync costs 1
        if weight_after >= weight_before:
            charged = spec.for_params({p.name: "" for p in spec.params if p.py_name in kwargs})
            expected = sum(c.amount for c in charged.charges if c.budget is Budget.REQUEST_WEIGHT)
            assert weight_after - weight_before == expected, spec.name
            orders = sum(c.amount for c in spec.charges if c.budget is Budget.ORDERS)
            assert sim.order_count() - orders_before == orders, spec.name
        served.append(spec.name)
    assert len(served) == 104


# -- stateful families ----------------------------------------------------------------------


async def test_um_order_lifecycle_modify_cancel(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    placed = await client.um.new_order(
        symbol=UM, side="BUY", type="LIMIT", quantity=Decimal("0.01"),
        price=Decimal("50000"), time_in_force="GTC", new_client_order_id="engine-1",
    )  # fmt: skip
    assert placed.status == "NEW" and placed.client_order_id == "engine-1"
    assert placed.order_id is not None and placed.order_id > 2**53  # beyond float precision
    assert "cumQuote" not in placed.raw and "avgPrice" not in placed.raw  # removed 2026-07
    assert placed.cum_quote is None and placed.avg_price is None
    (open_order,) = await client.um.query_open_orders(symbol=UM)
    assert open_order.order_id == placed.order_id
    modified = await client.um.modify_order(
        symbol=UM, order_id=placed.order_id, side="BUY", quantity=Decimal("0.02"),
        price=Decimal("51000"),
    )  # fmt: skip
    assert (modified.price, modified.orig_qty, modified.status) == (
        Decimal("51000"), Decimal("0.02"), "NEW",
    )  # fmt: skip
    by_client_id = await client.um.query_order(symbol=UM, orig_client_order_id="engine-1")
    assert by_client_id.order_id == placed.order_id and by_client_id.price == Decimal("51000")
    assert by_client_id.avg_price == 0 and by_client_id.cum_quote == 0
    canceled = await client.um.cancel_order(symbol=UM, order_id=placed.order_id)
    assert canceled.status == "CANCELED"
    assert await client.um.query_open_orders(symbol=UM) == ()
    with pytest.raises(BadRequestError) as unknown:
        await client.um.query_open_order(symbol=UM, order_id=placed.order_id)
    assert unknown.value.code == -2013
    with pytest.raises(BadRequestError) as gone:
        await client.um.query_order(symbol=UM, order_id=12345)
    assert gone.value.code == -2013
    with pytest.raises(BadRequestError) as again:
        await client.um.cancel_order(symbol=UM, order_id=placed.order_id)
    assert again.value.code == -2011
    (history,) = await client.um.query_all_orders(symbol=UM)
    assert history.status == "CANCELED"


async def test_um_client_order_id_rules(client: PortfolioMarginClient) -> None:
    args: dict[str, Any] = {
        "symbol": UM, "side": "BUY", "type": "LIMIT", "quantity": Decimal("0.01"),
        "price": Decimal("50000"), "time_in_force": "GTC",
    }  # fmt: skip
    with pytest.raises(BadRequestError) as too_long:
        await client.um.new_order(**args, new_client_order_id="x" * 37)
    assert too_long.value.code == -4015
    await client.um.new_order(**args, new_client_order_id="dup")
    with pytest.raises(BadRequestError) as duplicate:
        await client.um.new_order(**args, new_client_order_id="dup")
    assert duplicate.value.code == -4116


async def test_um_market_order_fills_at_the_mark_and_opens_a_position(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    sim.set_mark(UM, Decimal("60000"))
    order = await client.um.new_order(
        symbol=UM, side="BUY", type="MARKET", quantity=Decimal("0.1"), new_order_resp_type="RESULT"
    )
    assert (order.status, order.executed_qty) == ("FILLED", Decimal("0.1"))
    query = await client.um.query_order(symbol=UM, order_id=order.order_id)
    assert (query.avg_price, query.cum_quote) == (Decimal("60000"), Decimal("6000"))
    sim.set_mark(UM, "61000")
    (position,) = await client.um.position_information(symbol=UM)
    assert (position.position_amt, position.entry_price) == (Decimal("0.1"), Decimal("60000"))
    assert position.un_realized_profit == Decimal("100")
    # A resting SELL above the mark fills at its price when the mark reaches it.
    await client.um.new_order(
        symbol=UM, side="SELL", type="LIMIT", quantity=Decimal("0.1"),
        price=Decimal("62000"), time_in_force="GTC", reduce_only=True,
    )  # fmt: skip
    sim.set_mark(UM, "62500")
    (flat,) = await client.um.position_information(symbol=UM)
    assert flat.position_amt == 0
    # 200 USDT realized, minus commission: 6000 x 0.05 % taker, 6200 x 0.02 % maker.
    detail = await client.um.account_detail()
    assert detail.assets is not None
    wallet = Decimal("200") - Decimal("3") - Decimal("1.24")
    assert {a.asset: a.cross_wallet_balance for a in detail.assets} == {"USDT": wallet}
    usdt = await client.account.balance("USDT")
    assert usdt.raw["umWalletBalance"] == "195.76000000"


async def test_margin_orders_lock_fill_and_cancel(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    resting = await client.margin.new_order(
        symbol=MARGIN, side="BUY", type="LIMIT", quantity=Decimal("0.01"),
        price=Decimal("50000"), time_in_force="GTC",
    )  # fmt: skip
    assert resting.status == "NEW" and resting.fills == ()
    usdt = sim.account().assets["USDT"]
    assert (usdt.free, usdt.locked) == (Decimal("4500"), Decimal("500"))
    (listed,) = await client.margin.query_open_orders(symbol=MARGIN)
    assert listed.order_id == resting.order_id and listed.is_working is True
    canceled = await client.margin.cancel_order(symbol=MARGIN, order_id=resting.order_id)
    assert canceled.status == "CANCELED"
    assert (usdt.free, usdt.locked) == (Decimal("5000"), Decimal(0))
    filled = await client.margin.new_order(
        symbol=MARGIN, side="BUY", type="MARKET", quantity=Decimal("0.1"),
        side_effect_type="MARGIN_BUY",
    )  # fmt: skip
    assert filled.status == "FILLED" and filled.cummulative_quote_qty == Decimal("6000")
    assert filled.margin_buy_borrow_asset == "USDT"
    assert filled.margin_buy_borrow_amount == Decimal("1000")
    assert filled.fills[0].commission == Decimal("0.0001")  # 0.1 % of the BTC received
    assert sim.account().assets["BTC"].free == Decimal("0.1499")
    with pytest.raises(BadRequestError) as poor:
        await client.margin.new_order(
            symbol=MARGIN, side="BUY", type="MARKET", quantity=Decimal("1")
        )
    assert poor.value.code == -2010
    query = await client.margin.query_order(symbol=MARGIN, order_id=filled.order_id)
    assert query.status == "FILLED"
    assert len(await client.margin.query_all_orders(symbol=MARGIN)) == 2


async def test_borrow_then_repay_debt_and_records(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    loan = await client.margin.borrow(asset="USDT", amount=Decimal("250"))
    assert loan.tran_id is not None
    usdt = sim.account().assets["USDT"]
    assert (usdt.free, usdt.borrowed) == (Decimal("5250"), Decimal("250"))
    records = await client.margin.loan_records(asset="USDT", tx_id=loan.tran_id)
    assert records.total == 1 and records.rows is not None
    assert (records.rows[0].tx_id, records.rows[0].principal) == (loan.tran_id, Decimal("250"))
    repaid = await client.margin.repay_debt("USDT", Decimal("100"))
    assert repaid.success and usdt.borrowed == Decimal("150")
    await client.margin.repay(asset="USDT", amount=Decimal("150"))
    assert usdt.borrowed == 0 and usdt.free == Decimal("5000")
    repays = await client.margin.repay_records(asset="USDT", start_time=1)
    assert repays.rows is not None and repays.rows[0].principal == Decimal("150")
    with pytest.raises(BadRequestError) as nothing_owed:
        await client.margin.repay(asset="USDT", amount=Decimal("1"))
    assert nothing_owed.value.code == -3015
    limits = await client.margin.max_borrowable(asset="USDT")
    assert limits.amount is not None and limits.amount > 0


async def test_conditional_order_triggers_on_the_mark(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    with pytest.raises(BadRequestError) as at_once:
        await client.cm.new_conditional_order(
            symbol=CM, side="BUY", strategy_type="STOP_MARKET", quantity=Decimal("1"),
            stop_price=Decimal("59000"),
        )  # fmt: skip
    assert at_once.value.code == -2021
    stop = await client.cm.new_conditional_order(
        symbol=CM, side="BUY", strategy_type="STOP_MARKET", quantity=Decimal("1"),
        stop_price=Decimal("61000"),
    )  # fmt: skip
    assert stop.strategy_status == "NEW"
    (listed,) = await client.cm.query_open_conditional_orders(symbol=CM)
    assert listed.strategy_id == stop.strategy_id
    sim.set_mark(CM, "61500")
    assert await client.cm.query_open_conditional_orders(symbol=CM) == ()
    history = await client.cm.query_conditional_order_history(
        symbol=CM, strategy_id=stop.strategy_id
    )
    assert history.strategy_status == "TRIGGERED" and history.status == "FILLED"
    (position,) = await client.cm.position_information(pair="BTCUSD")
    assert position.position_amt == Decimal("1")
    other = await client.cm.new_conditional_order(
        symbol=CM, side="SELL", strategy_type="STOP_MARKET", quantity=Decimal("1"),
        stop_price=Decimal("50000"), reduce_only=True,
    )  # fmt: skip
    canceled = await client.cm.cancel_conditional_order(symbol=CM, strategy_id=other.strategy_id)
    assert canceled.strategy_status == "CANCELED"


async def test_the_retired_um_conditional_endpoints_answer_404(
    client: PortfolioMarginClient,
) -> None:
    routes: list[tuple[HttpMethod, str]] = [
        ("POST", "/papi/v1/um/conditional/order"),
        ("GET", "/papi/v1/um/conditional/openOrders"),
        ("DELETE", "/papi/v1/um/conditional/allOpenOrders"),
    ]
    for method, path in routes:
        with pytest.raises(BadRequestError) as gone:
            await client.request(method, path, {"symbol": UM}, security="TRADE")
        assert gone.value.status == 404
    assert not hasattr(client.um, "new_conditional_order")


async def test_order_changes_are_pushed_on_the_user_stream(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    key = (await client.user_stream.start()).listen_key
    url = f"{sim.url.replace('http', 'ws')}/pm/ws/{key}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        for _ in range(200):  # the server registers the connection
            if sim.stream.connections():
                break
            await asyncio.sleep(0.005)

        async def next_event() -> Any:
            message = await asyncio.wait_for(ws.receive_json(), 3.0)
            return parse_event(message)

        placed = await client.um.new_order(
            symbol=UM, side="BUY", type="LIMIT", quantity=Decimal("0.01"),
            price=Decimal("50000"), time_in_force="GTC",
        )  # fmt: skip
        new = await next_event()
        assert isinstance(new, OrderTradeUpdate) and new.business_line == "UM"
        assert (new.execution_type, new.status, new.order_id) == ("NEW", "NEW", placed.order_id)
        assert placed.order_id is not None
        await client.um.modify_order(
            symbol=UM, order_id=placed.order_id, side="BUY", quantity=Decimal("0.01"),
            price=Decimal("50500"),
        )  # fmt: skip
        amended = await next_event()
        assert isinstance(amended, OrderTradeUpdate) and amended.execution_type == "AMENDMENT"
        assert amended.price == Decimal("50500")
        await client.um.cancel_order(symbol=UM, order_id=placed.order_id)
        canceled = await next_event()
        assert isinstance(canceled, OrderTradeUpdate)
        assert (canceled.execution_type, canceled.status) == ("CANCELED", "CANCELED")
        await client.um.new_order(symbol=UM, side="BUY", type="MARKET", quantity=Decimal("0.01"))
        assert isinstance(await next_event(), OrderTradeUpdate)  # NEW
        trade = await next_event()
        assert isinstance(trade, OrderTradeUpdate) and trade.status == "FILLED"
        assert trade.last_filled_price == Decimal("60000")
        update = await next_event()
        assert isinstance(update, AccountUpdate) and update.positions[0].position_amount == Decimal(
            "0.01"
        )
        await client.margin.new_order(
            symbol=MARGIN, side="BUY", type="MARKET", quantity=Decimal("0.001")
        )
        report = await next_event()
        assert isinstance(report, ExecutionReport) and report.execution_type == "NEW"
        filled = await next_event()
        assert isinstance(filled, ExecutionReport)
        assert (filled.execution_type, filled.status) == ("TRADE", "FILLED")
        assert isinstance(await next_event(), OutboundAccountPosition)
        await client.cm.new_conditional_order(
            symbol=CM, side="BUY", strategy_type="STOP_MARKET", quantity=Decimal("1"),
            stop_price=Decimal("70000"),
        )  # fmt: skip
        strategy = await next_event()
        assert isinstance(strategy, ConditionalOrderTradeUpdate)
        assert strategy.strategy_status == "NEW"
        await client.margin.borrow(asset="USDT", amount=Decimal("10"))
        borrow = await next_event()
        assert isinstance(borrow, LiabilityChange) and borrow.type == "BORROW"
        assert isinstance(await next_event(), OutboundAccountPosition)


async def test_generic_routes_check_parameters_and_charge_the_table(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    # A doc-example route still enforces the table's parameter rules.
    with pytest.raises(BadRequestError) as unknown:
        await client.request(
            "GET", "/papi/v1/um/commissionRate", {"symbol": UM, "bogus": "1"}, security="USER_DATA"
        )
    assert unknown.value.code == -1104
    with pytest.raises(BadRequestError) as missing:
        await client.request("GET", "/papi/v1/um/commissionRate", {}, security="USER_DATA")
    assert missing.value.code == -1102
    rate = await client.um.commission_rate(symbol=UM)
    assert rate.maker_commission_rate is not None
    # Argument-dependent weight: openOrders costs 1 with a symbol, 40 without.
    before = sim.used_weight
    await client.um.query_open_orders()
    assert sim.used_weight - before in (40, 41)  # 41: a clock sync slipped in


async def test_cm_orders_and_inverse_pnl(sim: PapiSimulator, client: PortfolioMarginClient) -> None:
    sim.set_mark(CM, "50000")
    bought = await client.cm.new_order(
        symbol=CM, side="BUY", type="MARKET", quantity=Decimal("2"), new_order_resp_type="RESULT"
    )
    assert bought.status == "FILLED" and bought.pair == "BTCUSD"
    assert "cumBase" not in bought.raw and "avgPrice" not in bought.raw
    query = await client.cm.query_order(symbol=CM, order_id=bought.order_id)
    assert query.cum_base == Decimal("0.004")  # 2 contracts x 100 USD / 50000
    resting = await client.cm.new_order(
        symbol=CM, side="SELL", type="LIMIT", quantity=Decimal("2"), price=Decimal("62500"),
        time_in_force="GTC",
    )  # fmt: skip
    (listed,) = await client.cm.query_open_orders(symbol=CM)
    assert listed.order_id == resting.order_id
    sim.set_mark(CM, "62500")
    (position,) = await client.cm.position_information(pair="BTCUSD")
    assert position.position_amt == 0
    # 2 x 100 x (1/50000 - 1/62500) = 0.0008 BTC realized, minus commission: 0.004 BTC x
    # 0.05 % taker and 0.0032 BTC x 0.02 % maker.
    btc = await client.account.balance("BTC")
    assert btc.raw["cmWalletBalance"] == "0.00079736"


async def test_margin_auto_repay_uses_the_proceeds(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    bnb = sim.account().assets["BNB"]
    assert bnb.debt == Decimal("2.00125")
    order = await client.margin.new_order(
        symbol="BNBUSDT", side="BUY", type="MARKET", quantity=Decimal("1"),
        side_effect_type="AUTO_REPAY",
    )  # fmt: skip
    assert order.status == "FILLED"
    # The 0.999 BNB received (1 minus 0.1 % commission) repays interest first, then principal.
    assert (bnb.interest, bnb.borrowed) == (Decimal(0), Decimal("1.00225"))
    records = await client.margin.repay_records(asset="BNB", start_time=1)
    assert records.total == 1


# -- authentication and headers on every route, at the HTTP level ---------------------------


async def _raw(
    session: aiohttp.ClientSession,
    sim: PapiSimulator,
    spec: EndpointSpec,
    *,
    key: str | None,
    sign: bool,
    params: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    query = dict(params or {})
    if sign:
        query["timestamp"] = str(sim.server_time_ms())
    text = encode_params(query)
    if sign:
        text = signed_query(text, HmacSigner(SECRET), "")
    url = URL(f"{sim.url}{spec.path}" + (f"?{text}" if text else ""), encoded=True)
    headers = {"X-MBX-APIKEY": key} if key is not None else {}
    async with session.request(spec.method, url, headers=headers) as response:
        return response.status, await response.json(), dict(response.headers)


async def test_every_route_authenticates_per_its_security_type(sim: PapiSimulator) -> None:
    async with aiohttp.ClientSession() as session:
        for spec in TABLE:
            status, body, headers = await _raw(session, sim, spec, key=None, sign=False)
            assert "X-MBX-USED-WEIGHT-1M" in headers, spec.name
            if spec.security is Security.NONE:
                assert status == 200, spec.name
                continue
            assert (status, body["code"]) == (401, -2014), spec.name
            status, body, _ = await _raw(session, sim, spec, key=KEY, sign=False)
            if spec.security is Security.USER_STREAM:
                assert status == 200, spec.name  # key only, never signed
            else:
                assert (status, body["code"]) == (400, -1102), spec.name
                assert "'signature'" in body["msg"], spec.name


async def test_order_endpoints_carry_the_order_count_header(sim: PapiSimulator) -> None:
    new_order = next(s for s in TABLE if s.name == "new_um_order")
    params = {
        "symbol": UM, "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "50000",
        "timeInForce": "GTC",
    }  # fmt: skip
    async with aiohttp.ClientSession() as session:
        status, body, headers = await _raw(
            session, sim, new_order, key=KEY, sign=True, params=params
        )
        assert status == 200 and body["status"] == "NEW"
        assert headers["X-MBX-ORDER-COUNT-1M"] == "1"
        assert int(headers["X-MBX-USED-WEIGHT-1M"]) >= 1
        status, body, _ = await _raw(
            session, sim, new_order, key=KEY, sign=True, params={**params, "side": "HOLD"}
        )
        assert (status, body["code"]) == (400, -1117)


async def test_post_only_and_fok_rejections_are_not_recorded(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    from binance_papi_async import BadRequestError

    sim.set_mark(UM, Decimal("60000"))
    with pytest.raises(BadRequestError) as gtx:  # would take liquidity
        await client.um.new_order(
            symbol=UM,
            side="BUY",
            type="LIMIT",
            quantity=Decimal("0.01"),
            price=Decimal("61000"),
            time_in_force="GTX",
        )
    assert gtx.value.code == -5022
    with pytest.raises(BadRequestError) as fok:  # cannot fill at once
        await client.um.new_order(
            symbol=UM,
            side="BUY",
            type="LIMIT",
            quantity=Decimal("0.01"),
            price=Decimal("59000"),
            time_in_force="FOK",
        )
    assert fok.value.code == -5021
    assert await client.um.query_all_orders(symbol=UM) == ()
