"""How the simulator assembles its routes: handlers per concern, one per operation, and an
explicit "not simulated" answer for what it does not model.

No sockets: these build the route table and call handlers directly.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from binance_papi_async.endpoints import SERVER_TIME
from binance_papi_async.endpoints._table import TABLE
from binance_papi_async.errors import NOT_SIMULATED_CODE
from binance_papi_async.testing import PapiSimulator, SimulatedError
from binance_papi_async.testing._examples import EXAMPLES
from binance_papi_async.testing.routing import (
    FAPI_TIME,
    Call,
    Handler,
    RouteKey,
    build_routes,
    merge_handlers,
)
from binance_papi_async.testing.state import Account
from binance_papi_async.testing.unmodelled import NOT_SIMULATED


def answer(call: Call, account: Account | None, params: dict[str, str]) -> Any:
    return {"answered": call.path}


# A handler for every operation the simulator models.
MODELLED: dict[RouteKey, Handler] = {
    (str(s.method), s.path): answer
    for s in (*TABLE, SERVER_TIME, FAPI_TIME)
    if (s.method, s.path) not in NOT_SIMULATED
}
DOWNLOAD = ("GET", "/papi/v1/um/income/asyn")


def test_a_handler_for_an_operation_papi_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match=r"/papi/v1/um/nothing"):
        build_routes({**MODELLED, ("GET", "/papi/v1/um/nothing"): answer})
    with pytest.raises(ValueError, match=r"/papi/v1/um/order"):  # papi has GET, POST, PUT, DELETE
        build_routes({**MODELLED, ("PATCH", "/papi/v1/um/order"): answer})


def test_an_operation_neither_handled_nor_listed_as_not_simulated_is_refused() -> None:
    for key in (("GET", "/papi/v1/time"), ("POST", "/papi/v1/um/algo/order")):
        with pytest.raises(ValueError, match=rf"{key[1]}.*not listed as not simulated"):
            build_routes({k: v for k, v in MODELLED.items() if k != key})


def test_a_handler_for_an_operation_listed_as_not_simulated_is_refused() -> None:
    with pytest.raises(ValueError, match=r"listed as not simulated.*income/asyn"):
        build_routes({**MODELLED, DOWNLOAD: answer})


def test_the_retired_um_conditional_operations_have_no_route() -> None:
    routes = build_routes(MODELLED)
    assert not [key for key in routes if key[1].startswith("/papi/v1/um/conditional/")]
    with pytest.raises(ValueError, match=r"/papi/v1/um/conditional/order"):
        build_routes({**MODELLED, ("POST", "/papi/v1/um/conditional/order"): answer})


def test_two_handlers_for_one_operation_are_refused() -> None:
    order = ("POST", "/papi/v1/um/order")
    ping = ("GET", "/papi/v1/ping")
    assert merge_handlers({order: answer}, {ping: answer}) == {order: answer, ping: answer}
    with pytest.raises(ValueError, match=r"/papi/v1/um/order"):
        merge_handlers({order: answer}, {ping: answer}, {order: answer})


def test_every_operation_has_a_route_and_a_registered_handler_answers_it() -> None:
    routes = build_routes(MODELLED)
    assert {(s.method, s.path) for s in TABLE} <= set(routes)
    assert {("GET", "/papi/v1/time"), ("GET", "/fapi/v1/time")} <= set(routes)
    ping = routes[("GET", "/papi/v1/ping")]
    assert ping.handler(Call("GET", "/papi/v1/ping", "", b"", 0), None, {}) == {
        "answered": "/papi/v1/ping"
    }


def test_an_unmodelled_operation_answers_501_not_simulated_unless_examples_are_asked() -> None:
    call = Call(*DOWNLOAD, "", b"", 0)
    refused = build_routes(MODELLED)[DOWNLOAD]
    with pytest.raises(SimulatedError) as info:
        refused.handler(call, None, {})
    assert (info.value.status, info.value.code) == (501, NOT_SIMULATED_CODE)
    assert info.value.msg.startswith("not simulated: GET /papi/v1/um/income/asyn: ")
    example = build_routes(MODELLED, examples=True)[DOWNLOAD]
    body = orjson.dumps(example.handler(call, None, {}))
    assert orjson.loads(body) == orjson.loads(EXAMPLES[f"{DOWNLOAD[0]} {DOWNLOAD[1]}"])


def test_the_simulator_models_every_operation_but_the_listed_ones() -> None:
    handlers = PapiSimulator().exchange.routes()
    table = {(s.method, s.path) for s in TABLE}
    assert set(NOT_SIMULATED) <= table
    unhandled = table - set(handlers) - set(NOT_SIMULATED)
    # Served outside the trading engine: the server's own routes and the user stream.
    assert unhandled == {
        ("GET", "/papi/v1/ping"),
        ("GET", "/papi/v1/time"),
        ("GET", "/papi/v1/rateLimit/order"),
        ("POST", "/papi/v1/listenKey"),
        ("PUT", "/papi/v1/listenKey"),
        ("DELETE", "/papi/v1/listenKey"),
    }
