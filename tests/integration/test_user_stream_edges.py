"""The user data stream's markers and listen key at the edges, against the simulator:
overflows drop events but never a StreamReconnected, and a stream whose key was never
created deletes none."""

from __future__ import annotations

import logging

import pytest

from binance_papi_async import PortfolioMarginClient
from binance_papi_async.stream_events import (
    BalanceUpdate,
    StreamOverflow,
    StreamOverflowError,
    StreamReconnected,
    UserStreamError,
)
from binance_papi_async.testing import PapiSimulator

from . import test_user_stream as base
from .test_user_stream import LISTEN, balance_update, fast_stream, next_item, sim_client, until

KEY, SECRET = base.KEY, base.SECRET  # the sim fixture's key: the one sim_client uses


async def test_overflows_drop_events_but_never_a_reconnect_marker(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client, fast_stream(client, max_queue=2) as stream:
        await until(lambda: stream.queued == 1)  # the connect marker, not read
        for n in range(1, 4):  # the third overflows: the first two are dropped
            sim.stream.push(balance_update(n))
        await until(lambda: stream.received == 3)
        sim.stream.drop()  # a lost connection: a second marker, behind the overflow
        await until(lambda: stream.reconnects == 1 and sim.stream.connections() == 1)
        for n in range(4, 7):  # the sixth overflows again: 3 and 4 are dropped
            sim.stream.push(balance_update(n))
        await until(lambda: stream.received == 6)
        items = [await next_item(stream) for _ in range(stream.queued)]
    kinds = [type(item).__name__ for item in items]
    assert kinds == [
        "StreamReconnected", "StreamReconnected", "StreamOverflow", "BalanceUpdate",
        "BalanceUpdate",
    ]  # fmt: skip
    first, second, overflow, *events = items
    assert isinstance(first, StreamReconnected) and first.reason == "connect"
    assert isinstance(second, StreamReconnected) and second.reason == "closed"
    assert isinstance(overflow, StreamOverflow) and overflow.dropped == 4 == stream.dropped
    assert [e.update_id for e in events if isinstance(e, BalanceUpdate)] == [5, 6]


async def test_overflow_policy_raise_delivers_the_markers_first(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client, fast_stream(client, max_queue=1, overflow="raise") as s:
        await until(lambda: s.queued == 1)
        for n in range(1, 3):
            sim.stream.push(balance_update(n))
        await until(lambda: s.received == 2)
        first = await next_item(s)
        assert isinstance(first, StreamReconnected) and first.reason == "connect"
        with pytest.raises(StreamOverflowError):
            await next_item(s)


async def test_bad_api_key_fails_fast(sim: PapiSimulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="binance_papi_async")
    async with PortfolioMarginClient("unknown-key", SECRET, base_url=sim.url) as client:
        with pytest.raises(UserStreamError) as info:
            async with fast_stream(client):
                pass
    assert "401" in str(info.value)
    # The POST was refused: no key was created, so none is deleted (nor said to be).
    assert [r.method for r in sim.requests if r.path == LISTEN] == ["POST"]
    assert "listen key" not in caplog.text
