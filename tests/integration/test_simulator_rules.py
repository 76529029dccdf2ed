"""Tests of the papi simulator's own rules, through real loopback sockets.

Requests are built and signed here with ``binance_papi_async.signing`` and sent
with a plain aiohttp client, so these tests do not depend on the SDK client.
Time is a FakeClock: rate-limit windows and timestamps never wait on real time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from binance_papi_async.cli import ExitCode
from binance_papi_async.clock import FakeClock
from binance_papi_async.signing import HmacSigner, encode_params, load_private_key, signed_query
from binance_papi_async.testing import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    Account,
    AssetState,
    PapiSimulator,
    SimState,
    SimulatedError,
    demo_state,
)
from binance_papi_async.testing.__main__ import main as cli_main

KEY = "test-key-0123456789"
SECRET = "test-secret-abcdef"
START = 1_700_000_040.0  # exactly on a minute boundary (1_700_000_040 / 60 = 28_333_334)
REPAY = "/papi/v1/margin/repay-debt"
BALANCE = "/papi/v1/balance"


@dataclass
class Resp:
    """Status, decoded body (JSON or text) and headers of one answer."""

    status: int
    body: Any
    headers: Mapping[str, str]

    @property
    def code(self) -> int | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


@dataclass
class Api:
    """Builds, signs and sends papi requests to the simulator."""

    session: aiohttp.ClientSession
    sim: PapiSimulator
    clock: FakeClock

    def now_ms(self) -> int:
        return int(self.clock.time() * 1000)

    async def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        body: Mapping[str, str] | None = None,
        signed: bool = True,
        key: str | None = KEY,
        secret: str = SECRET,
        timestamp: int | None = None,
        signature_in_body: bool = False,
    ) -> Resp:
        query_params = dict(params or {})
        body_params = dict(body or {})
        if signed:
            stamp = {"timestamp": str(self.now_ms() if timestamp is None else timestamp)}
            if body is not None:
                body_params.update(stamp)
            else:
                query_params.update(stamp)
        query = encode_params(query_params)
        body_text = encode_params(body_params)
        if signed:
            signature = HmacSigner(secret).sign((query + body_text).encode())
            if signature_in_body:
                body_text = f"{body_text}&signature={signature}"
            else:
                query = signed_query(query, HmacSigner(secret), body_text)
        return await self.raw(method, path, query, body_text.encode(), key=key)

    async def raw(
        self, method: str, path: str, query: str, body: bytes = b"", *, key: str | None = KEY
    ) -> Resp:
        url = URL(f"{self.sim.url}{path}" + (f"?{query}" if query else ""), encoded=True)
        headers = {"X-MBX-APIKEY": key} if key is not None else {}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with self.session.request(
            method, url, data=body or None, headers=headers
        ) as response:
            text = await response.text()
            try:
                decoded: Any = orjson.loads(text)
            except orjson.JSONDecodeError:
                decoded = text
            return Resp(response.status, decoded, dict(response.headers))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[PapiSimulator]:
    """A simulator with a high IP limit: a repay costs 3000 of the default 6000 per minute."""
    async with PapiSimulator(
        api_key=KEY, api_secret=SECRET, clock=clock, ip_weight_limit=1_000_000
    ) as simulator:
        yield simulator


@pytest.fixture
async def api(sim: PapiSimulator, clock: FakeClock) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, sim, clock)


def bnb(sim: PapiSimulator) -> AssetState:
    return sim.account().assets["BNB"]


# ---------------------------------------------------------------- ping, time, routes


async def test_ping_time_and_unknown_routes(api: Api, sim: PapiSimulator) -> None:
    ping = await api.send("GET", "/papi/v1/ping", signed=False, key=None)
    assert (ping.status, ping.body, ping.headers["X-MBX-USED-WEIGHT-1M"]) == (200, {}, "1")
    for path in ("/papi/v1/time", "/fapi/v1/time"):
        t = await api.send("GET", path, signed=False, key=None)
        assert t.body == {"serverTime": api.now_ms()}
    sim.faults.skew(2500)
    assert (await api.send("GET", "/papi/v1/time", signed=False)).body == {
        "serverTime": api.now_ms() + 2500
    }
    missing = await api.raw("GET", "/papi/v1/exchangeInfo", "")
    assert missing.status == 404 and "404" in missing.body
    assert missing.headers["X-MBX-USED-WEIGHT-1M"] == "4"  # unknown routes are not charged
    wrong_method = await api.raw("POST", "/papi/v1/ping", "")
    assert wrong_method.status == 405
    extra = await api.send("GET", "/papi/v1/ping", {"foo": "1"}, signed=False)
    assert extra.status == 400 and extra.body["msg"] == (
        "Not all sent parameters were read; read '0' parameter(s) but was sent '1'."
    )


# ---------------------------------------------------------------- authentication


async def test_api_key_errors(api: Api) -> None:
    missing = await api.send("GET", BALANCE, key=None)
    assert (missing.status, missing.body) == (
        401,
        {"code": -2014, "msg": "API-key format invalid."},
    )
    unknown = await api.send("GET", BALANCE, key="nobody")
    assert (unknown.status, unknown.code) == (401, -2015)
    assert unknown.body["msg"] == "Invalid API-key, IP, or permissions for action."


async def test_signature_rules(api: Api) -> None:
    wrong = await api.send("GET", BALANCE, secret="not-the-secret")
    assert (wrong.status, wrong.body) == (
        400,
        {"code": -1022, "msg": "Signature for this request is not valid."},
    )
    unsigned = await api.send("GET", BALANCE, {"timestamp": str(api.now_ms())}, signed=False)
    assert unsigned.code == -1102 and "'signature'" in unsigned.body["msg"]
    # The signature must be the last parameter.
    query = f"timestamp={api.now_ms()}"
    sig = HmacSigner(SECRET).sign(query.encode())
    not_last = await api.raw("GET", BALANCE, f"signature={sig}&{query}")
    assert not_last.code == -1022
    last = await api.raw("GET", BALANCE, f"{query}&signature={sig.upper()}")  # hex: any case
    assert last.status == 200


async def test_signature_is_checked_over_the_raw_bytes(api: Api, sim: PapiSimulator) -> None:
    """Comma lists and non-ASCII values: what was sent (percent-encoded) is what is signed."""
    sim.state.prices["币安人生"] = Decimal("0.25")
    sim.account().assets["币安人生"] = AssetState(free=Decimal("100"))
    ok = await api.send("GET", BALANCE, {"asset": "币安人生"})
    assert ok.status == 200 and ok.body["crossMarginFree"] == "100.00000000"
    params = {"asset": "BNB", "amount": "0.1", "specifyRepayAssets": "USDT,BTC"}
    repaid = await api.send("POST", REPAY, params)
    assert repaid.status == 200 and repaid.body["specifyRepayAssets"] == ["USDT", "BTC"]
    # Signing the decoded text but sending the encoded bytes is refused.
    decoded = f"asset=币安人生&timestamp={api.now_ms()}"
    sig = HmacSigner(SECRET).sign(decoded.encode())
    encoded = encode_params({"asset": "币安人生", "timestamp": str(api.now_ms())})
    mismatch = await api.raw("GET", BALANCE, f"{encoded}&signature={sig}")
    assert mismatch.code == -1022


async def test_parameters_in_the_body_and_query_wins(api: Api, sim: PapiSimulator) -> None:
    in_body = await api.send(
        "POST", REPAY, body={"asset": "BNB", "amount": "0.1"}, signature_in_body=True
    )
    assert in_body.status == 200 and in_body.body["asset"] == "BNB"
    mixed = await api.send("POST", REPAY, {"asset": "ETH"}, body={"asset": "BNB", "amount": "0.1"})
    assert mixed.status == 200 and mixed.body["asset"] == "ETH"
    assert [r.asset for r in sim.account().applied_repays] == ["BNB", "ETH"]


@pytest.mark.parametrize(
    ("offset_ms", "recv_window", "code", "msg_part"),
    [
        (1000, None, -1021, "1000ms ahead"),
        (999, None, None, ""),
        (-5000, None, None, ""),
        (-5001, None, -1021, "outside of the recvWindow"),
        (-59_000, "60000", None, ""),
        (0, "60001", -1130, "'recvWindow'"),
        (0, "abc", -1130, "'recvWindow'"),
        (0, "5_000", -1130, "'recvWindow'"),
    ],
)
async def test_timestamp_and_recv_window(
    api: Api, offset_ms: int, recv_window: str | None, code: int | None, msg_part: str
) -> None:
    params = {"recvWindow": recv_window} if recv_window is not None else {}
    resp = await api.send("GET", BALANCE, params, timestamp=api.now_ms() + offset_ms)
    assert resp.code == code
    if code is not None:
        assert resp.status == 400 and msg_part in resp.body["msg"]


async def test_missing_and_unknown_parameters(api: Api) -> None:
    no_asset = await api.send("POST", REPAY, {"amount": "0.1"})
    assert no_asset.body == {
        "code": -1102,
        "msg": "Mandatory parameter 'asset' was not sent, was empty/null, or malformed.",
    }
    no_timestamp = await api.raw(
        "GET", BALANCE, signed_query("recvWindow=5000", HmacSigner(SECRET))
    )
    assert no_timestamp.code == -1102 and "'timestamp'" in no_timestamp.body["msg"]
    unknown = await api.send("POST", REPAY, {"asset": "BNB", "amonut": "1"})
    assert unknown.body["msg"] == (
        "Not all sent parameters were read; read '3' parameter(s) but was sent '4'."
    )


async def test_public_key_api_keys(api: Api, sim: PapiSimulator) -> None:
    keys: list[Any] = [
        ed25519.Ed25519PrivateKey.generate(),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ]
    for i, private in enumerate(keys):
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        sim.add_key(f"pk-{i}", public_key_pem=public_pem)
        signer = load_private_key(private_pem)
        query = encode_params({"asset": "BTC", "timestamp": str(api.now_ms())})
        good = await api.raw("GET", BALANCE, signed_query(query, signer), key=f"pk-{i}")
        assert good.status == 200 and good.body["asset"] == "BTC"
        tampered = signed_query(query, signer).replace("BTC", "BNB", 1)
        assert (await api.raw("GET", BALANCE, tampered, key=f"pk-{i}")).code == -1022


# ---------------------------------------------------------------- repay-debt and balances


async def test_partial_repay_uses_same_asset_then_specified_and_interest_first(
    api: Api, sim: PapiSimulator
) -> None:
    before = await api.send("GET", BALANCE, {"asset": "BNB"})
    assert before.body["crossMarginBorrowed"] == "2.00000000"
    assert before.body["crossMarginInterest"] == "0.00125000"
    resp = await api.send(
        "POST", REPAY, {"asset": "BNB", "amount": "0.5", "specifyRepayAssets": "USDT"}
    )
    assert resp.status == 200
    assert resp.body == {
        "amount": "0.50000000",
        "asset": "BNB",
        "specifyRepayAssets": ["USDT"],
        "updateTime": api.now_ms(),
        "success": True,
    }
    balances = {b["asset"]: b for b in (await api.send("GET", BALANCE)).body}
    # 0.3 BNB from BNB itself, the other 0.2 BNB (120 USD) from USDT.
    assert balances["BNB"]["crossMarginFree"] == "0.00000000"
    assert balances["USDT"]["crossMarginFree"] == "4880.00000000"
    assert balances["BTC"]["crossMarginFree"] == "0.05000000"  # not listed: untouched
    # Interest first, then principal.
    assert balances["BNB"]["crossMarginInterest"] == "0.00000000"
    assert balances["BNB"]["crossMarginBorrowed"] == "1.50125000"
    (record,) = sim.account().applied_repays
    assert record.used == {"BNB": Decimal("0.3"), "USDT": Decimal("120")}
    assert (record.interest_paid, record.principal_paid) == (
        Decimal("0.00125"),
        Decimal("0.49875"),
    )
    assert sim.requests[-2].applied and sim.requests[-2].path == REPAY


async def test_repay_all_only_if_the_repay_assets_suffice(api: Api, sim: PapiSimulator) -> None:
    short = await api.send("POST", REPAY, {"asset": "BNB"})  # only BNB itself: 0.3 < 2.00125
    assert (short.status, short.body) == (400, {"code": -2018, "msg": "Balance is insufficient."})
    assert bnb(sim).debt == Decimal("2.00125") and bnb(sim).free == Decimal("0.3")
    everything = await api.send("POST", REPAY, {"asset": "BNB", "specifyRepayAssets": "USDT,BTC"})
    assert everything.status == 200 and everything.body["amount"] == "2.00125000"
    assert bnb(sim).debt == 0
    # 1.70125 BNB * 600 = 1020.75 USDT.
    assert sim.account().assets["USDT"].free == Decimal("3979.25")
    assert len(sim.account().applied_repays) == 1


async def test_repay_spills_over_to_the_next_specified_asset(api: Api, sim: PapiSimulator) -> None:
    sim.account().assets["USDT"].free = Decimal("100")
    resp = await api.send("POST", REPAY, {"asset": "BNB", "specifyRepayAssets": "USDT,BTC"})
    assert resp.status == 200
    used = sim.account().applied_repays[0].used
    # 0.3 BNB; 100 USDT covers 0.16666666 BNB; BTC pays the other 1.53458334 BNB
    # (920.750004 USD = 0.0153458334 BTC), rounded up to 8 places.
    assert used["BNB"] == Decimal("0.3") and used["USDT"] == Decimal("100")
    assert used["BTC"] == Decimal("0.01534584")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"asset": "BNB", "amount": "2.5"}, -3015),  # more than the debt
        ({"asset": "BTC"}, -3015),  # no debt at all
        ({"asset": "BNB", "amount": "0.000000001"}, -1111),
        ({"asset": "BNB", "amount": "-1"}, -1130),
        ({"asset": "BNB", "amount": "lots"}, -1130),
        ({"asset": "DOGE"}, -1108),
        ({"asset": "BNB", "specifyRepayAssets": "USDT,NOPE"}, -1108),
    ],
)
async def test_repay_refusals_change_nothing(
    api: Api, sim: PapiSimulator, params: dict[str, str], code: int
) -> None:
    resp = await api.send("POST", REPAY, params)
    assert (resp.status, resp.code) == (400, code)
    assert sim.account().applied_repays == [] and bnb(sim).debt == Decimal("2.00125")
    assert not sim.requests[-1].applied


async def test_repay_cap_of_50000_usd(api: Api, sim: PapiSimulator) -> None:
    sim.account().assets["BTC"] = AssetState(free=Decimal("2"), borrowed=Decimal("1"))
    over = await api.send("POST", REPAY, {"asset": "BTC"})  # 60,000 USD
    assert over.code == -1130 and "50000 USD" in over.body["msg"]
    exactly = await api.send("POST", REPAY, {"asset": "BTC", "amount": "0.83333333"})
    assert exactly.status == 200
    over_by_a_hair = await api.send("POST", REPAY, {"asset": "BTC", "amount": "0.16666667"})
    assert over_by_a_hair.status == 200  # 10,000.0002 USD: fine, the cap is per request
    assert sim.account().assets["BTC"].debt == 0


async def test_balance_and_account_shapes(api: Api, sim: PapiSimulator) -> None:
    all_assets = (await api.send("GET", BALANCE)).body
    assert [b["asset"] for b in all_assets] == ["BNB", "USDT", "BTC", "ETH"]
    eth = (await api.send("GET", BALANCE, {"asset": "ETH"})).body
    assert eth == {
        "asset": "ETH",
        "totalWalletBalance": "1.50000000",
        "crossMarginAsset": "1.50000000",
        "crossMarginBorrowed": "0.40000000",
        "crossMarginFree": "1.50000000",
        "crossMarginInterest": "0.00020000",
        "crossMarginLocked": "0.00000000",
        "umWalletBalance": "0.00000000",
        "umUnrealizedPNL": "0.00000000",
        "cmWalletBalance": "0.00000000",
        "cmUnrealizedPNL": "0.00000000",
        "updateTime": api.now_ms(),
        "negativeBalance": "0.00000000",
    }
    account = (await api.send("GET", "/papi/v1/account")).body
    # assets 180 + 5000 + 3000 + 4500 = 12680 USD; debts 1200.75 + 1200.6 = 2401.35 USD.
    assert account["accountEquity"] == account["actualEquity"] == "10278.65000000"
    assert account["accountMaintMargin"] == "120.06750000"
    assert account["accountStatus"] == "NORMAL"
    limits = (await api.send("GET", "/papi/v1/rateLimit/order")).body
    assert limits == [
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200}
    ]


async def test_accounts_are_per_key(api: Api, sim: PapiSimulator) -> None:
    sim.add_key("other-key", secret="other-secret", account="other")
    sim.account("other").assets["USDT"] = AssetState(free=Decimal("7"))
    sim.state.prices["USDT"] = Decimal("1")
    other = await api.send("GET", BALANCE, key="other-key", secret="other-secret")
    assert [b["asset"] for b in other.body] == ["USDT"]
    assert sim.account_of("other-key") is sim.account("other")


_EIGHT = st.decimals(min_value=0, max_value=10_000, places=8, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(amount=st.decimals(min_value="0.00000001", max_value="2.00125", places=8), usdt=_EIGHT)
def test_repay_is_all_or_nothing_and_never_undercharges(amount: Decimal, usdt: Decimal) -> None:
    sim = PapiSimulator(clock=FakeClock(START))
    account = sim.account()
    account.assets["USDT"].free = usdt
    before = {name: (a.free, a.debt) for name, a in account.assets.items()}
    try:
        record = sim.repay_debt(
            account, asset="BNB", amount=str(amount), specify_repay_assets="USDT,BTC", now=1
        )
    except SimulatedError as err:
        assert err.code == -2018
        assert {name: (a.free, a.debt) for name, a in account.assets.items()} == before
        return
    prices = sim.state.prices
    assert account.assets["BNB"].debt == before["BNB"][1] - amount
    assert record.interest_paid == min(amount, Decimal("0.00125"))
    assert all(a.free >= 0 for a in account.assets.values())
    paid_usd = sum(taken * prices[name] for name, taken in record.used.items())
    assert paid_usd >= amount * prices["BNB"]  # rounding favours the exchange...
    assert paid_usd - amount * prices["BNB"] <= Decimal("0.00000001") * 60_000  # ...by a hair


# ---------------------------------------------------------------- rate limits


async def test_ip_weight_429_then_418_and_window_reset(clock: FakeClock) -> None:
    async with (
        PapiSimulator(api_key=KEY, api_secret=SECRET, clock=clock) as sim,
        aiohttp.ClientSession() as session,
    ):
        await _ip_weight_scenario(Api(session, sim, clock), sim)


async def _ip_weight_scenario(api: Api, sim: PapiSimulator) -> None:
    """Default limits: 6000 IP weight per minute, a 120 s ban."""
    first = await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.01"})
    assert first.headers["X-MBX-USED-WEIGHT-1M"] == "3000"
    assert first.headers["X-MBX-ORDER-COUNT-1M"] == "1"
    api.clock.advance(15)
    second = await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.01"})
    assert second.status == 200 and second.headers["X-MBX-USED-WEIGHT-1M"] == "6000"
    third = await api.send("GET", "/papi/v1/ping", signed=False)
    assert (third.status, third.code) == (429, -1003)
    assert third.body["msg"].startswith("Too many requests; current limit is 6000 requests")
    assert third.headers["Retry-After"] == "45"  # the window started on the minute
    assert third.headers["X-MBX-USED-WEIGHT-1M"] == "6001"  # rejected requests count
    banned = await api.send("GET", "/papi/v1/ping", signed=False)
    assert (banned.status, banned.code, banned.headers["Retry-After"]) == (418, -1003, "120")
    assert f"IP banned until {api.now_ms() + 120_000}" in banned.body["msg"]
    api.clock.advance(60)
    still = await api.send("GET", "/papi/v1/ping", signed=False)
    assert (still.status, still.headers["Retry-After"]) == (418, "60")
    api.clock.advance(60)
    again = await api.send("GET", "/papi/v1/ping", signed=False)
    assert again.status == 200 and again.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    assert len(sim.account().applied_repays) == 2


async def test_windows_start_on_the_minute(api: Api, sim: PapiSimulator) -> None:
    api.clock.advance(50)
    await api.send("GET", BALANCE)
    assert sim.used_weight == 20
    api.clock.advance(10)  # a new minute starts: not 60 s after the first request
    resp = await api.send("GET", BALANCE)
    assert resp.headers["X-MBX-USED-WEIGHT-1M"] == "20"


async def test_order_limit_is_per_account_and_does_not_ban(clock: FakeClock) -> None:
    async with (
        PapiSimulator(api_key=KEY, api_secret=SECRET, clock=clock, order_limit=1) as sim,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, sim, clock)
        sim.ip_weight_limit = 1_000_000  # only the order limit matters here
        ok = await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.01"})
        assert ok.status == 200
        over = await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.01"})
        assert (over.status, over.code, over.headers["X-MBX-ORDER-COUNT-1M"]) == (429, -1015, "2")
        assert "Retry-After" in over.headers
        assert (await api.send("GET", BALANCE)).status == 200  # no IP back-off / ban
        assert len(sim.account().applied_repays) == 1
        assert (await api.send("GET", "/papi/v1/rateLimit/order")).body[0]["limit"] == 1


async def test_rate_limits_off_still_counts(clock: FakeClock) -> None:
    async with (
        PapiSimulator(api_key=KEY, api_secret=SECRET, clock=clock, rate_limits=False) as sim,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, sim, clock)
        for _ in range(3):
            resp = await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.01"})
            assert resp.status == 200
        assert resp.headers["X-MBX-USED-WEIGHT-1M"] == "9000"


# ---------------------------------------------------------------- faults


async def test_latency_and_fault_counts_and_paths(api: Api, sim: PapiSimulator) -> None:
    sim.faults.latency(0.05, path=BALANCE)
    started = time.perf_counter()
    assert (await api.send("GET", BALANCE)).status == 200
    assert time.perf_counter() - started >= 0.05
    sim.faults.error(500, path=BALANCE, count=2)
    assert (await api.send("GET", "/papi/v1/ping", signed=False)).status == 200  # other path
    for _ in range(2):
        resp = await api.send("GET", BALANCE)
        assert (resp.status, resp.code) == (500, -1000)
    assert (await api.send("GET", BALANCE)).status == 200
    assert sim.faults.faults == []


async def test_5xx_and_timeout_bodies(api: Api, sim: PapiSimulator) -> None:
    sim.faults.error(503)
    unknown = await api.send("GET", BALANCE)
    assert unknown.status == 503
    assert unknown.body["msg"] == "Unknown error, please check your request or try again later."
    sim.faults.error(502)
    proxy = await api.send("GET", BALANCE)
    assert proxy.status == 502 and "502 Bad Gateway" in proxy.body
    sim.faults.timeout(path=REPAY)
    timeout = await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.1"})
    assert (timeout.status, timeout.code) == (503, -1007)
    assert timeout.body["msg"].startswith("Timeout waiting for response from backend server.")
    assert sim.account().applied_repays == []  # apply=False: nothing happened
    sim.faults.timeout(path=REPAY, apply=True)
    applied = await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.1"})
    assert applied.code == -1007 and len(sim.account().applied_repays) == 1


async def test_drop_after_apply_and_before(api: Api, sim: PapiSimulator) -> None:
    sim.faults.drop(path=REPAY)  # after_apply=True by default
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.1"})
    assert len(sim.account().applied_repays) == 1  # it happened
    record = sim.requests[-1]
    assert (record.status, record.applied, record.fault) == (None, True, "drop")
    sim.faults.drop(after_apply=False, path=REPAY)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.1"})
    assert len(sim.account().applied_repays) == 1 and not sim.requests[-1].applied
    assert (await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.1"})).status == 200


async def test_forced_429_418_and_skew(api: Api, sim: PapiSimulator) -> None:
    sim.faults.rate_limit(retry_after=7)
    limited = await api.send("GET", BALANCE)
    assert (limited.status, limited.code, limited.headers["Retry-After"]) == (429, -1003, "7")
    sim.faults.ban()
    banned = await api.send("GET", BALANCE)
    assert (banned.status, banned.headers["Retry-After"]) == (418, "120")
    assert (await api.send("GET", BALANCE)).status == 200  # forced faults leave no real ban
    sim.faults.skew(-3000)  # the server is 3 s behind the client: the timestamp is ahead
    assert (await api.send("GET", BALANCE)).code == -1021


async def test_http_control_endpoints(api: Api, sim: PapiSimulator) -> None:
    session = api.session
    async with session.post(
        f"{sim.url}/_sim/faults",
        json=[{"kind": "error", "status": 503, "path": BALANCE}, {"kind": "skew", "ms": 5}],
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["skew_ms"] == 5
    assert (await api.send("GET", BALANCE)).status == 503
    async with session.post(f"{sim.url}/_sim/faults", json={"kind": "nope"}) as resp:
        assert resp.status == 400
    await api.send("POST", REPAY, {"asset": "BNB", "amount": "0.1"})
    async with session.get(f"{sim.url}/_sim/requests") as resp:
        records = (await resp.json())["requests"]
    assert [r["status"] for r in records] == [503, 200]
    assert records[1]["applied"] is True and records[1]["query"].startswith("asset=BNB")
    assert records[1]["headers"]["X-MBX-APIKEY"] == KEY[:4] + "***"
    assert records[0]["fault"] == "error"
    async with session.post(f"{sim.url}/_sim/reset") as resp:
        assert resp.status == 200
    assert sim.requests == [] and sim.account().applied_repays == []
    assert bnb(sim).debt == Decimal("2.00125") and sim.faults.skew_ms == 0
    async with session.get(f"{sim.url}/_sim/state") as resp:
        state = await resp.json()
    assert state["accounts"]["main"]["assets"]["BNB"]["borrowed"] == "2.00000000"
    assert state["usedWeight1m"] == 0  # control endpoints are never charged


# ---------------------------------------------------------------- seeding, construction, CLI


def test_seed_from_json_and_toml(tmp_path: Path) -> None:
    doc = {
        "prices": {"USDT": "1", "BNB": 600.1},
        "accounts": {"a": {"assets": {"BNB": {"free": 0.1, "borrowed": "1"}}}},
        "keys": [{"api_key": "k1", "secret": "s1", "account": "a"}],
    }
    state = SimState.from_json(orjson.dumps(doc))
    assert state.prices["BNB"] == Decimal("600.1")  # exact, not a float
    assert state.accounts["a"].assets["BNB"].free == Decimal("0.1")
    toml = tmp_path / "seed.toml"
    toml.write_text('[prices]\nBNB = 600.1\n[accounts.a.assets.BNB]\nfree = 0.1\nborrowed = "1"\n')
    assert SimState.from_file(toml).accounts["a"].assets["BNB"].debt == Decimal("1")
    path = tmp_path / "seed.json"
    path.write_bytes(orjson.dumps(doc))
    sim = PapiSimulator.from_file(path)
    assert sim.account_of("k1").assets["BNB"].borrowed == Decimal("1")
    with pytest.raises(ValueError, match="no USD price"):
        SimState.from_dict({"accounts": {"a": {"assets": {"XRP": {"free": "1"}}}}})
    with pytest.raises(ValueError, match=r"not 0\.5"):
        AssetState(free=0.5)  # type: ignore[arg-type]


def test_construction_rules() -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        PapiSimulator(host="0.0.0.0")
    with pytest.raises(ValueError, match="both"):
        PapiSimulator(api_key="only-a-key")
    demo = PapiSimulator()
    assert demo.account_of(DEMO_API_KEY).assets["BNB"].debt > 0
    assert isinstance(demo_state().accounts["main"], Account)
    with pytest.raises(RuntimeError, match="not started"):
        _ = demo.url
    assert cli_main(["--host", "10.1.2.3"]) == ExitCode.USAGE  # papi sim's rules


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM semantics differ on Windows")
async def test_command_line_server_stops_cleanly_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "binance_papi_async.testing",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        url = None
        while url is None:
            line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
            assert line, "the simulator exited before printing its URL"
            lines.append(line)
            if "http://" in line:
                url = line.split()[-1]
        assert url.startswith("http://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{url}/papi/v1/ping") as resp,
        ):
            assert resp.status == 200 and await resp.json() == {}
        proc.send_signal(signal.SIGTERM)
        stdout, _ = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0
        printed = "".join(lines) + stdout.decode()
        assert DEMO_API_KEY in printed and DEMO_API_SECRET in printed
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
