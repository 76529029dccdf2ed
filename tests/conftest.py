"""Shared fixtures.

aioresponses shim
-----------------
aioresponses 0.7.9 (the latest release) builds ``aiohttp.ClientResponse``
objects without the ``stream_writer`` argument that aiohttp 3.14 made
mandatory, so every mocked request fails with ``ClientResponse.__init__()
missing 1 required keyword-only argument: 'stream_writer'`` (aioresponses issue
#289, fix pending in its PR #288).  aiohttp 3.14.0 is a security release, so we
require it and patch aioresponses here instead: ``_ShimResponse`` supplies a
stand-in writer that reports zero bytes written (the request is never really
sent).  ``tests/unit/test_aioresponses_shim.py`` fails as soon as an aioresponses release no
longer needs this, so the shim gets removed then.

Event loop
----------
Tests run on asyncio's own event loop.  ``PAPI_TEST_LOOP=uvloop pytest`` runs them on
uvloop's instead (``make test`` does both), through pytest-asyncio's
``pytest_asyncio_loop_factories`` hook; any other value is refused.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import aiohttp
import aioresponses.core
import pytest
from aioresponses import aioresponses as _aioresponses
from yarl import URL

from binance_papi_async import Budget, PortfolioMarginClient, RetryPolicy, TimeSync
from binance_papi_async.ratelimit import BudgetLimit
from binance_papi_async.testing import PapiSimulator, demo_state
from binance_papi_async.testing.local_redis import LocalRedis

ORIGINAL_CLIENT_RESPONSE: type[aiohttp.ClientResponse] = vars(aioresponses.core)["ClientResponse"]


class _NoopStreamWriter:
    """What ClientResponse reads from a stream writer when the request is already sent."""

    output_size = 0


class _ShimResponse(aiohttp.ClientResponse):
    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _NoopStreamWriter())
        super().__init__(method, url, **kwargs)


setattr(aioresponses.core, "ClientResponse", _ShimResponse)  # noqa: B010

TEST_LOOP = os.environ.get("PAPI_TEST_LOOP", "asyncio")
if TEST_LOOP not in ("asyncio", "uvloop"):
    raise pytest.UsageError(f"PAPI_TEST_LOOP={TEST_LOOP!r}: expected 'asyncio' or 'uvloop'")

if TEST_LOOP == "uvloop":
    import uvloop

    def pytest_asyncio_loop_factories(
        config: pytest.Config, item: pytest.Item
    ) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
        """Every asyncio test and fixture on a uvloop event loop."""
        return {"uvloop": uvloop.new_event_loop}


# Unit tests on aioresponses do not measure the clock offset (tests of the sync do).
NO_SYNC = TimeSync(enabled=False)
# ... and try each call once, unless a test is about retries.
ONCE = RetryPolicy(max_attempts=1)
# ... and keep the limiter's bookkeeping without ever waiting for a window.
BIG_LIMITS = (
    BudgetLimit(Budget.REQUEST_WEIGHT, 10_000_000),
    BudgetLimit(Budget.ORDERS, 1_000_000),
)


async def early_in_a_minute(margin: float) -> None:
    """Wait for the next minute of the wall clock if less than ``margin`` seconds are left
    of this one: a test that must stay within one of papi's one-minute windows (a 429's
    pause never outlasts its window; a lease of a minute) starts early in one."""
    left = 60.0 - time.time() % 60.0
    if left < margin:
        await asyncio.sleep(left + 0.05)


API_KEY = "test-api-key-0123456789abcdef"
API_SECRET = "test-api-secret-must-never-leak-0123456789"
BASE = "https://papi.binance.com"


class RecordingAioresponses(_aioresponses):
    """aioresponses that also records each request exactly as the client passed it.

    aioresponses keys ``requests`` by a normalised URL (query sorted), which loses
    the byte order the signature covers; ``sent`` keeps (method, URL, kwargs) as sent.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[tuple[str, URL, dict[str, Any]]] = []

    async def _request_mock(
        self, orig_self: aiohttp.ClientSession, method: str, url: Any, *args: Any, **kwargs: Any
    ) -> Any:
        self.sent.append((method, url if isinstance(url, URL) else URL(url), dict(kwargs)))
        return await super()._request_mock(orig_self, method, url, *args, **kwargs)


@pytest.fixture
def mock_http() -> Iterator[RecordingAioresponses]:
    m = RecordingAioresponses()
    with m:
        yield m


def unit_client(
    api_key: str | None = API_KEY, api_secret: str | None = API_SECRET, **kwargs: Any
) -> PortfolioMarginClient:
    """A client for aioresponses tests: no clock sync, no retries, limits out of the way."""
    kwargs.setdefault("time_sync", NO_SYNC)
    kwargs.setdefault("retry", ONCE)
    if kwargs.get("limiter") is None:
        kwargs.setdefault("rate_limits", BIG_LIMITS)
    return PortfolioMarginClient(api_key, api_secret, **kwargs)


@pytest.fixture
async def client() -> AsyncIterator[PortfolioMarginClient]:
    async with unit_client() as c:
        yield c


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[PapiSimulator]:
    """The simulator over loopback, with the demo state and the test module's ``KEY`` and
    ``SECRET``; IP weight limit raised (these tests are not about waiting for windows)."""
    async with PapiSimulator(
        api_key=request.module.KEY,
        api_secret=request.module.SECRET,
        state=demo_state(),
        ip_weight_limit=10_000_000,
    ) as s:
        yield s


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalRedis]:
    """A redis-server on a free 127.0.0.1 port for the session (installed by
    tools/redis_server.sh where it is missing), stopped by its PID at the end."""
    with LocalRedis.start() as server:
        yield server
