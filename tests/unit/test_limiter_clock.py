"""The window model against an uncertain clock: charges near a boundary, the re-check before
sending, and re-keying when a sync moves the offset."""

from __future__ import annotations

import asyncio
import gc
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binance_papi_async.clock import (
    DEFAULT_DRIFT_RATE,
    UNSYNCED_UNCERTAINTY_S,
    FakeClock,
    ServerClock,
    estimate_offset_bound,
)
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter

from .limiter_support import OR, T0, W, assert_idle, make, settle, used, weight

HUNDRED = BudgetLimit(W, 100, reserve=0)
MINUTE = 28_333_334  # the index of the window starting at T0


# -- the clock's bound --------------------------------------------------------------------------


def test_an_unsynced_server_clock_claims_a_second_and_a_sync_measures_it() -> None:
    clock = ServerClock(drift_rate=DEFAULT_DRIFT_RATE)
    assert clock.uncertainty() == pytest.approx(UNSYNCED_UNCERTAINTY_S, abs=1e-3)
    local = clock.local()
    samples = [
        (local - 0.2, 1_700_000_000.050, local - 0.1),
        (local - 0.1, 1_700_000_000.140, local),
    ]
    estimate = clock.sync(samples)
    # first: offset in [s - 0.1 - local, s - 0.199 - ...]: the intersection of both samples
    assert estimate.uncertainty < 0.05 and estimate.rtt == pytest.approx(0.1)
    assert clock.offset == estimate.offset
    assert clock.uncertainty(clock.local() + 100) == pytest.approx(
        estimate.uncertainty + 100 * DEFAULT_DRIFT_RATE, abs=1e-3
    )
    clock.set_offset(clock.offset)  # not measured
    assert clock.uncertainty() == pytest.approx(UNSYNCED_UNCERTAINTY_S, abs=1e-3)


@given(
    offset=st.floats(-700, 700),
    delays=st.lists(st.tuples(st.floats(0, 0.1), st.floats(0, 0.1)), min_size=1, max_size=6),
)
def test_the_true_offset_lies_within_the_bound_of_a_sync(
    offset: float, delays: list[tuple[float, float]]
) -> None:
    """Whatever the one-way delays, the server read its clock during the round trip."""
    samples = []
    local = 1000.0
    for up, down in delays:
        server = math.floor((local + up + offset) * 1000) / 1000  # whole milliseconds
        samples.append((local, server, local + up + down))
        local += up + down + 0.01
    estimate = estimate_offset_bound(samples)
    assert abs(estimate.offset - offset) <= estimate.uncertainty + 1e-9
    assert estimate.uncertainty <= max(up + down for up, down in delays) / 2 + 0.001


def test_samples_that_contradict_each_other_get_a_bound_covering_them_all() -> None:
    estimate = estimate_offset_bound([(0.0, 5.0, 0.1), (1.0, 9.0, 1.1)])  # the server stepped
    for low, high in ((4.9, 5.001), (7.9, 8.001)):
        assert estimate.offset - estimate.uncertainty <= low
        assert high <= estimate.offset + estimate.uncertainty
    with pytest.raises(ValueError):
        estimate_offset_bound([])


def test_listeners_hear_of_every_change_and_are_held_weakly() -> None:
    clock = FakeClock(T0)
    heard: list[float] = []

    class Listener:
        def changed(self) -> None:
            heard.append(clock.offset)

    listener = Listener()
    clock.add_listener(listener.changed)
    clock.set_offset(2.0, uncertainty=0.01)
    clock.set_uncertainty(0.5)
    assert heard == [2.0, 2.0] and clock.time() == T0 + 2.0
    del listener
    gc.collect()
    clock.set_offset(3.0)
    assert heard == [2.0, 2.0]


def test_fake_clock_timers_keep_their_local_time_when_the_offset_moves() -> None:
    clock = FakeClock(100.0)
    fired: list[float] = []
    clock.call_at(110.0, lambda: fired.append(clock.local()))
    clock.set_offset(5.0)  # the estimate jumps; the timer stays 10 s of local time away
    clock.advance(9.9)
    assert fired == []
    clock.advance(0.1)
    assert fired == [110.0] and clock.time() == 115.0


# -- windows near a boundary ----------------------------------------------------------------------


async def test_a_charge_that_may_arrive_on_either_side_of_a_boundary_counts_in_both() -> None:
    limiter, clock = make(HUNDRED, start=T0 + 59.995, uncertainty=0.01)
    reservation = await limiter.acquire(weight(30))
    assert [k.window for k, _ in reservation.charges] == [MINUTE, MINUTE + 1]
    clock.advance(0.1)
    assert used(limiter) == 30


async def test_a_full_window_stays_closed_until_its_end_plus_the_uncertainty() -> None:
    """A small clock error must not let a call arrive in the last milliseconds of a full
    server window (two 429s at 59.997 s of the server's minute)."""
    limiter, clock = make(HUNDRED, start=T0 + 30, uncertainty=0.010)
    (await limiter.acquire(weight(100))).commit()
    task = asyncio.create_task(limiter.acquire(weight(60)))
    await settle()
    clock.advance(30.0)  # the estimate says T0 + 60; the server may still be at 59.990
    await settle()
    assert not task.done()
    clock.advance(0.0099)
    await settle()
    assert not task.done()
    clock.advance(0.0001)  # T0 + 60 + U: surely the new window
    await settle()
    assert task.done()
    assert [k.window for k, _ in task.result().charges] == [MINUTE + 1]
    assert_idle(limiter, clock)


async def test_transit_counts_a_request_sent_late_in_a_window_in_the_next_too() -> None:
    limiter, _ = make(HUNDRED, start=T0 + 59.8, transit=0.5)
    reservation = await limiter.acquire(weight(1))
    assert [k.window for k, _ in reservation.charges] == [MINUTE, MINUTE + 1]
    early, _ = make(HUNDRED, start=T0 + 59.4, transit=0.5)
    assert [k.window for k, _ in (await early.acquire(weight(1))).charges] == [MINUTE]


# -- the re-check when the timestamp is taken ----------------------------------------------------


async def test_recheck_is_true_while_the_windows_still_hold() -> None:
    limiter, clock = make(HUNDRED, start=T0 + 10)
    reservation = await limiter.acquire(weight(10))
    clock.advance(30)
    assert reservation.recheck()
    assert [k.window for k, _ in reservation.charges] == [MINUTE]


async def test_recheck_moves_a_charge_sent_in_a_later_window() -> None:
    limiter, clock = make(HUNDRED, start=T0 + 50)
    reservation = await limiter.acquire(weight(10))  # then waits for a connection ...
    clock.advance(15)  # ... and is sent in the next window
    assert reservation.recheck()
    assert [k.window for k, _ in reservation.charges] == [MINUTE + 1]
    assert used(limiter) == 10
    clock.advance(-0.0 + 0)  # nothing moves without a new re-check
    assert reservation.recheck()


async def test_recheck_gives_the_budget_back_when_the_new_window_is_full() -> None:
    limiter, clock = make(HUNDRED, start=T0 + 50)
    reservation = await limiter.acquire(weight(10))
    clock.advance(15)
    (await limiter.acquire(weight(95))).commit()  # the new window filled up meanwhile
    assert not reservation.recheck()
    assert reservation.released and used(limiter) == 95
    assert not reservation.recheck()


async def test_recheck_of_an_urgent_call_may_use_the_reserve() -> None:
    limiter, clock = make(BudgetLimit(W, 100, reserve=10), start=T0 + 50)
    reservation = await limiter.acquire(weight(5), urgent=True)
    clock.advance(15)
    (await limiter.acquire(weight(90))).commit()
    assert reservation.recheck()
    assert used(limiter) == 95


# -- re-keying when a sync moves the offset ------------------------------------------------------


async def test_sync_reads_sent_before_the_offset_was_known_count_in_their_true_window() -> None:
    """The host clock is ten minutes behind the server's: the reads that measure it were
    charged to a window ten minutes early; after the sync they count where they landed."""
    limiter, clock = make(HUNDRED, start=T0 + 30 - 600, uncertainty=1.0)
    reads = [await limiter.acquire(weight(1), urgent=True) for _ in range(5)]
    for r in reads:
        r.commit()
    assert {k.window for r in reads for k, _ in r.charges} == {MINUTE - 10}
    clock.set_offset(600.0, uncertainty=0.005)  # the sync
    assert {k.window for r in reads for k, _ in r.charges} == {MINUTE}
    assert used(limiter) == 5  # the server's window holds them: 95 left, not 100
    (await limiter.acquire(weight(95))).commit()
    assert limiter.try_acquire(weight(1)) is None


async def test_a_clock_ten_minutes_ahead_reopens_the_true_window_at_once() -> None:
    """The host is ten minutes ahead: after the sync the limiter waits for the server's
    window, not for the end of one ten minutes in the future."""
    limiter, clock = make(HUNDRED, start=T0 + 40 + 600, uncertainty=1.0)
    (await limiter.acquire(weight(100))).commit()  # sync reads and the first calls
    clock.set_offset(-600.0, uncertainty=0.005)
    assert used(limiter) == 100  # re-keyed into the server's window (T0 + 40 now)
    task = asyncio.create_task(limiter.acquire(weight(50)))
    await settle()
    clock.advance(20.005)  # the server's window ends at T0 + 60
    await settle()
    assert task.done()
    assert_idle(limiter, clock)


async def test_a_sync_that_agrees_narrows_a_charge_to_the_windows_both_allow() -> None:
    limiter, clock = make(HUNDRED, start=T0 + 59.9, uncertainty=0.5)
    reservation = await limiter.acquire(weight(40))
    assert [k.window for k, _ in reservation.charges] == [MINUTE, MINUTE + 1]
    clock.set_offset(-0.2, uncertainty=0.05)  # it arrived at about T0 + 59.7: before the end
    assert [k.window for k, _ in reservation.charges] == [MINUTE]
    clock.advance(0.4)
    assert used(limiter) == 0


async def test_a_sync_that_moves_the_offset_back_finds_the_windows_it_moves_into() -> None:
    limiter, clock = make(HUNDRED, start=T0 + 10)
    (await limiter.acquire(weight(70))).commit()
    clock.advance(300)
    clock.set_offset(-300.0)  # the same server minute again, as far as the clock can tell
    assert used(limiter) == 70


async def test_a_sync_re_arms_the_wake_up_of_waiting_calls() -> None:
    limiter, clock = make(HUNDRED, start=T0 + 30)
    (await limiter.acquire(weight(100))).commit()
    task = asyncio.create_task(limiter.acquire(weight(10)))
    await settle()
    clock.set_offset(25.0)  # the server is 25 s later than we thought: its window ends in 5 s
    clock.advance(5.0)
    await settle()
    assert task.done()
    assert_idle(limiter, clock)


async def test_orders_and_weight_are_re_keyed_alike() -> None:
    limiter, clock = make(HUNDRED, BudgetLimit(OR, 10), start=T0 + 30)
    (await limiter.acquire((weight(1)[0], weight(1)[0].__class__(OR, 1)))).commit()
    clock.set_offset(120.0)
    assert used(limiter, W) == used(limiter, OR) == 1


def test_a_closed_limiter_stops_listening_to_its_clock() -> None:
    clock = FakeClock(T0)
    limiter = RateLimiter(clock=clock)
    limiter.close()
    epoch = limiter._epoch
    clock.set_offset(10.0)
    assert limiter._epoch == epoch
