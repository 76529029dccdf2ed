"""``client.market``: connectivity and server time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._decode import to_time
from .._http.options import Priority
from ..endpoints import PING, SERVER_TIME
from ..timeouts import Timeouts
from ._generated.market import MarketAPIBase

__all__ = ["MarketAPI"]


def _server_time(data: Any) -> datetime:
    return to_time(data["serverTime"])


class MarketAPI(MarketAPIBase):
    """Unsigned endpoints."""

    __slots__ = ()

    async def ping(
        self,
        *,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        priority: Priority = "normal",
    ) -> None:
        """``GET /papi/v1/ping`` (weight 1): raises if papi cannot be reached."""
        await self._client._transport.request(
            PING, {}, timeout=timeout, max_wait=max_wait, priority=priority
        )

    async def server_time(
        self, *, timeout: Timeouts | float | None = None, max_wait: float | None = None
    ) -> datetime:
        """``GET /papi/v1/time`` (weight 1; served by papi though undocumented; urgent)."""
        return await self._client._transport.request(
            SERVER_TIME, {}, timeout=timeout, max_wait=max_wait, parse=_server_time
        )
