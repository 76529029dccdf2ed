"""UserStream against the simulator over real sockets: events, reconnects, keepalive and
expiry, slow consumers, failures, closing, and the listen key kept secret."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from binance_papi_async import FakeClock, PortfolioMarginClient
from binance_papi_async.endpoints.user_stream import START_USER_DATA_STREAM
from binance_papi_async.stream import UserStream
from binance_papi_async.stream_events import (
    BalanceUpdate,
    LiabilityChange,
    ListenKeyExpired,
    OutboundAccountPosition,
    StreamItem,
    StreamOverflow,
    StreamOverflowError,
    StreamReconnected,
    UnknownEvent,
    UserStreamError,
)
from binance_papi_async.testing import PapiSimulator, demo_state
from binance_papi_async.testing.stream import StreamHub

from ..conftest import BIG_LIMITS

KEY = "stream-key-0123456789abcdef"
SECRET = "stream-secret-0123456789abcdef"
LISTEN = "/papi/v1/listenKey"
START = 1_700_000_000.0

# -- against the simulator ------------------------------------------------------------------


def sim_client(sim: PapiSimulator, **kwargs: Any) -> PortfolioMarginClient:
    kwargs.setdefault("rate_limits", BIG_LIMITS)
    return PortfolioMarginClient(KEY, SECRET, base_url=sim.url, **kwargs)


def fast_stream(client: PortfolioMarginClient, **kwargs: Any) -> UserStream:
    kwargs.setdefault("reconnect_delay", 0.01)
    kwargs.setdefault("max_reconnect_delay", 0.05)
    return UserStream(client, **kwargs)


async def next_item(stream: UserStream, timeout: float = 3.0) -> StreamItem:
    return await asyncio.wait_for(stream.__anext__(), timeout)


async def until(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    """Wait (briefly, in real time: socket I/O) until ``predicate()`` holds."""
    for _ in range(int(timeout / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached in time")


def listen_calls(sim: PapiSimulator, method: str) -> list[Any]:
    return [r for r in sim.requests if r.path == LISTEN and r.method == method]


async def test_repay_shows_up_as_liability_and_balance_events(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client, fast_stream(client) as stream:
        first = await next_item(stream)
        assert isinstance(first, StreamReconnected)
        assert (first.lost_at, first.reason, first.reconnects) == (None, "connect", 0)
        assert first.connected_at.tzinfo is not None
        await client.margin.repay_debt("BNB", Decimal("1"), specify_repay_assets=["USDT"])
        liability = await next_item(stream)
        position = await next_item(stream)
    assert isinstance(liability, LiabilityChange)
    assert (liability.asset, liability.type) == ("BNB", "REPAY")
    # Interest first (0.00125), then principal; 1.00125 BNB of debt left.
    assert liability.interest == Decimal("0.00125")
    assert liability.principal == Decimal("0.99875")
    assert liability.total_liability == Decimal("1.00125")
    assert isinstance(position, OutboundAccountPosition)
    balances = {b.asset: b for b in position.balances}
    assert set(balances) == {"BNB", "USDT"}
    assert balances["BNB"].free == 0 and balances["USDT"].free == Decimal("4580")
    assert position.event_time == liability.event_time
    assert position.event_time.tzinfo is not None
    # Closing deleted the key.
    assert len(listen_calls(sim, "DELETE")) == 1
    assert sim.stream.listen_key() is None


async def test_reconnect_after_a_dropped_connection(sim: PapiSimulator) -> None:
    snapshots: list[int] = []

    async def snapshot(client: PortfolioMarginClient) -> None:
        snapshots.append(len(await client.account.balance()))

    async with sim_client(sim) as client, fast_stream(client, on_reconnect=snapshot) as stream:
        assert isinstance(await next_item(stream), StreamReconnected)
        assert snapshots == [4]  # the hook ran before the first marker was yielded
        assert sim.stream.drop() == 1
        marker = await next_item(stream)
        assert isinstance(marker, StreamReconnected)
        assert marker.reason == "closed" and marker.reconnects == 1
        assert marker.lost_at is not None and marker.lost_at <= marker.connected_at
        assert snapshots == [4, 4]
        await client.margin.repay_debt("BNB", Decimal("0.1"))
        assert isinstance(await next_item(stream), LiabilityChange)
        assert isinstance(await next_item(stream), OutboundAccountPosition)
        assert stream.reconnects == 1
    assert len(listen_calls(sim, "POST")) == 2  # a POST before each connection


async def test_hook_failure_is_reported_on_the_marker(sim: PapiSimulator) -> None:
    async def broken(client: PortfolioMarginClient) -> None:
        raise RuntimeError("snapshot failed")

    async with sim_client(sim) as client, fast_stream(client, on_reconnect=broken) as stream:
        marker = await next_item(stream)
    assert isinstance(marker, StreamReconnected)
    assert marker.hook_error == "RuntimeError: snapshot failed"


async def test_faults_over_http_drop_the_connection(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client, fast_stream(client) as stream:
        await next_item(stream)
        session = client.session
        assert session is not None
        async with session.post(f"{sim.url}/_sim/faults", json={"kind": "stream_drop"}) as resp:
            assert resp.status == 200
            assert (await resp.json())["added"] == [{"kind": "stream_drop", "connections": 1}]
        marker = await next_item(stream)
        assert isinstance(marker, StreamReconnected) and marker.reason == "closed"


async def test_silent_connection_is_detected_by_the_heartbeat(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client, fast_stream(client, heartbeat=0.2) as stream:
        await next_item(stream)
        assert sim.stream.mute() == 1
        marker = await next_item(stream)
        assert isinstance(marker, StreamReconnected) and marker.reason == "heartbeat"
        sim.stream.push({"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "1", "U": 1, "T": 1})
        assert isinstance(await next_item(stream), BalanceUpdate)


async def test_unknown_event_types_arrive_as_generic_events(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client, fast_stream(client) as stream:
        await next_item(stream)
        sim.stream.push({"e": "SOMETHING_NEW", "E": 1700000000000, "z": "1"})
        sim.stream.push({"e": "riskLevelChange", "E": 1, "s": "MARGIN_CALL", "u": "oops"})
        event = await next_item(stream)
        broken = await next_item(stream)
    assert isinstance(event, UnknownEvent) and event.event_type == "SOMETHING_NEW"
    assert event.raw == {"e": "SOMETHING_NEW", "E": 1700000000000, "z": "1"}
    assert isinstance(broken, UnknownEvent) and broken.error is not None


# -- fake clock: keepalive, expiry, -1125, planned reconnect --------------------------------


@pytest.fixture
async def fake_sim() -> AsyncIterator[tuple[PapiSimulator, FakeClock]]:
    clock = FakeClock(START)
    async with PapiSimulator(
        api_key=KEY, api_secret=SECRET, state=demo_state(), clock=clock, rate_limits=False
    ) as s:
        yield s, clock


async def test_keepalive_every_30_minutes_keeps_the_key(
    fake_sim: tuple[PapiSimulator, FakeClock],
) -> None:
    sim, clock = fake_sim
    async with sim_client(sim, clock=clock) as client, fast_stream(client) as stream:
        await next_item(stream)
        key = sim.stream.listen_key()
        for n in range(1, 5):  # two hours, four keepalives: the 60-minute key never expires
            clock.advance(1800)
            await until(lambda n=n: len(listen_calls(sim, "PUT")) == n)  # type: ignore[misc]
            await until(lambda: stream.last_keepalive is not None)
        await until(lambda: stream.last_keepalive == START + 4 * 1800)
        assert sim.stream.listen_key() == key
        assert all(r.status == 200 for r in listen_calls(sim, "PUT"))
        assert stream.queued == 0 and stream.reconnects == 0


async def test_expired_key_gives_a_new_key_and_a_marker(
    fake_sim: tuple[PapiSimulator, FakeClock],
) -> None:
    sim, clock = fake_sim
    async with (
        sim_client(sim, clock=clock) as client,
        fast_stream(client, keepalive_interval=7200) as stream,
    ):
        await next_item(stream)
        old = sim.stream.listen_key()
        clock.advance(3600)  # no keepalive within the 60 minutes: the simulator expires the key
        expired = await next_item(stream)
        assert isinstance(expired, ListenKeyExpired)
        marker = await next_item(stream)
        assert isinstance(marker, StreamReconnected) and marker.reason == "listen_key_expired"
        assert marker.lost_at == datetime.fromtimestamp(START + 3600, tz=timezone.utc)
        new = sim.stream.listen_key()
        assert new is not None and new != old
        await client.margin.repay_debt("BNB", Decimal("0.1"))
        assert isinstance(await next_item(stream), LiabilityChange)


async def test_minus_1125_on_keepalive_renews_the_key(
    fake_sim: tuple[PapiSimulator, FakeClock],
) -> None:
    sim, clock = fake_sim
    async with sim_client(sim, clock=clock) as client, fast_stream(client) as stream:
        await next_item(stream)
        old = sim.stream.listen_key()
        assert sim.stream.expire_key(notify=False)  # dead key, socket still open, no event
        clock.advance(1800)
        marker = await next_item(stream)
        assert isinstance(marker, StreamReconnected) and marker.reason == "listen_key_invalid"
        assert [r.code for r in listen_calls(sim, "PUT")] == [-1125]
        assert sim.stream.listen_key() not in (None, old)
        # The new connection has its own keepalive schedule.
        clock.advance(1800)
        await until(lambda: len(listen_calls(sim, "PUT")) == 2)
        await until(lambda: stream.last_keepalive is not None)


async def test_planned_reconnect_before_the_24_hour_limit(
    fake_sim: tuple[PapiSimulator, FakeClock],
) -> None:
    sim, clock = fake_sim
    async with (
        sim_client(sim, clock=clock) as client,
        fast_stream(client, max_connection_age=600, keepalive_interval=1e9) as stream,
    ):
        await next_item(stream)
        clock.advance(600)
        marker = await next_item(stream)
        assert isinstance(marker, StreamReconnected) and marker.reason == "planned"
        await until(lambda: sim.stream.connections() == 1)


# -- slow consumers ---------------------------------------------------------------------------


def balance_update(n: int) -> dict[str, Any]:
    return {"e": "balanceUpdate", "E": n, "a": "BTC", "d": "1", "U": n, "T": n}


async def test_slow_consumer_gets_an_overflow_marker(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client, fast_stream(client, max_queue=4) as stream:
        await until(lambda: stream.queued == 1)  # the connect marker, not read
        for n in range(1, 11):
            sim.stream.push(balance_update(n))
        await until(lambda: stream.received == 10)
        connect = await next_item(stream)  # the overflows dropped events, never the marker
        assert isinstance(connect, StreamReconnected) and connect.reason == "connect"
        overflow = await next_item(stream)
        assert isinstance(overflow, StreamOverflow) and overflow.lost_at.tzinfo is not None
        rest = [await next_item(stream) for _ in range(stream.queued)]
    assert all(isinstance(e, BalanceUpdate) for e in rest)
    ids = [e.update_id for e in rest if isinstance(e, BalanceUpdate)]
    assert ids == list(range(11 - len(ids), 11))  # the newest, in order
    assert overflow.dropped + len(ids) == 10  # every event is delivered or counted
    assert stream.dropped == overflow.dropped


async def test_overflow_policy_raise(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client, fast_stream(client, max_queue=2, overflow="raise") as s:
        for n in range(1, 4):
            sim.stream.push(balance_update(n))
        with pytest.raises(StreamOverflowError) as info:
            async for _ in s:
                pass
        assert info.value.dropped >= 1
    assert len(listen_calls(sim, "DELETE")) == 1


# -- failure, cancellation, secrecy ---------------------------------------------------------


async def test_gives_up_after_max_reconnect_attempts(sim: PapiSimulator) -> None:
    async with (
        sim_client(sim) as client,
        fast_stream(client, max_reconnect_attempts=2, delete_key_on_close=False) as stream,
    ):
        await next_item(stream)
        sim.faults.error(502, path=LISTEN, count=None)
        sim.stream.drop()
        with pytest.raises(UserStreamError, match="2 connection attempt"):
            await next_item(stream)


async def test_cancelling_the_consumer_closes_everything(sim: PapiSimulator) -> None:
    started = asyncio.Event()

    async def consume(client: PortfolioMarginClient) -> None:
        async with fast_stream(client) as stream:
            async for _ in stream:
                started.set()

    async with sim_client(sim) as client:
        task = asyncio.create_task(consume(client))
        await asyncio.wait_for(started.wait(), 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(listen_calls(sim, "DELETE")) == 1
        await until(lambda: sim.stream.connections() == 0)
    leftovers = [t for t in asyncio.all_tasks() if (t.get_name() or "").startswith("papi-user")]
    assert leftovers == []


async def test_listen_key_is_masked_in_logs_and_repr(
    sim: PapiSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys: list[str] = []
    async with sim_client(sim) as client, fast_stream(client) as stream:
        await next_item(stream)
        keys.append(sim.stream.listen_key() or "")
        sim.stream.expire_key()  # listenKeyExpired -> new key
        await next_item(stream)
        await next_item(stream)
        keys.append(sim.stream.listen_key() or "")
        sim.stream.drop()
        await next_item(stream)
        text = repr(stream)
    assert all(len(k) == 64 for k in keys) and keys[0] != keys[1]
    for key in keys:
        assert key not in text
        assert key not in caplog.text
        assert key[:4] + "..." + key[-4:] in caplog.text or key[:4] + "..." in text


async def test_handshake_refused_for_unknown_key(sim: PapiSimulator) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(f"{sim.url.replace('http', 'ws')}/pm/ws/{'0' * 64}")
    assert info.value.status == 400


async def test_iterating_before_start_and_bad_settings(
    sim: PapiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BINANCE_API_KEY", raising=False)
    monkeypatch.delenv("BINANCE_API_SECRET", raising=False)
    async with sim_client(sim) as client:
        stream = fast_stream(client)
        assert "state=new" in repr(stream)
        with pytest.raises(UserStreamError, match="start the stream first"):
            await stream.__anext__()
        with pytest.raises(ValueError):
            UserStream(client, overflow="drop")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            UserStream(client, stream_url="https://example.invalid/pm")
        with pytest.raises(ValueError, match="reconnect_delay"):
            UserStream(client, reconnect_delay=0)  # would disable the backoff
        no_key = PortfolioMarginClient(base_url=sim.url)
        async with no_key:
            with pytest.raises(UserStreamError, match="needs an API key"):
                await fast_stream(no_key).start()


async def test_stream_fault_json_is_validated(sim: PapiSimulator) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{sim.url}/_sim/faults"
        async with session.post(url, json={"kind": "stream_drop", "bogus": 1}) as resp:
            assert resp.status == 400
        async with session.post(url, json={"kind": "stream_expire", "notify": False}) as resp:
            assert (await resp.json())["added"] == [{"kind": "stream_expire", "expired": False}]
        async with session.post(url, json={"kind": "stream_mute"}) as resp:
            assert (await resp.json())["added"] == [{"kind": "stream_mute", "connections": 0}]


# -- reconnect storms: short-lived connections back off and count as failures --------------


@pytest.fixture
async def closing_sim(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PapiSimulator]:
    """A simulator whose stream accepts every WebSocket and closes it at once."""

    async def accept_and_close(self: StreamHub, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.close(code=1013)
        return ws

    monkeypatch.setattr(StreamHub, "handle", accept_and_close)
    async with PapiSimulator(
        api_key=KEY, api_secret=SECRET, state=demo_state(), ip_weight_limit=10_000_000
    ) as s:
        yield s


async def test_server_closing_at_once_gets_backoff_not_a_loop(closing_sim: PapiSimulator) -> None:
    hooks: list[int] = []

    async def hook(client: PortfolioMarginClient) -> None:
        hooks.append(1)

    async with (
        sim_client(closing_sim) as client,
        fast_stream(client, reconnect_delay=0.05, max_reconnect_delay=0.2, on_reconnect=hook),
    ):
        await asyncio.sleep(1.0)
    posts = len(listen_calls(closing_sim, "POST"))
    # Delays of 25-50, 50-100, then 100-200 ms: at most a dozen connections in 1 s (a
    # loop without pauses makes hundreds).
    assert 3 <= posts <= 15
    assert len(hooks) <= posts


async def test_short_lived_connections_count_toward_max_reconnect_attempts(
    closing_sim: PapiSimulator,
) -> None:
    async with (
        sim_client(closing_sim) as client,
        fast_stream(client, max_reconnect_attempts=3) as stream,
    ):

        async def drain() -> None:
            async for _ in stream:
                pass

        with pytest.raises(UserStreamError, match="3 connection attempt"):
            await asyncio.wait_for(drain(), 5)
    assert len(listen_calls(closing_sim, "POST")) == 3


async def test_a_stable_connection_resets_the_failure_count(sim: PapiSimulator) -> None:
    async with (
        sim_client(sim) as client,
        fast_stream(client, stable_after=0.5, max_reconnect_attempts=2) as stream,
    ):
        await next_item(stream)
        for n in (1, 2):  # each connection stayed up 0.6 s: healthy, never a failure
            await asyncio.sleep(0.6)
            assert sim.stream.drop() == 1
            marker = await next_item(stream)
            assert isinstance(marker, StreamReconnected) and marker.reconnects == n
        sim.stream.drop()  # short-lived: failure 1, a reconnect after a backoff
        marker = await next_item(stream)
        assert isinstance(marker, StreamReconnected) and marker.reconnects == 3
        sim.stream.drop()  # failure 2: max_reconnect_attempts reached
        with pytest.raises(UserStreamError, match="2 connection attempt"):
            await next_item(stream)


# -- closing: cancelled aclose(), aclose() from the hook, start() cancelled mid-POST -------


async def test_cancelled_aclose_still_closes_the_socket_and_deletes_the_key(
    sim: PapiSimulator,
) -> None:
    async with sim_client(sim) as client:
        for steps in (0, 1, 2, 3, 5, 8, 12, 20):
            stream = fast_stream(client)
            await stream.start()
            await next_item(stream)
            closing = asyncio.create_task(stream.aclose())
            for _ in range(steps):
                await asyncio.sleep(0)
            closing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closing
            if steps % 2:  # left alone, the cleanup completes by itself
                await until(lambda s=stream: s.state == "closed")  # type: ignore[misc]
            else:  # a second aclose() waits for it
                await stream.aclose()
                assert stream.state == "closed"
            assert sim.stream.listen_key() is None, steps
            await until(lambda: sim.stream.connections() == 0)
            await stream.aclose()  # idempotent
    assert len(listen_calls(sim, "DELETE")) == 8
    leftovers = [t for t in asyncio.all_tasks() if (t.get_name() or "").startswith("papi-user")]
    assert leftovers == []


async def test_the_hook_may_close_the_stream(sim: PapiSimulator) -> None:
    streams: list[UserStream] = []
    closed: list[str] = []

    async def stop(client: PortfolioMarginClient) -> None:
        await streams[0].aclose()
        closed.append(streams[0].state)  # aclose() returned: not cancelled, and done

    async with sim_client(sim) as client:
        stream = fast_stream(client, on_reconnect=stop)
        streams.append(stream)
        await stream.start()
        items = [item async for item in stream]
        assert closed == ["closed"]
        assert len(items) == 1 and isinstance(items[0], StreamReconnected)
        assert items[0].hook_error is None
        assert sim.stream.listen_key() is None
        assert len(listen_calls(sim, "DELETE")) == 1
        await until(lambda: sim.stream.connections() == 0)


async def test_start_cancelled_during_the_post_still_deletes_the_key(
    sim: PapiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with sim_client(sim) as client:
        posted = asyncio.Event()
        call = client.request

        async def answer_lost(spec: Any, *args: Any, **kwargs: Any) -> Any:
            result = await call(spec, *args, **kwargs)
            if spec is START_USER_DATA_STREAM:  # the key exists; its answer never arrives
                posted.set()
                await asyncio.Event().wait()
            return result

        monkeypatch.setattr(client, "request", answer_lost)
        starting = asyncio.create_task(fast_stream(client).start())
        await asyncio.wait_for(posted.wait(), 3)
        assert sim.stream.listen_key() is not None
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        assert len(listen_calls(sim, "DELETE")) == 1
        assert sim.stream.listen_key() is None


# -- markers, secrecy, listenKeyExpired ------------------------------------------------------


@pytest.mark.parametrize("policy", ["resync", "raise"])
async def test_markers_do_not_count_toward_max_queue(sim: PapiSimulator, policy: str) -> None:
    async def broken(client: PortfolioMarginClient) -> None:
        raise RuntimeError("snapshot failed")

    async with (
        sim_client(sim) as client,
        fast_stream(client, max_queue=1, overflow=policy, on_reconnect=broken) as stream,
    ):
        sim.stream.push(balance_update(1))
        await until(lambda: stream.received == 1)
        marker = await next_item(stream)
        assert isinstance(marker, StreamReconnected)
        assert marker.hook_error == "RuntimeError: snapshot failed"
        assert isinstance(await next_item(stream), BalanceUpdate)
        assert stream.dropped == 0
        if policy == "resync":  # a real overflow still drops and reports the older event
            sim.stream.push(balance_update(2))
            sim.stream.push(balance_update(3))
            await until(lambda: stream.received == 3)
            overflow = await next_item(stream)
            assert isinstance(overflow, StreamOverflow) and overflow.dropped == 1
            last = await next_item(stream)
            assert isinstance(last, BalanceUpdate) and last.update_id == 3


def exception_chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


async def test_listen_key_is_not_reachable_from_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys: list[str] = []

    async def refuse(self: StreamHub, request: web.Request) -> web.StreamResponse:
        keys.append(request.match_info["listen_key"])
        return web.json_response(
            {"code": -1125, "msg": "This listenKey does not exist."}, status=400
        )

    monkeypatch.setattr(StreamHub, "handle", refuse)
    async with (
        PapiSimulator(api_key=KEY, api_secret=SECRET, state=demo_state()) as sim,
        sim_client(sim) as client,
    ):
        with pytest.raises(UserStreamError) as info:
            await fast_stream(client, max_reconnect_attempts=2).start()
    error = info.value
    assert keys and "2 connection attempt" in str(error)
    text = "".join(traceback.format_exception(error))
    chain = exception_chain(error)
    assert not any(isinstance(e, aiohttp.ClientError) for e in chain)
    for key in keys:
        assert key not in text
        for exc in chain:
            assert key not in str(exc) and key not in repr(exc)
            tb = exc.__traceback__
            while tb is not None:  # nor in the locals of the library's frames
                frame = tb.tb_frame
                if "binance_papi_async" in frame.f_code.co_filename:
                    assert key not in [v for v in frame.f_locals.values() if isinstance(v, str)]
                tb = tb.tb_next


async def test_unparsable_listen_key_expired_still_renews_the_key(sim: PapiSimulator) -> None:
    async with sim_client(sim) as client, fast_stream(client) as stream:
        await next_item(stream)
        sim.stream.push({"e": "listenKeyExpired", "E": "not a time"})
        broken = await next_item(stream)
        assert isinstance(broken, UnknownEvent) and broken.error is not None
        marker = await next_item(stream)
        assert isinstance(marker, StreamReconnected) and marker.reason == "listen_key_expired"
        assert len(listen_calls(sim, "POST")) == 2
