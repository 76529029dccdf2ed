"""Answers with a field missing or malformed: a read fails naming the field, a write never fails.

Through the client (aioresponses: the transport, the generated methods' parsers) and on
the models directly: every model's ``FIELDS`` table reads what its ``from_json`` reads,
so the field-by-field path agrees with the fast path on every doc example.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from aioresponses import aioresponses

from binance_papi_async import (
    AccountInformation,
    AssetBalance,
    ExecutionStatusUnknown,
    OrderRateLimit,
    PortfolioMarginClient,
    RepayDebtResult,
    UndecodedFieldsWarning,
    UnexpectedResponseError,
)
from binance_papi_async._decode import (
    FieldError,
    decode_tolerantly,
    reading,
    reading_many,
    writing,
)
from binance_papi_async.models_generated import (
    RESPONSE_MODELS,
    NewMarginOrderAckResponse,
    NewMarginOrderFullResponse,
    NewUmOrderResponse,
)

from ..conftest import BASE

SPEC = Path(__file__).resolve().parents[2] / "spec" / "papi"
RESPONSES: dict[str, Any] = json.loads((SPEC / "responses.json").read_text(encoding="utf-8"))
_ADDED = json.loads((SPEC / "overrides.json").read_text(encoding="utf-8"))["example_additions"]
for _route, _fields in _ADDED["by_route"].items():
    RESPONSES[_route]["example"] = {**RESPONSES[_route]["example"], **_fields}

UM_ORDER = re.compile(rf"^{re.escape(BASE)}/papi/v1/um/order\?.*$")
MARGIN_ORDER = re.compile(rf"^{re.escape(BASE)}/papi/v1/margin/order\?.*$")
UM_ORDER_BODY: dict[str, Any] = RESPONSES["POST /papi/v1/um/order"]["example"]
MARGIN_FULL_BODY: dict[str, Any] = RESPONSES["POST /papi/v1/margin/order"]["example"]


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def undecoded(value: object) -> bool:
    """An undecoded field holds None whatever its annotation says (mypy cannot know)."""
    return value is None


# -- reads --------------------------------------------------------------------------------------


async def test_a_read_missing_a_required_field_names_it_and_keeps_the_body(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    body = _without(UM_ORDER_BODY, "orderId")
    mock_http.get(UM_ORDER, body=orjson.dumps(body))
    with pytest.raises(UnexpectedResponseError, match=r"field orderId: missing") as info:
        await client.um.query_order(symbol="BTCUSDT", order_id=1)
    assert orjson.loads(info.value.body) == body
    assert info.value.status == 200


async def test_a_read_with_a_malformed_field_names_it_without_quoting_values(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    body = {**UM_ORDER_BODY, "price": 0.1, "status": ["NEW"]}
    mock_http.get(UM_ORDER, body=orjson.dumps(body))
    with pytest.raises(UnexpectedResponseError) as info:
        await client.um.query_order(symbol="BTCUSDT", order_id=1)
    text = str(info.value)
    assert "field price: expected a decimal string, got float" in text
    assert "field status: expected a string, got list" in text
    assert "0.1" not in text.split("body")[0]  # the value is in .body, not quoted in the text


async def test_an_optional_field_may_be_absent_in_a_read(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    (processing,) = RESPONSES["GET /papi/v1/um/order/asyn/id"]["alt_examples"]
    body = _without(processing["example"], "s3Link")  # "server still processing"
    url = re.compile(rf"^{re.escape(BASE)}/papi/v1/um/order/asyn/id\?.*$")
    mock_http.get(url, body=orjson.dumps(body))
    link = await client.um.order_history_download_link(download_id="1")
    assert link.s3_link is None and link.undecoded == ()
    assert link.download_id == body["downloadId"]


# -- writes -------------------------------------------------------------------------------------


async def test_a_write_missing_a_required_field_returns_its_result_with_a_warning(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    body = _without(UM_ORDER_BODY, "status")
    mock_http.post(UM_ORDER, body=orjson.dumps(body))
    with pytest.warns(UndecodedFieldsWarning, match=r"POST /papi/v1/um/order .*status \(missing\)"):
        order = await client.um.new_order(
            symbol="BTCUSDT", side="SELL", type="MARKET", quantity=Decimal("10")
        )
    assert isinstance(order, NewUmOrderResponse)
    assert order.order_id == UM_ORDER_BODY["orderId"]  # the order was placed: its id is there
    assert undecoded(order.status)
    assert order.undecoded == ("status",)
    assert order.raw == body


async def test_a_write_with_malformed_nested_fields_keeps_the_rest(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    fills = [dict(f) for f in MARGIN_FULL_BODY["fills"]]
    fills[1]["price"] = 1.5
    body = {**MARGIN_FULL_BODY, "fills": fills, "transactTime": "soon"}
    mock_http.post(MARGIN_ORDER, body=orjson.dumps(body))
    with pytest.warns(UndecodedFieldsWarning) as caught:
        order = await client.margin.new_order(
            symbol="BTCUSDT", side="BUY", type="MARKET", quantity=Decimal("1")
        )
    assert isinstance(order, NewMarginOrderFullResponse)
    assert order.undecoded == ("transactTime", "fills[1].price")
    assert undecoded(order.transact_time) and undecoded(order.fills[1].price)
    assert order.fills[1].undecoded == ("price",)
    assert order.fills[0].price == Decimal(MARGIN_FULL_BODY["fills"][0]["price"])
    assert order.order_id == MARGIN_FULL_BODY["orderId"]
    assert "fills[1].price (expected a decimal string, got float)" in str(caught[0].message)


@pytest.mark.parametrize(
    "body",
    [b"<html>bad gateway</html>", b"[]", b"null", b'{"code":-1007,"msg":"Timeout waiting"}'],
)
async def test_a_write_answered_2xx_with_no_answer_object_is_unknown(
    client: PortfolioMarginClient, mock_http: aioresponses, body: bytes
) -> None:
    mock_http.post(UM_ORDER, body=body)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no result, so no UndecodedFieldsWarning either
        with pytest.raises(ExecutionStatusUnknown) as info:
            await client.um.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity=1)
    assert info.value.body == body and info.value.status == 200


async def test_an_empty_object_from_a_write_is_still_its_result(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    mock_http.post(re.compile(rf"^{re.escape(BASE)}/papi/v1/margin/repay-debt\?.*$"), body=b"{}")
    with pytest.warns(UndecodedFieldsWarning):
        result = await client.margin.repay_debt("BNB", Decimal("0.1"))
    assert isinstance(result, RepayDebtResult)
    assert result.undecoded == ("asset", "amount", "updateTime")
    assert result.success is False and result.specify_repay_assets == ()


# -- the shape follows the request ----------------------------------------------------------------


async def test_the_margin_answer_shape_follows_new_order_resp_type(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    ack = {k: MARGIN_FULL_BODY[k] for k in ("symbol", "orderId", "clientOrderId", "transactTime")}
    mock_http.post(MARGIN_ORDER, body=orjson.dumps(ack))
    order = await client.margin.new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity=1, price=1
    )  # no newOrderRespType: ACK for this type
    assert type(order) is NewMarginOrderAckResponse and order.undecoded == ()
    mock_http.post(MARGIN_ORDER, body=orjson.dumps(ack))
    with pytest.warns(UndecodedFieldsWarning, match="fills"):  # FULL asked, ACK answered
        full = await client.margin.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity=1, price=1,
            new_order_resp_type="FULL",
        )  # fmt: skip
    assert type(full) is NewMarginOrderFullResponse and "fills" in full.undecoded


# -- every model: FIELDS mirror from_json -------------------------------------------------------


def _bodies() -> list[tuple[str, type[Any], dict[str, Any]]]:
    out = []
    for route, model in RESPONSE_MODELS.items():
        example = RESPONSES[route]["example"]
        alts = [a["example"] for a in RESPONSES[route].get("alt_examples") or []]
        for body in [example, *alts]:
            for item in body if isinstance(body, list) else [body]:
                if isinstance(item, dict):
                    out.append((route, model, item))
    return out


BODIES = _bodies()
HANDWRITTEN: list[tuple[type[Any], str]] = [
    (AccountInformation, "GET /papi/v1/account"),
    (AssetBalance, "GET /papi/v1/balance"),
    (OrderRateLimit, "GET /papi/v1/rateLimit/order"),
]


@pytest.mark.parametrize(("route", "model", "body"), BODIES, ids=[b[0] for b in BODIES])
def test_the_field_by_field_path_agrees_with_from_json(
    route: str, model: type[Any], body: dict[str, Any]
) -> None:
    expected = model.from_json(body)
    assert writing(model, route)(body) == expected  # from_json's own result
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tolerant = decode_tolerantly(model, body, route)
    assert tolerant == expected and tolerant.undecoded == ()
    assert {f.name for f in model.FIELDS} == {f.name for f in fields(model)} - {"raw", "undecoded"}


@pytest.mark.parametrize(("route", "model", "body"), BODIES, ids=[b[0] for b in BODIES])
def test_each_required_field_is_named_when_missing(
    route: str, model: type[Any], body: dict[str, Any]
) -> None:
    for f in model.FIELDS:
        if not f.required or f.key not in body:
            continue
        partial = {k: v for k, v in body.items() if k != f.key}
        with pytest.raises(FieldError) as info:
            reading(model)(partial)
        assert info.value.paths == (f.key,)
        with pytest.warns(UndecodedFieldsWarning):
            result = writing(model, route)(partial)
        assert getattr(result, f.name) is None and result.undecoded == (f.key,)


def test_a_list_answer_names_the_element_at_fault() -> None:
    parse = reading_many(OrderRateLimit)
    good = RESPONSES["GET /papi/v1/rateLimit/order"]["example"][0]
    with pytest.raises(FieldError, match=r"field \[1\]\.limit: missing"):
        parse([good, _without(good, "limit")])
    with pytest.raises(FieldError, match=r"field \[0\]: expected an object, got int"):
        parse([1])
    with pytest.raises(ValueError, match="expected an array"):
        parse(good)


@pytest.mark.parametrize(("model", "route"), HANDWRITTEN)
def test_the_handwritten_models_follow_the_same_rules(model: type[Any], route: str) -> None:
    example = RESPONSES[route]["example"]
    body = example[0] if isinstance(example, list) else example
    assert reading(model)(body) == model.from_json(body)
    required = [f for f in model.FIELDS if f.required]
    assert required
    for f in required:
        with pytest.raises(FieldError, match=f"field {f.key}: missing"):
            reading(model)({k: v for k, v in body.items() if k != f.key})
