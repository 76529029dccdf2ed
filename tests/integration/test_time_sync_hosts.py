"""The requests the clock sync makes on its own, and to which host: papi's time path, then
the fallback URL (Binance's fapi host by default), which can be moved or switched off."""

from __future__ import annotations

import pytest

from binance_papi_async import (
    ClockResynced,
    ConfigurationError,
    Event,
    PortfolioMarginClient,
    TimeSync,
)
from binance_papi_async.testing import PapiSimulator

from ..conftest import BIG_LIMITS

KEY = "timesync-key-0123456789abcdef"
SECRET = "timesync-secret-0123456789abcdef"


def client_for(
    sim: PapiSimulator, time_sync: TimeSync, events: list[Event]
) -> PortfolioMarginClient:
    return PortfolioMarginClient(
        KEY, SECRET, base_url=sim.url, time_sync=time_sync, rate_limits=BIG_LIMITS,
        on_event=events.append,
    )  # fmt: skip


async def test_the_first_signed_call_sends_five_time_samples_first(sim: PapiSimulator) -> None:
    events: list[Event] = []
    async with client_for(sim, TimeSync(), events) as client:
        await client.account.balance()
        await client.account.balance()  # synced already: no more samples
    assert [r.path for r in sim.requests] == ["/papi/v1/time"] * 5 + ["/papi/v1/balance"] * 2


async def test_without_a_fallback_a_failed_sync_sends_nothing_elsewhere(
    sim: PapiSimulator,
) -> None:
    sim.faults.error(503, path="/papi/v1/time", count=None, variant="unavailable")
    events: list[Event] = []
    async with client_for(sim, TimeSync(fallback_url=False), events) as client:
        await client.account.balance()  # the previous (host) offset is kept
    assert [r.path for r in sim.requests] == ["/papi/v1/time", "/papi/v1/balance"]
    assert not any(isinstance(e, ClockResynced) for e in events)


async def test_a_configured_fallback_url_is_the_one_used(sim: PapiSimulator) -> None:
    sim.faults.error(503, path="/papi/v1/time", count=None, variant="unavailable")
    events: list[Event] = []
    fallback = TimeSync(fallback_url=f"{sim.url}/fapi/v1/time", samples=3)
    async with client_for(sim, fallback, events) as client:
        await client.account.balance()
    assert [r.path for r in sim.requests] == ["/papi/v1/time"] + ["/fapi/v1/time"] * 3 + [
        "/papi/v1/balance"
    ]
    assert [e.source for e in events if isinstance(e, ClockResynced)] == ["/fapi/v1/time"]


def test_the_default_fallback_is_binances_fapi_host_for_the_papi_host_only() -> None:
    papi = PortfolioMarginClient(KEY, SECRET)
    local = PortfolioMarginClient(KEY, SECRET, base_url="http://127.0.0.1:9")
    off = PortfolioMarginClient(KEY, SECRET, time_sync=TimeSync(fallback_url=False))
    assert papi._transport.clock_sync is not None and local._transport.clock_sync is not None
    assert off._transport.clock_sync is not None
    assert papi._transport.clock_sync.fallback_url() == "https://fapi.binance.com/fapi/v1/time"
    assert local._transport.clock_sync.fallback_url() == "http://127.0.0.1:9/fapi/v1/time"
    assert off._transport.clock_sync.fallback_url() is None


@pytest.mark.parametrize(
    ("time_sync", "message"),
    [
        (TimeSync(fallback_url="http://time.example/fapi/v1/time"), "must use https://"),
        (TimeSync(fallback_url="https://time.example"), "full URL such as"),
        (TimeSync(fallback_url="https://time.example/fapi/v1/time?x=1"), "query"),
        (TimeSync(path="/papi/v1/time?x=1"), "path must look like"),
    ],
)
def test_a_time_url_that_cannot_work_is_refused_at_construction(
    time_sync: TimeSync, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("?", r"\?")):
        PortfolioMarginClient(KEY, SECRET, time_sync=time_sync)


def test_fallback_url_is_a_url_none_or_false() -> None:
    with pytest.raises(ConfigurationError, match="fallback_url"):
        TimeSync(fallback_url=True)  # type: ignore[arg-type]
