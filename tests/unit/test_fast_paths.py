"""The per-call fast paths give the same results as the general code they short-cut.

Each fast path (kept for the CPU it saves per call) has a general counterpart that stays in use
for unusual inputs; these tests drive both with the same inputs and compare.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from binance_papi_async import (
    ConfigurationError,
)
from binance_papi_async.clock import FakeClock
from binance_papi_async.endpoints import Budget, Charge, EndpointSpec, Security
from binance_papi_async.endpoints._table import TABLE as ALL_SPECS
from binance_papi_async.ratelimit import (
    BudgetLimit,
    InMemoryBudgetStore,
    RateLimiter,
    Reservation,
)

W = Budget.REQUEST_WEIGHT
OR = Budget.ORDERS
T0 = 1_700_000_040.0  # on a minute boundary


# -- the limiter: the written-out uncontended path == the general one --------------------------


def _general_try_acquire(limiter: RateLimiter, charges: tuple[Charge, ...]) -> Reservation | None:
    """``try_acquire`` through the general admission code, never the written-out path."""
    plan = limiter._plan(charges, limiter._default)
    local, now = limiter._tm.read()
    if now < limiter._blocked_until:
        return None
    return limiter._admit_now(plan, local, now, False, backfill=False)


def _headers(weight: int | None, orders: int | None) -> CIMultiDictProxy[str]:
    items = []
    if weight is not None:
        items.append(("x-mbx-used-weight-1m", str(weight)))
    if orders is not None:
        items.append(("X-MBX-ORDER-COUNT-1M", str(orders)))
    return CIMultiDictProxy(CIMultiDict(items))


def _state(limiter: RateLimiter) -> list[tuple[Any, ...]]:
    snap = limiter.snapshot()
    return [(b.budget, b.interval_s, b.used, b.window_start) for b in snap.budgets]


step = st.one_of(
    st.tuples(st.just("take"), st.integers(0, 7), st.integers(0, 2)),
    st.tuples(st.just("commit"), st.integers(0, 31)),
    st.tuples(st.just("release"), st.integers(0, 31)),
    st.tuples(
        st.just("observe"),
        st.integers(0, 31),
        st.one_of(st.none(), st.integers(0, 40)),
        st.one_of(st.none(), st.integers(0, 6)),
    ),
    st.tuples(st.just("advance"), st.sampled_from([0.0, 0.3, 1.5, 9.99, 30.0, 59.0, 61.0])),
    st.tuples(st.just("sync"), st.sampled_from([-0.4, 0.0, 0.3, 65.0])),
    st.tuples(
        st.just("429"),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=60))
def test_the_uncontended_path_matches_the_general_one(steps: list[tuple[Any, ...]]) -> None:
    clock = FakeClock(T0 + 3.0, uncertainty=0.1)
    limits = [BudgetLimit(W, 20), BudgetLimit(OR, 4)]
    # its own store, a store it was given, and its own store through the general code
    # (admission, and reconciliation of the headers)
    limiters = [
        RateLimiter(limits, clock=clock),
        RateLimiter(limits, clock=clock, store=InMemoryBudgetStore()),
        RateLimiter(limits, clock=clock),
    ]
    takes: list[Callable[[tuple[Charge, ...]], Reservation | None]] = [
        limiters[0].try_acquire,
        limiters[1].try_acquire,
        lambda charges: _general_try_acquire(limiters[2], charges),
    ]
    held: list[list[Reservation | None]] = []
    for op in steps:
        kind = op[0]
        if kind == "take":
            charges = (Charge(W, op[1]), Charge(OR, op[2]))
            got = [take(charges) for take in takes]
            assert len({r is None for r in got}) == 1, op
            held.append(got)
        elif kind in ("commit", "release") and held:
            for reservation in held[op[1] % len(held)]:
                if reservation is not None:
                    getattr(reservation, kind)()
        elif kind == "observe":
            row = held[op[1] % len(held)] if held else [None] * len(limiters)
            headers = _headers(op[2], op[3])
            plain = dict(headers)  # not aiohttp's: the general reconciliation code
            for limiter, reservation in zip(limiters, row, strict=True):
                given = plain if limiter is limiters[2] else headers
                limiter.observe_headers(given, reservation=reservation)
        elif kind == "advance":
            clock.advance(op[1])
        elif kind == "sync":
            clock.set_offset(op[1], uncertainty=0.05)
        elif kind == "429":
            for limiter in limiters:
                limiter.on_rate_limited(1.0)
        states = [_state(x) for x in limiters]
        assert states[0] == states[1] == states[2], op


def test_a_limiters_own_store_cannot_be_shared() -> None:
    own = RateLimiter([BudgetLimit(W, 10)])
    with pytest.raises(ConfigurationError, match="InMemoryBudgetStore"):
        RateLimiter([BudgetLimit(W, 10)], store=own.store)


def test_two_limiters_sharing_the_default_store_see_each_others_charges() -> None:
    clock = FakeClock(T0)
    store = InMemoryBudgetStore()
    a = RateLimiter([BudgetLimit(W, 10)], clock=clock, store=store)
    b = RateLimiter([BudgetLimit(W, 10)], clock=clock, store=store)
    assert a.try_acquire((Charge(W, 6),)) is not None
    assert b.try_acquire((Charge(W, 5),)) is None  # 6 + 5 > 10: b reads a's charge
    assert b.try_acquire((Charge(W, 4),)) is not None
    clock.advance(60)  # a new window: b rolls the shared counter; a still sees it right
    assert a.try_acquire((Charge(W, 10),)) is not None
    assert b.try_acquire((Charge(W, 1),)) is None
    assert a.snapshot().get(W).used == b.snapshot().get(W).used == 10


def test_a_header_raises_the_count_on_the_fast_path() -> None:
    clock = FakeClock(T0)
    limiter = RateLimiter([BudgetLimit(W, 100)], clock=clock)
    first = limiter.try_acquire((Charge(W, 10),))
    second = limiter.try_acquire((Charge(W, 10),))
    assert first is not None and second is not None
    # The server counted 50 when it processed the first call (other programs on the IP);
    # the second was admitted after it, so the window holds at least 50 + 10.
    limiter.observe_headers(_headers(50, None), reservation=first)
    assert first.committed
    assert limiter.snapshot().get(W).used == 60
    limiter.observe_headers(_headers(-1, None), reservation=second)  # malformed: ignored
    limiter.observe_headers(_headers(None, None), reservation=second)
    assert limiter.snapshot().get(W).used == 60
    clock.advance(60)
    limiter.observe_headers(_headers(90, None), reservation=second)  # an old window: ignored
    assert limiter.snapshot().get(W).used == 0


# -- endpoint specs -----------------------------------------------------------------------------


def test_spec_flags_are_computed_once_and_follow_replace() -> None:
    for spec in ALL_SPECS:
        assert spec.signed == (
            spec.security in (Security.USER_DATA, Security.TRADE, Security.MARGIN)
        )
        assert spec.needs_key == (spec.security is not Security.NONE)
        assert spec.is_write == (spec.method != "GET")
    spec = ALL_SPECS[0]
    changed = dataclasses.replace(spec, method="DELETE", security=Security.NONE)
    assert changed.is_write and not changed.signed and not changed.needs_key


def test_weight_rule_specs_are_built_once() -> None:
    ruled = [spec for spec in ALL_SPECS if spec.weight_rules]
    assert ruled, "the table has argument-dependent weights"
    for spec in ruled:
        rule = spec.weight_rules[0]
        params = {rule.param: "X"} if rule.present else {}
        first, second = spec.for_params(params), spec.for_params(dict(params))
        assert first is second and first is not spec
        assert first.charges is second.charges  # the limiter's plan cache hits
        assert first.weight == rule.weight and not first.weight_rules


def test_a_spec_without_rules_is_its_own_variant() -> None:
    spec = EndpointSpec(name="x", method="GET", path="/papi/v1/x", security=Security.NONE, weight=1)
    assert spec.for_params({"symbol": "BTCUSDT"}) is spec
