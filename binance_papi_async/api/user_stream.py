"""``client.user_stream``: the user data stream, and its listenKey endpoints."""

from __future__ import annotations

from ..clock import Clock
from ..stream import OverflowPolicy, ReconnectHook, UserStream
from ._generated.user_stream import UserStreamAPIBase

__all__ = ["UserStreamAPI"]


class UserStreamAPI(UserStreamAPIBase):
    """The Portfolio Margin user data stream.

    ``client.user_stream(**options)`` returns a :class:`~binance_papi_async.UserStream`
    (``async with client.user_stream() as stream: async for event in stream: ...``), which
    manages the listen key itself.  The raw listenKey calls are methods too (``start``,
    ``keepalive``, ``close``) for engines that run their own WebSocket.
    """

    __slots__ = ()

    def __call__(
        self,
        *,
        keepalive_interval: float = 1800.0,
        keepalive_retry: float = 60.0,
        heartbeat: float | None = 30.0,
        max_queue: int = 10_000,
        overflow: OverflowPolicy = "resync",
        reconnect_delay: float = 0.5,
        max_reconnect_delay: float = 30.0,
        max_reconnect_attempts: int | None = None,
        max_connection_age: float = 23.5 * 3600,
        on_reconnect: ReconnectHook | None = None,
        stream_url: str | None = None,
        clock: Clock | None = None,
        delete_key_on_close: bool = True,
    ) -> UserStream:
        """A new :class:`~binance_papi_async.UserStream` of this client's account (see it
        for what each option does)."""
        return UserStream(
            self._client,
            keepalive_interval=keepalive_interval,
            keepalive_retry=keepalive_retry,
            heartbeat=heartbeat,
            max_queue=max_queue,
            overflow=overflow,
            reconnect_delay=reconnect_delay,
            max_reconnect_delay=max_reconnect_delay,
            max_reconnect_attempts=max_reconnect_attempts,
            max_connection_age=max_connection_age,
            on_reconnect=on_reconnect,
            stream_url=stream_url,
            clock=clock,
            delete_key_on_close=delete_key_on_close,
        )
