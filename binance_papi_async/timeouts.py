"""Request timeouts: :class:`Timeouts`."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from . import _constants as C
from .errors import ConfigurationError

__all__ = ["Timeouts"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Request timeouts in seconds.

    ``total`` bounds one attempt from taking a connection slot to the last byte of
    the response (and a user stream's handshake); ``connect`` bounds getting a
    connection (waiting for a slot of the pool, DNS, TCP and TLS).  A request that
    hits ``connect`` was never sent; one that hits ``total`` may have been (and, for
    a write, raises :class:`~binance_papi_async.ExecutionStatusUnknown`).  For the
    client's REST calls, ``total`` and the wait for a free slot of the pool are kept by
    the client itself and fire at most 10 ms late; aiohttp keeps ``connect`` for DNS,
    TCP and TLS.
    """

    total: float = C.DEFAULT_TOTAL_TIMEOUT_S
    connect: float = C.DEFAULT_CONNECT_TIMEOUT_S

    def __post_init__(self) -> None:
        for value in (self.total, self.connect):
            # A number of seconds > 0 (not a bool, not NaN), checked before any call uses it.
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigurationError(f"timeouts must be numbers of seconds > 0, got {self}")

    def to_aiohttp(self) -> aiohttp.ClientTimeout:
        """These timeouts for aiohttp: the defaults of the session the client creates, for
        requests of your own through ``client.session``."""
        return aiohttp.ClientTimeout(total=self.total, connect=self.connect)
