"""The three repay-debt clients ``bench_calls`` and ``bench_ab`` compare, and their request.

All three send the same signed ``POST /papi/v1/margin/repay-debt`` (same key, same
parameters: ``asset=BNB``, ``amount=0.001``, ``specifyRepayAssets=USDT,BTC``,
``timestamp``) through one pool of ``pool_size`` connections:

* :class:`FloorClient`: what anyone writes by hand with aiohttp: ``urlencode``,
  ``hmac.new`` per call, the URL as a string, ``orjson.loads``;
* :class:`SdkClient`: ``client.margin.repay_debt(...)`` of :class:`PortfolioMarginClient`
  with its rate limiter on (limits raised so that it admits every call, but doing all its
  bookkeeping), argument checks, the typed :class:`RepayDebtResult`, time sync off;
* :class:`HandOptClient`: the same call hand-optimised: HMAC key state computed once and
  copied, the query built with an f-string, ``yarl.URL(..., encoded=True)``, headers
  built once, ``orjson.loads``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from papi_server import API_KEY, API_SECRET
from yarl import URL

from binance_papi_async import PortfolioMarginClient, Timeouts, TimeSync
from binance_papi_async.endpoints import Budget
from binance_papi_async.models import RepayDebtResult
from binance_papi_async.ratelimit import BudgetLimit

PATH = "/papi/v1/margin/repay-debt"
ASSET = "BNB"
AMOUNT = "0.001"
REPAY_ASSETS = ("USDT", "BTC")
HUGE = 10**12
IMPLS = ("floor", "sdk", "handopt")

Call = Callable[[], Awaitable[Any]]


def sdk_client(base_url: str, pool_size: int, **overrides: Any) -> PortfolioMarginClient:
    """The SDK client every benchmark uses: limiter on with limits of 10**12, no time sync.

    ``overrides`` replace these options (e.g. ``limiter=False``, which drops the limits).
    """
    options: dict[str, Any] = {
        "time_sync": TimeSync(enabled=False),
        # Generous: a slow loaded VM must not turn a benchmark call into a timeout.
        "timeouts": Timeouts(total=60, connect=60),
        "rate_limits": [
            BudgetLimit(Budget.REQUEST_WEIGHT, HUGE),
            BudgetLimit(Budget.ORDERS, HUGE),
        ],
    }
    options.update(overrides)
    if "limiter" in overrides:
        del options["rate_limits"]
    return PortfolioMarginClient(
        api_key=API_KEY, api_secret=API_SECRET, base_url=base_url, pool_size=pool_size, **options
    )


class FloorClient:
    """(a) The floor: what anyone writes by hand with aiohttp, urlencode, hmac and orjson."""

    def __init__(self, base_url: str, pool_size: int) -> None:
        self.base_url = base_url
        self.pool_size = pool_size
        self.secret = API_SECRET.encode()
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the one session (a pool of ``pool_size`` connections)."""
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.pool_size))

    async def call(self) -> Any:
        """One signed repay-debt POST; the decoded JSON."""
        assert self.session is not None
        params = {
            "asset": ASSET,
            "amount": AMOUNT,
            "specifyRepayAssets": ",".join(REPAY_ASSETS),
            "timestamp": int(time.time() * 1000),
        }
        # safe=",": yarl would turn %2C back into "," in a str URL, so sign what is sent.
        query = urlencode(params, safe=",")
        signature = hmac.new(self.secret, query.encode(), hashlib.sha256).hexdigest()
        async with self.session.post(
            f"{self.base_url}{PATH}?{query}&signature={signature}",
            headers={"X-MBX-APIKEY": API_KEY},
        ) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"floor: HTTP {resp.status}: {body[:200]!r}")
        return orjson.loads(body)

    async def close(self) -> None:
        """Close the session."""
        if self.session is not None:
            await self.session.close()


class SdkClient:
    """(b) The SDK: ``client.margin.repay_debt`` with the limiter on (limits raised)."""

    def __init__(self, base_url: str, pool_size: int, **overrides: Any) -> None:
        self.client = sdk_client(base_url, pool_size, **overrides)  # e.g. limiter=False
        # What an engine awaits: the SDK's own coroutine, with no wrapper of ours around it.
        self.call: Call = functools.partial(
            self.client.margin.repay_debt,
            ASSET,
            Decimal(AMOUNT),
            specify_repay_assets=list(REPAY_ASSETS),
        )

    async def start(self) -> None:
        """Nothing to do: the SDK opens its pool on first use."""

    async def close(self) -> None:
        """Close the client."""
        await self.client.aclose()


class HandOptClient:
    """(c) The limit for an aiohttp client: everything that can be built once is."""

    def __init__(self, base_url: str, pool_size: int) -> None:
        self.pool_size = pool_size
        self.hmac = hmac.new(API_SECRET.encode(), digestmod=hashlib.sha256)
        self.prefix = f"{base_url}{PATH}?"
        self.headers = {"X-MBX-APIKEY": API_KEY}
        self.asset = ASSET
        self.amount = AMOUNT
        self.repay_assets = "%2C".join(REPAY_ASSETS)
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the one session (a pool of ``pool_size`` connections)."""
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.pool_size))

    async def call(self) -> Any:
        """One signed repay-debt POST; the decoded JSON."""
        session = self.session
        assert session is not None
        query = (
            f"asset={self.asset}&amount={self.amount}&specifyRepayAssets={self.repay_assets}"
            f"&timestamp={int(time.time() * 1000)}"
        )
        mac = self.hmac.copy()
        mac.update(query.encode())
        url = URL(f"{self.prefix}{query}&signature={mac.hexdigest()}", encoded=True)
        async with session.post(url, headers=self.headers) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"handopt: HTTP {resp.status}: {body[:200]!r}")
        return orjson.loads(body)

    async def close(self) -> None:
        """Close the session."""
        if self.session is not None:
            await self.session.close()


Client = FloorClient | SdkClient | HandOptClient


def make_client(impl: str, base_url: str, pool_size: int) -> Client:
    """The client called ``impl`` (one of :data:`IMPLS`)."""
    if impl == "floor":
        return FloorClient(base_url, pool_size)
    if impl == "sdk":
        return SdkClient(base_url, pool_size)
    if impl == "handopt":
        return HandOptClient(base_url, pool_size)
    raise ValueError(impl)


def check_result(impl: str, result: Any) -> None:
    """The server's answer, as each client returns it, is the repay-debt result."""
    if isinstance(result, RepayDebtResult):
        ok = result.success and result.asset == ASSET and result.amount > 0
    else:
        ok = isinstance(result, dict) and result.get("success") is True
    if not ok:
        raise RuntimeError(f"{impl}: unexpected result {result!r}")
