"""Money in the simulator: commission, trades and income from fills, funding, liquidations,
interest, transfers, reference data, the seed format and the HTTP control API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from binance_papi_async import BadRequestError, PortfolioMarginClient
from binance_papi_async.testing import PapiSimulator, SimState, demo_state

from ..conftest import BIG_LIMITS

KEY = "ledger-key-0123456789abcdef"
SECRET = "ledger-secret-0123456789abcdef"
UM, CM = "BTCUSDT", "BTCUSD_PERP"
D = Decimal


@pytest.fixture
async def client(sim: PapiSimulator) -> AsyncIterator[PortfolioMarginClient]:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS) as c:
        yield c


def wallet(sim: PapiSimulator, asset: str = "USDT", product: str = "UM") -> Decimal:
    return sim.account().book.wallets.get((product, asset), D(0))


async def test_fills_leave_trades_income_and_commission_that_add_up(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    await client.um.new_order(symbol=UM, side="BUY", type="MARKET", quantity=D("0.1"))
    await client.um.new_order(
        symbol=UM, side="SELL", type="LIMIT", quantity=D("0.1"), price=D("61000"),
        time_in_force="GTC",
    )  # fmt: skip
    sim.set_mark(UM, "61500")  # the resting SELL fills at its price, as a maker
    taker, maker = await client.um.account_trade_list(symbol=UM)
    assert (taker.maker, taker.commission, taker.price) == (False, D("3"), D("60000"))
    assert (maker.maker, maker.commission, maker.realized_pnl) == (True, D("1.22"), D("100"))
    income = await client.um.income_history(symbol=UM)
    kinds = [(r.income_type, r.income) for r in income]
    assert kinds == [
        ("COMMISSION", D("-3")),
        ("REALIZED_PNL", D("100")),
        ("COMMISSION", D("-1.22")),
    ]
    assert {r.trade_id for r in income} == {str(taker.id), str(maker.id)}
    assert wallet(sim) == sum(r.income for r in income if r.income is not None)
    rate = await client.um.commission_rate(symbol=UM)
    assert (rate.maker_commission_rate, rate.taker_commission_rate) == (D("0.0002"), D("0.0005"))


async def test_seeded_commission_rates_are_what_fills_charge_and_what_papi_reports() -> None:
    state = demo_state()
    state.commission = SimState.from_dict(
        {"commission": {"UM": {"maker": "0", "taker": "0.001"}}}
    ).commission
    async with (
        PapiSimulator(api_key=KEY, api_secret=SECRET, state=state) as sim,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS) as client,
    ):
        await client.um.new_order(symbol=UM, side="BUY", type="MARKET", quantity=D("0.01"))
        (trade,) = await client.um.account_trade_list(symbol=UM)
        assert trade.commission == D("0.6")  # 600 x 0.1 %
        rate = await client.um.commission_rate(symbol=UM)
        assert rate.taker_commission_rate == D("0.001") and rate.maker_commission_rate == 0


async def test_funding_moves_the_wallets_of_longs_and_shorts(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    await client.um.new_order(symbol=UM, side="BUY", type="MARKET", quantity=D("0.5"))
    await client.cm.new_order(symbol=CM, side="SELL", type="MARKET", quantity=D("3"))
    before_um, before_cm = wallet(sim), wallet(sim, "BTC", "CM")
    assert sim.funding(UM, "0.0001") == {"main": D("-3")}  # 30000 notional, longs pay
    assert sim.funding(CM, "0.0001") == {"main": D("0.00000050")}  # 300 USD / 60000, shorts get
    assert wallet(sim) == before_um - 3 and wallet(sim, "BTC", "CM") == before_cm + D("0.0000005")
    (fee,) = await client.um.income_history(symbol=UM, income_type="FUNDING_FEE")
    assert fee.income == D("-3") and fee.asset == "USDT"
    assert sim.funding("ETHUSDT", "0.0001") == {"main": D(0)}  # no position: nothing


async def test_liquidations_and_adl_are_force_orders_and_nothing_else_is(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    assert await client.um.force_orders() == ()
    with pytest.raises(ValueError, match="no BTCUSDT position"):
        sim.liquidate(UM)
    await client.um.new_order(symbol=UM, side="BUY", type="MARKET", quantity=D("0.2"))
    (quantile,) = await client.um.adl_quantile(symbol=UM)
    assert quantile.raw["adlQuantile"] == {"LONG": 0, "SHORT": 0, "BOTH": 1}  # at a loss (fee)
    sim.set_mark(UM, "63000")  # +600 on 600 of initial margin: the top quantile
    (quantile,) = await client.um.adl_quantile(symbol=UM)
    assert quantile.raw["adlQuantile"]["BOTH"] == 4
    (order_id,) = sim.liquidate(UM, price="62000", adl=True)
    (forced,) = await client.um.force_orders(auto_close_type="ADL")
    assert (forced.order_id, forced.side, forced.avg_price) == (order_id, "SELL", D("62000"))
    assert forced.client_order_id == "adl_autoclose"
    assert await client.um.force_orders(auto_close_type="LIQUIDATION") == ()
    assert await client.um.adl_quantile() == ()
    pnl = await client.um.income_history(symbol=UM, income_type="REALIZED_PNL")
    assert [r.income for r in pnl] == [D("400")]
    margin = await client.margin.force_orders()
    assert (margin.rows, margin.total) == ((), 0)


async def test_interest_charged_on_demand_is_in_the_debt_and_the_history(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    bnb = sim.account().assets["BNB"]
    assert sim.charge_interest("BNB", "0.001") == D("0.002")  # 2 BNB borrowed
    assert bnb.interest == D("0.00325")
    history = await client.margin.interest_history(asset="BNB")
    assert history.total == 1 and history.rows is not None
    (row,) = history.rows
    assert (row.interest, row.principal, row.type) == (D("0.002"), D("2"), "PERIODIC")


async def test_transfers_and_collections_move_balances(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    bnb, usdt = sim.account().assets["BNB"], sim.account().assets["USDT"]
    with pytest.raises(BadRequestError) as poor:
        await client.account.bnb_transfer(amount=D("1"), transfer_side="TO_UM")
    assert poor.value.code == -2018  # 0.3 BNB free
    await client.account.bnb_transfer(amount=D("0.2"), transfer_side="TO_UM")
    assert (bnb.free, wallet(sim, "BNB")) == (D("0.1"), D("0.2"))
    await client.account.bnb_transfer(amount=D("0.05"), transfer_side="FROM_UM")
    assert (bnb.free, wallet(sim, "BNB")) == (D("0.15"), D("0.15"))
    sim.account().book.wallets[("UM", "USDT")] = D("100")
    sim.account().book.wallets[("CM", "USDT")] = D("7")
    await client.account.fund_collection_by_asset(asset="USDT", amount=D("30"), future_type="UM")
    assert (wallet(sim), usdt.free) == (D("70"), D("5030"))
    with pytest.raises(BadRequestError) as beyond:
        await client.account.fund_collection_by_asset(
            asset="USDT", amount=D("71"), future_type="UM"
        )
    assert beyond.value.code == -2018
    await client.account.fund_collection_by_asset(asset="USDT")  # every wallet, all of it
    assert (wallet(sim), wallet(sim, "USDT", "CM"), usdt.free) == (D(0), D(0), D("5107"))
    with pytest.raises(BadRequestError) as no_bnb:
        await client.account.fund_collection_by_asset(asset="BNB")
    assert no_bnb.value.code == -1130
    await client.account.fund_auto_collection()
    assert wallet(sim, "BNB") == D("0.15")  # BNB is never collected
    transfers = await client.um.income_history(income_type="TRANSFER")
    assert [r.income for r in transfers] == [D("0.2"), D("-0.05"), D("-30"), D("-70")]


async def test_a_negative_futures_balance_is_repaid_from_margin(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    await client.um.new_order(symbol=UM, side="BUY", type="MARKET", quantity=D("0.1"))
    assert wallet(sim) == D("-3")  # the commission, from a wallet that held nothing
    assert (await client.account.auto_repay_futures_status()).auto_repay is True
    await client.account.change_auto_repay_futures_status(auto_repay=False)
    assert sim.account().auto_repay_futures is False
    await client.account.repay_futures_negative_balance()
    assert (wallet(sim), sim.account().assets["USDT"].free) == (D(0), D("4997"))


async def test_brackets_configuration_and_leverage_agree(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    listed = [b.symbol for b in await client.um.leverage_brackets()]
    assert listed == ["BNBUSDT", "BTCUSDT", "ETHUSDT"]  # the symbols the demo state holds
    (btc,) = await client.um.leverage_brackets(symbol=UM)
    assert btc.brackets is not None and btc.brackets[0].initial_leverage == 125
    await client.um.change_initial_leverage(symbol=UM, leverage=50)
    (config,) = await client.um.symbol_config(symbol=UM)
    (risk,) = await client.um.position_information(symbol=UM)
    cap = next(b.notional_cap for b in reversed(btc.brackets) if b.initial_leverage >= 50)
    assert config.max_notional_value == risk.max_notional_value == cap == D("12000000")
    with pytest.raises(BadRequestError) as too_high:
        await client.um.change_initial_leverage(symbol=UM, leverage=126)
    assert too_high.value.code == -4028
    (cm,) = await client.cm.leverage_brackets(symbol=CM)
    assert cm.brackets is not None and cm.brackets[0].qty_cap == 5
    with pytest.raises(BadRequestError) as unknown:
        await client.cm.commission_rate(symbol="XYZUSD_PERP")
    assert unknown.value.code == -1121


async def test_the_control_api_moves_the_market_for_engines_in_another_process(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    order = await client.um.new_order(
        symbol=UM, side="BUY", type="LIMIT", quantity=D("0.02"), price=D("59000"),
        time_in_force="GTC",
    )  # fmt: skip
    async with aiohttp.ClientSession() as session:

        async def post(path: str, body: object) -> tuple[int, dict[str, object]]:
            async with session.post(f"{sim.url}/_sim/{path}", json=body) as resp:
                return resp.status, await resp.json()

        assert await post("fill", {"orderId": order.order_id, "qty": "0.01"}) == (
            200, {"filled": True},
        )  # fmt: skip
        assert await post("mark", {"symbol": UM, "price": "58000"}) == (200, {"marked": True})
        assert await post("funding", {"symbol": UM, "rate": "-0.0001"}) == (
            200, {"funding": {"main": "0.11600000"}},
        )  # fmt: skip
        status, liquidated = await post("liquidate", {"symbol": UM})
        assert status == 200 and len(liquidated["orderIds"]) == 1  # type: ignore[arg-type]
        assert await post("interest", {"asset": "ETH", "rate": "0.01"}) == (
            200, {"interest": "0.00400000"},
        )  # fmt: skip
        status, refused = await post("fill", {"orderId": 1})
        assert status == 400 and "no order 1" in str(refused["error"])
    assert sim.account().book.orders[order.order_id].status == "FILLED"


def test_the_seed_format_holds_symbols_commission_and_wallets() -> None:
    seed = {
        "prices": {"USDT": "1", "SOL": "150"},
        "accounts": {"a": {"assets": {"SOL": {"free": "2"}}, "wallets": {"UM": {"USDT": "-5"}}}},
        "symbols": {"UM": {"SOLUSDT": {"tickSize": "0.010", "stepSize": "1"}}},
        "commission": {"MARGIN": {"maker": "0.00075", "taker": "0.00075"}},
    }
    state = SimState.from_dict(seed)
    assert state.rules("UM", "SOLUSDT").tick_size == D("0.010")
    assert state.rules("UM", "OTHERUSDT").step_size == D("0.00000001")  # not listed
    assert state.rates("MARGIN").taker == D("0.00075") and state.rates("UM").taker == D("0.0005")
    assert state.account("a").book.wallets[("UM", "USDT")] == D("-5")
    again = SimState.from_dict(
        {k: v for k, v in state.to_dict().items() if k in ("symbols", "commission", "prices")}
    )
    assert again.symbols == state.symbols and again.commission == state.commission
    bads: list[dict[str, Any]] = [
        {"symbols": {"SPOT": {}}},
        {"commission": {"UM": {"maker": "0.1"}}},
        {"accounts": {"a": {"wallets": {"MARGIN": {}}}}},
        {"accounts": {"a": {"debt": {}}}},
    ]
    for bad in bads:
        with pytest.raises(ValueError):
            SimState.from_dict({"prices": {"USDT": "1"}, **bad})
