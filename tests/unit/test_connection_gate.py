"""asyncio.Semaphore admits its waiters first come, first served: what the connection gate needs.

The client bounds the REST requests it has in flight with an ``asyncio.Semaphore`` of
``pool_size`` in front of aiohttp's pool, because that pool is not fair: a task that
frees a connection and sends again at once takes it ahead of tasks already waiting,
which can then wait past their connect timeout.  These tests prove that the semaphore
does not do that, including when waiters are cancelled in the queue or after their slot
came.  They use the standard library only, so that they run on every supported Python
(3.10.13, 3.11, 3.12 and 3.13 checked: ``python -m pytest tests/unit/test_connection_gate.py
-p no:cacheprovider --noconftest``).  CPython before 3.10.8 let a releasing task take the
slot straight back (CPython issue gh-90155): hence ``requires-python >= 3.10.8``.
"""

from __future__ import annotations

import asyncio
from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st


async def settle() -> None:
    """Let every task that can run, run (woken waiters, their releases)."""
    for _ in range(8):
        await asyncio.sleep(0)


class Workers:
    """Tasks that each take a slot of ``gate``, note it, and hold it until told to leave."""

    def __init__(self, gate: asyncio.Semaphore) -> None:
        self.gate = gate
        self.granted: list[int] = []  # worker ids, in the order they got a slot
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.leave: dict[int, asyncio.Event] = {}
        self.again: dict[int, int] = {}  # worker -> the id it asks again as, after leaving

    def arrive(self, worker: int) -> None:
        self.tasks[worker] = asyncio.ensure_future(self._work(worker))

    async def _work(self, worker: int) -> None:
        self.tasks[worker] = asyncio.current_task()  # type: ignore[assignment]
        self.leave[worker] = asyncio.Event()
        await self.gate.acquire()
        self.granted.append(worker)
        await self.leave[worker].wait()
        self.gate.release()
        if worker in self.again:  # asks again at once: same task, no suspension between
            await self._work(self.again[worker])

    def reenter(self, holder: int, newcomer: int) -> None:
        """``holder`` frees its slot and, in the same step, asks again as ``newcomer``."""
        self.again[holder] = newcomer
        self.leave[holder].set()


async def test_a_task_that_frees_its_slot_and_asks_again_waits_behind_the_queue() -> None:
    gate = asyncio.Semaphore(1)
    workers = Workers(gate)
    for worker in (1, 2, 3):
        workers.arrive(worker)
    await settle()
    assert workers.granted == [1]
    workers.reenter(1, 4)
    await settle()
    assert workers.granted == [1, 2]  # 2 was waiting before 1 asked again
    for worker in (2, 3):
        workers.leave[worker].set()
        await settle()
    assert workers.granted == [1, 2, 3, 4]


async def test_a_waiter_cancelled_in_the_queue_takes_nothing() -> None:
    gate = asyncio.Semaphore(1)
    await gate.acquire()
    workers = Workers(gate)
    for worker in (1, 2, 3):
        workers.arrive(worker)
    await settle()
    workers.tasks[2].cancel()
    await settle()
    gate.release()
    await settle()
    workers.leave[1].set()
    await settle()
    assert workers.granted == [1, 3]
    workers.leave[3].set()
    await settle()
    assert not gate.locked()  # the one slot is back: none held by the cancelled waiter


async def test_a_waiter_cancelled_after_its_slot_came_passes_it_on() -> None:
    gate = asyncio.Semaphore(1)
    await gate.acquire()
    workers = Workers(gate)
    for worker in (1, 2, 3):
        workers.arrive(worker)
    await settle()
    gate.release()  # the slot goes to 1...
    workers.tasks[1].cancel()  # ...which is cancelled before it runs
    await settle()
    assert workers.granted == [2]
    workers.leave[2].set()
    await settle()
    assert workers.granted == [2, 3]


# A script of what happens at the gate: a new task arrives; a holder leaves; a holder
# leaves and asks again at once; a waiter is cancelled in the queue; a holder leaves and
# the waiter its slot goes to is cancelled before it runs.
step = st.one_of(
    st.just(("arrive", 0)),
    st.tuples(st.sampled_from(["leave", "reenter", "cancel", "leave-cancel"]), st.integers(0, 7)),
)


class Model:
    """The gate as it must behave: a counter of free slots and a FIFO queue."""

    def __init__(self, size: int) -> None:
        self.free = size
        self.queue: deque[int] = deque()
        self.holders: list[int] = []
        self.granted: list[int] = []

    def arrive(self, worker: int) -> None:
        if self.free and not self.queue:
            self.free -= 1
            self.grant(worker)
        else:
            self.queue.append(worker)

    def grant(self, worker: int) -> None:
        self.holders.append(worker)
        self.granted.append(worker)

    def leave(self, worker: int, *, cancel_next: bool = False) -> None:
        self.holders.remove(worker)
        if cancel_next and self.queue:
            self.queue.popleft()  # woken, then cancelled: its slot passes on
        if self.queue:
            self.grant(self.queue.popleft())
        else:
            self.free += 1


@settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 3), script=st.lists(step, max_size=40))
def test_slots_go_to_waiters_in_arrival_order(size: int, script: list[tuple[str, int]]) -> None:
    async def run() -> None:
        gate = asyncio.Semaphore(size)
        workers = Workers(gate)
        model = Model(size)
        next_id = 0
        for kind, pick in script:
            if kind == "arrive":
                workers.arrive(next_id)
                model.arrive(next_id)
                next_id += 1
            elif kind in ("leave", "reenter", "leave-cancel") and model.holders:
                holder = model.holders[pick % len(model.holders)]
                if kind == "leave-cancel" and model.queue:
                    workers.tasks[model.queue[0]].cancel()  # before its slot reaches it
                if kind == "reenter":
                    workers.reenter(holder, next_id)
                    model.leave(holder)
                    model.arrive(next_id)
                    next_id += 1
                else:
                    workers.leave[holder].set()
                    model.leave(holder, cancel_next=kind == "leave-cancel")
            elif kind == "cancel" and model.queue:
                waiter = model.queue[pick % len(model.queue)]
                workers.tasks[waiter].cancel()
                model.queue.remove(waiter)
            await settle()
            assert workers.granted == model.granted
        while model.holders:  # every holder leaves: the queue drains in its order
            holder = model.holders[0]
            workers.leave[holder].set()
            model.leave(holder)
            await settle()
        assert workers.granted == model.granted and not model.queue
        await asyncio.gather(*workers.tasks.values(), return_exceptions=True)
        assert not gate.locked()
        for _ in range(size):  # every slot is back, none leaked
            await asyncio.wait_for(gate.acquire(), 1)
        assert gate.locked()

    asyncio.run(run())
