"""The generated papi surface: table, client methods, parameter encoders and models.

The coverage tests compare the client with a list derived here, independently of
the generator, from spec/papi/endpoints.json.  Calls go to a fake transport that records the
spec and parameters and answers with the doc example from responses.json.
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

import orjson
import pytest

from binance_papi_async import PortfolioMarginClient, ValidationError
from binance_papi_async import endpoints as endpoints_pkg
from binance_papi_async._params import (
    to_wire,
    wire_bool,
    wire_decimal,
    wire_enum,
    wire_int,
    wire_str,
    wire_time,
)
from binance_papi_async.api import _generated
from binance_papi_async.api.cm import CmAPI
from binance_papi_async.api.um import UmAPI
from binance_papi_async.endpoints import Budget, Charge, EndpointSpec, Security
from binance_papi_async.endpoints._table import TABLE
from binance_papi_async.models_generated import (
    RESPONSE_MODELS,
    NewUmOrderResponse,
)

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "spec" / "papi"

# -- the independent list -----------------------------------------------------------------

_PLACES_ORDERS = re.compile(r"/(?:order|order/oco|conditional/order|algo/order|batchOrders)$")


@dataclass(frozen=True)
class Expected:
    name: str
    method: str
    path: str
    security: str
    charges: tuple[Charge, ...]
    params: tuple[tuple[str, str, bool], ...]
    example: Any = field(default=None, compare=False)


def _expected_orders(method: str, path: str, weight_kind: str) -> int:
    if method == "POST" and path.endswith("/order/oco"):
        return 2  # "OCO counts as 2 orders against the order rate limit"
    if weight_kind == "ORDER":
        return 1
    return 1 if method in ("POST", "PUT") and _PLACES_ORDERS.search(path) else 0


def _responses() -> dict[str, Any]:
    """responses.json, with the required fields Binance added after a doc example was
    written put into that example (overrides.json ``example_additions``)."""
    responses: dict[str, Any] = json.loads((SPEC / "responses.json").read_text("utf-8"))
    overrides = json.loads((SPEC / "overrides.json").read_text(encoding="utf-8"))
    for route, added in overrides["example_additions"]["by_route"].items():
        responses[route]["example"] = {**responses[route]["example"], **added}
    return responses


RESPONSES = _responses()


def _expected() -> list[Expected]:
    ops = json.loads((SPEC / "endpoints.json").read_text(encoding="utf-8"))
    responses = RESPONSES
    # An operation whose weight no page gives is charged the largest IP weight of a page.
    unknown = max(op["weight"] for op in ops if op["weight"] and op["weight_kind"] == "IP")
    out = []
    for op in ops:
        weight = unknown if op["weight"] is None else op["weight"]
        charges = [Charge(Budget.REQUEST_WEIGHT, weight)]
        n = _expected_orders(op["method"], op["path"], op["weight_kind"])
        if n:
            charges.append(Charge(Budget.ORDERS, n))
        example = responses[f"{op['method']} {op['path']}"]["example"]
        params = tuple((p["name"], p["type"], p["required"]) for p in op["params"])
        out.append(
            Expected(
                op["name"],
                op["method"],
                op["path"],
                op["security"],
                tuple(charges),
                params,
                example,
            )
        )
    return out


EXPECTED = _expected()


def test_table_lists_every_operation_once() -> None:
    # endpoints.json's operations, and the undocumented GET /papi/v1/time (overrides.json).
    assert len(TABLE) == len(EXPECTED) + 1 == 105
    assert len({(s.method, s.path) for s in TABLE}) == 105
    assert len({s.name for s in TABLE}) == 105
    by_route: dict[tuple[str, str], EndpointSpec] = {(s.method, s.path): s for s in TABLE}
    for exp in EXPECTED:
        spec = by_route[(exp.method, exp.path)]
        assert spec.name == exp.name
        assert spec.security.value == exp.security
        assert spec.charges == exp.charges, exp.name
        assert tuple((p.name, p.type, p.required) for p in spec.params) == exp.params
        for p in spec.params:
            assert p.py_name == re.sub(r"(?<!^)(?=[A-Z])", "_", p.name).lower() or p.name.isupper()


def test_handwritten_specs_are_the_generated_ones() -> None:
    by_name = {s.name: s for s in TABLE}
    assert endpoints_pkg.REPAY_DEBT is by_name["margin_account_repay_debt"]
    assert endpoints_pkg.ACCOUNT_BALANCE is by_name["account_balance"]
    assert endpoints_pkg.ACCOUNT_INFORMATION is by_name["account_information"]
    assert endpoints_pkg.QUERY_USER_RATE_LIMIT is by_name["query_user_rate_limit"]
    assert endpoints_pkg.PING is by_name["test_connectivity"]
    assert endpoints_pkg.SERVER_TIME.path == "/papi/v1/time"  # hand-written: not in the JSON
    assert endpoints_pkg.REPAY_DEBT.charges == (
        Charge(Budget.REQUEST_WEIGHT, 3000),
        Charge(Budget.ORDERS, 1),
    )


def test_the_registry_is_the_generated_table() -> None:
    assert endpoints_pkg.TABLE is TABLE
    assert {(s.method, s.path): s for s in TABLE} == endpoints_pkg.BY_ROUTE
    assert {s.name: s for s in TABLE} == endpoints_pkg.BY_NAME
    assert endpoints_pkg.BY_ROUTE["GET", "/papi/v1/time"] is endpoints_pkg.SERVER_TIME
    assert endpoints_pkg.SERVER_TIME.security is Security.NONE
    assert endpoints_pkg.SERVER_TIME.charges == (Charge(Budget.REQUEST_WEIGHT, 1),)
    assert not hasattr(endpoints_pkg, "ALL_ENDPOINTS")


def test_orders_rule_hits_the_order_placing_endpoints() -> None:
    extra = {
        f"{s.method} {s.path}"
        for s in TABLE
        if s.weight_kind.value == "IP" and any(c.budget is Budget.ORDERS for c in s.charges)
    }
    assert extra == {
        "POST /papi/v1/cm/order",
        "POST /papi/v1/margin/order",
        "POST /papi/v1/cm/conditional/order",
        "POST /papi/v1/um/algo/order",
    }


# -- calling every operation through a fake transport --------------------------------------


class FakeTransport:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[tuple[EndpointSpec, dict[str, str], dict[str, Any]]] = []

    async def request(self, spec: EndpointSpec, params: dict[str, str], **kw: Any) -> Any:
        self.calls.append((spec, params, kw))
        parse = kw.get("parse")
        if self.answer is None:  # no doc example: an empty body of a shape
            empties: tuple[Any, ...] = ({}, [])
            for empty in empties:
                try:
                    return empty if parse is None else parse(empty)
                except (TypeError, KeyError, AttributeError):  # a model that needs fields
                    continue
            return None
        return self.answer if parse is None else parse(self.answer)


def _bind(ns_cls: type[Any], answer: Any) -> tuple[Any, FakeTransport]:
    transport = FakeTransport(answer)
    fake_client = types.SimpleNamespace(_transport=transport)
    return ns_cls(cast(PortfolioMarginClient, fake_client)), transport


def _value_for(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is Literal:
        return args[0]
    if args:  # a union: take the first non-None member
        members = [a for a in args if a is not type(None)]
        if Decimal in members:
            return Decimal("1.5")
        if datetime in members:
            return datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
        return _value_for(members[0])
    return {str: "BTCUSDT", bool: True, int: 7}[annotation]


_HANDWRITTEN_ARGS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "repay_debt": (("BNB", Decimal("0.1")), {}),
}


async def _call_with_minimal_args(method: Any, name: str) -> Any:
    if name in _HANDWRITTEN_ARGS:
        args, kwargs = _HANDWRITTEN_ARGS[name]
        return await method(*args, **kwargs)
    hints = typing.get_type_hints(method)
    kwargs = {
        pname: _value_for(hints[pname])
        for pname, p in inspect.signature(method).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty
    }
    for _ in range(5):  # satisfy "either X or Y" rules one parameter at a time
        try:
            return await method(**kwargs)
        except ValidationError as exc:
            assert exc.param is not None and exc.param not in kwargs, exc
            kwargs[exc.param] = _value_for(hints[exc.param])
    raise AssertionError(f"{name}: could not satisfy the parameter rules")  # pragma: no cover


@pytest.mark.parametrize("exp", EXPECTED, ids=lambda e: e.name)
async def test_every_operation_is_a_client_method(exp: Expected) -> None:
    ns_name, meth_name = _generated.METHODS[exp.name]
    client = PortfolioMarginClient("k", "s", base_url="http://127.0.0.1:1")
    try:
        ns = getattr(client, ns_name)
        assert inspect.iscoroutinefunction(getattr(ns, meth_name))
        ns_cls = type(ns)
    finally:
        await client.aclose()
    answer = exp.example
    bound, transport = _bind(ns_cls, answer)
    result = await _call_with_minimal_args(getattr(bound, meth_name), meth_name)
    [(spec, params, kw)] = transport.calls
    assert (spec.method, spec.path, spec.security.value) == (exp.method, exp.path, exp.security)
    assert spec.charges == exp.charges
    assert all(isinstance(v, str) for v in params.values())
    assert "timeout" in kw
    if exp.method == "GET" and spec.name != "test_connectivity":
        assert "retry" in kw
    if exp.example is not None and isinstance(answer, list) and answer:
        assert isinstance(result, tuple) and len(result) == len(answer)


def test_methods_table_is_complete_and_unique() -> None:
    assert set(_generated.METHODS) == {s.name for s in TABLE}
    assert len(set(_generated.METHODS.values())) == len(_generated.METHODS)
    assert _generated.METHODS["new_um_order"] == ("um", "new_order")
    assert _generated.METHODS["cancel_um_order"] == ("um", "cancel_order")
    assert _generated.METHODS["query_um_order"] == ("um", "query_order")
    assert _generated.METHODS["margin_account_repay_debt"] == ("margin", "repay_debt")


# -- parameter encoders ---------------------------------------------------------------------


def test_decimal_params_are_plain_strings_and_floats_are_refused() -> None:
    assert wire_decimal(Decimal("1E-8"), "price") == "0.00000001"
    assert wire_decimal(Decimal("25000.10"), "price") == "25000.10"
    assert wire_decimal("0.5", "price") == "0.5"
    assert wire_decimal(3, "price") == "3"
    for bad in (0.1, True, Decimal("NaN"), Decimal(0), "x", None):
        with pytest.raises(ValidationError) as info:
            wire_decimal(bad, "price")
        assert info.value.param == "price"


def test_bool_params_are_true_false() -> None:
    assert wire_bool(True, "reduce_only") == "true"
    assert wire_bool(False, "reduce_only") == "false"
    for bad in ("true", 1, None):
        with pytest.raises(ValidationError, match="reduce_only"):
            wire_bool(bad, "reduce_only")


def test_times_are_exact_epoch_milliseconds() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=timezone.utc)
    assert wire_time(when, "start_time") == "1767323045678"
    east = when.astimezone(timezone(timedelta(hours=8)))
    assert wire_time(east, "start_time") == "1767323045678"
    assert wire_time(1767323045678, "start_time") == "1767323045678"
    for bad in (datetime(2026, 1, 2), -1, 1.5, True, "1767323045678"):
        with pytest.raises(ValidationError) as info:
            wire_time(bad, "start_time")
        assert info.value.param == "start_time"


def test_int_str_and_enum_encoders() -> None:
    assert wire_int(2**63 - 1, "order_id") == "9223372036854775807"
    with pytest.raises(ValidationError):
        wire_int(True, "order_id")
    with pytest.raises(ValidationError, match="symbol must be a non-empty str"):
        wire_str(None, "symbol")
    with pytest.raises(ValidationError):
        wire_str("", "symbol")
    assert wire_enum("BUY", "side") == "BUY"


def test_lists_are_comma_joined() -> None:
    assert to_wire(["USDT", "BTC"], "specify_repay_assets") == "USDT,BTC"


async def test_repay_debt_sends_its_asset_list_comma_joined() -> None:
    from binance_papi_async.api.margin import MarginAPI

    margin, transport = _bind(
        MarginAPI,
        {
            "amount": "0.1",
            "asset": "BNB",
            "specifyRepayAssets": ["USDT", "BTC"],
            "updateTime": 1,
            "success": True,
        },
    )
    await margin.repay_debt("BNB", Decimal("0.1"), specify_repay_assets=["USDT", "BTC"])
    assert transport.calls[0][1]["specifyRepayAssets"] == "USDT,BTC"


def test_enum_params_are_literal_types() -> None:
    hints = typing.get_type_hints(UmAPI.new_order)
    assert hints["side"] == Literal["BUY", "SELL"]
    assert hints["type"] == Literal["LIMIT", "MARKET"]
    assert hints["position_side"] == Literal["BOTH", "LONG", "SHORT"] | None
    assert hints["quantity"] == Decimal | str | int | None
    assert hints["good_till_date"] == datetime | int | None
    assert hints["reduce_only"] == bool | None


async def test_new_order_encodes_every_kind_of_parameter() -> None:
    um, transport = _bind(UmAPI, RESPONSES["POST /papi/v1/um/order"]["example"])
    await um.new_order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        quantity=Decimal("0.001"),
        price="65000.10",
        time_in_force="GTD",
        reduce_only=False,
        good_till_date=datetime(2026, 1, 2, tzinfo=timezone.utc),
        recv_window=5000,
    )
    assert transport.calls[0][1] == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTD",
        "quantity": "0.001",
        "reduceOnly": "false",
        "price": "65000.10",
        "goodTillDate": "1767312000000",
        "recvWindow": "5000",
    }


async def test_rules_are_checked_before_any_io() -> None:
    um, transport = _bind(UmAPI, {})
    with pytest.raises(ValidationError) as info:
        await um.cancel_order(symbol="BTCUSDT")
    assert info.value.param == "order_id"
    with pytest.raises(ValidationError) as info:
        await um.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", price=1, price_match="QUEUE")
    assert info.value.param == "price"
    with pytest.raises(ValidationError) as info:
        await um.new_order(symbol=cast(str, None), side="BUY", type="LIMIT")
    assert info.value.param == "symbol"
    with pytest.raises(ValidationError) as info:
        await um.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", quantity=cast(Any, 0.1))
    assert info.value.param == "quantity"
    cm, _ = _bind(CmAPI, {})
    with pytest.raises(ValidationError) as info:
        await cm.account_trade_list(symbol="BTCUSD_PERP", pair="BTCUSD")
    assert info.value.param == "pair"
    with pytest.raises(ValidationError) as info:
        await cm.account_trade_list()
    assert info.value.param == "symbol"
    from binance_papi_async.api.margin import MarginAPI

    margin, margin_transport = _bind(MarginAPI, {})
    with pytest.raises(ValidationError) as info:
        await margin.loan_records(asset="BNB")
    assert info.value.param == "tx_id"
    with pytest.raises(ValidationError) as info:
        await margin.new_oco(
            symbol="BNBUSDT",
            side="SELL",
            quantity=1,
            price=700,
            stop_price=600,
            stop_limit_price=590,
        )
    assert info.value.param == "stop_limit_time_in_force"
    assert transport.calls == [] and margin_transport.calls == []


# -- response models -------------------------------------------------------------------------


def _snake(name: str) -> str:
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def _examples() -> list[tuple[str, Any, dict[str, Any]]]:
    out = []
    for key, resp in RESPONSES.items():
        if key not in RESPONSE_MODELS:
            continue
        out.append((key, resp["example"], resp["fields"]))
        for alt in resp.get("alt_examples") or []:
            out.append((f"{key} ({alt['variant']})", alt["example"], resp["fields"]))
    return out


def _check_model(model: Any, body: Mapping[str, Any], spec: dict[str, Any], prefix: str) -> None:
    assert model.raw is body
    assert is_dataclass(model)
    for key, value in body.items():
        path = f"{prefix}{key}"
        if path not in spec:
            continue
        attr = getattr(model, _snake(key))
        typ = spec[path]["type"]
        if typ == "string":
            assert attr == (None if value is None else str(value)), path
        elif value is None or value == "":
            assert attr is None, path
        elif typ == "string-decimal" or typ == "number":
            assert isinstance(attr, Decimal), path
            assert attr == Decimal(str(value)), path
        elif typ == "long-ms-time":
            assert attr is None or (isinstance(attr, datetime) and attr.tzinfo is not None), path
        elif spec[path].get("duration_ms"):
            assert attr == timedelta(milliseconds=int(value)), path
        elif typ in ("long", "int", "string-int"):
            # a few "int" fields are widened to Decimal (responses.json: may be fractional)
            assert isinstance(attr, (int, Decimal)) and attr == int(value), path
            assert not isinstance(attr, bool), path
        elif typ in ("bool", "string-bool"):
            assert isinstance(attr, bool), path
        elif (
            typ == "array"
            and spec[path].get("items") == "object"
            and attr is not None
            and all(isinstance(x, Mapping) for x in value)
            and any(k.startswith(f"{path}[].") for k in spec)
        ):
            for sub, item in zip(attr, value, strict=True):
                _check_model(sub, item, spec, f"{path}[].")


@pytest.mark.parametrize(
    "key,example,spec", _examples(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_doc_examples_parse(key: str, example: Any, spec: dict[str, Any]) -> None:
    model_cls = RESPONSE_MODELS[key.split(" (")[0]]
    body = orjson.loads(orjson.dumps(example))
    items = body if isinstance(body, list) else [body]
    for item in items:
        model = model_cls.from_json(item)
        _check_model(model, item, spec, "")
        assert {f.name for f in fields(model)} >= {"raw"}


def test_removed_and_new_fields_are_tolerated() -> None:
    body = orjson.loads(
        b'{"clientOrderId":"x","cumQty":"0","executedQty":"0","orderId":22542179,'
        b'"origQty":"10","price":"0","reduceOnly":false,"side":"SELL","positionSide":"SHORT",'
        b'"status":"NEW","symbol":"BTCUSDT","timeInForce":"GTC","type":"MARKET",'
        b'"selfTradePreventionMode":"EXPIRE_MAKER","priceMatch":"NONE",'
        b'"updateTime":1566818724722,"goodTillDate":0,"brandNew":"kept"}'
    )
    order = NewUmOrderResponse.from_json(body)
    assert order.cum_quote is None and order.avg_price is None  # removed since 2026-07
    assert order.orig_qty == Decimal("10")
    assert order.good_till_date is None  # 0: no time
    assert order.update_time == datetime(2019, 8, 26, 11, 25, 24, 722000, tzinfo=timezone.utc)
    assert order.raw["brandNew"] == "kept"
    assert order.reduce_only is False


def test_big_ids_stay_exact() -> None:
    from binance_papi_async.models_generated import GetMarginBorrowLoanInterestHistoryResponse

    body = orjson.loads(
        b'{"rows":[{"txId":1352286576452864727,"interestAccuredTime":1672160400000,'
        b'"asset":"USDT","rawAsset":"USDT","principal":"45.3313","interest":"0.00024995",'
        b'"interestRate":"0.00013233","type":"ON_BORROW"}],"total":1}'
    )
    page = GetMarginBorrowLoanInterestHistoryResponse.from_json(body)
    assert page.total == 1 and page.rows is not None
    assert page.rows[0].tx_id == 1352286576452864727
    assert page.rows[0].interest == Decimal("0.00024995")


def test_generated_files_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "generate_endpoints.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, (
        "the generated files differ from what tools/generate_endpoints.py produces "
        f"(run it to regenerate): {proc.stderr}{proc.stdout}"
    )


async def test_um_algo_orders_close_positions_and_refuse_stp_none_before_sending() -> None:
    um, transport = _bind(UmAPI, RESPONSES["POST /papi/v1/um/algo/order"]["example"])
    base: dict[str, Any] = {
        "algo_type": "CONDITIONAL", "symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET",
        "trigger_price": Decimal("50000"),
    }  # fmt: skip
    order = await um.new_algo_order(**base, close_position=True)
    assert transport.calls[-1][1]["closePosition"] == "true"
    assert "quantity" not in transport.calls[-1][1]
    assert order.close_position is False  # the answer the fake transport gives
    cases: list[tuple[dict[str, Any], str]] = [
        ({"close_position": True, "quantity": 1}, "quantity"),
        ({"close_position": True, "reduce_only": True}, "reduce_only"),
        ({}, "quantity"),  # neither a quantity nor close_position
        ({"quantity": 1, "self_trade_prevention_mode": "NONE"}, "self_trade_prevention_mode"),
    ]
    for extra, param in cases:
        with pytest.raises(ValidationError) as info:
            await um.new_algo_order(**base, **extra)
        assert info.value.param == param, extra
    with pytest.raises(ValidationError, match="NONE is refused"):
        await um.new_order(
            symbol="BTCUSDT", side="BUY", type="MARKET", quantity=1,
            self_trade_prevention_mode=cast(Any, "NONE"),
        )  # fmt: skip
    assert len(transport.calls) == 1


async def test_partial_fund_collection_sends_amount_and_future_type_together() -> None:
    from binance_papi_async.api.account import AccountAPI

    account, transport = _bind(AccountAPI, RESPONSES["POST /papi/v1/asset-collection"]["example"])
    for kwargs, param in (({"amount": 1}, "future_type"), ({"future_type": "UM"}, "amount")):
        with pytest.raises(ValidationError) as info:
            await account.fund_collection_by_asset(asset="USDT", **kwargs)
        assert info.value.param == param
    assert transport.calls == []
    await account.fund_collection_by_asset(asset="USDT", amount=Decimal("12.5"), future_type="CM")
    assert transport.calls[0][1] == {"asset": "USDT", "amount": "12.5", "futureType": "CM"}


def test_income_history_no_longer_takes_page() -> None:
    for api in (UmAPI, CmAPI):
        assert "page" not in inspect.signature(api.income_history).parameters
        assert "start_time" in inspect.signature(api.income_history).parameters


def test_the_readme_states_the_operation_count_of_the_spec() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    counts = re.findall(r"<!-- spec:operations -->(\d+)<!-- /spec:operations -->", text)
    assert len(counts) >= 2 and set(counts) == {str(len(EXPECTED))}


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"type": "LIMIT", "quantity": 1, "price": 1}, "time_in_force"),
        ({"type": "LIMIT", "quantity": 1, "time_in_force": "GTC"}, "price"),
        ({"type": "MARKET"}, "quantity"),
        (
            {"type": "LIMIT", "quantity": 1, "price": 1, "time_in_force": "GTD"},
            "good_till_date",
        ),
    ],
)
async def test_order_type_makes_parameters_mandatory(kwargs: dict[str, Any], param: str) -> None:
    um, transport = _bind(UmAPI, {})
    with pytest.raises(ValidationError) as info:
        await um.new_order(symbol="BTCUSDT", side="BUY", **kwargs)
    assert info.value.param == param
    assert transport.calls == []


async def test_conditional_and_margin_order_types_are_checked_too() -> None:
    cm, cm_transport = _bind(CmAPI, {})
    with pytest.raises(ValidationError) as info:
        await cm.new_conditional_order(
            symbol="BTCUSD_PERP", side="SELL", strategy_type="STOP_MARKET"
        )
    assert info.value.param == "stop_price"
    assert cm_transport.calls == []
    um, transport = _bind(UmAPI, {})
    from binance_papi_async.api.margin import MarginAPI

    margin, margin_transport = _bind(MarginAPI, {})
    with pytest.raises(ValidationError) as info:
        await margin.new_order(symbol="BNBUSDT", side="BUY", type="LIMIT_MAKER", quantity=1)
    assert info.value.param == "price"
    um, transport = _bind(UmAPI, RESPONSES["POST /papi/v1/um/order"]["example"])
    await um.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=1)  # complete
    assert len(transport.calls) == 1 and margin_transport.calls == []
