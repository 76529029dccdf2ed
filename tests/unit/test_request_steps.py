"""The steps of one attempt of the transport, each on its own (no sockets).

Admit (rate budget, then a connection slot), prepare and sign, send once, classify the
answer, decide the retry.  Sessions, limiters and loops are small fakes here; the same
steps run end to end against the simulator in tests/integration.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from binance_papi_async import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ExecutionStatusUnknown,
    FakeClock,
    IPBannedError,
    OutcomeUnknown,
    PortfolioMarginClient,
    RateLimitError,
    RequestEnd,
    RetryPolicy,
    ServerError,
    TimeSync,
    UnexpectedResponseError,
    WeightExceedsLimitError,
)
from binance_papi_async._http.call import Call
from binance_papi_async._http.classify import Answer, read_answer
from binance_papi_async._http.deadlines import Deadlines
from binance_papi_async._http.reporting import Reporter
from binance_papi_async._http.retrying import retry_delay
from binance_papi_async._http.transport import Transport
from binance_papi_async._http.url import BaseUrl, query_string
from binance_papi_async.endpoints import Budget, EndpointSpec, Security
from binance_papi_async.errors import BinancePapiError, from_response
from binance_papi_async.events import Event
from binance_papi_async.retry import NO_RETRY
from binance_papi_async.signing import HmacSigner, signed_query
from binance_papi_async.timeouts import Timeouts

SECRET = "steps-secret-0123456789abcdef"
READ = EndpointSpec(
    name="read", method="GET", path="/papi/v1/x", security=Security.USER_DATA, weight=1
)
WRITE = EndpointSpec(
    name="write", method="POST", path="/papi/v1/y", security=Security.TRADE, weight=1
)
PUBLIC = EndpointSpec(
    name="public", method="GET", path="/papi/v1/ping", security=Security.NONE, weight=1
)
NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


def transport(**options: Any) -> tuple[Transport, list[Event]]:
    events: list[Event] = []
    client = PortfolioMarginClient(
        "steps-key-0123456789abcdef",
        SECRET,
        base_url="http://127.0.0.1:9",
        time_sync=TimeSync(enabled=False),
        on_event=events.append,
        **options,
    )
    return client._transport, events


def new_call(spec: EndpointSpec, params: dict[str, str] | None = None, **policy: Any) -> Call:
    call = Call(spec, {} if params is None else params, RetryPolicy(**policy), None)
    call.observing = True
    return call


# -- prepare and sign ---------------------------------------------------------------------------


def test_a_signed_query_ends_with_the_timestamp_and_the_signature_over_what_precedes() -> None:
    clock = FakeClock(1_700_000_000.25)
    params = {"symbol": "BTCUSDT", "assets": "USDT,BTC"}
    query = query_string(READ, params, HmacSigner(SECRET), clock, "5000")
    unsigned, _, signature = query.rpartition("&signature=")
    assert unsigned == "symbol=BTCUSDT&assets=USDT%2CBTC&recvWindow=5000&timestamp=1700000000250"
    expected = hmac.new(SECRET.encode(), unsigned.encode(), hashlib.sha256).hexdigest()
    assert signature == expected
    assert query == signed_query(unsigned, HmacSigner(SECRET))  # the one signing path
    # What was sent is in params (errors and events show it), without the signature.
    assert params == {**dict(parse_qsl(unsigned)), "assets": "USDT,BTC"}


def test_a_timestamp_in_params_is_replaced_by_a_fresh_one_sent_last() -> None:
    params = {"timestamp": "1", "recvWindow": "100", "a": "b"}
    query = query_string(READ, params, HmacSigner(SECRET), FakeClock(2.0), "5000")
    assert query.startswith("recvWindow=100&a=b&timestamp=2000&signature=")
    assert params == {"recvWindow": "100", "a": "b", "timestamp": "2000"}


def test_an_unsigned_query_is_the_encoded_params_alone() -> None:
    params = {"symbol": "BTC USDT"}
    assert query_string(PUBLIC, params, None, FakeClock(), "5000") == "symbol=BTC%20USDT"
    assert params == {"symbol": "BTC USDT"}


query_text = st.text(alphabet=string.ascii_letters + string.digits + "-_.~%&=", max_size=80)


@settings(max_examples=200, deadline=None)
@given(
    base=st.sampled_from(
        ["https://papi.binance.com", "http://127.0.0.1:8080", "http://[::1]:9000/prefix"]
    ),
    path=st.sampled_from(["/papi/v1/margin/repay-debt", "/papi/v1/um/order", "/"]),
    query=query_text,
)
def test_a_url_is_built_from_encoded_parts_unchanged(base: str, path: str, query: str) -> None:
    url = BaseUrl(base).url(path, query)
    expected = URL(f"{base}{path}" + (f"?{query}" if query else ""), encoded=True)
    assert url == expected and str(url) == str(expected)
    assert url.raw_query_string == query  # exactly the bytes that were signed


# -- admit: rate budget, then a connection slot -----------------------------------------------


class FakeReservation:
    def __init__(self) -> None:
        self.released = False

    def release(self) -> None:
        self.released = True

    def recheck(self) -> bool:
        return not self.released


class FakeLimiter:
    """Admits every call at once with a reservation it keeps; records what it is told."""

    def __init__(self) -> None:
        self.reservations: list[FakeReservation] = []
        self.told: list[tuple[Any, ...]] = []
        self.clock = FakeClock()  # a 418's Retry-After counts from it

    def try_acquire(
        self, charges: Any, *, urgent: bool = False, account: str | None = None
    ) -> FakeReservation:
        self.reservations.append(FakeReservation())
        return self.reservations[-1]

    def observe_headers(self, headers: Any, *, reservation: Any = None) -> None:
        self.told.append(("headers", reservation))

    def on_rate_limited(
        self, retry_after: float | None, budget: Budget | None = None, account: str | None = None
    ) -> None:
        self.told.append(("429", retry_after, budget))

    def on_ip_banned(self, retry_after: float | None, banned_until: float | None) -> None:
        self.told.append(("418", retry_after))


class FakeLoop:
    """What :class:`Deadlines` asks of its loop; timers fire when the test says."""

    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[tuple[float, Callable[..., None], tuple[Any, ...]]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> None:
        self.timers.append((when, callback, args))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for timer in [t for t in self.timers if t[0] <= self.now]:
            self.timers.remove(timer)
            timer[1](*timer[2])


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def admit(
    tr: Transport, limiter: FakeLimiter, deadlines: Deadlines, connect: float = 1.0
) -> Any:
    """Admission as ``request`` awaits it when budget or a slot is short."""
    task = asyncio.current_task()
    assert task is not None
    return await tr._admit(new_call(WRITE), limiter, connect, task, deadlines)  # type: ignore[arg-type]


def test_a_free_slot_is_taken_without_an_await_unless_somebody_waits() -> None:
    tr, _ = transport(pool_size=2)
    gate = tr._gate
    assert gate is not None
    assert gate.try_acquire() and gate.try_acquire()  # the two slots
    assert not gate.try_acquire() and gate.locked()
    gate.release()
    assert gate.try_acquire()
    gate.release()
    gate.release()
    assert not gate.locked()


async def test_a_free_slot_goes_to_a_waiter_not_to_a_try_that_comes_after_it() -> None:
    tr, _ = transport(pool_size=1)
    gate = tr._gate
    assert gate is not None and gate.try_acquire()
    waiter = asyncio.ensure_future(gate.acquire())
    await settle()
    gate.release()  # the slot is the waiter's now, though it has not run yet
    assert not gate.try_acquire()
    assert await waiter and gate.locked()
    gate.release()
    assert gate.try_acquire()


async def test_a_call_takes_budget_then_a_free_slot_without_waiting() -> None:
    tr, _ = transport(pool_size=2)
    limiter, deadlines = FakeLimiter(), Deadlines(FakeLoop())  # type: ignore[arg-type]
    reservation = await admit(tr, limiter, deadlines)
    assert reservation is limiter.reservations[0] and not reservation.released
    assert tr._gate is not None and not tr._gate.locked()  # one of two slots taken
    assert len(deadlines) == 0  # nothing armed: no wait


async def test_no_slot_within_connect_is_a_timeout_unsent_and_the_budget_goes_back() -> None:
    tr, events = transport(pool_size=1)
    loop, limiter = FakeLoop(), FakeLimiter()
    deadlines = Deadlines(loop)  # type: ignore[arg-type]
    assert tr._gate is not None
    await tr._gate.acquire()  # the one slot is busy
    waiting = asyncio.ensure_future(admit(tr, limiter, deadlines, connect=0.5))
    await settle()
    assert not waiting.done() and len(deadlines) == 1
    loop.advance(0.5)
    with pytest.raises(APITimeoutError) as info:
        await waiting
    assert info.value.sent is False and "no free connection within 0.5s" in str(info.value)
    assert info.value.__context__ is None  # the timeout's CancelledError is not attached
    assert limiter.reservations[0].released and len(deadlines) == 0
    assert [type(e) for e in events] == [RequestEnd]
    tr._gate.release()
    assert not tr._gate.locked()  # the waiter holds nothing


async def test_a_call_cancelled_while_waiting_for_a_slot_gives_the_budget_back() -> None:
    tr, _ = transport(pool_size=1)
    limiter, deadlines = FakeLimiter(), Deadlines(FakeLoop())  # type: ignore[arg-type]
    assert tr._gate is not None
    await tr._gate.acquire()
    waiting = asyncio.ensure_future(admit(tr, limiter, deadlines))
    await settle()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert limiter.reservations[0].released and len(deadlines) == 0
    tr._gate.release()
    assert not tr._gate.locked()


async def test_a_slot_freed_while_a_call_waits_goes_to_it() -> None:
    tr, _ = transport(pool_size=1)
    limiter, deadlines = FakeLimiter(), Deadlines(FakeLoop())  # type: ignore[arg-type]
    assert tr._gate is not None
    await tr._gate.acquire()
    waiting = asyncio.ensure_future(admit(tr, limiter, deadlines))
    await settle()
    tr._gate.release()
    reservation = await waiting
    assert not reservation.released and tr._gate.locked() and len(deadlines) == 0


class ShortLimiter(FakeLimiter):
    """A limiter whose budget is short (``None``), or whose charges can never fit (raises)."""

    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.error = error
        self.asked = 0

    def try_acquire(  # type: ignore[override]
        self, charges: Any, *, urgent: bool = False, account: str | None = None
    ) -> FakeReservation | None:
        self.asked += 1
        if self.error is not None:
            raise self.error
        return None


def test_an_uncontended_call_takes_a_free_slot_then_its_budget() -> None:
    tr, _ = transport(pool_size=1)
    limiter = FakeLimiter()
    assert tr._gate is not None and tr._gate.try_acquire()  # the one slot is busy
    assert tr._admit_now(new_call(WRITE), limiter) is False  # type: ignore[arg-type]
    assert limiter.reservations == []  # no budget taken for a call that has no slot
    tr._gate.release()
    reservation: Any = tr._admit_now(new_call(WRITE), limiter)  # type: ignore[arg-type]
    assert reservation is limiter.reservations[0] and tr._gate.locked()


def test_an_uncontended_call_short_of_budget_gives_its_slot_back() -> None:
    tr, _ = transport(pool_size=1)
    limiter = ShortLimiter()
    assert tr._admit_now(new_call(WRITE), limiter) is False  # type: ignore[arg-type]
    assert limiter.asked == 1
    assert tr._gate is not None and not tr._gate.locked()


def test_an_uncontended_call_whose_charges_never_fit_gives_its_slot_back() -> None:
    tr, _ = transport(pool_size=1)
    limiter = ShortLimiter(
        WeightExceedsLimitError(budget=Budget.REQUEST_WEIGHT, amount=3000, limit=100, interval_s=60)
    )
    with pytest.raises(WeightExceedsLimitError):
        tr._admit_now(new_call(WRITE), limiter)  # type: ignore[arg-type]
    assert tr._gate is not None and not tr._gate.locked()


async def test_deadlines_read_the_clock_asyncio_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    if getattr(loop.time, "__func__", None) is not asyncio.BaseEventLoop.time:
        pytest.skip("the loop keeps its own clock (uvloop): Deadlines reads loop.time()")
    task = asyncio.current_task()
    assert task is not None
    deadlines = Deadlines(loop)
    monkeypatch.setattr("time.monotonic", lambda: 1_000.0)  # e.g. a frozen clock in a test
    assert loop.time() == 1_000.0
    slot = deadlines.arm(task, 2.5)
    assert list(deadlines._slots) == [100_250]  # 1,002.5 s in slots of 10 ms
    slot.leave(task)
    monkeypatch.undo()


# -- send once ---------------------------------------------------------------------------------


class FakeResponse:
    def __init__(self, status: int, body: bytes, *, closed: bool) -> None:
        self.status = status
        self.headers = NO_HEADERS
        self.content_length = len(body)
        self.body = body
        self.closed = closed
        self.released = False

    async def read(self) -> bytes:
        return self.body

    def release(self) -> None:
        self.released = True


class FakeSession:
    """Answers with ``outcome`` (a response, or an exception raised), or never."""

    closed = False

    def __init__(self, outcome: FakeResponse | BaseException | None) -> None:
        self.outcome = outcome
        self.kwargs: dict[str, Any] = {}

    async def request(self, method: str, url: URL, **kwargs: Any) -> FakeResponse:
        self.kwargs = kwargs
        if self.outcome is None:
            await asyncio.Event().wait()
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        assert self.outcome is not None
        return self.outcome


async def send(
    tr: Transport, session: FakeSession, spec: EndpointSpec, deadlines: Deadlines | None = None
) -> Any:
    """One attempt of ``spec`` through ``tr.request`` on ``session`` (the client's own
    session, replaced), with ``deadlines`` if given: its result, or the error it raised."""
    tr._session = session  # type: ignore[assignment]
    if deadlines is not None:
        task = asyncio.current_task()
        assert task is not None
        tr._task_deadlines = lambda: (task, deadlines)  # type: ignore[method-assign]
    try:
        return await tr.request(spec, {"a": "1"}, retry=NO_RETRY)
    except BinancePapiError as exc:
        return exc


def unknowns(events: list[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, OutcomeUnknown)]


async def test_an_answer_is_read_to_its_end_and_its_connection_released() -> None:
    tr, _ = transport()
    response = FakeResponse(201, b'{"b": 2}', closed=False)
    session = FakeSession(response)
    assert await send(tr, session, READ) == {"b": 2} and response.released
    assert session.kwargs["allow_redirects"] is False
    assert session.kwargs["timeout"] == aiohttp.ClientTimeout(total=None, connect=3.0)
    # The proxy, raise_for_status=False and no middlewares are the owned session's own:
    # an owned session never re-sends by itself.
    assert session.kwargs.keys() == {"headers", "timeout", "allow_redirects"}
    assert tr._deadlines is not None and len(tr._deadlines) == 0


async def test_a_call_with_its_own_timeouts_gets_its_connect_timeout() -> None:
    tr, _ = transport()
    session = FakeSession(FakeResponse(200, b"{}", closed=True))
    tr._session = session  # type: ignore[assignment]
    await tr.request(READ, {}, timeout=Timeouts(total=2.0, connect=0.5))
    assert session.kwargs["timeout"] == aiohttp.ClientTimeout(total=None, connect=0.5)
    await tr.request(READ, {})
    assert session.kwargs["timeout"] == aiohttp.ClientTimeout(total=None, connect=3.0)


async def test_a_write_on_an_injected_session_carries_the_send_once_guard() -> None:
    async with aiohttp.ClientSession() as own:
        tr, _ = transport(session=own)
        session = FakeSession(FakeResponse(200, b"{}", closed=True))
        await send(tr, session, WRITE)
        assert len(session.kwargs["middlewares"]) == 1
        assert session.kwargs["raise_for_status"] is False  # whatever the session says
        await send(tr, session, READ)
        assert session.kwargs["middlewares"] is None


async def test_a_connect_failure_is_an_error_of_a_request_not_sent() -> None:
    tr, events = transport()
    error = await send(tr, FakeSession(aiohttp.ConnectionTimeoutError("to host")), WRITE)
    assert isinstance(error, APITimeoutError) and error.sent is False
    assert unknowns(events) == []  # nothing may have been applied: no OutcomeUnknown
    assert tr.limiter is not None and tr.limiter.snapshot().get(Budget.ORDERS).used == 0


async def test_a_failure_after_sending_a_write_is_an_unknown_outcome_reported_once() -> None:
    tr, events = transport()
    failure = aiohttp.ServerDisconnectedError("http://h/p?a=1&signature=abc")
    error = await send(tr, FakeSession(failure), WRITE)
    assert isinstance(error, ExecutionStatusUnknown) and error.params["a"] == "1"
    assert "signature" not in str(error) and error.__context__ is None
    assert len(unknowns(events)) == 1
    assert isinstance(events[-1], RequestEnd) and events[-1].error == "ExecutionStatusUnknown"


async def test_a_failure_after_sending_a_read_is_a_connection_error_that_was_sent() -> None:
    tr, events = transport()
    error = await send(tr, FakeSession(aiohttp.ClientOSError("reset")), READ)
    assert type(error) is APIConnectionError and error.sent is True and unknowns(events) == []


async def test_the_total_timeout_is_a_timeout_of_a_request_that_may_have_been_sent() -> None:
    tr, _ = transport()
    loop = FakeLoop()
    deadlines = Deadlines(loop)  # type: ignore[arg-type]
    sending = asyncio.ensure_future(send(tr, FakeSession(None), READ, deadlines))
    await settle()
    loop.advance(tr.timeouts.total)
    error = await sending
    assert isinstance(error, APITimeoutError) and error.sent is True
    assert len(deadlines) == 0 and not sending.cancelled()


async def test_a_write_cancelled_while_sending_reports_an_unknown_outcome_and_stays_cancelled() -> (
    None
):
    tr, events = transport()
    sending = asyncio.ensure_future(send(tr, FakeSession(None), WRITE))
    await settle()
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    assert len(unknowns(events)) == 1 and not any(isinstance(e, RequestEnd) for e in events)
    assert tr._deadlines is not None and len(tr._deadlines) == 0
    assert tr._gate is not None and tr._gate.try_acquire()  # the slot was given back


# -- classify the answer ------------------------------------------------------------------------


def headers(**items: str) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(items))


def test_a_2xx_is_decoded_then_parsed_and_the_limiter_sees_its_headers() -> None:
    limiter: Any = FakeLimiter()
    reservation: Any = FakeReservation()
    events: list[Event] = []
    answer = Answer(200, headers(**{"X-MBX-USED-WEIGHT-1M": "7"}), b'{"a": [1, 2]}')
    call = new_call(READ)
    data = read_answer(
        call, answer, lambda d: d["a"], limiter, reservation, Reporter(events.append)
    )
    assert data == [1, 2] and limiter.told == [("headers", reservation)]
    assert len(events) == 1 and isinstance(events[0], RequestEnd)
    assert events[0].used_weight == "7" and events[0].error is None


@pytest.mark.parametrize("body", [b"<html>", b'{"unexpected": 1}'])
def test_an_unreadable_2xx_is_unexpected_for_a_read_and_unknown_for_a_write(body: bytes) -> None:
    events: list[Event] = []
    answer = Answer(200, NO_HEADERS, body)

    def parse(data: Any) -> Any:
        return data["expected"]

    with pytest.raises(UnexpectedResponseError) as read:
        read_answer(new_call(READ), answer, parse, None, None, Reporter(events.append))
    assert read.value.__context__ is None or read.value.__suppress_context__
    assert not any(isinstance(e, OutcomeUnknown) for e in events)
    with pytest.raises(ExecutionStatusUnknown):
        read_answer(new_call(WRITE), answer, parse, None, None, Reporter(events.append))
    assert sum(isinstance(e, OutcomeUnknown) for e in events) == 1


def test_a_429_pauses_the_limiter_and_a_418_bans_the_ip() -> None:
    limiter: Any = FakeLimiter()
    reporter = Reporter(None)
    body = orjson.dumps({"code": -1015, "msg": "Too many new orders"})
    too_many = Answer(429, headers(**{"Retry-After": "3"}), body)
    with pytest.raises(RateLimitError):
        read_answer(new_call(WRITE), too_many, None, limiter, None, reporter)
    banned = Answer(418, headers(**{"Retry-After": "60"}), b"")
    with pytest.raises(IPBannedError):
        read_answer(new_call(READ), banned, None, limiter, None, reporter)
    assert limiter.told[1] == ("429", 3.0, Budget.ORDERS)  # -1015 counts orders, not weight
    assert limiter.told[3] == ("418", 60.0)


def test_a_redirect_is_an_answer_never_followed() -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        read_answer(new_call(READ), Answer(302, NO_HEADERS, b""), None, None, None, Reporter(None))
    assert info.value.status == 302 and "not followed" in str(info.value)
    with pytest.raises(ExecutionStatusUnknown):  # a write may have executed behind it
        read_answer(new_call(WRITE), Answer(307, NO_HEADERS, b""), None, None, None, Reporter(None))


# -- decide the retry ---------------------------------------------------------------------------


def answer_error(spec: EndpointSpec, status: int, code: int | None = None) -> BinancePapiError:
    body = orjson.dumps({"code": code, "msg": "x"}) if code is not None else b""
    return from_response(
        status=status,
        headers=headers(**{"Retry-After": "1"}) if status == 429 else NO_HEADERS,
        body=body,
        method=spec.method,
        path=spec.path,
        params={},
        sent_at=0.0,
    )


def unsent(spec: EndpointSpec) -> APIConnectionError:
    return APIConnectionError("x", method=spec.method, path=spec.path, sent=False)


def sent(spec: EndpointSpec) -> APIConnectionError:
    return APIConnectionError("x", method=spec.method, path=spec.path, sent=True)


@pytest.mark.parametrize(
    ("spec", "make_error", "retried"),
    [
        (READ, unsent, True),
        (WRITE, unsent, True),  # provably never left: safe to send again
        (READ, sent, True),
        (WRITE, sent, False),  # may have been sent: never again
        (READ, lambda s: answer_error(s, 503), True),
        (WRITE, lambda s: answer_error(s, 503), False),
        (READ, lambda s: answer_error(s, 400, -1001), True),  # a transient code
        (READ, lambda s: answer_error(s, 400, -1102), False),
        (READ, lambda s: answer_error(s, 418), False),
        (READ, lambda s: answer_error(s, 429), True),  # after its Retry-After
        (WRITE, lambda s: answer_error(s, 429), False),
    ],
)
def test_which_errors_are_retried(
    spec: EndpointSpec, make_error: Callable[[EndpointSpec], BinancePapiError], retried: bool
) -> None:
    error = make_error(spec)
    delay = retry_delay(new_call(spec), error, None)
    assert (delay is not None) == retried
    if retried and isinstance(error, RateLimitError):
        assert delay == 1.0  # without a limiter, exactly its Retry-After


def test_no_retry_beyond_the_policys_attempts_or_time() -> None:
    call = new_call(READ, max_attempts=2)
    assert retry_delay(call, answer_error(READ, 500), None) is not None
    call.number = 2
    assert retry_delay(call, answer_error(READ, 500), None) is None
    call = new_call(READ, max_elapsed=0.5)
    assert isinstance(answer_error(READ, 500), ServerError)
    assert retry_delay(call, answer_error(READ, 429), None) is None  # 1 s > 0.5 s left
    assert retry_delay(new_call(WRITE, retry_unsent_writes=False), unsent(WRITE), None) is None


def test_after_a_429_the_next_attempt_waits_for_budget_no_longer_than_the_policy_allows() -> None:
    call = Call(READ, {}, RetryPolicy(max_elapsed=10.0), 30.0)
    error = answer_error(READ, 429)
    assert isinstance(error, RateLimitError)
    call.after_429(error)
    assert call.last_429 is error and call.wait_bound is not None
    assert 9.0 < call.wait_bound <= 10.0


# -- the session -----------------------------------------------------------------------------


async def test_an_owned_session_closed_by_hand_is_a_typed_error_before_any_budget() -> None:
    client = PortfolioMarginClient(
        "steps-key-0123456789abcdef",
        SECRET,
        base_url="http://127.0.0.1:9",
        time_sync=TimeSync(enabled=False),
    )
    try:
        session = client._transport.ensure_session()
        await session.close()  # not client.aclose(): behind the client's back
        with pytest.raises(ClientClosedError, match="client's aiohttp session has been closed"):
            await client.margin.repay_debt("BNB", "1")
        assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used == 0  # nothing charged
    finally:
        await client.aclose()
