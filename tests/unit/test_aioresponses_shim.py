"""Proves the aioresponses shim in conftest.py is still needed (delete both once this fails)."""

from __future__ import annotations

import aiohttp
import pytest
from aioresponses import aioresponses
from aioresponses.core import RequestMatch
from yarl import URL

from ..conftest import ORIGINAL_CLIENT_RESPONSE


def test_aioresponses_still_omits_stream_writer() -> None:
    assert ORIGINAL_CLIENT_RESPONSE is aiohttp.ClientResponse
    with pytest.raises(TypeError, match="stream_writer"):
        RequestMatch("https://papi.binance.com/papi/v1/ping")._build_response(
            URL("https://papi.binance.com/papi/v1/ping"), response_class=ORIGINAL_CLIENT_RESPONSE
        )


async def test_shim_makes_mocked_requests_work(mock_http: aioresponses) -> None:
    mock_http.get("https://papi.binance.com/papi/v1/ping", payload={})
    async with aiohttp.ClientSession() as s, s.get("https://papi.binance.com/papi/v1/ping") as r:
        assert r.status == 200
        assert await r.json() == {}
