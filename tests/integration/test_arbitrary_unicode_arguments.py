"""Every string and amount parameter of every typed method, with arbitrary Unicode: each
value is either refused before any I/O with a ValidationError naming the parameter, or
sent in a form the simulator's strict verifier accepts (the HMAC over the raw bytes
received, strict UTF-8 percent-decoding) and decoded back to exactly what was given.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from binance_papi_async import (
    BinancePapiError,
    FakeClock,
    PortfolioMarginClient,
    RetryPolicy,
    ValidationError,
)
from binance_papi_async.api._generated import METHODS
from binance_papi_async.endpoints import TABLE, EndpointSpec
from binance_papi_async.endpoints._spec import Param
from binance_papi_async.testing import PapiSimulator, demo_state

from ..conftest import BIG_LIMITS
from .test_every_operation import EXTRA, SETUPS, kwargs_for

KEY = "unicode-key-0123456789abcdef"
SECRET = "unicode-secret-0123456789abcdef"
# A signature over other bytes than those received, or a parameter sent twice (an "&"
# that was not encoded).  (-1100 is also papi's answer to a margin client order id it
# does not like: UTF-8 is checked here by decoding the query strictly instead.)
SIGNATURE_OR_ENCODING_CODES = {-1022, -1101}
# The generated methods' rules between parameters: a target given a value leaves out
# what it cannot be sent with, and brings what it needs.
CANNOT_GO_WITH = {
    "price_match": ("price",),
    "pair": ("symbol", "from_id"),
    "from_id": ("start_time", "end_time", "pair"),
    "symbol": ("pair",),
    "close_position": ("quantity", "reduce_only"),
}
NEEDS = {"stop_limit_price": {"stop_limit_time_in_force": "GTC"}}
# A refusal may name the other side of a rule: price is mandatory for a LIMIT order and
# for an order modification, so a price_match without price is refused naming price; a
# fund collection's amount without futureType names futureType (and the reverse).
REFUSED_AS = {
    "price_match": {"price"},
    "amount": {"future_type"},  # fund collection: amount and futureType only together
    "future_type": {"amount"},
}
_MONEY = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class Target(NamedTuple):
    spec: EndpointSpec
    namespace: str
    method: str
    param: Param


def targets() -> list[Target]:
    """Every STRING, ENUM and DECIMAL parameter of every typed method of the table."""
    found = []
    client = PortfolioMarginClient(KEY, SECRET)  # only to read the methods' signatures
    for spec in TABLE:
        namespace, method = METHODS[spec.name]
        accepted = inspect.signature(getattr(getattr(client, namespace), method)).parameters
        for param in spec.params:
            if param.type in ("STRING", "ENUM", "DECIMAL") and param.py_name in accepted:
                found.append(Target(spec, namespace, method, param))
    return found


TARGETS = targets()

_hostile = st.sampled_from("&=+%#?/;, \x00\r\n\t\u00a0\u200b\ufeff\u202e")
_pieces = st.sampled_from(["%00", "%zz", "%E2%82", "&symbol=ETHUSDT", "&signature=00", "+"])
_unicode = st.one_of(
    st.characters(codec=None, exclude_categories=()),  # every code point, surrogates too
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates, often
    st.characters(min_codepoint=0x660, max_codepoint=0x669),  # Arabic-Indic digits
    st.characters(min_codepoint=0xFF10, max_codepoint=0xFF19),  # full-width digits
    _hostile,
)
strings = st.one_of(
    st.text(_unicode, max_size=12),
    st.lists(st.one_of(st.text(_unicode, max_size=3), _pieces), max_size=4).map("".join),
    st.text("BTCUSD019_-.", min_size=1),
)
amounts = st.one_of(
    strings,
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,8})?", fullmatch=True),
    st.sampled_from(["1_000", ".5", "5.", "+1", "-1", " 2 ", "1e3", "NaN", "0", "0.0"]),
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(1000), places=8),
)


@pytest.fixture
async def unicode_sim() -> AsyncIterator[PapiSimulator]:
    """The simulator on a FakeClock the client shares (no clock sync, no -1021)."""
    async with PapiSimulator(
        api_key=KEY,
        api_secret=SECRET,
        state=demo_state(),
        ip_weight_limit=10_000_000,
        order_limit=10_000_000,
        clock=FakeClock(1_700_000_040.0),
    ) as sim:
        yield sim


@pytest.fixture
async def unicode_client(unicode_sim: PapiSimulator) -> AsyncIterator[PortfolioMarginClient]:
    async with PortfolioMarginClient(
        KEY,
        SECRET,
        base_url=unicode_sim.url,
        rate_limits=BIG_LIMITS,
        clock=unicode_sim.clock,
        retry=RetryPolicy(max_attempts=1),
    ) as client:
        yield client


async def baseline(client: PortfolioMarginClient, spec: EndpointSpec) -> dict[str, Any]:
    """Arguments that make a valid call of ``spec`` (an order to cancel, a debt...)."""
    kwargs = kwargs_for(spec)
    setup = SETUPS.get(spec.name)
    if setup is not None:
        kwargs.update(await setup(client))
    kwargs.update(EXTRA.get(spec.name, {}))
    return kwargs


def expect_sent(target: Target, value: Any, decoded: dict[str, str]) -> None:
    sent = decoded[target.param.name]
    if target.param.type == "DECIMAL":
        assert _MONEY.fullmatch(sent), sent
        assert isinstance(value, Decimal) or _MONEY.fullmatch(value), value  # no "1_000"
        assert Decimal(sent) == Decimal(value)
    else:
        assert sent == value


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_every_string_and_amount_is_refused_before_io_or_sent_verifiably(
    unicode_sim: PapiSimulator, unicode_client: PortfolioMarginClient, data: st.DataObject
) -> None:
    sim, client = unicode_sim, unicode_client
    target = data.draw(st.sampled_from(TARGETS), label="target")
    value = data.draw(amounts if target.param.type == "DECIMAL" else strings, label="value")
    kwargs = await baseline(client, target.spec)
    required = {p.py_name for p in target.spec.params if p.required}
    for other in CANNOT_GO_WITH.get(target.param.py_name, ()):
        if other not in required:  # (modify_order requires price: price_match is refused)
            kwargs.pop(other, None)
    kwargs.update(NEEDS.get(target.param.py_name, {}))
    kwargs[target.param.py_name] = value
    method = getattr(getattr(client, target.namespace), target.method)
    sim.clear_requests()
    try:
        await method(**kwargs)
    except ValidationError as exc:
        event("refused before I/O")
        name = target.param.py_name
        assert exc.param in {name, *REFUSED_AS.get(name, ())}, (target, value, exc)
        assert sim.requests == []
        str(exc).encode()  # a message any UTF-8 log can hold
        return
    except BinancePapiError:
        pass  # the simulator's answer to an unknown symbol, a wrong side...
    event("sent")
    (record,) = sim.requests
    assert (record.method, record.path) == (target.spec.method, target.spec.path)
    assert record.code not in SIGNATURE_OR_ENCODING_CODES, (target, value, record)
    decoded = dict(
        parse_qsl(record.query, keep_blank_values=True, strict_parsing=True, errors="strict")
    )
    expect_sent(target, value, decoded)


def test_the_property_covers_every_string_and_amount_parameter() -> None:
    kinds = {t.param.type for t in TARGETS}
    assert kinds == {"STRING", "ENUM", "DECIMAL"}
    names = {(t.namespace, t.method) for t in TARGETS}
    assert ("margin", "repay_debt") in names and ("um", "new_order") in names
    assert len(TARGETS) > 150
