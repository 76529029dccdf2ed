"""The rate limiter at the edges, against the simulator, on one fake clock: a server clock
far ahead or behind, a one-way delay on /time, refunds, options of the wrong type, long
pauses, and light calls behind heavy ones.

The simulator counts IP weight per minute of its own clock and answers 429 (with
Binance's headers) past its limit, so "no 429" means the client never sent more than
a server window allows.  Nothing sleeps: see ``limiter_world``.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from binance_papi_async import (
    Budget,
    BudgetLimit,
    ConfigurationError,
    FakeClock,
    IPBanActiveError,
    IPBannedError,
    LimiterWait,
    LimiterWaitStarted,
    PortfolioMarginClient,
    RateLimiter,
    RateLimitError,
    RateLimitWaitTimeout,
    TimeSync,
    ValidationError,
)
from binance_papi_async.ratelimit import MAX_BAN_S, MIN_BAN_S
from binance_papi_async.retry import NO_RETRY
from binance_papi_async.testing import PapiSimulator

from .limiter_world import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    REPAY,
    SECRET,
    START,
    TIME,
    drive,
    repay,
    rich_state,
    server_windows,
    settle,
    statuses,
    unsynced_clock,
)

# No reserve for urgent calls: the clock-sync reads and two repays (5 + 6000) can only
# be kept apart by counting the reads in the server window they were sent in.
TIGHT = [BudgetLimit(Budget.REQUEST_WEIGHT, 6000, reserve=0), BudgetLimit(Budget.ORDERS, 1200)]
SYNCED = TimeSync(fallback_url=False)


def world(clock: object, **sim: object) -> PapiSimulator:
    return PapiSimulator(api_key=KEY, api_secret=SECRET, clock=clock, state=rich_state(), **sim)  # type: ignore[arg-type]


# -- 1, 2, 3: the server's clock ----------------------------------------------------------------


@pytest.mark.parametrize("skew_s", [600, -600])
async def test_repays_at_start_up_get_no_429_whatever_the_server_clock(skew_s: int) -> None:
    clock = unsynced_clock()
    async with world(clock) as sim:
        sim.faults.skew(skew_s * 1000)
        async with PortfolioMarginClient(
            KEY, SECRET, base_url=sim.url, clock=clock, time_sync=SYNCED, rate_limits=TIGHT
        ) as client:
            results = await drive(clock, [client], [repay(client), repay(client)])
            uncertainty = client.rate_limits.uncertainty
    assert all(getattr(r, "success", False) for r in results), results
    assert statuses(sim, TIME) == [200] * 5  # the sync's reads, counted in their window
    assert 429 not in statuses(sim) and 418 not in statuses(sim)
    assert max(server_windows(sim).values()) <= 6000
    assert uncertainty < 0.01  # the sync measured the offset (loopback: no round trip)


async def test_a_one_way_delay_on_time_reads_gets_no_429_at_window_boundaries() -> None:
    clock = unsynced_clock()
    async with world(clock) as sim:
        sim.faults.skew(-37_123)  # the server's minutes start at another moment than ours
        sim.faults.time_delay(0.020)  # 20 ms in, 0 back: the estimate is 10 ms off
        async with PortfolioMarginClient(
            KEY, SECRET, base_url=sim.url, clock=clock, time_sync=SYNCED, rate_limits=TIGHT
        ) as client:
            results = await drive(clock, [client], [repay(client) for _ in range(8)])
            error = abs(clock.offset - (-37.123))
            bound = client.rate_limits.uncertainty
    assert all(getattr(r, "success", False) for r in results), results
    assert 0.005 < error <= bound  # really off, and within the measured bound
    assert statuses(sim, REPAY) == [200] * 8
    assert 429 not in statuses(sim)
    assert max(server_windows(sim).values()) <= 6000


async def test_a_server_clock_ten_minutes_behind_keeps_normal_throughput() -> None:
    clock = unsynced_clock()
    async with world(clock) as sim:
        sim.faults.skew(-600_000)
        async with PortfolioMarginClient(
            KEY, SECRET, base_url=sim.url, clock=clock, time_sync=SYNCED, rate_limits=TIGHT
        ) as client:
            began = clock.local()
            results = await drive(clock, [client], [repay(client) for _ in range(8)])
            took = clock.local() - began
    assert all(getattr(r, "success", False) for r in results), results
    assert 429 not in statuses(sim)
    # Two repays per server minute: the eighth goes in the fourth minute after the first,
    # not after the ten minutes the unsynced windows would have held.
    assert took <= 4 * 60 + 1
    assert sorted(server_windows(sim).values())[-1] <= 6000


async def test_a_call_that_waited_for_a_connection_into_a_full_window_takes_budget_again() -> None:
    # As a synced clock: serverTime is whole milliseconds, so a measured bound is >= 0.5 ms.
    clock = FakeClock(START + 59.5, uncertainty=0.001)
    shared = RateLimiter([BudgetLimit(Budget.REQUEST_WEIGHT, 100, reserve=0)], clock=clock)
    async with (
        world(clock, ip_weight_limit=100) as sim,
        PortfolioMarginClient(
            KEY, SECRET, base_url=sim.url, clock=clock, limiter=shared, pool_size=1
        ) as one,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, clock=clock, limiter=shared) as two,
    ):
        await one.market.ping()  # the pool exists
        gate = one._transport._gate
        assert gate is not None
        await gate.acquire()  # its one connection is busy
        late = asyncio.ensure_future(one.account.balance("BNB"))
        await settle()
        assert shared.snapshot().get(Budget.REQUEST_WEIGHT).used == 21  # admitted in minute 1
        clock.advance(1.0)  # minute 2 begins while it waits for the connection ...
        for _ in range(5):
            await two.account.balance("BNB")  # ... and is filled by the other client
        gate.release()
        [balance] = await drive(clock, [one, two], [late])
    assert balance.asset == "BNB"
    assert 429 not in statuses(sim)
    assert sim.requests[-1].time >= (START + 120) * 1000  # sent in minute 3


# -- 4, 5: budget that was never sent -----------------------------------------------------------


async def test_refunds_of_calls_never_sent_are_not_counted_again() -> None:
    clock = unsynced_clock()
    async with (
        world(clock) as sim,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, clock=clock, pool_size=1) as client,
    ):
        gate = client._transport._gate
        assert gate is not None
        await client.account.balance("BNB")  # the pool exists, one call answered
        await gate.acquire()  # the one connection is busy
        calls = [asyncio.ensure_future(client.account.balance("BNB")) for _ in range(20)]
        await settle()
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used == 20 * 21  # all admitted
        for task in calls[::2]:
            task.cancel()  # never sent: the budget goes back
        await settle()
        gate.release()
        done = await asyncio.gather(*calls, return_exceptions=True)
        await client.account.balance("BNB")
        limiter_used = client.rate_limits.get(Budget.REQUEST_WEIGHT).used
    sent = sum(1 for d in done if not isinstance(d, BaseException))
    assert sent == 10
    assert sim.used_weight == 20 * (sent + 2)
    assert limiter_used == sim.used_weight  # no refund counted twice, nothing leaked


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", "5"),
        ("timeout", 0),
        ("timeout", True),
        ("max_wait", "1"),
        ("max_wait", -1),
        ("max_wait", float("nan")),
        ("retry", 3),
        ("priority", "urgent"),
    ],
)
async def test_a_per_call_option_of_the_wrong_type_fails_before_any_budget(
    option: str, value: object
) -> None:
    clock = unsynced_clock()
    async with (
        world(clock) as sim,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, clock=clock) as client,
    ):
        with pytest.raises(ValidationError) as raised:
            if option == "retry":
                await client.account.balance("BNB", retry=value)  # type: ignore[call-overload]
            else:
                await repay(client, **{option: value})
        assert raised.value.param == option
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used == 0
        assert client.rate_limits.get(Budget.ORDERS).used == 0
    assert sim.requests == []


async def test_timeout_in_seconds_is_accepted_as_aiohttp_and_httpx_take_it() -> None:
    clock = unsynced_clock()
    async with (
        world(clock) as sim,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, clock=clock, timeouts=10) as client,
    ):
        result = await repay(client, timeout=5)
        await client.account.balance("BNB", timeout=2.5)
    assert result.success
    assert statuses(sim) == [200, 200]


@pytest.mark.parametrize(
    "options",
    [{"timeouts": "10"}, {"timeouts": -1}, {"max_wait": "1"}, {"max_wait": -0.5}],
)
def test_a_client_option_of_the_wrong_type_fails_at_construction(
    options: dict[str, object],
) -> None:
    with pytest.raises(ConfigurationError):
        PortfolioMarginClient(KEY, SECRET, **options)  # type: ignore[arg-type]


async def test_an_exception_between_reservation_and_send_gives_the_budget_back() -> None:
    class Broken:
        def sign(self, payload: bytes) -> str:
            raise RuntimeError("the signing service is down")

    clock = unsynced_clock()
    async with (
        world(clock) as sim,
        PortfolioMarginClient(KEY, signer=Broken(), base_url=sim.url, clock=clock) as client,
    ):
        with pytest.raises(RuntimeError):
            await repay(client)
        snap = client.rate_limits
        assert snap.get(Budget.REQUEST_WEIGHT).used == 0
        assert snap.get(Budget.ORDERS).used == 0
    assert sim.requests == []


# -- 6: bounded pauses --------------------------------------------------------------------------


async def test_an_absurd_retry_after_pauses_only_to_the_end_of_the_window() -> None:
    clock = unsynced_clock(START + 15)
    async with (
        world(clock) as sim,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, clock=clock) as client,
    ):
        sim.faults.rate_limit(path="/papi/v1/balance", retry_after=10**12)
        with pytest.raises(RateLimitError):
            await client.account.balance("BNB", retry=NO_RETRY)
        paused = client.rate_limits.paused_until
        assert paused is not None and START + 60 <= paused <= START + 62  # the window's end
        # A call that cannot wait that long fails at once, nothing sent, with the end.
        with pytest.raises(RateLimitWaitTimeout) as short:
            await client.account.balance("BNB", max_wait=5)
        assert short.value.paused_until == paused
        assert len(sim.requests) == 1
        # One without max_wait waits for the window to end, then goes.
        [balance] = await drive(clock, [client], [client.account.balance("BNB")])
    assert balance.asset == "BNB"
    assert clock.time() <= paused + 0.01  # (the bound grew by its drift meanwhile)
    assert statuses(sim) == [429, 200]


@pytest.mark.parametrize(
    ("retry_after", "least", "most"),
    [(0, MIN_BAN_S, MIN_BAN_S + 1), (10**12, MAX_BAN_S - 1, MAX_BAN_S), (600, 599, 601)],
)
async def test_a_418_bans_for_what_it_says_at_least_two_minutes_at_most_three_days(
    retry_after: int, least: float, most: float
) -> None:
    clock = unsynced_clock()
    async with (
        world(clock) as sim,
        PortfolioMarginClient(KEY, SECRET, base_url=sim.url, clock=clock) as client,
    ):
        sim.faults.ban(path="/papi/v1/balance", retry_after=retry_after)
        with pytest.raises(IPBannedError):
            await client.account.balance("BNB")
        banned = client.rate_limits.banned_until
        assert banned is not None and least <= banned - clock.time() <= most
        with pytest.raises(IPBanActiveError):  # at once, nothing sent
            await client.market.ping()
        assert len(sim.requests) == 1
        clock.advance(banned - clock.time() + 0.001)
        await client.market.ping()
    assert statuses(sim) == [418, 200]


async def test_an_order_count_429_pauses_orders_of_that_account_only() -> None:
    clock = unsynced_clock(START + 10)
    limits = [BudgetLimit(Budget.REQUEST_WEIGHT, 7000), BudgetLimit(Budget.ORDERS, 10)]
    async with (
        world(clock, order_limit=1, ip_weight_limit=7000) as sim,
        PortfolioMarginClient(
            KEY, SECRET, base_url=sim.url, clock=clock, rate_limits=limits
        ) as client,
    ):
        await repay(client)
        with pytest.raises(RateLimitError) as refused:
            await repay(client)
        assert refused.value.code == -1015
        orders = client.rate_limits.get(Budget.ORDERS)
        assert orders.paused_until is not None and orders.paused_until <= START + 61
        await client.account.balance("BNB")  # the IP weight is not paused
        with pytest.raises(RateLimitWaitTimeout) as short:
            await repay(client, max_wait=1)
        assert short.value.paused_until == orders.paused_until
    assert statuses(sim) == [200, 429, 200]


# -- 7: light and urgent calls behind heavy ones ------------------------------------------------


async def test_a_ping_and_a_cancel_are_not_held_behind_queued_repays() -> None:
    clock = unsynced_clock(START + 5)  # (a call within the clock's bound of a boundary
    # may arrive in either window: it is charged to both, never backfilled)
    # Room for two repays (3000 each) in a window, not three; 1 % kept for urgent calls.
    limits = [BudgetLimit(Budget.REQUEST_WEIGHT, 7000), BudgetLimit(Budget.ORDERS, 1200)]
    async with (
        world(clock, ip_weight_limit=7000) as sim,
        PortfolioMarginClient(
            KEY, SECRET, base_url=sim.url, clock=clock, rate_limits=limits
        ) as client,
        PortfolioMarginClient(
            OTHER_KEY, OTHER_SECRET, base_url=sim.url, clock=clock, limiter=False
        ) as other,
    ):
        sim.add_key(OTHER_KEY, secret=OTHER_SECRET, account="other")
        repays = [asyncio.ensure_future(repay(client)) for _ in range(4)]
        await settle()
        assert sum(t.done() for t in repays) == 2 and client.limiter.waiters == 2  # type: ignore[union-attr]
        # A ping is admitted at once (the clock has not moved), into the room left.
        before = clock.time()
        await client.market.ping()
        assert clock.time() == before
        # Another program spends the rest of the window; our next answer says so.
        for _ in range(49):
            await other.account.balance("BNB")
        for _ in range(18):
            await other.market.ping()
        await client.market.ping()
        assert sim.used_weight == 7000
        # A cancel now waits for the next window, and goes before the queued repays.
        cancel = asyncio.ensure_future(client.um.cancel_order(symbol="BTCUSDT", order_id=1))
        await settle()
        assert not cancel.done()
        await drive(clock, [client], [*repays, cancel])
    window_two = [r for r in sim.requests if r.time >= (START + 60) * 1000]
    assert [r.path for r in window_two][:3] == ["/papi/v1/um/order", REPAY, REPAY]
    assert 429 not in statuses(sim)


# -- feedback on long waits ---------------------------------------------------------------------


async def test_a_long_wait_is_announced_when_it_starts_and_logged_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = unsynced_clock(START + 5)
    events: list[object] = []
    caplog.set_level(logging.INFO, logger="binance_papi_async.ratelimit")
    async with (
        world(clock) as sim,
        PortfolioMarginClient(
            KEY, SECRET, base_url=sim.url, clock=clock, rate_limits=TIGHT, on_event=events.append
        ) as client,
    ):
        await drive(clock, [client], [repay(client) for _ in range(3)])
    [started] = [e for e in events if isinstance(e, LimiterWaitStarted)]
    assert started.path == REPAY and not started.urgent
    assert 55 <= started.expected <= 57  # the next window opens 55 s (+ the clock's bound) on
    [waited] = [e for e in events if isinstance(e, LimiterWait)]
    assert events.index(started) < events.index(waited)
    assert any(
        r.levelno == logging.INFO and "waits for rate budget, about 5" in r.getMessage()
        for r in caplog.records
    )
