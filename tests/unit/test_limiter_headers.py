"""Reconciliation with the response headers: other programs' weight in, refunds counted once,
counts lowered only where the server proves it."""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

from binance_papi_async.endpoints import Charge
from binance_papi_async.ratelimit import BudgetLimit, Reservation

from .limiter_support import OR, T0, W, make, settle, used, weight

HUNDRED = BudgetLimit(W, 100, reserve=0)


def weight_header(value: int) -> dict[str, str]:
    return {"X-MBX-USED-WEIGHT-1M": str(value)}


async def test_headers_bring_in_other_programs_weight() -> None:
    limiter, clock = make()
    limiter.observe_headers({"X-MBX-USED-WEIGHT-1M": "5930", "Content-Type": "x"})
    assert used(limiter) == 5930
    (await limiter.acquire(weight(10))).commit()  # 5940: what normal calls may use
    assert limiter.try_acquire(weight(1)) is None
    clock.advance(60)
    assert limiter.try_acquire(weight(1)) is not None


async def test_header_names_are_case_insensitive_and_matched_by_interval() -> None:
    limiter, _ = make(BudgetLimit(W, 6000), BudgetLimit(OR, 1200), BudgetLimit(OR, 300, 10.0))
    limiter.observe_headers(
        {
            "x-mbx-used-weight-1m": "100",
            "X-Mbx-Order-Count-1M": "7",
            "X-MBX-ORDER-COUNT-10S": "3",
            "X-MBX-USED-WEIGHT-1H": "999",  # no hourly weight limit: ignored
            "X-MBX-ORDER-COUNT-1D": "50",  # no daily order limit: ignored
        }
    )
    assert used(limiter, W) == 100
    assert used(limiter, OR, 60.0) == 7
    assert used(limiter, OR, 10.0) == 3


async def test_aiohttp_headers_are_looked_up_by_canonical_name() -> None:
    limiter, _ = make(BudgetLimit(W, 6000), BudgetLimit(OR, 1200), BudgetLimit(OR, 300, 10.0))
    raw = {"x-mbx-used-weight-1m": "100", "X-MBX-ORDER-COUNT-1M": "7", "x-mbx-order-count-10s": "3"}
    limiter.observe_headers(CIMultiDictProxy(CIMultiDict(raw)))
    assert used(limiter, W) == 100
    assert (used(limiter, OR, 60.0), used(limiter, OR, 10.0)) == (7, 3)
    limiter.observe_headers(CIMultiDict({"X-MBX-USED-WEIGHT-1M": "oops"}))
    assert used(limiter, W) == 100


async def test_malformed_headers_are_ignored() -> None:
    limiter, _ = make()
    limiter.observe_headers(
        {
            "X-MBX-USED-WEIGHT-1M": "many",
            "X-MBX-USED-WEIGHT-": "5",
            "X-MBX-USED-WEIGHT-0M": "5",
            "X-MBX-USED-WEIGHT-1Y": "5",
            "X-MBX-ORDER-COUNT-1M": "-3",
        }
    )
    assert used(limiter, W) == 0 and used(limiter, OR) == 0


async def test_a_header_without_a_reservation_never_lowers_the_count() -> None:
    limiter, _ = make()
    for _ in range(5):
        (await limiter.acquire(weight(10))).commit()
    limiter.observe_headers(weight_header(3))
    assert used(limiter) == 50


async def test_in_flight_requests_are_not_double_counted() -> None:
    """Exact when requests are processed in the order they were sent."""
    limiter, _ = make()
    sent = [await limiter.acquire(weight(1)) for _ in range(10)]
    for r in sent:
        r.commit()
    # No other program: the first request's response says 1, the last one's says 10.
    limiter.observe_headers(weight_header(1), reservation=sent[0])
    assert used(limiter) == 10
    limiter.observe_headers(weight_header(10), reservation=sent[9])
    assert used(limiter) == 10
    # Another program spent 3000 before our first request was processed: the
    # nine requests sent after it come on top of the server's 3001.
    limiter.observe_headers(weight_header(3001), reservation=sent[0])
    assert used(limiter) == 3010


async def test_a_refund_is_never_counted_twice() -> None:
    limiter, _ = make(HUNDRED)
    admitted = [await limiter.acquire(weight(10)) for _ in range(10)]
    assert used(limiter) == 100
    for r in admitted[5:]:
        r.release()  # e.g. no free connection in time: never sent
    assert used(limiter) == 50
    for r in admitted[:5]:
        r.commit()
    # The first one's answer: the server saw 10.  The four still in flight come on top;
    # the five given back are not counted again.
    limiter.observe_headers(weight_header(10), reservation=admitted[0])
    assert used(limiter) == 50
    limiter.observe_headers(weight_header(50), reservation=admitted[4])
    assert used(limiter) == 50
    assert limiter.try_acquire(weight(50)) is not None


async def test_a_header_lowers_a_count_the_server_proves_too_high() -> None:
    limiter, _ = make(HUNDRED)
    # Our estimate is 10 a call; the server counts 4.  One call at a time: each answer
    # proves what the server has seen, nothing is in flight.
    for server_count in (4, 8, 12):
        reservation = await limiter.acquire(weight(10))
        assert used(limiter) == server_count - 4 + 10
        limiter.observe_headers(weight_header(server_count), reservation=reservation)
        assert used(limiter) == server_count
    # With calls in flight, an answer proves less: those answered after a request was
    # sent may have been processed after it, and stay counted on top.
    calls = [await limiter.acquire(weight(10)) for _ in range(2)]
    limiter.observe_headers(weight_header(16), reservation=calls[0])
    assert used(limiter) == 16 + 10
    limiter.observe_headers(weight_header(20), reservation=calls[1])
    assert used(limiter) == 16 + 10  # within what this one proves (at most 20 + 10)


async def test_an_answer_that_proves_the_window_takes_the_charge_out_of_the_other() -> None:
    """A request that may arrive on either side of a boundary counts in both windows,
    until its answer shows which one."""
    limiter, clock = make(HUNDRED, start=T0 + 59.5, transit=1.0)
    reservation = await limiter.acquire(weight(40))
    assert [k.window for k, _ in reservation.charges] == [28_333_334, 28_333_335]
    clock.advance(0.1)  # answered at T0 + 59.6: it arrived before the boundary
    limiter.observe_headers({}, reservation=reservation)
    assert [k.window for k, _ in reservation.charges] == [28_333_334]
    clock.advance(0.4)
    assert used(limiter) == 0  # the next window owes it nothing


async def test_a_later_header_lowers_a_window_charged_for_a_request_counted_in_the_other() -> None:
    limiter, clock = make(HUNDRED, start=T0 + 59.5, transit=1.0)
    spanning = await limiter.acquire(weight(40))
    clock.advance(0.7)  # answered after the boundary: either window
    limiter.observe_headers({}, reservation=spanning)
    assert used(limiter) == 40
    later = await limiter.acquire(weight(5))  # T0 + 60.2: surely the new window
    assert used(limiter) == 45
    clock.advance(0.1)
    limiter.observe_headers(weight_header(5), reservation=later)  # the server: only this one
    assert used(limiter) == 5


async def test_a_header_from_a_window_that_rolled_is_applied_to_that_window() -> None:
    limiter, clock = make(start=T0 + 59.5)
    reservation = await limiter.acquire(weight(1))
    clock.advance(1.0)  # the response arrives in the next window
    limiter.observe_headers(weight_header(5000), reservation=reservation)
    assert used(limiter) == 0
    assert reservation.committed  # a response proves the request was sent
    limiter.observe_headers(weight_header(4000))  # no reservation: current window
    assert used(limiter) == 4000


async def test_after_a_sync_re_keyed_the_windows_a_header_only_raises() -> None:
    limiter, clock = make(HUNDRED)
    calls = [await limiter.acquire(weight(10)) for _ in range(3)]
    clock.set_offset(0.002, uncertainty=0.001)  # a sync: the marks no longer hold
    limiter.observe_headers(weight_header(3), reservation=calls[0])
    assert used(limiter) == 30
    limiter.observe_headers(weight_header(70), reservation=calls[1])
    assert used(limiter) == 70


async def test_observe_used_is_one_header() -> None:
    limiter, _ = make(HUNDRED, BudgetLimit(OR, 10, 10.0))
    reservation = await limiter.acquire((Charge(W, 2), Charge(OR, 1)))
    limiter.observe_used(OR, 4, interval_s=10.0, reservation=reservation)
    assert used(limiter, OR, 10.0) == 4
    assert reservation.committed
    limiter.observe_used(W, 30)
    assert used(limiter) == 30


async def test_a_reservation_of_another_limiter_is_taken_as_none() -> None:
    limiter, _ = make(HUNDRED)
    other, _ = make(HUNDRED)
    foreign: Reservation = await other.acquire(weight(10))
    (await limiter.acquire(weight(50))).commit()
    limiter.observe_headers(weight_header(20), reservation=foreign)
    assert used(limiter) == 50  # raised only: never lowered on a stranger's word
    await settle()
