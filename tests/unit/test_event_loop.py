"""The suite runs on the event loop ``PAPI_TEST_LOOP`` names (``make test`` runs both)."""

from __future__ import annotations

import asyncio

import pytest

from ..conftest import TEST_LOOP


async def test_tests_run_on_the_event_loop_papi_test_loop_names() -> None:
    loop = asyncio.get_running_loop()
    if TEST_LOOP == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        assert isinstance(loop, uvloop.Loop)
    else:
        assert isinstance(loop, asyncio.BaseEventLoop)
        assert type(loop).__module__.startswith("asyncio.")


@pytest.fixture
async def fixture_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


async def test_async_fixtures_share_the_test_s_loop(
    fixture_loop: asyncio.AbstractEventLoop,
) -> None:
    assert fixture_loop is asyncio.get_running_loop()
