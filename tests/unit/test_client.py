"""PortfolioMarginClient and repay_debt against aioresponses (no network)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from binance_papi_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BinancePapiError,
    Budget,
    ClientClosedError,
    ConfigurationError,
    ExecutionStatusUnknown,
    IPBannedError,
    PortfolioMarginClient,
    RateLimitError,
    RepayDebtResult,
    Security,
    ServerError,
    Timeouts,
    TimestampError,
    UnexpectedResponseError,
    ValidationError,
    WeightKind,
)
from binance_papi_async.endpoints import REPAY_DEBT

from ..conftest import API_KEY, API_SECRET, RecordingAioresponses, unit_client

REPAY_URL = re.compile(r"^https://papi\.binance\.com/papi/v1/margin/repay-debt\?.*$")
BALANCE_URL = re.compile(r"^https://papi\.binance\.com/papi/v1/balance\?.*$")
REPAY_BODY = {
    "amount": "0.10000000",
    "asset": "BNB",
    "specifyRepayAssets": ["USDT", "BTC"],
    "updateTime": 1636371437000,
    "success": True,
}


def sent_requests(m: aioresponses) -> list[tuple[str, URL, dict[str, Any]]]:
    assert isinstance(m, RecordingAioresponses)
    return m.sent


def only_request(m: aioresponses) -> tuple[str, URL, dict[str, Any]]:
    reqs = sent_requests(m)
    assert len(reqs) == 1, reqs
    return reqs[0]


def split_signed(url: URL) -> tuple[str, str]:
    query = url.raw_query_string
    payload, _, signature = query.rpartition("&signature=")
    return payload, signature


# -- success and wire format -----------------------------------------------------------------


async def test_repay_debt_success_typed_and_signed(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    mock_http.post(REPAY_URL, payload={**REPAY_BODY, "newField": 7})
    result = await client.margin.repay_debt(
        asset="BNB", amount=Decimal("0.1"), specify_repay_assets=["USDT", "BTC"]
    )
    assert isinstance(result, RepayDebtResult)
    assert result.asset == "BNB"
    assert result.amount == Decimal("0.10000000")
    assert str(result.amount) == "0.10000000"  # exact digits kept
    assert result.specify_repay_assets == ("USDT", "BTC")
    assert result.update_time == datetime(2021, 11, 8, 11, 37, 17, tzinfo=timezone.utc)
    assert result.update_time.tzinfo is not None
    assert result.success is True
    assert result.raw["newField"] == 7
    with pytest.raises(AttributeError):
        result.amount = Decimal(1)  # type: ignore[misc]

    method, url, kwargs = only_request(mock_http)
    assert method == "POST"
    assert kwargs["headers"]["X-MBX-APIKEY"] == API_KEY
    payload, signature = split_signed(url)
    assert re.fullmatch(
        r"asset=BNB&amount=0\.1&specifyRepayAssets=USDT%2CBTC&timestamp=\d{13}", payload
    )
    assert signature == hmac.new(API_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert url.raw_query_string.endswith(f"&signature={signature}")  # signature last


async def test_amount_goes_out_as_plain_decimal(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    cases: list[tuple[Decimal | str | int, str]] = [
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("1E+3"), "1000"),
        ("0.50", "0.50"),
        (3, "3"),
    ]
    for amount, wire in cases:
        mock_http.post(REPAY_URL, payload=REPAY_BODY)
        await client.margin.repay_debt("BNB", amount)
        _, url, _ = sent_requests(mock_http)[-1]
        assert f"amount={wire}&" in url.raw_query_string
        mock_http.sent.clear()  # type: ignore[attr-defined]


async def test_repay_all_sends_no_amount_and_recv_window(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    mock_http.post(REPAY_URL, payload=REPAY_BODY)
    await client.margin.repay_debt("BNB", repay_all=True, recv_window=60000)
    _, url, _ = only_request(mock_http)
    payload, _ = split_signed(url)
    assert re.fullmatch(r"asset=BNB&recvWindow=60000&timestamp=\d{13}", payload)


async def test_client_recv_window_default_applies(mock_http: aioresponses) -> None:
    mock_http.post(REPAY_URL, payload=REPAY_BODY)
    async with unit_client(recv_window=3000) as c:
        await c.margin.repay_debt("BNB", "1")
    payload, _ = split_signed(only_request(mock_http)[1])
    assert "&recvWindow=3000&timestamp=" in payload


async def test_timestamp_is_taken_per_send(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    mock_http.post(REPAY_URL, payload=REPAY_BODY, repeat=True)
    await client.margin.repay_debt("BNB", "1")
    await asyncio.sleep(0.01)
    await client.margin.repay_debt("BNB", "1")
    stamps = [int(u.query["timestamp"]) for _, u, _ in sent_requests(mock_http)]
    assert len(stamps) == 2 and stamps[1] > stamps[0]


# -- validation ------------------------------------------------------------------------------

VALIDATION_CASES: list[tuple[dict[str, Any], str]] = [
    ({"asset": "bnb", "amount": "1"}, "asset"),
    ({"asset": "", "amount": "1"}, "asset"),
    ({"asset": "BN B", "amount": "1"}, "asset"),
    ({"asset": 5, "amount": "1"}, "asset"),
    ({"asset": "BNB", "amount": 0.1}, "amount"),
    ({"asset": "BNB", "amount": True}, "amount"),
    ({"asset": "BNB", "amount": Decimal("0")}, "amount"),
    ({"asset": "BNB", "amount": "-1"}, "amount"),
    ({"asset": "BNB", "amount": "abc"}, "amount"),
    ({"asset": "BNB", "amount": Decimal("NaN")}, "amount"),
    ({"asset": "BNB", "amount": "Infinity"}, "amount"),
    ({"asset": "BNB", "amount": [1]}, "amount"),
    ({"asset": "BNB"}, "amount"),  # neither amount nor repay_all
    ({"asset": "BNB", "amount": "1", "repay_all": True}, "repay_all"),
    ({"asset": "BNB", "repay_all": "yes"}, "repay_all"),
    ({"asset": "BNB", "amount": "1", "specify_repay_assets": "USDT,BTC"}, "specify_repay_assets"),
    ({"asset": "BNB", "amount": "1", "specify_repay_assets": []}, "specify_repay_assets"),
    ({"asset": "BNB", "amount": "1", "specify_repay_assets": ["usdt"]}, "specify_repay_assets"),
    (
        {"asset": "BNB", "amount": "1", "specify_repay_assets": ["USDT", "USDT"]},
        "specify_repay_assets",
    ),
    ({"asset": "BNB", "amount": "1", "recv_window": 0}, "recv_window"),
    ({"asset": "BNB", "amount": "1", "recv_window": 60001}, "recv_window"),
    ({"asset": "BNB", "amount": "1", "recv_window": True}, "recv_window"),
    ({"asset": "BNB", "amount": "1", "recv_window": 5000.0}, "recv_window"),
]


@pytest.mark.parametrize(("kwargs", "param"), VALIDATION_CASES)
async def test_validation_before_any_io(
    client: PortfolioMarginClient, mock_http: aioresponses, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.margin.repay_debt(**kwargs)
    assert info.value.param == param
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, BinancePapiError)
    assert sent_requests(mock_http) == []
    assert client.session is None  # not even a session was opened


async def test_repay_all_guard_message_explains(client: PortfolioMarginClient) -> None:
    with pytest.raises(ValidationError, match="repay_all=True"):
        await client.margin.repay_debt("BNB")


# -- errors ----------------------------------------------------------------------------------


def _err(code: int, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg}


@pytest.mark.parametrize(
    ("status", "body", "headers", "exc_type"),
    [
        (400, _err(-1102, "Mandatory parameter 'asset' was not sent."), {}, BadRequestError),
        (401, _err(-2015, "Invalid API-key, IP, or permissions for action."), {}, None),
        (401, _err(-2014, "API-key format invalid."), {}, AuthenticationError),
        (400, _err(-1022, "Signature for this request is not valid."), {}, AuthenticationError),
        (400, _err(-1021, "Timestamp for this request is outside of the recvWindow."), {}, None),
        (429, _err(-1003, "Too many requests."), {"Retry-After": "17"}, RateLimitError),
        (
            418,
            _err(-1003, "Way too many requests; IP banned until 1."),
            {"Retry-After": "120"},
            None,
        ),
    ],
)
async def test_error_classes_on_a_read(
    client: PortfolioMarginClient,
    mock_http: aioresponses,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    exc_type: type[APIStatusError] | None,
) -> None:
    mock_http.get(BALANCE_URL, status=status, payload=body, headers=headers)
    with pytest.raises(APIStatusError) as info:
        await client.account.balance()
    err = info.value
    assert err.status == status
    assert err.code == body["code"]
    assert err.msg == body["msg"]
    assert err.method == "GET" and err.path == "/papi/v1/balance"
    assert err.body and b'"code"' in err.body
    assert str(body["code"]) in str(err)
    if body["code"] == -2015:
        assert isinstance(err, AuthenticationError)
        assert "whitelist" in str(err) and "permission" in str(err)
    if body["code"] == -1021:
        assert isinstance(err, TimestampError)
    if status == 429:
        assert isinstance(err, RateLimitError) and err.retry_after == 17.0
    if status == 418:
        assert isinstance(err, IPBannedError)
        assert err.retry_after == 120.0 and err.banned_until is not None
    if exc_type is not None:
        assert type(err) is exc_type


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"code":-1000,"msg":"Request occur unknown error."}'),
        (502, b"<html><body>Bad Gateway</body></html>"),
        (
            503,
            b'{"code":-1000,"msg":"Unknown error, please check your request or try again later."}',
        ),
        (
            408,
            b'{"code":-1007,"msg":"Timeout waiting for response from backend server. '
            b'Send status unknown; execution status unknown."}',
        ),
        (200, b"<html>captive portal</html>"),
        (504, b""),
    ],
)
async def test_trade_call_with_unknown_outcome(
    client: PortfolioMarginClient, mock_http: aioresponses, status: int, body: bytes
) -> None:
    mock_http.post(REPAY_URL, status=status, body=body, content_type="text/html")
    with pytest.raises(ExecutionStatusUnknown) as info:
        await client.margin.repay_debt("BNB", Decimal("0.1"), specify_repay_assets=["USDT"])
    err = info.value
    assert err.method == "POST" and err.path == "/papi/v1/margin/repay-debt"
    assert err.status == status and err.body == body
    assert err.params["asset"] == "BNB" and err.params["amount"] == "0.1"
    assert err.params["specifyRepayAssets"] == "USDT,BTC"[:4]
    assert "signature" not in err.params and "timestamp" in err.params
    assert err.sent_at > 0
    assert len(sent_requests(mock_http)) == 1  # never re-sent


@pytest.mark.parametrize(
    ("status", "body", "exc_type"),
    [
        (502, b"<html><body>Bad Gateway</body></html>", ServerError),
        (503, b'{"code":-1000,"msg":"Service Unavailable."}', ServerError),
        (400, b"", BadRequestError),
        (200, b"<html>captive portal</html>", UnexpectedResponseError),
        (200, b"", UnexpectedResponseError),
    ],
)
async def test_non_json_and_empty_bodies_on_a_read(
    client: PortfolioMarginClient,
    mock_http: aioresponses,
    status: int,
    body: bytes,
    exc_type: type[APIStatusError],
) -> None:
    mock_http.get(BALANCE_URL, status=status, body=body, content_type="text/html")
    with pytest.raises(exc_type) as info:
        await client.account.balance()
    assert info.value.body == body
    assert info.value.code is None or status == 503
    assert f"HTTP {status}" in str(info.value)


async def test_connection_refused_is_not_sent(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    exc = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("papi.binance.com", 443, True, True, None, None, None),
        OSError(111, "Connection refused"),
    )
    mock_http.post(REPAY_URL, exception=exc)
    with pytest.raises(APIConnectionError) as info:
        await client.margin.repay_debt("BNB", "1")
    assert info.value.sent is False
    assert not isinstance(info.value, ExecutionStatusUnknown)


@pytest.mark.parametrize(
    "exc",
    [aiohttp.ServerDisconnectedError(), asyncio.TimeoutError(), aiohttp.ClientPayloadError("x")],
)
async def test_failure_after_send(
    client: PortfolioMarginClient, mock_http: aioresponses, exc: Exception
) -> None:
    mock_http.post(REPAY_URL, exception=exc)
    with pytest.raises(ExecutionStatusUnknown) as info:
        await client.margin.repay_debt("BNB", "1")
    # The aiohttp exception is named, never chained (its message can hold the signed URL).
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert type(exc).__name__ in str(info.value) or isinstance(exc, asyncio.TimeoutError)
    mock_http.get(BALANCE_URL, exception=exc)
    with pytest.raises(APIConnectionError) as read_info:
        await client.account.balance()
    assert read_info.value.sent is True
    assert isinstance(read_info.value, APITimeoutError) == isinstance(exc, asyncio.TimeoutError)


async def test_per_call_connect_timeout_is_passed_to_aiohttp(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    mock_http.post(REPAY_URL, payload=REPAY_BODY)
    await client.margin.repay_debt("BNB", "1", timeout=Timeouts(total=2.5, connect=0.5))
    _, _, kwargs = only_request(mock_http)
    # The total timeout is the client's own (tests/integration/test_timeouts.py), not aiohttp's.
    assert kwargs["timeout"] == aiohttp.ClientTimeout(total=None, connect=0.5)


# -- any endpoint: request() ---------------------------------------------------------------


async def test_generic_request_reaches_any_endpoint(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    mock_http.post(REPAY_URL, payload=REPAY_BODY)
    data = await client.request(
        "POST",
        "/papi/v1/margin/repay-debt",
        {"asset": "BNB", "amount": Decimal("0.1"), "specifyRepayAssets": ["USDT", "BTC"]},
        security=Security.TRADE,
        weight=3000,
        weight_kind=WeightKind.ORDER,
    )
    assert data == REPAY_BODY
    payload, _ = split_signed(only_request(mock_http)[1])
    assert payload.startswith("asset=BNB&amount=0.1&specifyRepayAssets=USDT%2CBTC&timestamp=")


async def test_generic_request_unsigned_has_no_signature(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    mock_http.get("https://papi.binance.com/papi/v1/ping", payload={})
    assert await client.request("GET", "/papi/v1/ping", security="NONE") == {}
    _, url, _ = only_request(mock_http)
    assert url.raw_query_string == ""


async def test_request_takes_an_endpoint_spec_and_its_params(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    mock_http.post(REPAY_URL, payload=REPAY_BODY)
    data = await client.request(REPAY_DEBT, {"asset": "BNB", "amount": Decimal("0.1")})
    assert data == REPAY_BODY
    payload, _ = split_signed(only_request(mock_http)[1])
    assert payload.startswith("asset=BNB&amount=0.1&timestamp=")
    assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used == 3000  # the spec's charges


async def test_request_with_a_spec_refuses_what_only_a_declared_endpoint_takes(
    client: PortfolioMarginClient,
) -> None:
    with pytest.raises(ConfigurationError, match="EndpointSpec carries its own"):
        await client.request(REPAY_DEBT, {}, weight=1)  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="params given twice"):
        await client.request(REPAY_DEBT, {}, params={})  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="carries its path"):
        await client.request(REPAY_DEBT, "/papi/v1/x")  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="HTTP method and a path"):
        await client.request("GET")  # type: ignore[call-overload]


async def test_generic_request_refuses_float_and_bad_path(client: PortfolioMarginClient) -> None:
    with pytest.raises(ValidationError):
        await client.request("POST", "/papi/v1/x", {"amount": 0.1}, security="TRADE")
    with pytest.raises(ConfigurationError):
        await client.request("GET", "papi/v1/x")


async def test_signed_call_without_secret_is_refused_before_io(mock_http: aioresponses) -> None:
    async with unit_client(api_secret=None) as c:
        with pytest.raises(ConfigurationError, match="api_secret"):
            await c.margin.repay_debt("BNB", "1")
    assert sent_requests(mock_http) == []


def _closed(session: aiohttp.ClientSession) -> bool:
    return session.closed


# -- lifecycle -------------------------------------------------------------------------------


def test_constructed_outside_a_running_loop() -> None:
    client = unit_client()
    assert client.session is None

    async def use() -> None:
        with aioresponses() as m:
            m.get("https://papi.binance.com/papi/v1/ping", payload={})
            await client.market.ping()
        await client.aclose()

    asyncio.run(use())
    assert client.closed


async def test_owned_session_is_closed_and_aclose_idempotent(mock_http: aioresponses) -> None:
    mock_http.get("https://papi.binance.com/papi/v1/ping", payload={})
    client = unit_client()
    await client.market.ping()
    session = client.session
    assert session is not None and not session.closed
    connector = session.connector
    assert isinstance(connector, aiohttp.TCPConnector)
    # REST calls are bounded by the client's first-come-first-served gate (pool_size 64);
    # the connector itself is uncapped so a stream's WebSocket never takes a REST slot.
    assert connector.limit == 0 and connector.limit_per_host == 0
    gate = client._transport._gate
    assert gate is not None
    for _ in range(64):  # pool_size requests enter at once; one more would wait
        assert not gate.locked()
        await gate.acquire()
    assert gate.locked()
    for _ in range(64):
        gate.release()
    await client.aclose()
    await client.aclose()
    assert _closed(session) and client.closed
    with pytest.raises(ClientClosedError):
        await client.market.ping()


async def test_injected_session_is_never_closed(mock_http: aioresponses) -> None:
    mock_http.get("https://papi.binance.com/papi/v1/ping", payload={})
    async with aiohttp.ClientSession() as session:
        async with unit_client(session=session) as client:
            await client.market.ping()
            assert client.session is session
        assert not session.closed
        assert client.closed


@pytest.mark.parametrize(
    "url",
    [
        "http://papi.binance.com",
        "http://10.0.0.1:8080",
        "ftp://papi.binance.com",
        "papi.binance.com",
        "https://papi.binance.com/?x=1",
        "https://user:pw@papi.binance.com",
    ],
)
def test_base_url_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        unit_client(base_url=url)


@pytest.mark.parametrize(
    "url",
    ["https://papi.binance.com/", "http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:9"],
)
def test_base_url_accepted(url: str) -> None:
    assert unit_client(base_url=url).base_url == url.rstrip("/")


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        unit_client(recv_window=70000)
    with pytest.raises(ConfigurationError):
        unit_client(private_key="x")
    with pytest.raises(ConfigurationError):
        PortfolioMarginClient(" key ", API_SECRET)
    with pytest.raises(ConfigurationError):
        Timeouts(total=0)


def test_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANCE_API_KEY", "env-key-0123456789abcdef")
    monkeypatch.setenv("BINANCE_API_SECRET", "env-secret")
    client = PortfolioMarginClient()
    assert "env-" in repr(client) and "env-secret" not in repr(client)


# -- secrets ---------------------------------------------------------------------------------


async def test_secrets_never_leak(
    mock_http: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    signatures: list[str] = []
    async with unit_client() as client:
        texts.append(repr(client))
        texts.append(repr(client._transport.signer))
        mock_http.post(REPAY_URL, payload=REPAY_BODY)
        result = await client.margin.repay_debt("BNB", "1", specify_repay_assets=["USDT"])
        texts.append(repr(result))
        for status, body in [(401, _err(-2015, "Invalid")), (400, _err(-1022, "bad sig"))]:
            mock_http.post(REPAY_URL, status=status, payload=body)
            with pytest.raises(BinancePapiError) as info:
                await client.margin.repay_debt("BNB", "1")
            texts += [str(info.value), repr(info.value)]
        for exc in (aiohttp.ServerDisconnectedError(), asyncio.TimeoutError()):
            mock_http.post(REPAY_URL, exception=exc)
            with pytest.raises(ExecutionStatusUnknown) as unknown:
                await client.margin.repay_debt("BNB", "1")
            texts += [str(unknown.value), repr(unknown.value), repr(unknown.value.params)]
        mock_http.post(REPAY_URL, status=500, body=b"oops")
        with pytest.raises(ExecutionStatusUnknown) as unknown:
            await client.margin.repay_debt("BNB", "1")
        texts += [str(unknown.value), repr(unknown.value.params)]
        with pytest.raises(ValidationError) as bad:
            await client.margin.repay_debt("BNB", 0.5)  # type: ignore[arg-type]
        texts.append(str(bad.value))
        for _, url, _ in sent_requests(mock_http):
            signatures.append(split_signed(url)[1])
    texts.append(repr(client))
    texts += [r.getMessage() for r in caplog.records]
    blob = "\n".join(texts)
    assert API_SECRET not in blob
    assert API_KEY not in blob
    assert API_KEY[:4] + "..." + API_KEY[-4:] in repr(client)
    assert signatures and all(len(s) == 64 for s in signatures)
    for s in signatures:
        assert s not in blob
    assert "signature=" not in blob and "timestamp=" not in blob
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # logging did happen
