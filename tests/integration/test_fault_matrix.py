"""The fault matrix: every fault the simulator injects, against a TRADE call and a read.

For each, the exception type (or success), how many attempts reached the simulator,
and the simulator's own record that no TRADE call was ever applied twice.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from binance_papi_async import (
    APIConnectionError,
    BinancePapiError,
    ExecutionStatusUnknown,
    FakeClock,
    IPBannedError,
    OutcomeUnknown,
    PortfolioMarginClient,
    RateLimitError,
    RetryPolicy,
    RetryScheduled,
    Timeouts,
    ValidationError,
)
from binance_papi_async.endpoints import ACCOUNT_BALANCE as BALANCE_SPEC
from binance_papi_async.events import Event
from binance_papi_async.ratelimit import IPBanActiveError, RateLimitWaitTimeout
from binance_papi_async.testing import (
    Account,
    AssetState,
    FaultPlan,
    PapiSimulator,
    SimState,
)

from ..conftest import BIG_LIMITS, early_in_a_minute

KEY = "faults-key-0123456789abcdef"
SECRET = "faults-secret-0123456789abcdef"
REPAY = "/papi/v1/margin/repay-debt"
BALANCE = "/papi/v1/balance"
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.005, max_elapsed=2.0)


@dataclass(frozen=True)
class Case:
    name: str
    inject: Callable[[FaultPlan, str], Any]
    trade: type[BaseException]  # what repay_debt raises
    trade_applied: bool  # whether the simulator applied the repay anyway
    read: type[BaseException] | None  # what balance() raises (None: succeeds after a retry)
    read_attempts: int


CASES = [
    Case(
        "latency beyond timeout",
        lambda f, p: f.latency(0.6, path=p),
        ExecutionStatusUnknown,
        True,
        None,
        2,
    ),
    Case("500", lambda f, p: f.error(500, path=p), ExecutionStatusUnknown, False, None, 2),
    Case("502 html", lambda f, p: f.error(502, path=p), ExecutionStatusUnknown, False, None, 2),
    Case(
        "503 unknown error",
        lambda f, p: f.error(503, path=p),
        ExecutionStatusUnknown,
        False,
        None,
        2,
    ),
    Case(
        "503 unknown error, applied",
        lambda f, p: f.error(503, path=p, apply=True),
        ExecutionStatusUnknown,
        True,
        None,
        2,
    ),
    Case(
        "503 service unavailable",
        lambda f, p: f.error(503, path=p, variant="unavailable"),
        ExecutionStatusUnknown,
        False,
        None,
        2,
    ),
    Case("-1007 timeout", lambda f, p: f.timeout(path=p), ExecutionStatusUnknown, False, None, 2),
    Case(
        "-1007 timeout, applied",
        lambda f, p: f.timeout(path=p, apply=True),
        ExecutionStatusUnknown,
        True,
        None,
        2,
    ),
    Case("drop after apply", lambda f, p: f.drop(path=p), ExecutionStatusUnknown, True, None, 2),
    Case(
        "drop before apply",
        lambda f, p: f.drop(path=p, after_apply=False),
        ExecutionStatusUnknown,
        False,
        None,
        2,
    ),
    Case(
        "429",
        lambda f, p: f.rate_limit(path=p, retry_after=30),
        RateLimitError,
        False,
        RateLimitError,
        1,
    ),
    Case(
        "418", lambda f, p: f.ban(path=p, retry_after=120), IPBannedError, False, IPBannedError, 1
    ),
]


def make_client(sim: PapiSimulator, events: list[Event] | None = None) -> PortfolioMarginClient:
    return PortfolioMarginClient(
        KEY,
        SECRET,
        base_url=sim.url,
        rate_limits=BIG_LIMITS,
        retry=FAST_RETRY,
        timeouts=Timeouts(total=0.3, connect=0.3),
        on_event=None if events is None else events.append,
    )


# Near the end of a minute a 30 s Retry-After is a pause of a second or two (it never
# outlasts the weight's window), which the 2 s retry policy would wait out: the 429 cases
# start at least this long before a minute ends.
RETRY_POLICY_MARGIN_S = 3.0


def attempts(sim: PapiSimulator, path: str) -> int:
    return sum(1 for r in sim.requests if r.path == path)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_fault_on_trade_call(sim: PapiSimulator, case: Case) -> None:
    events: list[Event] = []
    async with make_client(sim, events) as client:
        if case.name == "429":
            await early_in_a_minute(RETRY_POLICY_MARGIN_S)
        await client.sync_time()
        case.inject(sim.faults, REPAY)
        with pytest.raises(case.trade) as info:
            await client.margin.repay_debt("BNB", Decimal("0.1"), specify_repay_assets=["USDT"])
        await settle(sim, REPAY, 1)
    assert attempts(sim, REPAY) == 1  # a TRADE call is never sent twice
    applied = sim.account().applied_repays
    assert len(applied) == (1 if case.trade_applied else 0)
    assert not any(isinstance(e, RetryScheduled) for e in events)
    if isinstance(info.value, ExecutionStatusUnknown):
        err = info.value
        assert err.params["asset"] == "BNB" and err.params["amount"] == "0.1"
        assert "signature" not in err.params
        unknown = [e for e in events if isinstance(e, OutcomeUnknown)]
        assert len(unknown) == 1 and unknown[0].sent_at == err.sent_at  # reported once


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_fault_on_read_call(sim: PapiSimulator, case: Case) -> None:
    async with make_client(sim) as client:
        if case.name == "429":
            await early_in_a_minute(RETRY_POLICY_MARGIN_S)
        await client.sync_time()
        case.inject(sim.faults, BALANCE)
        if case.read is None:
            balances = await client.account.balance()
            assert {b.asset for b in balances} >= {"BNB", "USDT"}
        else:
            with pytest.raises(case.read):
                await client.account.balance()
        await settle(sim, BALANCE, case.read_attempts)
    assert attempts(sim, BALANCE) == case.read_attempts


@pytest.mark.parametrize("call", ["trade", "read"])
async def test_clock_skew_is_absorbed_by_one_resync_and_retry(
    sim: PapiSimulator, call: str
) -> None:
    async with make_client(sim) as client:
        await client.sync_time()
        sim.faults.skew(7000)  # Binance's clock jumps 7 s ahead of our estimate
        if call == "trade":
            assert (await client.margin.repay_debt("BNB", "0.1")).success
        else:
            assert await client.account.balance()
    path = REPAY if call == "trade" else BALANCE
    assert [r.code for r in sim.requests if r.path == path] == [-1021, None]
    assert len(sim.account().applied_repays) == (1 if call == "trade" else 0)


async def test_fault_429_through_the_real_limiter(sim: PapiSimulator) -> None:
    async with make_client(sim) as client:
        await early_in_a_minute(RETRY_POLICY_MARGIN_S)
        await client.sync_time()
        sim.faults.rate_limit(path=BALANCE, retry_after=30)
        before = client.rate_limits.time
        with pytest.raises(RateLimitError):
            await client.account.balance()  # a 30 s pause does not fit the 2 s policy
        snap = client.rate_limits
        # 30 s, or the end of the weight's one-minute window if sooner (a 429 never outlasts
        # it): the window the request arrived in, sent between ``before`` and ``snap.time``
        # and arriving within the limiter's transit (0.5 s), so maybe across a boundary.
        assert snap.paused_until is not None
        sent = (before, snap.time, snap.time + 0.5)
        expected = [min(t + 30, (t // 60 + 1) * 60 + snap.uncertainty) for t in sent]
        assert any(abs(snap.paused_until - e) < 1.0 for e in expected), (snap, expected)
        with pytest.raises(RateLimitWaitTimeout):
            await client.request(BALANCE_SPEC, {}, max_wait=0.1)
    assert attempts(sim, BALANCE) == 1  # nothing else went out during the pause


async def test_after_a_418_nothing_is_sent_until_the_ban_ends(sim: PapiSimulator) -> None:
    async with make_client(sim) as client:
        await client.sync_time()
        sim.faults.ban(path=BALANCE, retry_after=120)
        with pytest.raises(IPBannedError):
            await client.account.balance()
        seen = len(sim.requests)
        with pytest.raises(IPBanActiveError) as info:
            await client.margin.repay_debt("BNB", "0.1")
        assert info.value.banned_until is not None
        assert len(sim.requests) == seen  # refused locally, never sent
    assert sim.account().applied_repays == []


async def test_connection_refused_is_retried_for_reads_and_never_sent(
    unused_tcp_port: int,
) -> None:
    events: list[Event] = []
    async with PortfolioMarginClient(
        KEY,
        SECRET,
        base_url=f"http://127.0.0.1:{unused_tcp_port}",
        retry=FAST_RETRY,
        on_event=events.append,
    ) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.margin.repay_debt("BNB", "0.1")
    assert info.value.sent is False
    retries = [e for e in events if isinstance(e, RetryScheduled)]
    assert len(retries) == 2  # provably unsent: a write may be tried again, within bounds
    snap = client.rate_limits
    assert all(b.used == 0 for b in snap.budgets)  # unsent: budget given back


async def settle(sim: PapiSimulator, path: str, expected: int) -> None:
    """Let requests the client gave up on (server-side latency) reach the simulator's log."""
    for _ in range(200):
        if attempts(sim, path) >= expected:
            return
        await asyncio.sleep(0.005)


# -- hypothesis over repay-debt arguments ------------------------------------------------------

HELD = ("AAA", "BBB", "CCC", "1000SATS")
BAD_ASSETS = ("", "aaa", "AA A", "ÄÄ", "A,B", "A&B", "A=B", "A%", "X" * 40)

_ASSET = re.compile(r"[A-Z0-9]{1,32}")


def _not_decimal(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return True
    return False


valid_amounts = st.one_of(
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("500"), places=8),
    st.integers(min_value=1, max_value=500),
).flatmap(lambda v: st.sampled_from([v, str(v)]))
invalid_amounts = st.one_of(
    st.decimals(max_value=Decimal("0")),
    st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), "-Infinity", "nan"]),
    st.integers(max_value=0),
    st.floats(),
    st.booleans(),
    st.text(max_size=12).filter(_not_decimal),
    st.just([Decimal(1)]),
    # Beyond what any papi amount can be: refused before a huge string is built.
    st.sampled_from([Decimal("1e-19"), "1e-999999", Decimal("1e18"), "9" * 40, "1e+100000"]),
)


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> Any:
    """Valid values about 6 times in 7, so that many examples reach the simulator."""
    return st.sampled_from([True] * 6 + [False]).flatmap(lambda ok: valid if ok else invalid)


amounts = mostly(st.one_of(st.none(), valid_amounts), invalid_amounts)
# Either held assets or strings that are not asset codes at all.
assets = mostly(
    st.sampled_from(HELD),
    st.one_of(
        st.sampled_from(BAD_ASSETS), st.text(max_size=6).filter(lambda a: not _ASSET.fullmatch(a))
    ),
)
repay_lists = mostly(
    st.one_of(st.none(), st.lists(st.sampled_from(HELD), min_size=1, max_size=4, unique=True)),
    st.one_of(
        st.just([]),
        st.lists(st.sampled_from(HELD), min_size=2, max_size=4).filter(
            lambda xs: len(set(xs)) < len(xs)
        ),
        st.lists(st.sampled_from(BAD_ASSETS), min_size=1, max_size=3),
        st.text(max_size=8),
    ),
)


def property_state() -> SimState:
    held = {a: AssetState(free=Decimal("100000"), borrowed=Decimal("1000")) for a in HELD}
    return SimState(prices={a: Decimal("1") for a in HELD}, accounts={"main": Account(assets=held)})


@pytest.fixture
async def property_sim() -> AsyncIterator[PapiSimulator]:
    """The simulator on a FakeClock the client shares: every ``recvWindow`` in 1..60000
    is then met whatever the machine's load (on the wall clock 1 ms can pass)."""
    async with PapiSimulator(
        api_key=KEY,
        api_secret=SECRET,
        state=property_state(),
        ip_weight_limit=10_000_000,
        clock=FakeClock(1_700_000_040.0),
    ) as s:
        yield s


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    asset=assets,
    amount=amounts,
    specify=repay_lists,
    repay_all=st.booleans(),
    recv_window=mostly(
        st.one_of(st.none(), st.integers(min_value=1, max_value=60_000)),
        st.one_of(st.integers(max_value=0), st.integers(min_value=60_001)),
    ),
)
async def test_repay_debt_outcome_is_validation_error_or_accepted(
    property_sim: PapiSimulator,
    asset: Any,
    amount: Any,
    specify: Any,
    repay_all: bool,
    recv_window: int | None,
) -> None:
    sim = property_sim
    sim.reset()  # full debts again: every valid request is one the account can honour
    async with PortfolioMarginClient(
        KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS, clock=sim.clock
    ) as client:
        try:
            result = await client.margin.repay_debt(
                asset,
                amount,
                specify_repay_assets=specify,
                repay_all=repay_all,
                recv_window=recv_window,
            )
        except ValidationError as exc:
            event(f"validation error: {exc.param}")
            assert not any(r.path == REPAY for r in sim.requests)  # nothing was sent
            return
        except BinancePapiError as exc:  # pragma: no cover - the property's failure
            pytest.fail(f"unexpected {type(exc).__name__}: {exc}")
    event("accepted by the simulator")
    assert result.success
    assert result.asset == asset
    records = [r for r in sim.requests if r.path == REPAY]
    assert [r.status for r in records] == [200]
    assert len(sim.account().applied_repays) == 1
