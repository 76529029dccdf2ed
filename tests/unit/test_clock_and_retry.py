"""Clocks, clock sync and the retry policy."""

from __future__ import annotations

import random
import re
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from binance_papi_async import (
    APIConnectionError,
    BadRequestError,
    ClockResynced,
    ConfigurationError,
    FakeClock,
    PortfolioMarginClient,
    RetryPolicy,
    RetryScheduled,
    ServerClock,
    ServerError,
    TimeSync,
)
from binance_papi_async.clock import estimate_offset
from binance_papi_async.events import Event
from binance_papi_async.testing import PapiSimulator, demo_state

from ..conftest import BIG_LIMITS, RecordingAioresponses, unit_client

BALANCE_URL = re.compile(r"^https://papi\.binance\.com/papi/v1/balance\?.*$")
FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002, max_elapsed=5.0)


# -- clocks ------------------------------------------------------------------------------------


def test_estimate_offset_takes_the_median_corrected_by_half_the_round_trip() -> None:
    samples = [
        (10.0, 15.05, 10.1),  # offset 5.0, rtt 0.1
        (11.0, 16.01, 11.02),  # offset 5.0, rtt 0.02
        (12.0, 20.0, 12.5),  # a slow, skewed sample: offset 7.75
    ]
    offset, rtt = estimate_offset(samples)
    assert offset == pytest.approx(5.0)
    assert rtt == pytest.approx(0.02)
    with pytest.raises(ValueError):
        estimate_offset([])


def test_server_clock_ignores_wall_clock_jumps(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ServerClock()
    clock.set_offset(1_700_000_000.0 - time.monotonic())
    before = clock.now_ms()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # the host jumps an hour
    after = clock.now_ms()
    assert 0 <= after - before < 1000
    assert 1_700_000_000_000 <= after < 1_700_000_001_000


def test_fake_clock_fires_timers_in_order_at_their_time() -> None:
    clock = FakeClock(100.0)
    fired: list[tuple[str, float]] = []
    clock.call_at(105.0, lambda: fired.append(("b", clock.time())))
    clock.call_at(101.0, lambda: fired.append(("a", clock.time())))
    cancelled = clock.call_at(102.0, lambda: fired.append(("x", clock.time())))
    cancelled.cancel()
    clock.advance(3)
    assert fired == [("a", 101.0)] and clock.time() == 103.0
    clock.set(110.0)
    assert fired == [("a", 101.0), ("b", 105.0)] and clock.pending_timers == 0
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_time_sync_and_retry_settings_are_validated() -> None:
    with pytest.raises(ConfigurationError):
        TimeSync(samples=0)
    with pytest.raises(ConfigurationError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigurationError):
        RetryPolicy(base_delay=1.0, max_delay=0.5)


def test_retry_delays_grow_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
    rng = random.Random(7)
    for attempt, cap in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        delays = [policy.delay(attempt, rng) for _ in range(50)]
        assert all(cap / 2 <= d <= cap for d in delays)
        assert len(set(delays)) > 1


@pytest.fixture
async def sim() -> AsyncIterator[PapiSimulator]:
    async with PapiSimulator(
        api_key="clock-key-0123456789", api_secret="clock-secret", state=demo_state()
    ) as s:
        yield s


async def test_offset_is_refreshed_periodically(sim: PapiSimulator) -> None:
    events: list[Event] = []
    async with PortfolioMarginClient(
        "clock-key-0123456789",
        "clock-secret",
        base_url=sim.url,
        rate_limits=BIG_LIMITS,
        time_sync=TimeSync(samples=3, refresh_interval=60.0),
        on_event=events.append,
    ) as client:
        await client.account.balance()
        await client.account.balance()  # within the interval: no new sync
        sim.faults.skew(2500)
        sync = client._transport.clock_sync
        assert sync is not None and sync.last_sync is not None
        sync.last_sync -= 61  # as if the refresh interval had passed
        await client.account.balance()  # served at once; the refresh runs in the background
        task = sync.task
        assert task is not None
        await task
    synced = [e for e in events if isinstance(e, ClockResynced)]
    assert len(synced) == 2
    assert synced[0].samples == 3
    assert synced[1].offset - synced[0].offset == pytest.approx(2.5, abs=0.2)


async def test_an_injected_clock_is_never_resynced(sim: PapiSimulator) -> None:
    clock = FakeClock(time.time())
    async with PortfolioMarginClient(
        "clock-key-0123456789", "clock-secret", base_url=sim.url, clock=clock
    ) as client:
        await client.margin.repay_debt("BNB", Decimal("0.1"))
    assert [r.path for r in sim.requests] == ["/papi/v1/margin/repay-debt"]


# -- retries of reads (aioresponses) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (500, {"code": -1000, "msg": "Request occur unknown error."}),
        (503, {"code": -1001, "msg": "Internal error; unable to process your request."}),
        (400, {"code": -1008, "msg": "Request throttled by system-level protection."}),
        (400, {"code": -5041, "msg": "Too many requests queueing."}),
    ],
)
async def test_transient_read_failures_are_retried(
    mock_http: RecordingAioresponses, status: int, payload: dict[str, object]
) -> None:
    events: list[Event] = []
    mock_http.get(BALANCE_URL, status=status, payload=payload)
    mock_http.get(BALANCE_URL, payload=[])
    async with unit_client(retry=FAST, on_event=events.append) as client:
        assert await client.account.balance() == ()
    assert [type(e).__name__ for e in events if isinstance(e, RetryScheduled)] == ["RetryScheduled"]


async def test_retries_are_bounded_by_attempts(mock_http: RecordingAioresponses) -> None:
    for _ in range(5):
        mock_http.get(BALANCE_URL, status=502, body=b"<html>bad gateway</html>")
    async with unit_client(retry=FAST) as client:
        with pytest.raises(ServerError):
            await client.account.balance()
        with pytest.raises(ServerError):
            await client.account.balance(retry=RetryPolicy(max_attempts=1))
    assert len(mock_http.sent) == 4  # 3 attempts, then 1 with the per-call policy


async def test_retries_are_bounded_by_elapsed_time(mock_http: RecordingAioresponses) -> None:
    for _ in range(5):
        mock_http.get(BALANCE_URL, status=500, payload={"code": -1000, "msg": "x"})
    slow = RetryPolicy(max_attempts=5, base_delay=0.2, max_delay=0.2, max_elapsed=0.05)
    async with unit_client(retry=slow) as client:
        with pytest.raises(ServerError):
            await client.account.balance()
    assert len(mock_http.sent) == 1  # the first backoff would already pass max_elapsed


async def test_client_errors_are_not_retried(mock_http: RecordingAioresponses) -> None:
    mock_http.get(BALANCE_URL, status=400, payload={"code": -1102, "msg": "Mandatory"})
    async with unit_client(retry=FAST) as client:
        with pytest.raises(BadRequestError):
            await client.account.balance()
    assert len(mock_http.sent) == 1


async def test_read_after_send_failure_is_retried_then_raises(
    mock_http: RecordingAioresponses,
) -> None:
    import aiohttp

    for _ in range(3):
        mock_http.get(BALANCE_URL, exception=aiohttp.ServerDisconnectedError())
    async with unit_client(retry=FAST) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.account.balance()
    assert info.value.sent is True
    assert len(mock_http.sent) == 3


async def test_read_429_waits_for_retry_after_without_a_limiter(
    mock_http: RecordingAioresponses,
) -> None:
    mock_http.get(
        BALANCE_URL,
        status=429,
        payload={"code": -1003, "msg": "Too many"},
        headers={"Retry-After": "0"},
    )
    mock_http.get(BALANCE_URL, payload=[])
    async with unit_client(retry=FAST, limiter=False) as client:
        assert await client.account.balance() == ()
    assert len(mock_http.sent) == 2
