"""The simulator never answers a documentation example in place of the state.

Every operation of the endpoint table is called once, over loopback, with arguments
that differ from its documentation example (other symbols, assets, quantities and
prices).  Each answer must reflect the request (the symbol, side, type, quantity and
prices it was asked for) or the state, or be the explicit HTTP 501 "not simulated"
error, raised by the client as a final ``NotSimulatedError`` (never retried).  No
answer may equal the documentation example, except the constant answers papi gives
whatever happened (``{"msg": "success"}``...): for those, the state change the call
made is checked instead.  ``examples=True`` still serves the examples.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest

from binance_papi_async import NotSimulatedError, PortfolioMarginClient, RetryPolicy
from binance_papi_async.endpoints import SERVER_TIME, TABLE, EndpointSpec
from binance_papi_async.testing import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    UNIMMR_SWITCH_PARAM,
    PapiSimulator,
    SimState,
)
from binance_papi_async.testing._examples import EXAMPLES
from binance_papi_async.testing.unmodelled import NOT_SIMULATED

from ..conftest import BIG_LIMITS

KEY, SECRET = "never-lies-key-0123456789", "never-lies-secret-0123456789"
UM, CM, MARGIN, PAIR = "SOLUSDT", "ETHUSD_PERP", "SOLUSDT", "ETHUSD"
SPECS = {s.name: s for s in TABLE}
SEED = {
    "prices": {"USDT": "1", "SOL": "150", "ETH": "3000", "BNB": "600", "BTC": "60000"},
    "accounts": {
        "main": {
            "assets": {
                "USDT": {"free": "20000"},
                "SOL": {"free": "50"},
                "ETH": {"free": "5"},
                "BNB": {"free": "3", "borrowed": "1", "interest": "0.01"},
            },
            "wallets": {"UM": {"USDT": "500"}},
        }
    },
    "symbols": {
        "UM": {UM: {"tickSize": "0.01", "stepSize": "0.1", "minNotional": "5"}},
        "CM": {CM: {"tickSize": "0.01", "stepSize": "1"}},
        "MARGIN": {MARGIN: {"tickSize": "0.01", "stepSize": "0.01", "minNotional": "5"}},
    },
}
Ctx = dict[str, Any]
Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


@pytest.fixture
async def sim() -> AsyncIterator[PapiSimulator]:
    state = SimState.from_dict(SEED)
    async with PapiSimulator(
        api_key=KEY, api_secret=SECRET, state=state, order_limit=1100, ip_weight_limit=10**6
    ) as s:
        yield s


@pytest.fixture
async def call(sim: PapiSimulator) -> AsyncIterator[Call]:
    async with PortfolioMarginClient(
        KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS, retry=RetryPolicy(max_attempts=3)
    ) as client:

        async def send(name: str, params: dict[str, Any]) -> Any:
            return await client.request(SPECS[name], params)

        yield send


# -- what each operation is sent (Binance's names), and what it needs first ------------------

LIMIT_UM = {"symbol": UM, "side": "BUY", "type": "LIMIT", "quantity": "2.5", "price": "135.25",
            "timeInForce": "GTC"}  # fmt: skip
LIMIT_CM = {"symbol": CM, "side": "BUY", "type": "LIMIT", "quantity": "3", "price": "2500.5",
            "timeInForce": "GTC"}  # fmt: skip
LIMIT_MARGIN = {"symbol": MARGIN, "side": "BUY", "type": "LIMIT", "quantity": "1.5",
                "price": "130.5", "timeInForce": "GTC"}  # fmt: skip
OCO = {"symbol": MARGIN, "side": "SELL", "quantity": "2", "price": "170", "stopPrice": "130",
       "stopLimitPrice": "129", "stopLimitTimeInForce": "GTC"}  # fmt: skip
ALGO = {"algoType": "CONDITIONAL", "symbol": UM, "side": "BUY", "type": "STOP",
        "quantity": "2.5", "price": "171", "triggerPrice": "170", "timeInForce": "GTC"}  # fmt: skip
STRATEGY = {"symbol": CM, "side": "SELL", "strategyType": "TAKE_PROFIT_MARKET", "quantity": "2",
            "stopPrice": "3600"}  # fmt: skip
WINDOW = {"startTime": 1_760_000_000_000, "endTime": 1_760_086_400_000}


async def history(sim: PapiSimulator, call: Call) -> Ctx:
    """Positions, fills, loans, interest and liquidations, so that lists have rows."""
    ctx: Ctx = {}
    await call("new_um_order", {"symbol": UM, "side": "BUY", "type": "MARKET", "quantity": "4"})
    await call("new_cm_order", {"symbol": CM, "side": "BUY", "type": "MARKET", "quantity": "5"})
    await call("new_margin_order", {**LIMIT_MARGIN, "type": "MARKET", "timeInForce": None,
                                    "price": None, "quantity": "2"})  # fmt: skip
    await call("margin_account_borrow", {"asset": "SOL", "amount": "3"})
    await call("margin_account_repay", {"asset": "SOL", "amount": "1"})
    sim.charge_interest("BNB", "0.0001")
    for method, base in (("um", LIMIT_UM), ("cm", LIMIT_CM)):
        placed = await call(f"new_{method}_order", base)
        await call(f"modify_{method}_order", {"symbol": base["symbol"], "side": "BUY",
                   "orderId": placed["orderId"], "quantity": base["quantity"],
                   "price": "120.5" if method == "um" else "2300.5"})  # fmt: skip
        ctx[f"amended_{method}"] = placed["orderId"]
    sim.set_mark(UM, "140")  # the UM position is at a loss: the liquidation realizes it
    sim.liquidate(UM)
    await call("new_um_order", {"symbol": UM, "side": "BUY", "type": "MARKET", "quantity": "4"})
    return ctx


def _placer(name: str, base: dict[str, Any], key: str, out: str) -> Callable[..., Any]:
    async def place(sim: PapiSimulator, call: Call) -> dict[str, Any]:
        answer = await call(name, base)
        return (
            {"symbol": base.get("symbol"), out: answer[key]}
            if "symbol" in base
            else {out: answer[key]}
        )

    return place


um_order = _placer("new_um_order", LIMIT_UM, "orderId", "orderId")
cm_order = _placer("new_cm_order", LIMIT_CM, "orderId", "orderId")
margin_order = _placer("new_margin_order", LIMIT_MARGIN, "orderId", "orderId")
oco = _placer("margin_account_new_oco", OCO, "orderListId", "orderListId")
algo = _placer("new_um_algo_order", ALGO, "algoId", "algoId")
strategy = _placer("new_cm_conditional_order", STRATEGY, "strategyId", "strategyId")


async def oco_id(sim: PapiSimulator, call: Call) -> dict[str, Any]:
    return {"orderListId": (await oco(sim, call))["orderListId"]}


async def algo_only(sim: PapiSimulator, call: Call) -> dict[str, Any]:
    return {"algoId": (await algo(sim, call))["algoId"]}


async def flat(sim: PapiSimulator, call: Call, product: str) -> dict[str, Any]:
    """No open order and no position of ``product``: its position mode may change."""
    symbol = UM if product == "um" else CM
    await call(f"cancel_all_{product}_open_orders", {"symbol": symbol})
    await call(
        "cancel_all_um_algo_open_orders" if product == "um" else
        "cancel_all_cm_open_conditional_orders", {"symbol": symbol},
    )  # fmt: skip
    for pos in sim.account().book.positions.values():
        pos.amount = Decimal(0)  # closed by hand: the mode change needs none
    return {"dualSidePosition": "true"}


def amended(product: str) -> Callable[..., Any]:
    async def ids(sim: PapiSimulator, call: Call, ctx: Ctx) -> dict[str, Any]:
        return {"symbol": UM if product == "um" else CM, "orderId": ctx[f"amended_{product}"]}

    return ids


PARAMS: dict[str, dict[str, Any]] = {
    "fund_collection_by_asset": {"asset": "USDT", "amount": "10", "futureType": "UM"},
    "account_balance": {"asset": "SOL"},
    "set_unimmr_drop_notification_status": {UNIMMR_SWITCH_PARAM: "true"},
    "bnb_transfer": {"amount": "0.25", "transferSide": "TO_UM"},
    "query_portfolio_margin_negative_balance_interest_history": {"asset": "SOL"},
    "query_user_negative_balance_auto_exchange_record": WINDOW,
    "change_auto_repay_futures_status": {"autoRepay": "true"},
    "cm_position_adl_quantile_estimation": {"symbol": CM},
    "cancel_all_cm_open_orders": {"symbol": CM},
    "query_all_cm_orders": {"symbol": CM},
    "get_user_commission_rate_for_cm": {"symbol": CM},
    "cancel_all_cm_open_conditional_orders": {"symbol": CM},
    "query_all_cm_conditional_orders": {"symbol": CM},
    "query_all_current_cm_open_conditional_orders": {"symbol": CM},
    "new_cm_conditional_order": STRATEGY,
    "query_users_cm_force_orders": {"symbol": CM},
    "get_cm_income_history": {"symbol": CM},
    "change_cm_initial_leverage": {"symbol": CM, "leverage": "7"},
    "cm_notional_and_leverage_brackets": {"symbol": CM},
    "query_all_current_cm_open_orders": {"symbol": CM},
    "new_cm_order": LIMIT_CM,
    "query_cm_position_information": {"pair": PAIR},
    "cm_account_trade_list": {"symbol": CM},
    "cancel_margin_account_all_open_orders_on_a_symbol": {"symbol": MARGIN},
    "query_all_margin_account_orders": {"symbol": MARGIN},
    "get_margin_borrow_loan_interest_history": {"asset": "BNB"},
    "query_margin_loan_record": {"asset": "SOL"},
    "margin_max_borrow": {"asset": "SOL"},
    "query_margin_max_withdraw": {"asset": "SOL"},
    "margin_account_trade_list": {"symbol": MARGIN},
    "query_current_margin_open_order": {"symbol": MARGIN},
    "new_margin_order": LIMIT_MARGIN,
    "margin_account_new_oco": OCO,
    "margin_account_repay_debt": {"asset": "BNB", "amount": "0.2"},
    "query_margin_repay_record": {"asset": "SOL"},
    "margin_account_borrow": {"asset": "SOL", "amount": "2"},
    "margin_account_repay": {"asset": "SOL", "amount": "0.5"},
    "um_position_adl_quantile_estimation": {"symbol": UM},
    "query_um_algo_order_history": {"symbol": UM},
    "cancel_all_um_algo_open_orders": {"symbol": UM},
    "query_all_current_um_open_algo_orders": {"symbol": UM},
    "new_um_algo_order": ALGO,
    "cancel_all_um_open_orders": {"symbol": UM},
    "query_all_um_orders": {"symbol": UM},
    "portfolio_margin_um_trading_quantitative_rules_indicators": {"symbol": UM},
    "get_user_commission_rate_for_um": {"symbol": UM},
    "toggle_bnb_burn_on_um_futures_trade": {"feeBurn": "true"},
    "query_users_um_force_orders": {"symbol": UM},
    "get_um_income_history": {"symbol": UM},
    "get_download_id_for_um_futures_transaction_history": WINDOW,
    "get_um_futures_transaction_download_link_by_id": {"downloadId": "777"},
    "change_um_initial_leverage": {"symbol": UM, "leverage": "9"},
    "um_notional_and_leverage_brackets": {"symbol": UM},
    "query_all_current_um_open_orders": {"symbol": UM},
    "new_um_order": LIMIT_UM,
    "get_download_id_for_um_futures_order_history": WINDOW,
    "get_um_futures_order_download_link_by_id": {"downloadId": "777"},
    "query_um_position_information": {"symbol": UM},
    "um_futures_symbol_configuration": {"symbol": UM},
    "get_download_id_for_um_futures_trade_history": WINDOW,
    "get_um_futures_trade_download_link_by_id": {"downloadId": "777"},
    "um_account_trade_list": {"symbol": UM},
}
SETUPS: dict[str, Callable[..., Any]] = {
    "modify_um_order": um_order, "cancel_um_order": um_order, "query_um_order": um_order,
    "query_current_um_open_order": um_order, "query_um_modify_order_history": amended("um"),
    "modify_cm_order": cm_order, "cancel_cm_order": cm_order, "query_cm_order": cm_order,
    "query_current_cm_open_order": cm_order, "query_cm_modify_order_history": amended("cm"),
    "cancel_margin_account_order": margin_order, "query_margin_account_order": margin_order,
    "cancel_margin_account_oco_orders": oco, "query_margin_accounts_oco": oco_id,
    "cancel_cm_conditional_order": strategy, "query_current_cm_open_conditional_order": strategy,
    "query_cm_conditional_order_history": strategy,
    "cancel_um_algo_order": algo_only, "query_current_um_open_algo_order": algo_only,
    "change_um_position_mode": lambda sim, call: flat(sim, call, "um"),
    "change_cm_position_mode": lambda sim, call: flat(sim, call, "cm"),
}  # fmt: skip
MODIFY = {"modify_um_order": {"side": "BUY", "quantity": "3.1", "price": "139.75"},
          "modify_cm_order": {"side": "BUY", "quantity": "4", "price": "2400.25"}}  # fmt: skip


async def before_call(name: str, sim: PapiSimulator, call: Call) -> None:
    """State the operation reads, so that its answer is not the example's by accident."""
    account = sim.account()
    if name == "get_auto_repay_futures_status":
        account.auto_repay_futures = False
    elif name in ("cancel_all_cm_open_orders", "query_all_current_cm_open_orders"):
        await call("new_cm_order", LIMIT_CM)
    elif name in ("cancel_all_cm_open_conditional_orders",
                  "query_all_current_cm_open_conditional_orders"):  # fmt: skip
        await call("new_cm_conditional_order", STRATEGY)
    elif name in ("cancel_all_um_open_orders", "query_all_current_um_open_orders"):
        await call("new_um_order", LIMIT_UM)
    elif name in ("cancel_all_um_algo_open_orders", "query_all_current_um_open_algo_orders"):
        await call("new_um_algo_order", ALGO)
    elif name in ("cancel_margin_account_all_open_orders_on_a_symbol",
                  "query_current_margin_open_order", "query_margin_accounts_open_oco",
                  "query_margin_accounts_all_oco"):  # fmt: skip
        await call("new_margin_order", LIMIT_MARGIN)
        await call("margin_account_new_oco", OCO)
    elif name == "query_users_cm_force_orders":
        sim.liquidate(CM)
    elif name in ("cm_position_adl_quantile_estimation", "query_cm_position_information"):
        await call("new_cm_order", {"symbol": CM, "side": "BUY", "type": "MARKET",
                                    "quantity": "2"})  # fmt: skip
    elif name == "repay_futures_negative_balance":
        assert account.book.wallets[("CM", "ETH")] < 0  # commission on a wallet that held 0


# -- constant answers: the state change is checked instead ---------------------------------

Snapshot = Callable[[PapiSimulator], Any]
Check = Callable[[Any, Any], bool]


def wallet(product: str, asset: str) -> Snapshot:
    return lambda sim: sim.account().book.wallets.get((product, asset), Decimal(0))


def free(asset: str) -> Snapshot:
    return lambda sim: sim.account().asset(asset).free


def both(a: Snapshot, b: Snapshot) -> Snapshot:
    return lambda sim: (a(sim), b(sim))


def open_count(kind: str, product: str) -> Snapshot:
    def count(sim: PapiSimulator) -> int:
        book = sim.account().book
        holders: Any = {"orders": book.orders, "algos": book.algos, "strategies": book.strategies}
        return sum(
            1
            for h in holders[kind].values()
            if h.is_open and getattr(h, "product", product) == product
        )

    return count


CONSTANT: dict[str, tuple[Snapshot, Check]] = {
    "fund_collection_by_asset": (
        both(wallet("UM", "USDT"), free("USDT")),
        lambda b, a: a == (b[0] - 10, b[1] + 10),
    ),
    "fund_auto_collection": (
        both(wallet("UM", "USDT"), free("USDT")),
        lambda b, a: b[0] > 0 and a == (0, b[1] + b[0]),
    ),
    "repay_futures_negative_balance": (
        both(wallet("CM", "ETH"), free("ETH")),
        lambda b, a: b[0] < 0 and a == (0, b[1] + b[0]),
    ),
    "change_auto_repay_futures_status": (
        lambda sim: sim.account().auto_repay_futures,
        lambda b, a: (b, a) == (False, True),
    ),
    "toggle_bnb_burn_on_um_futures_trade": (
        lambda sim: sim.account().fee_burn,
        lambda b, a: (b, a) == (False, True),
    ),
    "futures_tradfi_perps_contract": (
        lambda sim: sim.account().tradfi_perps,
        lambda b, a: (b, a) == (False, True),
    ),
    "cancel_all_cm_open_orders": (open_count("orders", "CM"), lambda b, a: b > 0 and a == 0),
    "cancel_all_um_open_orders": (open_count("orders", "UM"), lambda b, a: b > 0 and a == 0),
    "cancel_all_cm_open_conditional_orders": (
        open_count("strategies", "CM"),
        lambda b, a: b > 0 and a == 0,
    ),
    "cancel_all_um_algo_open_orders": (open_count("algos", "UM"), lambda b, a: b > 0 and a == 0),
    "cancel_um_algo_order": (open_count("algos", "UM"), lambda b, a: a == b - 1),
    "change_um_position_mode": (
        lambda sim: sim.account().book.dual_side.get("UM", False),
        lambda b, a: (b, a) == (0, 1),
    ),
    "change_cm_position_mode": (
        lambda sim: sim.account().book.dual_side.get("CM", False),
        lambda b, a: (b, a) == (0, 1),
    ),
    "keepalive_user_data_stream": (
        lambda sim: sim.stream.listen_key(),
        lambda b, a: b is not None and a == b,
    ),
    "close_user_data_stream": (
        lambda sim: sim.stream.listen_key(),
        lambda b, a: b is not None and a is None,
    ),
    "test_connectivity": (lambda sim: None, lambda b, a: True),  # ping reads no state
}
ECHOED: dict[str, tuple[str, ...]] = {
    "symbol": ("symbol",), "side": ("side",), "asset": ("asset",), "type": ("type", "orderType"),
    "strategyType": ("strategyType",), "quantity": ("origQty", "quantity"), "price": ("price",),
    "stopPrice": ("stopPrice",), "triggerPrice": ("triggerPrice",),
}  # fmt: skip
NUMERIC = {"quantity", "price", "stopPrice", "triggerPrice"}


def echoes(answer: Any, params: dict[str, Any]) -> None:
    """Every field of ``answer`` (or of each of its rows) named after a parameter that was
    sent carries the value sent."""
    rows = answer if isinstance(answer, list) else [answer]
    for row in rows:
        if not isinstance(row, dict):
            continue
        for param, value in params.items():
            for field in ECHOED.get(param, ()):
                if field in row and value is not None:
                    sent, got = str(value), str(row[field])
                    same = Decimal(got) == Decimal(sent) if param in NUMERIC else got == sent
                    assert same, (param, row)


def order(specs: tuple[EndpointSpec, ...]) -> list[EndpointSpec]:
    """The table's order, with the position mode changes last (hedge mode changes how
    later orders are sent)."""
    last = ("change_um_position_mode", "change_cm_position_mode")
    return [s for s in specs if s.name not in last] + [SPECS[n] for n in last]


async def test_every_operation_reflects_the_request_or_the_state_or_says_not_simulated(
    sim: PapiSimulator, call: Call
) -> None:
    ctx = await history(sim, call)
    await call("start_user_data_stream", {})
    checked = 0
    for spec in order(TABLE):
        key = f"{spec.method} {spec.path}"
        params = dict(PARAMS.get(spec.name, {}))
        setup = SETUPS.get(spec.name)
        if setup is not None:
            args = (sim, call, ctx) if setup.__name__ == "ids" else (sim, call)
            params.update(await setup(*args))
        params.update(MODIFY.get(spec.name, {}))
        await before_call(spec.name, sim, call)
        sim.clear_requests()
        if (spec.method, spec.path) in NOT_SIMULATED:
            with pytest.raises(NotSimulatedError) as refused:
                await call(spec.name, params)
            assert refused.value.msg is not None
            assert refused.value.msg.startswith(f"not simulated: {key}: "), key
            assert [r.path for r in sim.requests if r.path == spec.path] == [spec.path]  # once
            checked += 1
            continue
        snapshot, check = CONSTANT.get(spec.name, (None, None))
        before = snapshot(sim) if snapshot is not None else None
        answer = await call(spec.name, params)
        echoes(answer, params)
        example = EXAMPLES.get(key)
        if example is not None and answer == orjson.loads(example):
            assert check is not None, f"{key} answered its documentation example"
        if check is not None:
            assert check(before, snapshot(sim)), (key, before, snapshot(sim))  # type: ignore[misc]
        checked += 1
    assert checked == len(TABLE)
    assert {s.name for s in TABLE} >= set(PARAMS) | set(SETUPS) | set(CONSTANT)
    assert SERVER_TIME in TABLE


async def test_examples_true_still_serves_the_documentation_examples() -> None:
    state = SimState.from_dict(SEED)
    async with (
        PapiSimulator(api_key=KEY, api_secret=SECRET, state=state, examples=True) as sim,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS) as client,
    ):
        for method, path in NOT_SIMULATED:
            spec = next(s for s in TABLE if (s.method, s.path) == (method, path))
            answer = await client.request(spec, PARAMS.get(spec.name, {}))
            assert answer == orjson.loads(EXAMPLES[f"{method} {path}"]), path
        # What the simulator models still acts on the state.
        placed = await client.request(SPECS["new_um_algo_order"], ALGO)
        assert placed["symbol"] == UM and placed != orjson.loads(
            EXAMPLES["POST /papi/v1/um/algo/order"]
        )
        assert list(sim.account().book.algos) == [placed["algoId"]]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM semantics differ on Windows")
async def test_python_m_testing_is_papi_sim_and_takes_examples() -> None:
    from binance_papi_async.cli._parser import build_parser, build_sim_parser

    assert build_parser().parse_args(["sim", "--examples"]).examples is True
    assert build_sim_parser("python -m binance_papi_async.testing").parse_args([]).examples is False
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "binance_papi_async.testing", "--port", "0", "--examples",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        url = line.split()[-1]
        assert line.startswith("papi simulator listening on http://127.0.0.1:")
        async with PortfolioMarginClient(DEMO_API_KEY, DEMO_API_SECRET, base_url=url) as client:
            answer = await client.request(SPECS["get_um_futures_trade_download_link_by_id"], {
                "downloadId": "777"
            })  # fmt: skip
        assert answer == orjson.loads(EXAMPLES["GET /papi/v1/um/trade/asyn/id"])
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
