"""The value rules: JSON values to Python (``_decode``) and arguments to the wire (``_params``).

One set of rules for REST results and stream events; exact integer arithmetic for times.
"""

from __future__ import annotations

import collections
import enum
import string
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binance_papi_async import ValidationError
from binance_papi_async._decode import (
    EPOCH,
    MAX_MS,
    many,
    ms_to_datetime,
    object_map_or_none,
    objects,
    to_bool,
    to_bool_or_none,
    to_decimal,
    to_decimal_or_none,
    to_int,
    to_int_or_none,
    to_number_or_none,
    to_str,
    to_str_or_none,
    to_strs,
    to_time,
    to_time_or_none,
)
from binance_papi_async._params import (
    Arg,
    Arguments,
    check_assets,
    datetime_to_ms,
    exclusive,
    one_of,
    requires,
    to_wire,
    wire_bool,
    wire_decimal,
    wire_enum,
    wire_int,
    wire_recv_window,
    wire_str,
    wire_time,
)
from binance_papi_async.models import AssetBalance, RepayDebtResult
from binance_papi_async.models_generated import (
    GetUmAccountDetailResponse,
    UmFuturesSymbolConfigurationItem,
)
from binance_papi_async.stream_events import (
    ExecutionReport,
    OrderTradeUpdate,
    UnknownEvent,
    parse_event,
)

UTC = timezone.utc
aware = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(9999, 12, 30, 23, 59, 59, 999999),  # in range in UTC too
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5))]),
).filter(lambda d: d >= EPOCH)


def reference_ms(when: datetime) -> int:
    """Epoch milliseconds computed field by field (no timedelta division, no float)."""
    naive = when.astimezone(UTC).replace(tzinfo=None)
    days = (naive.date() - datetime(1970, 1, 1).date()).days
    seconds = days * 86_400 + naive.hour * 3600 + naive.minute * 60 + naive.second
    return seconds * 1000 + naive.microsecond // 1000


# -- times: exact both ways, over the whole range of datetime ---------------------------------


@settings(max_examples=500, deadline=None)
@given(st.integers(1, MAX_MS))
def test_epoch_milliseconds_round_trip_exactly(ms: int) -> None:
    when = to_time(ms)
    assert when.tzinfo is UTC
    assert datetime_to_ms(when) == ms == reference_ms(when)
    assert wire_time(when, "t") == str(ms) == to_wire(when) == wire_time(ms, "t")
    assert to_time(str(ms)) == when  # Binance sends some times as digit strings


@settings(max_examples=500, deadline=None)
@given(aware)
def test_datetimes_encode_to_their_floored_millisecond(when: datetime) -> None:
    ms = datetime_to_ms(when)
    assert ms == reference_ms(when)
    assert wire_time(when, "t") == to_wire(when, "t") == str(ms)
    assert ms_to_datetime(ms) == when.replace(microsecond=when.microsecond // 1000 * 1000)


def test_the_float_path_would_have_been_wrong_after_2038() -> None:
    # timestamp() * 1000 lands just below the integer, and int() truncates it.
    when = datetime(2108, 3, 9, 5, 47, 21, 464000, tzinfo=UTC)
    assert int(when.timestamp() * 1000) == 4360715241463  # what a float encoder sends
    assert to_wire(when) == wire_time(when, "t") == "4360715241464" == str(reference_ms(when))


@pytest.mark.parametrize("value", [0, -1, "0", "-1", None, ""])
def test_binance_no_time_is_none(value: object) -> None:
    assert to_time_or_none(value) is None
    with pytest.raises(ValueError):
        to_time(value)


@pytest.mark.parametrize("value", [-2, MAX_MS + 1, 1.5, True, "1e3", " 5", [1]])
def test_a_time_of_another_shape_is_an_error(value: object) -> None:
    with pytest.raises(ValueError):
        to_time_or_none(value)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1),
        -1,
        1.5,
        True,
        "1767323045678",
        datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
    ],
)
def test_time_arguments_of_another_shape_are_refused(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        wire_time(value, "start_time")
    assert info.value.param == "start_time"
    if isinstance(value, datetime):
        with pytest.raises(ValidationError):
            to_wire(value, "start_time")


# -- decimals ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_strings_are_read_exactly(value: Decimal) -> None:
    got = to_decimal(str(value))
    assert got.as_tuple() == value.as_tuple()  # digits, exponent: trailing zeros kept
    assert to_decimal_or_none(str(value)) == got == to_number_or_none(str(value))


@settings(max_examples=300, deadline=None)
@given(st.integers())
def test_integers_are_exact_decimals_and_ints(value: int) -> None:
    assert to_decimal(value) == Decimal(value)
    assert to_int(value) == to_int(str(value)) == value
    assert to_str(value) == str(value)


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False))
def test_a_json_number_field_reads_the_json_text(value: Decimal) -> None:
    # Binance's "number" fields (ratios, brackets): orjson gives a float, its shortest repr
    # gives back the JSON text's digits for up to 15 significant digits.
    parsed = orjson.loads(str(value).encode())
    assert to_number_or_none(parsed) == value
    if isinstance(parsed, float):
        with pytest.raises(ValueError):
            to_decimal(parsed)  # a decimal field never takes a float


@pytest.mark.parametrize("value", [0.1, True, "NaN", "Infinity", "-inf", "x", [], {}, None])
def test_a_decimal_of_another_shape_is_an_error(value: object) -> None:
    with pytest.raises(ValueError):
        to_decimal(value)


def test_empty_and_null_are_no_value() -> None:
    for read in (to_decimal_or_none, to_number_or_none, to_int_or_none, to_bool_or_none):
        assert read("") is None and read(None) is None
    assert to_str_or_none("") == "" and to_str_or_none(None) is None


# -- integers, booleans, text ----------------------------------------------------------------


@pytest.mark.parametrize("value", [1.0, 5.5, True, " 5", "+5", "5.0", "1_000", "٣", "", "-"])
def test_an_integer_of_another_shape_is_an_error(value: object) -> None:
    with pytest.raises(ValueError):
        to_int(value)


def test_booleans_are_json_booleans_or_their_strings() -> None:
    assert (to_bool(True), to_bool("true"), to_bool(False), to_bool("false")) == (
        True,
        True,
        False,
        False,
    )
    for value in (1, 0, "True", "yes", "1", None, ""):
        with pytest.raises(ValueError):
            to_bool(value)


@pytest.mark.parametrize("value", [1.5, True, [], {}, None])
def test_text_of_another_shape_is_an_error(value: object) -> None:
    with pytest.raises(ValueError):
        to_str(value)


def test_containers_never_skip_an_element() -> None:
    def parse(d: Any) -> Any:
        return dict(d)

    assert objects(parse, None) == () and to_strs(None) == ()
    for bad in ([{"a": 1}, 2], "x", {"a": 1}):
        with pytest.raises(ValueError):
            objects(parse, bad)
    with pytest.raises(ValueError):
        many(parse)(None)
    with pytest.raises(ValueError):
        object_map_or_none(parse, {"BTCUSDT": [1]})
    with pytest.raises(ValueError):
        to_strs(["A", 1.5])


# -- one set of rules: REST results and stream events read a value alike ----------------------


ORDER_EVENT: dict[str, Any] = {
    "e": "ORDER_TRADE_UPDATE", "fs": "UM", "E": 1568879465651, "T": 1568879465650,
    "o": {"s": "BTCUSDT", "c": "x", "S": "SELL", "o": "LIMIT", "f": "GTC", "q": "0.001",
          "p": "7000", "ap": "0", "sp": "0", "x": "NEW", "X": "NEW", "i": 8886774, "l": "0",
          "z": "0", "L": "0", "T": 1568879465650, "t": 0, "b": "0", "a": "9.91", "m": False,
          "R": False, "ps": "BOTH", "rp": "0", "V": "EXPIRE_TAKER", "gtd": 0},
}  # fmt: skip
EXECUTION_REPORT: dict[str, Any] = {
    "e": "executionReport", "E": 1, "s": "BTCUSDT", "c": "x", "S": "BUY", "o": "LIMIT",
    "f": "GTC", "q": "1", "p": "1", "P": "0", "F": "0", "g": -1, "C": "", "x": "NEW",
    "X": "NEW", "r": "NONE", "i": 1, "l": "0", "z": "0", "L": "0", "n": "0", "N": None,
    "T": 0, "t": -1, "I": 7, "w": True, "m": False, "O": 1, "Z": "0", "Y": "0", "Q": "0",
    "W": 1, "V": "NONE",
}  # fmt: skip
BALANCE: dict[str, Any] = {
    "asset": "USDT", "totalWalletBalance": "1", "crossMarginBorrowed": "0",
    "crossMarginFree": "1", "crossMarginInterest": "0", "crossMarginLocked": "0",
    "umWalletBalance": "0", "cmWalletBalance": "0", "updateTime": 1617939110373,
}  # fmt: skip


def _event(**order: Any) -> Any:
    return parse_event({**ORDER_EVENT, "o": {**ORDER_EVENT["o"], **order}})


def test_a_float_amount_is_refused_by_rest_and_stream_alike() -> None:
    with pytest.raises(ValueError):
        AssetBalance.from_json({**BALANCE, "crossMarginFree": 1.5})
    event = _event(q=0.001)
    assert isinstance(event, UnknownEvent) and "float" in (event.error or "")


SYMBOL_CONFIG = {
    "symbol": "BTCUSDT",
    "marginType": "CROSSED",
    "isAutoAddMargin": "false",
    "leverage": 21,
    "maxNotionalValue": "1000000",
}


def test_a_boolean_string_is_read_by_rest_and_stream_alike() -> None:
    config = UmFuturesSymbolConfigurationItem.from_json(SYMBOL_CONFIG)
    assert config.is_auto_add_margin is False
    event = _event(R="true")
    assert isinstance(event, OrderTradeUpdate) and event.reduce_only is True


def test_time_zero_is_none_in_rest_and_stream_alike() -> None:
    position = {
        "symbol": "BTCUSDT", "initialMargin": "0", "maintMargin": "0", "unrealizedProfit": "0",
        "positionInitialMargin": "0", "openOrderInitialMargin": "0", "leverage": "100",
        "entryPrice": "0.0", "maxNotional": "250000", "bidNotional": "0", "askNotional": "0",
        "positionSide": "BOTH", "positionAmt": "0", "updateTime": 0,
    }  # fmt: skip
    detail = GetUmAccountDetailResponse.from_json({"assets": [], "positions": [position]})
    assert detail.positions[0].update_time is None
    assert AssetBalance.from_json({**BALANCE, "updateTime": 0}).update_time is None
    event = _event(T=0)
    assert isinstance(event, OrderTradeUpdate) and event.trade_time is None
    report = parse_event(EXECUTION_REPORT)
    assert isinstance(report, ExecutionReport) and report.transaction_time is None
    assert report.commission_asset is None and report.trade_id == -1


# -- argument encoders ------------------------------------------------------------------------


class Side(str, enum.Enum):
    BUY = "BUY"


def test_encoders_refuse_what_the_rules_refuse() -> None:
    cases: list[tuple[Callable[[object, str], str], object]] = [
        (wire_bool, "true"), (wire_bool, 1), (wire_int, True), (wire_int, 1.0),
        (wire_str, ""), (wire_str, 5), (wire_decimal, 0.5), (wire_decimal, "0"),
        (wire_decimal, True), (wire_recv_window, 0), (wire_recv_window, 60001),
    ]  # fmt: skip
    for encode, value in cases:
        with pytest.raises(ValidationError) as info:
            encode(value, "x")
        assert info.value.param == "x", (encode, value)
    assert wire_enum(Side.BUY, "side") == "BUY"
    assert wire_decimal(Decimal("1E-8"), "x") == "0.00000001"
    assert wire_recv_window(60000, "recv_window") == "60000"


ORDER = Arguments(
    Arg("symbol", "symbol", wire_str, required=True),
    Arg("type", "type", wire_enum, required=True),
    Arg("timeInForce", "time_in_force", wire_enum),
    Arg("quantity", "quantity", wire_decimal),
    Arg("price", "price", wire_decimal),
    Arg("priceMatch", "price_match", wire_enum),
    Arg("orderId", "order_id", wire_int),
    Arg("origClientOrderId", "orig_client_order_id", wire_str),
    Arg("goodTillDate", "good_till_date", wire_time),
    rules=(
        exclusive("price_match", "price"),
        requires("good_till_date", "time_in_force"),
        one_of("order_id", "orig_client_order_id"),
    ),
    mandatory={
        "type": {"LIMIT": ("time_in_force", "quantity", "price")},
        "time_in_force": {"GTD": ("good_till_date",)},
    },
)


def _encode(**given: object) -> dict[str, str]:
    return ORDER.encode(*(given.get(name) for name in ORDER.names))


@pytest.mark.parametrize(
    ("given", "param"),
    [
        ({"price": 1, "price_match": "QUEUE"}, "price"),  # rules first, in declared order
        ({"good_till_date": 1}, "time_in_force"),
        ({}, "order_id"),
        ({"order_id": 1, "symbol": None}, "symbol"),  # then each value, in declared order
        ({"order_id": 1.5}, "symbol"),
        ({"order_id": 1.5, "symbol": "S", "type": "MARKET"}, "order_id"),
        ({"order_id": 1, "symbol": "S", "type": "LIMIT", "quantity": 1}, "time_in_force"),
        ({"order_id": 1, "symbol": "S", "type": "LIMIT", "time_in_force": "GTC"}, "quantity"),
        (
            {"order_id": 1, "symbol": "S", "type": "MARKET", "time_in_force": "GTD"},
            "good_till_date",
        ),
    ],
)
def test_arguments_name_the_first_parameter_at_fault(given: dict[str, object], param: str) -> None:
    with pytest.raises(ValidationError) as info:
        _encode(**given)
    assert info.value.param == param


def test_arguments_encode_given_values_and_leave_out_none() -> None:
    sent = _encode(
        symbol="BTCUSDT", type=Side.BUY, order_id=7, quantity=Decimal("0.010"), price=None
    )
    assert sent == {"symbol": "BTCUSDT", "type": "BUY", "quantity": "0.010", "orderId": "7"}
    with pytest.raises((IndexError, ValueError)):
        ORDER.encode("BTCUSDT")  # a value per declared parameter, or a generator bug


# -- decimal arguments: plain on the wire, or refused ------------------------------------------

decimal_arguments = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=Decimal("1e-20"), max_value=Decimal("1e19"), places=20),
    st.builds(
        lambda digits, exp: Decimal(f"{digits}E{exp}"),
        st.integers(-(10**25), 10**25),
        st.integers(-40, 25),
    ),
    # trailing zeros beyond the 18th place, and more digits than the default precision
    st.builds(lambda d: Decimal(f"{d:f}{'0' * 30}"), st.decimals(1, 10, places=8)),
)


def plain_or_refused(value: Decimal) -> str | None:
    """The rule, independently: finite, > 0, below 10**18, no digit beyond the 18th place."""
    if not value.is_finite() or value <= 0 or value >= Decimal(10) ** 18:
        return None
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if exponent + trailing_zeros < -18:
        return None
    return format(value, "f")


@settings(max_examples=500, deadline=None)
@given(decimal_arguments)
def test_decimal_arguments_are_sent_plain_or_refused(value: Decimal) -> None:
    expected = plain_or_refused(value)
    if expected is None:
        with pytest.raises(ValidationError):
            wire_decimal(value, "x")
    else:
        got = wire_decimal(value, "x")
        assert got == expected and "E" not in got and "e" not in got
        assert wire_decimal(got, "x") == got  # its plain str is read as the same number


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal("1E+2"), "100"), (Decimal("1E+17"), "100000000000000000"),
        (Decimal("1E-7"), "0.0000001"), (Decimal("1.50"), "1.50"), (5, "5"),
        ("1.5", "1.5"), ("0.001", "0.001"), ("007.50", "7.50"),
        (Decimal("999999999999999999.999999999999999999"), "999999999999999999.999999999999999999"),
        (Decimal("0.1" + "0" * 30), "0.1" + "0" * 30),  # trailing zeros are kept
    ],
)  # fmt: skip
def test_decimal_argument_edges(value: object, wire: str) -> None:
    assert wire_decimal(value, "x") == wire


@pytest.mark.parametrize(
    "value",
    [
        *(0.5, True, None, "1e-30", "abc", [1]),
        # A money string is ASCII digits with at most one point, a digit on each side.
        *("1_000", "\uff11", "\u0661\u0660", " 2", "2 ", "+1", "-1", ".5", "5.", "1e3", ""),
        *map(Decimal, ("-0", "-0.5", "0", "0E+3", "0.000", "0E-30", "NaN", "-NaN", "sNaN")),
        *map(Decimal, ("Infinity", "-Infinity", "1E+18", "1234567890123456789")),
        *map(Decimal, ("0.1234567890123456789", "1.0000000000000000001", "1E-999999999")),
    ],
)
def test_decimal_arguments_refused(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        wire_decimal(value, "amount")
    assert info.value.param == "amount"


def test_generic_decimals_keep_their_sign_and_bounds() -> None:
    assert to_wire(Decimal("-1.50")) == "-1.50" and to_wire(Decimal("0E-5")) == "0.00000"
    for bad in (Decimal("0E-999999999"), Decimal("-1E+18"), Decimal("1E-19")):
        with pytest.raises(ValidationError):
            to_wire(bad, "x")


# -- asset codes ----------------------------------------------------------------------------

asset_texts = st.text(alphabet=string.ascii_uppercase + string.digits + "a,-", max_size=5)


@settings(max_examples=500, deadline=None)
@given(st.lists(asset_texts, max_size=4), st.booleans())
def test_asset_lists_are_distinct_codes_comma_joined(items: list[str], as_tuple: bool) -> None:
    value: Sequence[str] = tuple(items) if as_tuple else list(items)
    valid = (
        bool(items)
        and all(i and i.isalnum() and i == i.upper() and i.isascii() for i in items)
        and len(set(items)) == len(items)
    )
    if valid:
        assert check_assets(value, "x") == ",".join(items)
    else:
        with pytest.raises(ValidationError):
            check_assets(value, "x")


@pytest.mark.parametrize("value", [[["USDT"]], ["USDT", 5], "USDT", b"USDT", [], ["A,B"], None])
def test_asset_lists_of_another_shape_are_refused(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        check_assets(value, "specify_repay_assets")
    assert info.value.param == "specify_repay_assets"


def test_any_sequence_of_asset_codes_is_a_list() -> None:
    assert check_assets(("BTC",), "x") == "BTC"
    assert check_assets(collections.UserList(["USDT", "BTC"]), "x") == "USDT,BTC"


# -- RepayDebtResult reads its values by the rules -----------------------------------------

REPAY_JSON: dict[str, Any] = {
    "amount": "0.10000000",
    "asset": "BNB",
    "specifyRepayAssets": ["USDT", "BTC"],
    "updateTime": 1636371437000,
    "success": True,
}


def test_repay_result_is_exact() -> None:
    result = RepayDebtResult.from_json(REPAY_JSON)
    assert result == RepayDebtResult(
        asset="BNB",
        amount=Decimal("0.10000000"),
        specify_repay_assets=("USDT", "BTC"),
        update_time=datetime(2021, 11, 8, 11, 37, 17, tzinfo=UTC),
        success=True,
        raw=REPAY_JSON,
    )
    assert str(result.amount) == "0.10000000"  # trailing zeros kept


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("amount", 1, Decimal(1)),
        ("specifyRepayAssets", None, ()),
        ("success", None, False),
        ("success", "true", True),
    ],
)
def test_repay_result_reads_values_by_the_decoding_rules(
    field: str, value: object, expected: object
) -> None:
    result = RepayDebtResult.from_json({**REPAY_JSON, field: value})
    attribute = {"amount": "amount", "specifyRepayAssets": "specify_repay_assets"}
    assert getattr(result, attribute.get(field, field)) == expected


@pytest.mark.parametrize(
    ("field", "value"), [("amount", 0.1), ("amount", "NaN"), ("success", 1), ("updateTime", 0)]
)
def test_repay_result_refuses_a_value_of_another_shape(field: str, value: object) -> None:
    with pytest.raises(ValueError):
        RepayDebtResult.from_json({**REPAY_JSON, field: value})
