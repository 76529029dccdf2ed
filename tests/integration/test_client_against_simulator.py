"""The SDK against the papi simulator, through real loopback sockets."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from binance_papi_async import (
    AuthenticationError,
    BadRequestError,
    ClockResynced,
    PortfolioMarginClient,
    RepayDebtResult,
    Security,
    TimestampError,
    TimeSync,
)
from binance_papi_async.events import Event
from binance_papi_async.testing import (
    Account,
    AssetState,
    PapiSimulator,
    SimState,
)

from ..conftest import BIG_LIMITS

KEY = "integration-key-0123456789abcdef"
SECRET = "integration-secret-0123456789abcdef"
REPAY = "/papi/v1/margin/repay-debt"


def sim_client(sim: PapiSimulator, **kwargs: Any) -> PortfolioMarginClient:
    kwargs.setdefault("rate_limits", BIG_LIMITS)
    kwargs.setdefault("api_key", KEY)
    kwargs.setdefault("api_secret", SECRET)
    return PortfolioMarginClient(base_url=sim.url, **kwargs)


def repays(sim: PapiSimulator) -> list[Any]:
    return [r for r in sim.requests if r.path == REPAY]


async def test_repay_success_changes_balances(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client:
        before = await client.account.balance("BNB")
        usdt_before = await client.account.balance("USDT")
        assert before.cross_margin_debt == Decimal("2.00125")
        result = await client.margin.repay_debt("BNB", Decimal("1"), specify_repay_assets=["USDT"])
        assert isinstance(result, RepayDebtResult)
        assert (result.asset, result.amount, result.success) == ("BNB", Decimal("1"), True)
        assert result.raw["amount"] == "1.00000000"
        assert result.specify_repay_assets == ("USDT",)
        after = await client.account.balance("BNB")
        usdt_after = await client.account.balance("USDT")
    # Interest first, then principal; own BNB (0.3) first, then 0.7 BNB worth of USDT.
    assert after.cross_margin_interest == 0
    assert after.cross_margin_debt == Decimal("1.00125")
    assert after.cross_margin_free == 0
    assert usdt_before.cross_margin_free - usdt_after.cross_margin_free == Decimal("420")
    assert len(sim.account().applied_repays) == 1


async def test_repay_all_with_enough_assets(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client:
        result = await client.margin.repay_debt(
            "BNB", repay_all=True, specify_repay_assets=["USDT", "BTC"]
        )
        assert result.amount == Decimal("2.00125")
        balances = {b.asset: b for b in await client.account.balance()}
    assert balances["BNB"].cross_margin_debt == 0
    assert balances["ETH"].cross_margin_debt == Decimal("0.4002")  # untouched
    # The comma list reached the simulator percent-encoded and was read back as two assets.
    assert "specifyRepayAssets=USDT%2CBTC" in repays(sim)[0].query


async def test_repay_all_without_enough_assets_changes_nothing() -> None:
    state = SimState(
        prices={"BNB": Decimal("600"), "USDT": Decimal("1")},
        accounts={
            "main": Account(
                assets={
                    "BNB": AssetState(borrowed=Decimal("2")),
                    "USDT": AssetState(free=Decimal("100")),
                }
            )
        },
    )
    async with PapiSimulator(api_key=KEY, api_secret=SECRET, state=state) as sim:
        async with sim_client(sim) as client:
            with pytest.raises(BadRequestError) as info:
                await client.margin.repay_debt("BNB", repay_all=True, specify_repay_assets=["USDT"])
            assert info.value.code == -2018
            bnb = await client.account.balance("BNB")
            usdt = await client.account.balance("USDT")
        assert bnb.cross_margin_debt == Decimal("2")
        assert usdt.cross_margin_free == Decimal("100")
        assert sim.account().applied_repays == []


async def test_fifty_thousand_usd_cap() -> None:
    state = SimState(
        prices={"BNB": Decimal("600"), "USDT": Decimal("1")},
        accounts={
            "main": Account(
                assets={
                    "BNB": AssetState(borrowed=Decimal("200")),
                    "USDT": AssetState(free=Decimal("1000000")),
                }
            )
        },
    )
    async with (
        PapiSimulator(
            api_key=KEY, api_secret=SECRET, state=state, ip_weight_limit=10_000_000
        ) as sim,
        sim_client(sim) as client,
    ):
        with pytest.raises(BadRequestError) as info:  # 100 BNB = 60,000 USD
            await client.margin.repay_debt("BNB", "100", specify_repay_assets=["USDT"])
        assert "50000" in str(info.value)
        ok = await client.margin.repay_debt("BNB", "80", specify_repay_assets=["USDT"])
        assert ok.amount == Decimal("80")  # 48,000 USD: accepted
        assert (await client.account.balance("BNB")).cross_margin_debt == Decimal("120")


async def test_wrong_secret_is_an_authentication_error_with_hint(sim: PapiSimulator) -> None:
    async with sim_client(sim, api_secret="not-the-secret") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.margin.repay_debt("BNB", "1")
    assert info.value.code == -1022
    assert "whitelist" in str(info.value) and "signature" in str(info.value)
    assert "not-the-secret" not in str(info.value)
    assert sim.account().applied_repays == []


async def test_unknown_key(sim: PapiSimulator) -> None:
    async with sim_client(sim, api_key="someone-else-0123456789") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.account.balance()
    assert info.value.code == -2015 and info.value.status == 401


async def test_skewed_clock_without_sync_is_a_timestamp_error(sim: PapiSimulator) -> None:
    sim.faults.skew(-5000)  # Binance's clock 5 s behind ours: our timestamps look ahead
    async with sim_client(sim, time_sync=TimeSync(enabled=False)) as client:
        with pytest.raises(TimestampError) as info:
            await client.margin.repay_debt("BNB", "0.1")
    assert info.value.code == -1021
    assert sim.account().applied_repays == []


async def test_clock_sync_absorbs_skew_on_first_use(sim: PapiSimulator) -> None:
    sim.faults.skew(-5000)
    events: list[Event] = []
    async with sim_client(sim, on_event=events.append) as client:
        result = await client.margin.repay_debt("BNB", "0.1")
    assert result.success
    synced = [e for e in events if isinstance(e, ClockResynced)]
    assert len(synced) == 1 and synced[0].samples == 5
    assert -5.5 < synced[0].offset < -4.5
    assert synced[0].source == "/papi/v1/time"
    assert [r.code for r in repays(sim)] == [None]


async def test_minus_1021_resyncs_and_retries_once(sim: PapiSimulator) -> None:
    events: list[Event] = []
    async with sim_client(sim, on_event=events.append) as client:
        await client.account.balance()  # first sync, no skew
        sim.faults.skew(+8000)  # now Binance is 8 s ahead: our timestamps are too old
        result = await client.margin.repay_debt("BNB", "0.1")
    assert result.success
    assert [r.code for r in repays(sim)] == [-1021, None]
    assert len(sim.account().applied_repays) == 1
    assert sum(isinstance(e, ClockResynced) for e in events) == 2


async def test_clock_sync_falls_back_to_fapi_time(sim: PapiSimulator) -> None:
    sim.faults.error(503, path="/papi/v1/time", count=None, variant="unavailable")
    events: list[Event] = []
    async with sim_client(sim, on_event=events.append) as client:
        await client.account.balance()
    synced = [e for e in events if isinstance(e, ClockResynced)]
    assert [e.source for e in synced] == ["/fapi/v1/time"]


async def test_values_that_need_percent_encoding_are_accepted(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client:
        data = await client.request(
            "GET",
            "/papi/v1/balance",
            {"asset": "这是测试币456"},
            security=Security.USER_DATA,
            weight=20,
        )
    assert data["asset"] == "这是测试币456"
    record = next(r for r in sim.requests if r.path == "/papi/v1/balance")
    assert record.status == 200
    assert "asset=%E8%BF%99%E6%98%AF%E6%B5%8B%E8%AF%95%E5%B8%81456&" in record.query


async def test_account_information_and_order_limits(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client:
        info = await client.account.information()
        limits = await client.account.order_rate_limits()
        await client.market.ping()
        server = await client.market.server_time()
    assert info.account_status == "NORMAL"
    assert info.account_equity > 0
    assert info.update_time is not None and info.update_time.tzinfo is not None
    assert server.tzinfo is not None
    assert [(x.rate_limit_type, x.limit, x.interval_seconds) for x in limits] == [
        ("ORDERS", 1200, 60.0)
    ]


async def test_simulator_log_never_holds_the_signature(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client:
        await client.margin.repay_debt("BNB", "0.1")
    for record in sim.requests:
        assert SECRET not in repr(record)
        assert KEY not in repr(record)
        if "signature" in record.query:
            assert record.query.endswith("signature=<redacted>")


async def test_impossible_weight_fails_before_any_io(sim: PapiSimulator) -> None:
    from binance_papi_async import WeightExceedsLimitError

    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url) as client:
        with pytest.raises(WeightExceedsLimitError):
            await client.request("GET", "/papi/v1/balance", security="USER_DATA", weight=6001)
        assert client.session is None  # not even the clock sync ran
    assert sim.requests == []


async def test_charges_can_be_overridden_per_endpoint(sim: PapiSimulator) -> None:
    from binance_papi_async import Budget, Charge, ConfigurationError, WeightExceedsLimitError
    from binance_papi_async.ratelimit import BudgetLimit

    small = [BudgetLimit(Budget.REQUEST_WEIGHT, 100), BudgetLimit(Budget.ORDERS, 10)]
    no_sync = TimeSync(enabled=False)
    async with sim_client(sim, rate_limits=small, time_sync=no_sync) as client:
        with pytest.raises(WeightExceedsLimitError):  # 3000 can never fit in 100
            await client.margin.repay_debt("BNB", "0.1")
    light = {"POST /papi/v1/margin/repay-debt": [Charge(Budget.REQUEST_WEIGHT, 7)]}
    async with sim_client(sim, rate_limits=small, time_sync=no_sync, charges=light) as client:
        assert (await client.margin.repay_debt("BNB", "0.1")).success
    with pytest.raises(ConfigurationError):
        sim_client(sim, charges={"repay-debt": []})


async def test_charges_that_can_never_fit_give_their_connection_slot_back(
    sim: PapiSimulator,
) -> None:
    from binance_papi_async import Budget, WeightExceedsLimitError
    from binance_papi_async.ratelimit import BudgetLimit

    small = [BudgetLimit(Budget.REQUEST_WEIGHT, 100), BudgetLimit(Budget.ORDERS, 10)]
    async with sim_client(
        sim, rate_limits=small, time_sync=TimeSync(enabled=False), pool_size=2
    ) as client:
        for _ in range(5):  # more than the pool's slots
            with pytest.raises(WeightExceedsLimitError):  # 3000 can never fit in 100
                await client.margin.repay_debt("BNB", "0.1")
        # Every slot is free: reads still find a connection at once.
        balances = await asyncio.wait_for(
            asyncio.gather(client.account.balance(), client.account.balance()), 5
        )
        assert len(balances) == 2
        assert client._transport._gate is not None
        assert client._transport._gate._value == 2


async def test_order_limits_from_binance_reach_the_limiter() -> None:
    from binance_papi_async import Budget

    async with (
        PapiSimulator(api_key=KEY, api_secret=SECRET, order_limit=300) as sim,
        sim_client(sim) as client,
    ):
        limits = await client.refresh_order_limits()
        assert [x.limit for x in limits] == [300]
        assert client.rate_limits.get(Budget.ORDERS).limit == 300


async def test_client_user_stream_is_the_documented_entry_point(sim: PapiSimulator) -> None:
    from binance_papi_async import LiabilityChange, StreamReconnected, UserStream

    async with sim_client(sim) as client:
        stream = client.user_stream(heartbeat=5.0)
        assert isinstance(stream, UserStream)
        async with stream:
            assert isinstance(await asyncio.wait_for(anext(stream), 5), StreamReconnected)
            await client.margin.repay_debt("BNB", "0.5", specify_repay_assets=["USDT"])
            event = await asyncio.wait_for(anext(stream), 5)
        assert isinstance(event, LiabilityChange) and event.asset == "BNB"
        # The raw listenKey calls stay reachable for engines with their own socket.
        assert callable(client.user_stream.start) and callable(client.user_stream.close)


async def test_an_open_stream_does_not_take_a_rest_connection(sim: PapiSimulator) -> None:
    from binance_papi_async import StreamReconnected, Timeouts

    client = sim_client(sim, pool_size=1, timeouts=Timeouts(total=5.0, connect=0.5))
    async with client, client.user_stream(heartbeat=5.0) as stream:
        assert isinstance(await asyncio.wait_for(anext(stream), 5), StreamReconnected)
        # With the only pool slot taken by the WebSocket, this used to wait out the
        # connect timeout and fail unsent.
        assert await client.account.balance()
        assert (await client.margin.repay_debt("BNB", "0.1")).success
