"""How the simulator assembles its routes: handlers per concern, one per operation.

No sockets: these build the route table and call handlers directly.
"""

from __future__ import annotations

from typing import Any

import pytest

from binance_papi_async.endpoints._table import TABLE
from binance_papi_async.testing.routing import Call, build_routes, merge_handlers
from binance_papi_async.testing.state import Account


def answer(call: Call, account: Account | None, params: dict[str, str]) -> Any:
    return {"answered": call.path}


# The routes without a doc example to answer: they need a handler.
TIME = {
    ("GET", "/papi/v1/time"): answer,
    ("GET", "/fapi/v1/time"): answer,
    ("GET", "/papi/v1/unimmr/notification"): answer,
    ("POST", "/papi/v1/unimmr/notification"): answer,
}


def test_a_handler_for_an_operation_papi_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match=r"/papi/v1/um/nothing"):
        build_routes({**TIME, ("GET", "/papi/v1/um/nothing"): answer})
    with pytest.raises(ValueError, match=r"/papi/v1/um/order"):  # papi has GET, POST, PUT, DELETE
        build_routes({**TIME, ("PATCH", "/papi/v1/um/order"): answer})


def test_an_operation_without_handler_or_doc_example_is_refused() -> None:
    with pytest.raises(ValueError, match=r"GET /papi/v1/time has neither"):
        build_routes({k: v for k, v in TIME.items() if k != ("GET", "/papi/v1/time")})
    with pytest.raises(ValueError, match=r"/papi/v1/unimmr/notification has neither"):
        build_routes({k: v for k, v in TIME.items() if k[1] != "/papi/v1/unimmr/notification"})


def test_the_retired_um_conditional_operations_have_no_route() -> None:
    routes = build_routes(TIME)
    assert not [key for key in routes if key[1].startswith("/papi/v1/um/conditional/")]
    with pytest.raises(ValueError, match=r"/papi/v1/um/conditional/order"):
        build_routes({**TIME, ("POST", "/papi/v1/um/conditional/order"): answer})


def test_two_handlers_for_one_operation_are_refused() -> None:
    order = ("POST", "/papi/v1/um/order")
    ping = ("GET", "/papi/v1/ping")
    assert merge_handlers({order: answer}, {ping: answer}) == {order: answer, ping: answer}
    with pytest.raises(ValueError, match=r"/papi/v1/um/order"):
        merge_handlers({order: answer}, {ping: answer}, {order: answer})


def test_every_operation_has_a_route_and_a_registered_handler_answers_it() -> None:
    routes = build_routes({**TIME, ("GET", "/papi/v1/ping"): answer})
    assert {(s.method, s.path) for s in TABLE} <= set(routes)
    assert {("GET", "/papi/v1/time"), ("GET", "/fapi/v1/time")} <= set(routes)
    ping = routes[("GET", "/papi/v1/ping")]
    assert ping.handler(Call("GET", "/papi/v1/ping", "", b"", 0), None, {}) == {
        "answered": "/papi/v1/ping"
    }
