"""The limiter against an honest server, driven by a hypothesis state machine.

The server counts every request in the window of its *arrival*, on its own
clock: ``server time = local + theta``.  The client's clock starts up to ten
minutes off and unsure of it (the host's wall clock), and learns the offset
only through syncs: reads of the server's time whose round trips (0 to 200 ms,
split unevenly between the two ways) bound the error.  The server's clock may
also step forward, which the client learns from an immediate sync.  Calls are
acquired (some urgent, some with ``max_wait``), sent after a while (re-checked
when their timestamp is taken, arriving within ``TRANSIT``), answered with the
server's count in their window, given back unsent, or cancelled while waiting.

After every step:

* no window of the server holds more than its limit;
* the limiter's books balance: every unanswered reservation is counted in flight
  in exactly the windows it is charged to, queues and holds agree with the
  waiting calls, and a timer is armed for every budget with waiters;
* no waiter is held that the limiter's own rules would admit (no lost wake-up),
  and a normal call is never admitted ahead of an earlier one charging no more;

and at the end, once everything is sent or given back, every waiter gets in
within a window per waiter ahead of it, and nothing is left behind.

``LIMITER_MODEL_EXAMPLES`` (default 60) sets the number of runs.
"""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from multidict import CIMultiDict, CIMultiDictProxy

from binance_papi_async.clock import FakeClock
from binance_papi_async.endpoints import Budget, Charge
from binance_papi_async.errors import RateLimitWaitTimeout
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter, Reservation
from binance_papi_async.ratelimit._model import window_index
from binance_papi_async.ratelimit._queue import head

from .limiter_support import check_consistent, check_timers

W = Budget.REQUEST_WEIGHT
OR = Budget.ORDERS
P = 10.0  # ten-second windows: a run crosses many boundaries
LIMITS = {W: 30, OR: 4}
TRANSIT = 0.2
START = 1_700_000_003.0


@dataclass
class Call:
    seq: int
    charges: tuple[Charge, ...]
    urgent: bool
    task: asyncio.Task[Reservation]
    state: str = "waiting"  # admitted, sent, answered, released, refused, failed
    reservation: Reservation | None = None
    arrival: float = 0.0  # local time of arrival at the server
    counts: dict[Budget, int] | None = None  # the server's counts when it arrived
    admitted_at: int = -1  # order of admission

    @property
    def weight_only(self) -> bool:
        return len(self.charges) == 1 and self.charges[0].budget is W

    @property
    def amount(self) -> int:
        return self.charges[0].amount


class LimiterModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock(START, drift_rate=1e-4)
        self.theta = 0.0  # server time - local time
        limits = [
            BudgetLimit(W, LIMITS[W], P, reserve=3),
            BudgetLimit(OR, LIMITS[OR], P, reserve=0),
        ]
        self.limiter = RateLimiter(limits, clock=self.clock, transit=TRANSIT)
        self.server: dict[tuple[Budget, int], int] = {}
        self.calls: list[Call] = []
        self.pending: list[tuple[float, Call]] = []  # sent, not yet arrived
        self.admissions = 0
        self.seq = 0

    def teardown(self) -> None:
        try:
            if hasattr(self, "limiter"):
                self.drain()
        finally:
            self.loop.close()

    # -- plumbing ---------------------------------------------------------------------------------

    def settle(self) -> None:
        async def rounds() -> None:
            for _ in range(6):
                await asyncio.sleep(0)

        self.loop.run_until_complete(rounds())
        for call in self.calls:
            if call.state == "waiting" and call.task.done():
                if call.task.cancelled():
                    call.state = "failed"
                elif call.task.exception() is not None:
                    assert isinstance(call.task.exception(), RateLimitWaitTimeout)
                    call.state = "failed"
                else:
                    call.state = "admitted"
                    call.reservation = call.task.result()
                    call.admitted_at = self.admissions
                    self.admissions += 1
                    self.check_not_overtaken(call)

    def advance(self, seconds: float) -> None:
        """Move time in small steps, delivering the requests that arrive meanwhile."""
        target = self.clock.local() + seconds
        while True:
            due = [t for t, _ in self.pending if t <= target]
            step_to = min(due) if due else target
            self.clock.advance(max(0.0, step_to - self.clock.local()))
            self.deliver(step_to)
            self.settle()
            if step_to >= target:
                return

    def deliver(self, now: float | None = None) -> None:
        """The server counts the requests that have arrived by local time ``now``."""
        now = self.clock.local() if now is None else now
        for arrival, call in sorted(
            [(t, c) for t, c in self.pending if t <= now], key=lambda x: x[0]
        ):
            self.pending.remove((arrival, call))
            call.counts = {}
            charged = {c.budget: c.amount for c in call.charges}
            for budget in (W, OR):
                key = (budget, window_index(arrival + self.theta, P))
                self.server[key] = self.server.get(key, 0) + charged.get(budget, 0)
                call.counts[budget] = self.server[key]

    def sample(self, up: float, down: float) -> tuple[float, float, float] | None:
        """One clock-sync read: an urgent call of weight 1, answered with the server's time."""
        reservation = self.limiter.try_acquire((Charge(W, 1),), urgent=True)
        if reservation is None:
            return None
        assert reservation.recheck()
        reservation.commit()
        call = Call(-1, (Charge(W, 1),), True, asyncio.Future(loop=self.loop), "sent")  # type: ignore[arg-type]
        call.reservation = reservation
        sent = self.clock.local()
        self.pending.append((sent + up, call))
        self.advance(up)
        server_time = math.floor((sent + up + self.theta) * 1000) / 1000
        self.advance(down)
        self.answer(call)
        return sent, server_time, self.clock.local()

    def answer(self, call: Call) -> None:
        assert call.counts is not None and call.reservation is not None
        headers = {"X-MBX-USED-WEIGHT-10S": str(call.counts[W])}
        if any(c.budget is OR for c in call.charges):  # order calls report the order count
            headers["X-MBX-ORDER-COUNT-10S"] = str(call.counts[OR])
        # aiohttp's headers (the written-out path) or a plain mapping (the general one)
        given = CIMultiDictProxy(CIMultiDict(headers)) if call.seq % 2 else headers
        self.limiter.observe_headers(given, reservation=call.reservation)
        call.state = "answered"

    def check_not_overtaken(self, call: Call) -> None:
        """A normal weight-only call never gets in ahead of an earlier one charging no more."""
        if call.urgent or not call.weight_only:
            return
        for other in self.calls:
            earlier = other.seq < call.seq and not other.urgent and other.weight_only
            if earlier and other.state == "waiting" and not other.task.done():
                assert other.amount > call.amount, f"call {call.seq} overtook call {other.seq}"

    # -- steps ------------------------------------------------------------------------------------

    @initialize(
        error=st.floats(-600, 600), rtts=st.lists(st.floats(0, 0.2), min_size=1, max_size=5)
    )
    def start(self, error: float, rtts: list[float]) -> None:
        """The host's clock is off by up to ten minutes; the first signed call syncs first."""
        self.clock.set_offset(self.theta + error, uncertainty=None)
        self.sync_with(rtts, 0.5)

    def sync_with(self, rtts: list[float], split: float) -> bool:
        """Sync the client's clock; False if not one read could be sent (budget full)."""
        samples = [s for rtt in rtts if (s := self.sample(rtt * split, rtt * (1 - split)))]
        if samples:
            self.clock.sync(samples)
            self.settle()
        return bool(samples)

    @rule(
        w=st.integers(0, 14),
        o=st.integers(0, 2),
        urgent=st.booleans(),
        max_wait=st.sampled_from([None, None, None, 0.0, 4.0, 25.0]),
        n=st.integers(1, 4),
    )
    def acquire(self, w: int, o: int, urgent: bool, max_wait: float | None, n: int) -> None:
        charges = tuple(c for c in (Charge(W, w), Charge(OR, o)) if c.amount)
        for _ in range(n):
            task = self.loop.create_task(
                self.limiter.acquire(charges, urgent=urgent, max_wait=max_wait)
            )
            self.calls.append(Call(self.seq, charges, urgent, task))
            self.seq += 1
        self.settle()

    @rule(pick=st.integers(0, 10**6), delay=st.floats(0, TRANSIT), answer=st.booleans())
    def send(self, pick: int, delay: float, answer: bool) -> None:
        """Send an admitted call (and, if ``answer``, let its answer come in)."""
        ready = [c for c in self.calls if c.state == "admitted"]
        if not ready:
            return
        call = ready[pick % len(ready)]
        assert call.reservation is not None
        if not call.reservation.recheck():  # the window it would now arrive in is full
            assert call.reservation.released
            call.state = "refused"
            self.settle()
            return
        call.reservation.commit()
        call.state = "sent"
        self.pending.append((self.clock.local() + delay, call))
        self.deliver()
        if answer:
            self.advance(delay)
            self.answer(call)
            self.settle()

    @rule(pick=st.integers(0, 10**6))
    def answer_one(self, pick: int) -> None:
        arrived = [c for c in self.calls if c.state == "sent" and c.counts is not None]
        if arrived:
            self.answer(arrived[pick % len(arrived)])
            self.settle()

    @rule(pick=st.integers(0, 10**6))
    def give_back(self, pick: int) -> None:
        ready = [c for c in self.calls if c.state == "admitted"]
        if ready:
            call = ready[pick % len(ready)]
            assert call.reservation is not None
            call.reservation.release()
            call.state = "released"
            self.settle()

    @rule(pick=st.integers(0, 10**6))
    def cancel(self, pick: int) -> None:
        waiting = [c for c in self.calls if c.state == "waiting"]
        if waiting:
            waiting[pick % len(waiting)].task.cancel()
            self.settle()

    @rule(seconds=st.sampled_from([0.001, 0.05, 0.15, 0.3, 2.5, 9.99, 30.0]))
    def wait(self, seconds: float) -> None:
        self.advance(seconds)

    @rule(rtts=st.lists(st.floats(0, 0.2), min_size=1, max_size=5), split=st.floats(0, 1))
    def sync(self, rtts: list[float], split: float) -> None:
        self.sync_with(rtts, split)

    @rule(jump=st.floats(0.001, 600), rtts=st.lists(st.floats(0, 0.2), min_size=1, max_size=3))
    def server_clock_steps(self, jump: float, rtts: list[float]) -> None:
        """The server's clock steps forward; the client notices at once and syncs (if no
        read can be sent now, the step waits: nothing else may be sent before the sync)."""
        self.theta += jump
        if not self.sync_with(rtts, 0.5):
            self.theta -= jump

    @rule()
    def header_of_another_call(self) -> None:
        now = window_index(self.clock.local() + self.theta, P)
        self.limiter.observe_headers({"X-MBX-USED-WEIGHT-10S": str(self.server.get((W, now), 0))})
        self.settle()

    # -- what must hold ---------------------------------------------------------------------------

    @invariant()
    def no_window_over_its_limit(self) -> None:
        for (budget, window), count in self.server.items():
            assert count <= LIMITS[budget], (budget, window, count)

    @invariant()
    def books_balance(self) -> None:
        limiter = self.limiter
        check_consistent(limiter)
        check_timers(limiter)
        expected: dict[int, int] = {}
        calls = [c for c in self.calls if c.state in ("admitted", "sent")]
        for call in calls:
            reservation = call.reservation
            assert reservation is not None and not reservation.released
            for seg, (_, amount) in zip(reservation._segs, reservation._p.items, strict=True):
                for w in seg.wins:
                    expected[id(w)] = expected.get(id(w), 0) + amount
        for bucket in limiter._buckets:
            for w in bucket.series.windows.values():
                assert w.open == expected.get(id(w), 0), (w, expected.get(id(w), 0))
                assert w.used >= w.open and 0 <= w.jumped <= bucket.reserve

    @invariant()
    def no_lost_wake_up(self) -> None:
        local, now = self.limiter._tm.read()
        for bucket in self.limiter._buckets:
            if not bucket.n_waiting or now < bucket.paused_until:
                continue
            if now >= bucket.until:
                bucket.advance(self.limiter._tm, local, now)
            first = head(bucket, bucket.q)
            assert first is not None
            assert not self.limiter._fits_normal(bucket, first.amount), "a waiter that fits"
            urgent = head(bucket, bucket.qu)
            if urgent is not None:
                assert not self.limiter._fits_reserve(bucket, urgent.amount)

    def drain(self) -> None:
        """Send or give back everything; every waiter gets in within a window per waiter."""
        waiting = sum(1 for c in self.calls if c.state == "waiting")
        for _ in range(waiting + 4):
            for call in self.calls:
                if call.state == "admitted":
                    assert call.reservation is not None
                    call.reservation.release()
                    call.state = "released"
            self.advance(TRANSIT + 0.001)
            for call in self.calls:
                if call.state == "sent" and call.counts is not None:
                    self.answer(call)
            if not any(c.state in ("waiting", "admitted", "sent") for c in self.calls):
                break
            self.advance(P)
        assert not any(c.state in ("waiting", "admitted", "sent") for c in self.calls)
        self.no_window_over_its_limit()
        self.books_balance()
        assert self.limiter.waiters == 0 and not self.limiter._deadlines


LimiterModel.TestCase.settings = settings(
    max_examples=int(os.environ.get("LIMITER_MODEL_EXAMPLES", "150")),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
test_the_limiter_keeps_an_honest_server_within_its_limits = LimiterModel.TestCase
