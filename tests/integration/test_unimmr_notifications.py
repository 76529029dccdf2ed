"""uniMMR drop notifications (Portfolio Margin Pro) against the simulator, over real sockets.

The switch of each account (``POST``/``GET /papi/v1/unimmr/notification``, the on/off
parameter sent through ``extra_params``: no page names it) and the ``uniMMRDrop`` event
the simulator pushes on the user data stream when asked, only while the switch is on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from binance_papi_async import BadRequestError, PortfolioMarginClient, UniMMRDrop
from binance_papi_async.endpoints import BY_NAME, Budget
from binance_papi_async.stream import UserStream
from binance_papi_async.stream_events import StreamReconnected
from binance_papi_async.testing import UNIMMR_SWITCH_PARAM, PapiSimulator, SimState

from ..conftest import BIG_LIMITS

KEY = "unimmr-key-0123456789abcdef"
SECRET = "unimmr-secret-0123456789abcdef"
ON = {UNIMMR_SWITCH_PARAM: True}


@pytest.fixture
async def client(sim: PapiSimulator) -> AsyncIterator[PortfolioMarginClient]:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS) as c:
        yield c


async def test_the_switch_is_off_by_default_and_kept_per_account(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    assert await client.account.unimmr_drop_notification_status() == {UNIMMR_SWITCH_PARAM: False}
    assert await client.account.set_unimmr_drop_notification_status(extra_params=ON) == ON
    assert sim.account().unimmr_notification is True
    assert sim.account("other").unimmr_notification is False
    assert await client.account.unimmr_drop_notification_status() == ON
    await client.account.set_unimmr_drop_notification_status(
        extra_params={UNIMMR_SWITCH_PARAM: False}
    )
    assert sim.account().unimmr_notification is False
    sim.reset()
    assert sim.account().unimmr_notification is False


async def test_the_switch_without_its_parameter_is_refused(client: PortfolioMarginClient) -> None:
    with pytest.raises(BadRequestError) as missing:
        await client.account.set_unimmr_drop_notification_status()
    assert missing.value.code == -1102
    with pytest.raises(BadRequestError) as bad:
        await client.account.set_unimmr_drop_notification_status(
            extra_params={UNIMMR_SWITCH_PARAM: "maybe"}
        )
    assert bad.value.code == -1130


async def test_a_call_of_unknown_weight_is_charged_the_largest_page_weight(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    spec = BY_NAME["get_unimmr_drop_notification_status"]
    assert [(c.budget, c.amount) for c in spec.charges] == [(Budget.REQUEST_WEIGHT, 1500)]
    before = client.rate_limits.get(Budget.REQUEST_WEIGHT).used
    await client.account.unimmr_drop_notification_status()
    assert client.rate_limits.get(Budget.REQUEST_WEIGHT).used - before >= 1500


async def test_unimmr_drop_reaches_the_stream_only_while_the_switch_is_on(
    sim: PapiSimulator, client: PortfolioMarginClient
) -> None:
    async with UserStream(client, reconnect_delay=0.01) as stream:
        assert isinstance(await asyncio.wait_for(stream.__anext__(), 3), StreamReconnected)
        assert sim.stream.push_unimmr_drop() == 0  # off: nothing is sent
        await client.account.set_unimmr_drop_notification_status(extra_params=ON)
        assert sim.stream.push_unimmr_drop(fields={"u": "1.35"}) == 1
        event = await asyncio.wait_for(stream.__anext__(), 3)
    assert isinstance(event, UniMMRDrop)
    assert event.event_type == "uniMMRDrop" and event.event_time.tzinfo is not None
    assert event.raw["u"] == "1.35"  # the payload beyond e/E is on no page: raw only


def test_the_switch_can_be_seeded_and_is_in_the_state_view() -> None:
    state = SimState.from_dict({"accounts": {"pro": {"unimmrNotification": True}}})
    assert state.accounts["pro"].unimmr_notification is True
    assert state.to_dict()["accounts"]["pro"]["unimmrNotification"] is True
    with pytest.raises(ValueError, match="unimmrNotification"):
        SimState.from_dict({"accounts": {"pro": {"unimmrNotification": "yes"}}})
