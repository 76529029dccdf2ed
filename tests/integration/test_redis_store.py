"""The Redis budget store against a real redis-server (tests/conftest.py starts one).

Each test uses its own key prefix, so tests never see each other's counts.
Windows are short (2 s) and the clock is the host's, so the tests wait in real
time, a few seconds at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from binance_papi_async.clock import ServerClock
from binance_papi_async.endpoints import Budget, Charge
from binance_papi_async.errors import ConfigurationError
from binance_papi_async.ratelimit import BudgetLimit, RateLimiter, WindowKey
from binance_papi_async.ratelimit.redis import RedisBudgetStore, RedisStoreEvent, account_scope_of
from binance_papi_async.testing.local_redis import LocalRedis

from ..conftest import early_in_a_minute

W = Budget.REQUEST_WEIGHT
INTERVAL = 2.0
# The tests on one-minute windows start at least this long before a minute ends: 5 s of
# calls plus the unsynced clock's 1 s bound.
UNSYNCED_MARGIN_S = 6.0
FAST = {"heartbeat": 0.1, "lapse": 0.5, "fallback": 4.0}


def weight(n: int) -> tuple[Charge, ...]:
    return (Charge(W, n),)


def prefix() -> str:
    return f"t{os.urandom(4).hex()}"


def key(window: int, series: str = "REQUEST_WEIGHT/2s") -> WindowKey:
    return WindowKey(series, window, W, INTERVAL)


def current_window() -> int:
    return int(time.time() // INTERVAL)


@contextlib.asynccontextmanager
async def stores(url: str, n: int, **kwargs: object) -> AsyncIterator[list[RedisBudgetStore]]:
    name = prefix()
    made = [
        RedisBudgetStore.from_url(url, prefix=name, clock=ServerClock(), **{**FAST, **kwargs})  # type: ignore[arg-type]
        for _ in range(n)
    ]
    try:
        yield made
    finally:
        for store in made:
            await store.aclose()


async def test_concurrent_takes_of_two_stores_never_pass_the_limit(
    redis_server: LocalRedis,
) -> None:
    async with stores(redis_server.url, 2) as (a, b):
        k = key(current_window() + 5)
        grants = await asyncio.gather(*(s.take(k, 7, 1, 100) for s in (a, b) for _ in range(20)))
        assert sum(grants) == 100
        assert sorted(grants)[-1] == 7 and 0 in grants
        assert await a.take(k, 1, 1, 100) == 0


async def test_a_failed_take_claims_its_units_of_the_next_window_in_the_order_of_failure(
    redis_server: LocalRedis,
) -> None:
    async with stores(redis_server.url, 3) as (a, b, c):
        k, following = key(current_window() + 5), key(current_window() + 6)
        assert await a.take(k, 100, 1, 100) == 100
        assert await b.take(k, 60, 60, 100) == 0  # B claims 60 units of the next window
        assert await c.take(k, 30, 30, 100) == 0  # then C claims 30
        assert await a.take(following, 100, 1, 100) == 10  # both claims set aside for A
        assert await c.take(following, 40, 31, 100) == 0  # B's claim is ahead of C's
        assert await c.take(following, 30, 30, 100) == 30
        assert await b.take(following, 60, 60, 100) == 60  # a grant of a claim ends it
        assert await a.take(following, 1, 1, 100) == 0


async def test_window_keys_carry_a_hash_tag_and_expire_after_their_window(
    redis_server: LocalRedis,
) -> None:
    async with stores(redis_server.url, 1) as (a,):
        k = key(current_window())
        assert await a.take(k, 10, 1, 100) == 10
        redis = Redis.from_url(redis_server.url)
        try:
            names = [n.decode() async for n in redis.scan_iter(f"{{{a._prefix}:*")]
            window = next(n for n in names if ":w:" in n)
            assert window.startswith(f"{{{a._prefix}:ip:default}}:w:")
            ttl = await redis.pttl(window)
            assert 0 < ttl <= (INTERVAL + 30 + FAST["fallback"]) * 1000
        finally:
            await redis.aclose()


async def test_the_account_scope_is_a_hash_of_the_key_and_two_keys_must_name_one(
    redis_server: LocalRedis,
) -> None:
    async with stores(redis_server.url, 1) as (a,):
        a.bind_api_key("my-api-key-123")
        assert a.account_scope == account_scope_of("my-api-key-123")
        assert "my-api-key" not in a.account_scope
        a.bind_api_key("my-api-key-123")  # the same key again is fine
        with pytest.raises(ConfigurationError, match="account_scope"):
            a.bind_api_key("another-key")
        orders = WindowKey("ORDERS/2s", current_window(), Budget.ORDERS, INTERVAL)
        assert await a.take(orders, 3, 1, 10) == 3
        redis = Redis.from_url(redis_server.url)
        try:
            names = [n.decode() async for n in redis.scan_iter(f"{{{a._prefix}:*")]
        finally:
            await redis.aclose()
        assert any(a.account_scope in n for n in names)
        assert not any("my-api-key" in n for n in names)


def limiter_on(store: RedisBudgetStore, limit: int = 100, reserve: int = 0) -> RateLimiter:
    return RateLimiter(
        [BudgetLimit(W, limit, INTERVAL, reserve=reserve)],
        store=store,
        clock=store._clock,
        transit=0.05,
    )


async def test_units_given_back_in_one_process_wake_a_waiting_call_in_another(
    redis_server: LocalRedis,
) -> None:
    async with stores(redis_server.url, 2) as (a, b):
        await early_in_a_minute(UNSYNCED_MARGIN_S)
        la = RateLimiter(
            [BudgetLimit(W, 100, 60.0, reserve=0)],
            store=a,
            clock=a._clock,
            lease_fraction=1.0,
            transit=0.05,
        )
        lb = RateLimiter([BudgetLimit(W, 100, 60.0, reserve=0)], store=b, clock=b._clock)
        (await la.acquire(weight(10))).commit()  # la leases the whole minute
        waiting = asyncio.create_task(lb.acquire(weight(10)))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        la.close()  # gives back the 90 it holds: lb is woken through pub/sub
        reservation = await asyncio.wait_for(waiting, 2.0)
        assert reservation.charges[0][1] == 10


async def test_the_urgent_reserve_is_left_for_the_urgent_calls_of_every_process(
    redis_server: LocalRedis,
) -> None:
    async with stores(redis_server.url, 2) as (a, b):
        await early_in_a_minute(UNSYNCED_MARGIN_S)
        la = RateLimiter(
            [BudgetLimit(W, 100, 60.0, reserve=10)], store=a, clock=a._clock, lease_fraction=1.0
        )
        lb = RateLimiter([BudgetLimit(W, 100, 60.0, reserve=10)], store=b, clock=b._clock)
        for _ in range(90):
            (await la.acquire(weight(1), max_wait=1.0)).commit()
        with pytest.raises(Exception, match="max_wait"):
            await lb.acquire(weight(1), max_wait=0.3)
        cancel = await lb.acquire(weight(5), urgent=True, max_wait=1.0)  # another process
        assert cancel.urgent


async def test_a_pause_in_one_process_stops_the_others_on_the_scope(
    redis_server: LocalRedis,
) -> None:
    async with stores(redis_server.url, 2) as (a, b):
        la, lb = limiter_on(a), limiter_on(b)
        (await la.acquire(weight(1))).commit()
        (await lb.acquire(weight(1))).commit()  # both joined and subscribed
        await asyncio.sleep(0.3)
        la.on_rate_limited(1.0)
        await asyncio.sleep(0.3)
        assert lb.paused_until is not None
        la.on_ip_banned(300)
        await asyncio.sleep(0.3)
        assert lb.banned_until == pytest.approx(la.banned_until, abs=0.01)


async def test_a_header_above_what_redis_counts_raises_it_in_one_round_trip(
    redis_server: LocalRedis,
) -> None:
    async with stores(redis_server.url, 2, heartbeat=10.0, lapse=20.0, fallback=30.0) as (a, b):
        k = key(current_window() + 5)
        assert await a.take(k, 10, 1, 100) == 10
        before = a.round_trips
        for used in (4, 8, 10):  # Redis counts 10 already: no round trip
            a.observe_nowait(k, used)
        await asyncio.sleep(0.05)
        assert a.round_trips == before
        for used in (30, 40, 50):  # traffic outside the store: one script for the burst
            a.observe_nowait(k, used)
        await asyncio.sleep(0.05)
        assert a.round_trips == before + 1
        assert await b.take(k, 100, 1, 100) == 50


# -- Redis lost ---------------------------------------------------------------------------------


class Proxy:
    """A TCP proxy to Redis that can be cut: a network partition of one process."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cut = False
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/0"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.port)
        self.pipes |= {writer, up_w}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if self.cut:
                        break
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_w), pump(up_r, writer))

    def sever(self) -> None:
        self.cut = True
        for pipe in self.pipes:
            pipe.close()
        self.pipes.clear()

    async def close(self) -> None:
        self.sever()
        if self.server is not None:
            self.server.close()


async def test_a_cut_off_process_falls_back_to_its_share_and_the_others_set_it_aside(
    redis_server: LocalRedis, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = Proxy(redis_server.port)
    events: list[RedisStoreEvent] = []
    name = prefix()
    clock = ServerClock()
    a = RedisBudgetStore.from_url(
        await proxy.start(), prefix=name, clock=clock, on_event=events.append, timeout=0.3, **FAST
    )
    b = RedisBudgetStore.from_url(redis_server.url, prefix=name, clock=clock, **FAST)
    try:
        now = current_window()
        await a.take(key(now), 1, 1, 100)
        await b.take(key(now), 1, 1, 100)
        await asyncio.sleep(0.5)  # a few heartbeats: each saw the other (P = 2)
        with caplog.at_level(logging.WARNING, logger="binance_papi_async.ratelimit"):
            proxy.sever()
            await asyncio.sleep(0.3)
            # the next window that starts more than `lapse` after a's last heartbeat
            later = int((time.time() + FAST["lapse"] + 0.1) // INTERVAL) + 1
            assert await a.take(key(now), 10, 1, 100) == 0  # this window: only what it holds
            assert await a.take(key(later), 80, 1, 100) == 50  # the share: 100 // 2
            assert await a.take(key(later), 80, 1, 100) == 0
            assert await b.take(key(later), 100, 1, 100) == 50  # a's share is set aside
            assert [e.kind for e in events] == ["unavailable"]
            assert "Redis unreachable" in caplog.text
            proxy.cut = False  # the network is back: a counts its share in Redis
            await asyncio.sleep(1.0)
        assert [e.kind for e in events] == ["unavailable", "restored"]
        assert "answers again" in caplog.text
        assert await b.take(key(later), 100, 1, 100) == 0  # 50 granted + 50 counted by a
    finally:
        await a.aclose()
        await b.aclose()
        await proxy.close()


async def test_after_a_restart_redis_lost_counts_take_no_leases_in_the_windows_it_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[RedisStoreEvent] = []
    with LocalRedis.start() as server:
        clock = ServerClock()
        a = RedisBudgetStore.from_url(
            server.url, clock=clock, on_event=events.append, timeout=0.3, **FAST
        )
        b = RedisBudgetStore.from_url(server.url, clock=clock, timeout=0.3, **FAST)
        try:
            await asyncio.sleep(INTERVAL - time.time() % INTERVAL + 0.05)  # a window opens
            now = current_window()
            assert await a.take(key(now), 60, 1, 100) == 60
            await b.take(key(now), 1, 1, 100)
            await asyncio.sleep(0.2)
            await asyncio.to_thread(server.restart)
            await asyncio.sleep(0.5)
            # the 61 units of this window are gone from Redis: nobody leases there any more
            assert await b.take(key(now), 50, 1, 100) == 0
            assert await a.take(key(now), 50, 1, 100) == 0
            later = now + 2  # starts after the restart was seen: Redis counts all of it
            assert await b.take(key(later), 50, 1, 100) == 50
            kinds = [e.kind for e in events]
            assert "reset" in kinds  # ("unavailable", "restored" too if a heartbeat failed)
        finally:
            await a.aclose()
            await b.aclose()


async def test_a_stream_of_small_calls_in_one_process_never_starves_a_heavy_call_in_another(
    redis_server: LocalRedis,
) -> None:
    """Process A spends every window on weight-1 calls as fast as it can, in leases of half
    the limit; process B's 200-weight call claims its units of the next window when its
    take fails, and is admitted at the latest in the window after the one it asked in."""
    async with stores(redis_server.url, 2) as (a, b):
        for store in (a, b):  # the host's clock is the reference here: as if measured
            store._clock.set_offset(store._clock.offset, uncertainty=0.0005)
        la = RateLimiter(
            [BudgetLimit(W, 300, INTERVAL, reserve=0)],
            store=a,
            clock=a._clock,
            transit=0.05,
            lease_fraction=0.5,
        )
        lb = limiter_on(b, limit=300)
        stop = time.time() + 4 * INTERVAL
        spent = 0

        async def stream() -> None:
            nonlocal spent
            while time.time() < stop:
                (await la.acquire(weight(1), max_wait=10.0)).commit()
                spent += 1

        streams = [asyncio.ensure_future(stream()) for _ in range(20)]
        await asyncio.sleep(INTERVAL * (1 - (time.time() / INTERVAL) % 1) + 0.3)  # A owns it
        asked = time.time()
        heavy = await lb.acquire(weight(200), max_wait=10.0)
        waited_windows = int(time.time() // INTERVAL) - int(asked // INTERVAL)
        heavy.commit()
        await asyncio.gather(*streams)
        assert waited_windows <= 2, waited_windows
        assert spent >= 3 * 300 - 200  # A was not stopped either
