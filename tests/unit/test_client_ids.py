"""Client ids the SDK makes: unique, within every order endpoint's characters and length,
filled only where the caller gave none, and named by the errors and events."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binance_papi_async import ExecutionStatusUnknown, OutcomeUnknown, PortfolioMarginClient
from binance_papi_async._client_ids import fill_client_ids, new_client_order_id
from binance_papi_async.endpoints import BY_NAME, TABLE, ClientId
from binance_papi_async.errors import ValidationError

PAPI_RULE = re.compile(r"^[.A-Za-z0-9:/_-]{1,32}$")  # UM / CM orders, the strictest


def test_ids_are_unique_and_fit_the_strictest_rule() -> None:
    ids = [new_client_order_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(PAPI_RULE.match(i) and re.fullmatch(r"[A-Za-z0-9]+", i) for i in ids)


@given(st.text(alphabet="abcXYZ019_-", max_size=10))
def test_a_prefix_leads_the_id_and_the_id_fits_32(prefix: str) -> None:
    cid = new_client_order_id(prefix)
    assert cid.startswith(prefix) and len(cid) == len(prefix) + 22 <= 32


@pytest.mark.parametrize("prefix", ["with space", "é", "x" * 17, "a.b"])
def test_a_prefix_outside_the_allowed_characters_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError):
        PortfolioMarginClient.new_client_order_id(prefix)


def test_a_prefix_too_long_for_the_endpoint_is_refused() -> None:
    assert len(new_client_order_id("p" * 14, max_length=36)) == 36
    with pytest.raises(ValueError, match="longer than 32"):
        new_client_order_id("p" * 11)


def test_every_order_placing_endpoint_names_its_client_ids() -> None:
    declared = {s.name: tuple(c.name for c in s.client_ids) for s in TABLE if s.client_ids}
    assert declared == {
        "new_um_order": ("newClientOrderId",),
        "new_cm_order": ("newClientOrderId",),
        "new_margin_order": ("newClientOrderId",),
        "new_um_algo_order": ("clientAlgoId",),
        "new_cm_conditional_order": ("newClientStrategyId",),
        "margin_account_new_oco": ("listClientOrderId", "limitClientOrderId", "stopClientOrderId"),
    }
    assert BY_NAME["new_um_order"].client_ids == (ClientId("newClientOrderId", 32),)


def test_fill_keeps_the_callers_id_and_fills_the_others() -> None:
    spec = BY_NAME["margin_account_new_oco"]
    params = {"listClientOrderId": "mine"}
    fill_client_ids(spec.client_ids, params)
    assert params["listClientOrderId"] == "mine"
    assert params["limitClientOrderId"] != params["stopClientOrderId"]


def test_the_error_and_the_event_name_the_client_id_and_never_the_signature() -> None:
    params = {"symbol": "BTCUSDT", "newClientOrderId": "abc123", "signature": "s" * 64}
    exc = ExecutionStatusUnknown(
        "HTTP 503", method="POST", path="/papi/v1/um/order", params=params, sent_at=0.0
    )
    assert exc.client_order_id == "abc123" and "'abc123'" in str(exc)
    assert "s" * 64 not in str(exc) and "signature" not in exc.params
    ids = {"origClientOrderId": "o1", "newClientOrderId": "cancel-id"}
    cancel = OutcomeUnknown("DELETE", "/papi/v1/margin/order", "cancelled", 0.0, ids)
    assert cancel.client_order_id == "o1"  # a cancel names the order it cancels
