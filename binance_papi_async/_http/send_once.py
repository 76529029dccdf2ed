"""The guard that lets a state-changing request out once only, on a session the client
did not create.

aiohttp re-sends PUT and DELETE by itself when a kept-alive connection turns out to be
dead.  On the session the client owns that is switched off; on a session the caller
passed in, this per-request middleware refuses the second send of a write instead.
"""

from __future__ import annotations

from typing import Any

import aiohttp

__all__ = ["ResendRefused", "send_once_guard"]


class ResendRefused(aiohttp.ClientError):
    """aiohttp tried to send a state-changing request a second time; refused."""


def send_once_guard() -> Any:
    """A new middleware for one request: its first send goes out, a second one raises."""
    sent = False

    async def guard(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
        nonlocal sent
        if sent:
            raise ResendRefused("a second send of a state-changing request was refused")
        sent = True
        response: aiohttp.ClientResponse = await handler(request)
        return response

    return guard
