"""A client dropped without ``async with`` or ``aclose()``: the SDK says so itself, under
Python's default warning filters (which hide ResourceWarning), before aiohttp's own
"Unclosed client session"."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from binance_papi_async import PortfolioMarginClient
from binance_papi_async.testing import PapiSimulator

KEY = "unclosed-key-0123456789abcdef"
SECRET = "unclosed-secret-0123456789abcdef"

SCRIPT = textwrap.dedent(
    """
    import asyncio, gc
    from binance_papi_async import PortfolioMarginClient
    from binance_papi_async.testing import PapiSimulator

    async def main():
        async with PapiSimulator(api_key="k" * 20, api_secret="s" * 20) as sim:
            client = PortfolioMarginClient("k" * 20, "s" * 20, base_url=sim.url)
            await client.market.ping()
            del client  # never closed
            gc.collect()

    asyncio.run(main())
    """
)


def test_an_unclosed_client_is_reported_under_the_default_warning_filters() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "PYTHONDEVMODE")}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60
    )
    assert run.returncode == 0, run.stderr
    ours = run.stderr.find("unclosed PortfolioMarginClient(")
    assert ours >= 0, run.stderr
    assert "use 'async with PortfolioMarginClient(...)' or await client.aclose()" in run.stderr
    theirs = run.stderr.find("Unclosed client session")
    assert theirs == -1 or ours < theirs  # ours is the first thing the user reads
    assert "s" * 20 not in run.stderr  # the secret is not shown, the key only masked
    assert "k" * 20 not in run.stderr


async def test_an_unclosed_client_logs_a_warning_and_a_resource_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with PapiSimulator(api_key=KEY, api_secret=SECRET) as sim:
        client = PortfolioMarginClient(KEY, SECRET, base_url=sim.url)
        await client.market.ping()
        session = client.session
        assert session is not None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del client
            gc.collect()
        await session.close()  # (aiohttp's own warning is not what this test is about)
        await asyncio.sleep(0)
    assert [w.category for w in caught] == [ResourceWarning]
    assert "unclosed PortfolioMarginClient(" in str(caught[0].message)
    (record,) = [r for r in caplog.records if "unclosed PortfolioMarginClient" in r.message]
    assert record.levelno == logging.WARNING and record.name == "binance_papi_async"


async def test_a_closed_client_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    async with PapiSimulator(api_key=KEY, api_secret=SECRET) as sim:
        async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url) as client:
            await client.market.ping()
        del client
        gc.collect()
    assert "unclosed" not in caplog.text
