"""Hypothesis interleaves faults, cancellations after send, resolves and resends over
orders of every kind: every client id ends with exactly one order in the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binance_papi_async import ExecutionStatusUnknown, OutcomeUnknown

from .exactly_once_support import KEY, PLACING, SECRET, holders, on_clock, setup

__all__ = ["KEY", "SECRET"]

FAULTS = ["none", "drop before", "drop after", "503", "timeout", "lag", "cancelled"]


def inject(sim: Any, fault: str, path: str) -> None:
    f = sim.faults
    if fault == "drop before":
        f.drop(after_apply=False, path=path)
    elif fault == "drop after":
        f.drop(path=path)
    elif fault == "503":
        f.error(503, path=path)
    elif fault == "timeout":
        f.timeout(path=path, apply=True)
    elif fault == "lag":
        f.drop(path=path)
        f.query_lag(10.0, path=path)
    elif fault == "cancelled":
        f.latency(0.05, path=path)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(range(len(PLACING))), st.sampled_from(FAULTS), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_any_interleaving_of_faults_resolves_and_resends_leaves_one_order_per_id(
    steps: list[tuple[int, str, bool]],
) -> None:
    async def run() -> None:
        events: list[Any] = []
        async with setup(on_event=events.append) as (sim, client, clock):

            async def settle(placing: Any, outcome: Any) -> None:
                told = await on_clock(clock, client.resolve(outcome, resend=True))
                assert told.status == "placed", told
                assert len(holders(sim, placing.kind, outcome.client_order_id)) == 1

            pending: list[tuple[Any, Any]] = []  # (placing, what to resolve)
            for index, fault, resolve_now in steps:
                placing = PLACING[index]
                inject(sim, fault, placing.path)
                task = asyncio.ensure_future(placing.place(client))
                if fault == "cancelled":
                    await asyncio.sleep(0.02)
                    task.cancel()
                    await asyncio.sleep(0.06)  # the simulator applies it meanwhile
                try:
                    await task
                except ExecutionStatusUnknown as exc:
                    pending.append((placing, exc))
                except asyncio.CancelledError:
                    event = [e for e in events if isinstance(e, OutcomeUnknown)][-1]
                    pending.append((placing, event))
                sim.faults.clear()
                if resolve_now:  # resolve at once, or after the steps that follow
                    while pending:
                        await settle(*pending.pop())
            while pending:
                await settle(*pending.pop())

    asyncio.run(run())
