"""The simulator's "not simulated" answer (HTTP 501, code -501) is a final, typed error.

A read is not retried as a server error, and a write is not an unknown outcome: the
simulator changed nothing.  Any other 5xx keeps its usual meaning.
"""

from __future__ import annotations

import re

import orjson
import pytest
from aioresponses import aioresponses

from binance_papi_async import (
    APIStatusError,
    ExecutionStatusUnknown,
    NotSimulatedError,
    PortfolioMarginClient,
    RetryPolicy,
    ServerError,
)
from binance_papi_async.errors import NOT_SIMULATED_CODE, from_response

from ..conftest import BASE, RecordingAioresponses, unit_client

NOT_SIMULATED = orjson.dumps(
    {"code": NOT_SIMULATED_CODE, "msg": "not simulated: GET /papi/v1/um/income/asyn: downloads"}
)
DOWNLOAD = re.compile(rf"^{re.escape(BASE)}/papi/v1/um/income/asyn\?.*$")
TRANSFER = re.compile(rf"^{re.escape(BASE)}/papi/v1/bnb-transfer\?.*$")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_a_501_with_the_not_simulated_code_is_not_simulated_whatever_the_method(
    method: str,
) -> None:
    error = from_response(
        status=501, headers={}, body=NOT_SIMULATED, method=method, path="/papi/v1/x",
        params={}, sent_at=0.0,
    )  # fmt: skip
    assert type(error) is NotSimulatedError and isinstance(error, APIStatusError)
    assert (error.status, error.code) == (501, -501)
    assert error.msg is not None and error.msg.startswith("not simulated: ")


def test_other_5xx_answers_keep_their_meaning() -> None:
    other = orjson.dumps({"code": -1000, "msg": "Unknown error"})
    for status, body in ((501, other), (503, NOT_SIMULATED)):
        read = from_response(
            status=status, headers={}, body=body, method="GET", path="/p", params={}, sent_at=0.0
        )
        write = from_response(
            status=status, headers={}, body=body, method="POST", path="/p", params={},
            sent_at=0.0,
        )  # fmt: skip
        assert type(read) is ServerError and type(write) is ExecutionStatusUnknown


async def test_a_not_simulated_read_is_sent_once_however_many_retries_are_allowed(
    mock_http: RecordingAioresponses,
) -> None:
    mock_http.get(DOWNLOAD, status=501, body=NOT_SIMULATED, repeat=True)
    retrying = RetryPolicy(max_attempts=5, base_delay=0.0, max_delay=0.0)
    async with unit_client(retry=retrying) as client:
        with pytest.raises(NotSimulatedError):
            await client.um.transaction_history_download_id(start_time=1, end_time=2)
    assert len(mock_http.sent) == 1


async def test_a_not_simulated_write_raises_not_simulated_not_an_unknown_outcome(
    client: PortfolioMarginClient, mock_http: aioresponses
) -> None:
    mock_http.post(TRANSFER, status=501, body=NOT_SIMULATED)
    with pytest.raises(NotSimulatedError) as info:
        await client.account.bnb_transfer(amount=1, transfer_side="TO_UM")
    assert type(info.value) is NotSimulatedError  # final: not ExecutionStatusUnknown
