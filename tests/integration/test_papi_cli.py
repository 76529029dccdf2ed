"""``papi`` commands in process against the simulator (the plugin's ``papi_simulator``).

``main()`` runs in a worker thread (it starts its own event loop with
``asyncio.run``) while the simulator serves in the test's loop; its streams are
``StringIO`` and its environment a dict, so nothing leaks into the process.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
from decimal import Decimal
from typing import Any

import pytest

from binance_papi_async.cli import main
from binance_papi_async.cli._context import IO
from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET, PapiSimulator

DEMO_ENV = {"BINANCE_API_KEY": DEMO_API_KEY, "BINANCE_API_SECRET": DEMO_API_SECRET}


class Run:
    def __init__(self, status: int, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err

    def json(self) -> Any:
        return json.loads(self.out)


async def papi(*argv: str, env: dict[str, str] | None = None, stdin: str = "") -> Run:
    streams = IO(io.StringIO(stdin), io.StringIO(), io.StringIO())
    status = await asyncio.to_thread(
        main, list(argv), io=streams, env=DEMO_ENV if env is None else env
    )
    return Run(status, streams.stdout.getvalue(), streams.stderr.getvalue())  # type: ignore[attr-defined]


ZERO_ASSET_SEED = {
    "prices": {"BNB": "600", "XRP": "0.5"},
    "accounts": {"main": {"assets": {"BNB": {"free": "1"}, "XRP": {}}}},
}


@pytest.mark.papi_state(ZERO_ASSET_SEED)
async def test_balance_table_hides_all_zero_assets_unless_asked(
    papi_simulator: PapiSimulator,
) -> None:
    run = await papi("balance", "--base-url", papi_simulator.url)
    assert run.status == 0, run.err
    header, *rows = run.out.splitlines()
    assert header.split()[:2] == ["ASSET", "WALLET"]
    assert [row.split()[0] for row in rows] == ["BNB"]
    run = await papi("balance", "--zeros", "--base-url", papi_simulator.url)
    assert [row.split()[0] for row in run.out.splitlines()[1:]] == ["BNB", "XRP"]


async def test_account_shows_papis_fields_with_readable_times(
    papi_simulator: PapiSimulator,
) -> None:
    run = await papi("account", "--base-url", papi_simulator.url)
    assert run.status == 0, run.err
    fields = dict(line.split(None, 1) for line in run.out.splitlines())
    assert fields["accountStatus"] == "NORMAL"
    assert fields["updateTime"].endswith("Z")
    raw = (await papi("account", "--json", "--base-url", papi_simulator.url)).json()
    assert raw["accountEquity"] == fields["accountEquity"]
    assert isinstance(raw["updateTime"], int)


async def test_call_uses_the_declared_route_and_changes_state(
    papi_simulator: PapiSimulator,
) -> None:
    before = papi_simulator.account().asset("USDT").borrowed
    run = await papi(
        "call", "POST", "/papi/v1/marginLoan", "asset=USDT", "amount=100", "--json",
        "--base-url", papi_simulator.url,
    )  # fmt: skip
    assert run.status == 0, run.err
    assert "tranId" in run.json()
    assert papi_simulator.account().asset("USDT").borrowed == before + Decimal(100)
    loan = papi_simulator.requests[-1]
    assert (loan.method, loan.path) == ("POST", "/papi/v1/marginLoan")


async def test_call_of_an_unknown_route_reports_papis_error(papi_simulator: PapiSimulator) -> None:
    run = await papi("call", "GET", "/papi/v1/no-such-thing", "--base-url", papi_simulator.url)
    assert run.status == 1
    assert "GET /papi/v1/no-such-thing -> HTTP 404" in run.err


async def test_missing_keys_is_a_configuration_error_before_any_request(
    papi_simulator: PapiSimulator,
) -> None:
    papi_simulator.clear_requests()
    run = await papi("balance", "--base-url", papi_simulator.url, env={})
    assert run.status == 3
    assert "BINANCE_API_KEY and BINANCE_API_SECRET" in run.err
    assert papi_simulator.requests == []


async def test_a_rejected_key_is_an_authentication_error_and_the_secret_stays_hidden(
    papi_simulator: PapiSimulator,
) -> None:
    secret = "wrong-secret-that-must-not-appear-anywhere"
    run = await papi(
        "balance", "--base-url", papi_simulator.url,
        env={"BINANCE_API_KEY": DEMO_API_KEY, "BINANCE_API_SECRET": secret},
    )  # fmt: skip
    assert run.status == 3
    assert "-1022" in run.err
    assert secret not in run.err + run.out


async def test_no_server_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    run = await papi("account", "--base-url", f"http://127.0.0.1:{port}", "-q")
    assert run.status == 4
    assert "Traceback" not in run.err


async def test_repay_not_applied_says_it_is_safe_to_repay_again(
    papi_simulator: PapiSimulator,
) -> None:
    papi_simulator.faults.drop(path="/papi/v1/margin/repay-debt", after_apply=False)
    run = await papi(
        "repay-debt", "BNB", "--all", "--specify", "USDT", "--recv-window", "1000", "--json",
        "--base-url", papi_simulator.url,
    )  # fmt: skip
    assert run.status == 4
    assert "NOT applied" in run.err and "safe to repay again" in run.err
    assert run.json()["outcome"] == "not applied"
    assert run.json()["amount"] is None
    assert papi_simulator.account().applied_repays == []


async def test_limits_json_reports_the_budgets(papi_simulator: PapiSimulator) -> None:
    run = await papi("limits", "--json", "--base-url", papi_simulator.url)
    assert run.status == 0, run.err
    data = run.json()
    weight = next(b for b in data["budgets"] if b["budget"] == "REQUEST_WEIGHT")
    assert weight["limit"] == 6000
    assert weight["used"] == papi_simulator.used_weight
    assert weight["remaining"] == 6000 - weight["used"]
