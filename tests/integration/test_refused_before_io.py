"""Bad input and bad configuration, against the simulator over loopback: refused with a
typed error naming what is wrong, before any byte is sent, before the first clock sync
and before any rate budget is spent.

Strings UTF-8 cannot encode, paths outside papi's grammar, money strings that are not
plain ASCII decimals; and, at construction, keys, secrets and base URLs that cannot be
right.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from binance_papi_async import (
    BadRequestError,
    Budget,
    ConfigurationError,
    PortfolioMarginClient,
    ValidationError,
)
from binance_papi_async.endpoints import EndpointSpec, Security
from binance_papi_async.testing import PapiSimulator

KEY = "refuse-key-0123456789abcdef"
SECRET = "refuse-secret-0123456789abcdef"

Call = Callable[[PortfolioMarginClient], Awaitable[Any]]


def nothing_spent_or_sent(sim: PapiSimulator, client: PortfolioMarginClient) -> None:
    assert sim.requests == []  # not even the first clock sync's GET /papi/v1/time
    limits = client.rate_limits
    assert limits.get(Budget.REQUEST_WEIGHT).used == 0
    assert limits.get(Budget.ORDERS).used == 0


async def refused(sim: PapiSimulator, call: Call) -> ValidationError:
    """The ValidationError of ``call`` on a fresh client (clock never synced)."""
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url) as client:
        with pytest.raises(ValidationError) as info:
            await call(client)
        nothing_spent_or_sent(sim, client)
    return info.value


# -- strings UTF-8 cannot encode ----------------------------------------------------------------

LONE = "\ud800"  # a lone surrogate: a str Python holds, bytes UTF-8 cannot make

UNENCODABLE: list[tuple[Call, str]] = [
    (
        lambda c: c.um.new_order(
            symbol=f"BTC{LONE}", side="BUY", type="MARKET", quantity=Decimal("0.01")
        ),
        "symbol",
    ),
    (
        lambda c: c.um.new_order(
            symbol="BTCUSDT",
            side="BUY",
            type="MARKET",
            quantity=Decimal("0.01"),
            new_client_order_id="id-\udc80",
        ),
        "new_client_order_id",
    ),
    (lambda c: c.margin.new_order(symbol="BTCUSDT", side=f"B{LONE}", type="MARKET"), "side"),  # type: ignore[call-overload]
    (lambda c: c.account.balance(f"BNB{LONE}"), "asset"),
    (lambda c: c.request("GET", "/papi/v1/balance", {"asset": f"{LONE}BNB"}), "asset"),
    (lambda c: c.request("GET", "/papi/v1/balance", {f"as{LONE}set": "BNB"}), f"as{LONE}set"),
    (
        lambda c: c.request("GET", "/papi/v1/um/allOrders", {"symbol": ["BTCUSDT", LONE]}),
        "symbol",
    ),
]


@pytest.mark.parametrize(("call", "param"), UNENCODABLE)
async def test_a_string_utf8_cannot_encode_is_refused_naming_the_parameter(
    sim: PapiSimulator, call: Call, param: str
) -> None:
    error = await refused(sim, call)
    assert error.param == param
    str(error).encode()  # the message itself can be written to a UTF-8 log


# -- paths ----------------------------------------------------------------------------------------

BAD_PATHS = [
    "/papi/v1/a b",  # a space would go raw onto the request line
    "/papi/v1/balance#frag",  # a fragment would be dropped silently
    "/papi/v1/balance?asset=BNB",  # a query belongs in params
    "/papi/v1/bal\x00ance",
    "/papi/v1/bal\r\nX-Injected: 1",
    "/papi/v1/\u00e9",
    "/papi/v1/../v1/balance",
    "/papi/v1/./balance",
    "/papi/v1/balance/",
    "/papi/v1/a%20b",
    "/papi/v1",
    "papi/v1/balance",
    "//evil.example/papi/v1/balance",
    "/wapi/v1/balance",
    "",
]


@pytest.mark.parametrize("path", BAD_PATHS)
async def test_a_path_outside_papis_grammar_is_refused_before_io(
    sim: PapiSimulator, path: str
) -> None:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url) as client:
        with pytest.raises(ConfigurationError, match="path must look like"):
            await client.request("GET", path, security="USER_DATA")
        spec = EndpointSpec(name="x", method="GET", path=path, security=Security.NONE, weight=1)
        with pytest.raises(ConfigurationError, match="path must look like"):
            await client.request(spec)
        nothing_spent_or_sent(sim, client)


async def test_paths_of_papis_grammar_are_sent_as_given(sim: PapiSimulator) -> None:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url) as client:
        await client.request("GET", "/papi/v1/repay-futures-switch", security="USER_DATA")
        await client.request("GET", "/papi/v2/um/account", security="USER_DATA", weight=5)
    assert [r.path for r in sim.requests if r.path != "/papi/v1/time"] == [
        "/papi/v1/repay-futures-switch",
        "/papi/v2/um/account",
    ]


# -- money strings --------------------------------------------------------------------------------

BAD_MONEY = [
    "1_000", "1_00",  # Decimal() reads them as 1000 and 100
    "\uff11", "\u0661\u0660", "\u0967",  # full-width, Arabic-Indic, Devanagari digits
    "  2  ", "2 ", "\t2", "2\n",
    "1e3", "1E-8", "+1", "-1", ".5", "5.", "1.2.3", "1,5", "0x10", "Infinity", "NaN", "",
]  # fmt: skip

MONEY_CALLS = [
    pytest.param("amount", lambda v: lambda c: c.margin.repay_debt("BNB", v), id="repay_debt"),
    pytest.param(
        "quantity",
        lambda v: lambda c: c.um.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=v),
        id="um.new_order",
    ),
    pytest.param(
        "price",
        lambda v: (
            lambda c: c.cm.new_order(
                symbol="BTCUSD_PERP",
                side="BUY",
                type="LIMIT",
                quantity="1",
                price=v,
                time_in_force="GTC",
            )
        ),
        id="cm.new_order",
    ),
    pytest.param(
        "amount",
        lambda v: lambda c: c.account.bnb_transfer(amount=v, transfer_side="TO_UM"),
        id="bnb_transfer",
    ),
    pytest.param(
        "amount", lambda v: lambda c: c.margin.borrow(asset="USDT", amount=v), id="borrow"
    ),
]


@pytest.mark.parametrize("value", BAD_MONEY)
@pytest.mark.parametrize(("param", "call"), MONEY_CALLS)
async def test_a_money_string_that_is_not_a_plain_ascii_decimal_is_refused(
    sim: PapiSimulator, param: str, call: Callable[[str], Call], value: str
) -> None:
    error = await refused(sim, call(value))
    assert error.param == param


@pytest.mark.parametrize(("value", "wire"), [("0.5", "0.5"), ("007.50", "7.50"), ("12", "12")])
async def test_a_plain_money_string_is_sent_as_its_number(
    sim: PapiSimulator, value: str, wire: str
) -> None:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url) as client:
        await client.margin.borrow(asset="USDT", amount=value)
    (record,) = [r for r in sim.requests if r.path == "/papi/v1/marginLoan"]
    assert f"&amount={wire}&" in f"&{record.query}"


# -- construction ---------------------------------------------------------------------------

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIHd7mQ4mKc8wWn1mC8s4p2Bq1b0z0n7d8Xr4sJm0b1cQ\n"
    "-----END PRIVATE KEY-----\n"
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api_key": 12345}, "api_key must be a str, not int"),
        ({"api_key": b"key-bytes"}, "api_key must be a str, not bytes"),
        ({"api_key": "key with space"}, "printable ASCII without spaces"),
        ({"api_key": "key\n"}, "printable ASCII without spaces"),
        ({"api_key": "k\u00e9y"}, "printable ASCII without spaces"),
        ({"api_secret": PEM}, "pass an RSA or Ed25519 private key as private_key="),
        ({"api_secret": PEM.strip()}, "private_key="),
        ({"api_secret": SECRET + "\n"}, "leading or trailing whitespace"),
        ({"api_secret": " " + SECRET}, "leading or trailing whitespace"),
        ({"api_secret": 12345}, "api_secret must be a str, not int"),
        ({"api_secret": f"s{LONE}"}, "UTF-8 cannot encode"),
        ({"base_url": "https://papi.binance.com/papi/v1/"}, "use 'https://papi.binance.com'"),
        ({"base_url": "https://papi.binance.com/papi/v1"}, "scheme, host and port only"),
        ({"base_url": "https://proxy.example/binance"}, "scheme, host and port only"),
        ({"base_url": "https://papi.binance.com/?x=1"}, "query, fragment or credentials"),
        ({"base_url": "https://papi.binance.com/#x"}, "query, fragment or credentials"),
        ({"base_url": "https://user:pw@papi.binance.com"}, "query, fragment or credentials"),
        ({"base_url": "http://papi.binance.com"}, "must use https://"),
        ({"base_url": 443}, "base_url must be a str"),
    ],
)
def test_a_configuration_that_cannot_work_is_refused_at_construction(
    kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {"api_key": KEY, "api_secret": SECRET, **kwargs}
    with pytest.raises(ConfigurationError, match=message.replace("?", r"\?")) as info:
        PortfolioMarginClient(**args)
    assert SECRET not in str(info.value) and "MC4CAQAw" not in str(info.value)


def test_a_secret_from_the_environment_with_a_newline_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BINANCE_API_KEY", KEY)
    monkeypatch.setenv("BINANCE_API_SECRET", SECRET + "\n")
    with pytest.raises(ConfigurationError, match="BINANCE_API_SECRET"):
        PortfolioMarginClient()


async def test_an_error_names_the_full_path_the_server_saw(sim: PapiSimulator) -> None:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url + "/") as client:
        with pytest.raises(BadRequestError) as info:
            await client.um.query_order(symbol="BTCUSDT", order_id=42)
    (record,) = [r for r in sim.requests if r.path != "/papi/v1/time"]
    assert record.path == info.value.path == "/papi/v1/um/order"
    assert str(info.value).startswith("GET /papi/v1/um/order -> HTTP 400")
