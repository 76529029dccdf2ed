"""The ``papi`` console script, end to end: each test runs it in a subprocess.

A module-scoped ``papi sim`` subprocess on a free loopback port serves the client
commands.  Nothing contacts the internet: the one non-loopback URL
(``https://papi.invalid``) is refused at the confirmation prompt, before any I/O.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET

PAPI = Path(sys.executable).with_name("papi")
START_TIMEOUT = 30.0
# Signal to exit: measured 0.1-0.2 s (0.4 s with a request in flight, given 0.25 s to
# finish); the simulator used to take over 2 s with a request in flight.
STOP_BOUND = 1.5


def env(**extra: str) -> dict[str, str]:
    """The test process's environment without API keys, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("BINANCE_")}
    return {**base, "PYTHONUNBUFFERED": "1", **extra}


DEMO_ENV = env(BINANCE_API_KEY=DEMO_API_KEY, BINANCE_API_SECRET=DEMO_API_SECRET)


def papi(
    *args: str, stdin: str = "", environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PAPI), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=DEMO_ENV if environ is None else environ,
    )


class Sim:
    """A ``papi sim`` subprocess and the URL from its ready line."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(PAPI), "sim", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until ready (or the process ends)
        prefix = "papi simulator listening on "
        assert line.startswith(prefix), line + self.proc.stderr.read()  # type: ignore[union-attr]
        self.url = line[len(prefix) :].strip()

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, float, str]:
        """Send ``signum``; the exit status, seconds to exit and stderr."""
        started = time.monotonic()
        self.proc.send_signal(signum)
        _, err = self.proc.communicate(timeout=START_TIMEOUT)
        return self.proc.returncode, time.monotonic() - started, err


def add_fault(url: str, fault: dict[str, Any]) -> None:
    """``POST /_sim/faults`` on the simulator at ``url`` (loopback)."""
    request = urllib.request.Request(
        f"{url}/_sim/faults", data=json.dumps(fault).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def running(s: Sim) -> Iterator[Sim]:
    try:
        yield s
    finally:
        if s.proc.poll() is None:
            s.stop()


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    """Shared by the tests that send at most one repay-debt (3000 of the 6000 IP weight
    a minute; more would wait for the next minute)."""
    yield from running(Sim())


@pytest.fixture
def own_sim() -> Iterator[Sim]:
    """A simulator of the test's own, with a fresh IP weight budget."""
    yield from running(Sim())


def test_the_console_script_is_installed_and_explains_itself() -> None:
    result = papi("--help")
    assert result.returncode == 0
    for text in ("sim", "balance", "repay-debt", "limits", "stream", "call", "exit status"):
        assert text in result.stdout
    assert "BINANCE_API_KEY" in result.stdout


def test_python_dash_m_runs_the_same_command_and_sim_help_has_the_seed_format() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "binance_papi_async", "sim", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env(),
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m binance_papi_async sim")
    for text in ('"prices"', '"accounts"', '"borrowed"', '"keys"', "TOML"):
        assert text in result.stdout


def test_sim_stops_at_once_on_ctrl_c() -> None:
    s = Sim()
    status, elapsed, err = s.stop(signal.SIGINT)
    assert status == 0, err
    assert elapsed < STOP_BOUND
    assert "Traceback" not in err


def test_sim_stops_at_once_on_sigterm_with_clients_connected() -> None:
    s = Sim()
    add_fault(s.url, {"kind": "latency", "seconds": 30, "path": "/papi/v1/account"})
    clients = [
        subprocess.Popen(
            [str(PAPI), command, "--progress", "--base-url", s.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=DEMO_ENV,
        )
        # a user data stream (an open WebSocket), and a request the simulator holds
        for command in ("stream", "account")
    ]
    try:
        stream, account = (c.stderr for c in clients)
        assert stream is not None and account is not None
        assert stream.readline().startswith("stream: connected")
        assert "waiting for papi's answer" in account.readline()
        status, elapsed, err = s.stop()
        assert status == 0, err
        assert elapsed < STOP_BOUND
    finally:
        for client in clients:
            client.send_signal(signal.SIGTERM)
            client.communicate(timeout=START_TIMEOUT)


def test_balance_json_is_papis_answer(sim: Sim) -> None:
    result = papi("balance", "ETH", "--json", "--base-url", sim.url)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["asset"] == "ETH"
    assert body["crossMarginBorrowed"] == "0.40000000"
    assert body["crossMarginInterest"] == "0.00020000"


def sim_debt(url: str, asset: str) -> Decimal:
    """The simulator's own record of the main account's ``asset`` debt (``/_sim/state``)."""
    with urllib.request.urlopen(f"{url}/_sim/state", timeout=10) as response:
        amounts = json.load(response)["accounts"]["main"]["assets"][asset]
    return Decimal(amounts["borrowed"]) + Decimal(amounts["interest"])


def test_repay_debt_with_yes_repays_on_the_simulator(sim: Sim) -> None:
    result = papi("repay-debt", "BNB", "0.1", "--yes", "--base-url", sim.url)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert fields["asset"] == "BNB"
    assert fields["amount"] == "0.10000000"
    assert fields["success"] == "true"
    assert fields["debtBefore"] == "2.00125000"  # the demo state's BNB debt
    assert sim_debt(sim.url, "BNB") == Decimal("2.00125") - Decimal("0.1")


def test_limits_shows_the_budgets_papi_reported(sim: Sim) -> None:
    result = papi("limits", "--base-url", sim.url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["BUDGET", "WINDOW", "USED", "LIMIT", "REMAINING"]
    weight = next(line.split() for line in lines if line.startswith("REQUEST_WEIGHT"))
    assert weight[1] == "1m" and weight[3] == "6000"
    assert int(weight[2]) >= 1  # the simulator's X-MBX-USED-WEIGHT-1M, not a local count
    (orders,) = [line.split() for line in lines if line.startswith("ORDERS")]  # this account's
    assert orders[1:4] == ["1m", "0", "1200"]  # the account's limit from rateLimit/order


def test_repay_debt_against_a_remote_url_asks_first_and_sends_nothing_when_refused() -> None:
    secret = "s3cret-value-that-must-never-be-printed"
    result = papi(
        "repay-debt",
        "BNB",
        "0.1",
        "--base-url",
        "https://papi.invalid",
        stdin="n\n",
        environ=env(BINANCE_API_KEY="abcdefgh12345678wxyz", BINANCE_API_SECRET=secret),
    )
    assert result.returncode == 5
    assert "About to repay 0.1 BNB" in result.stderr
    assert "https://papi.invalid" in result.stderr
    assert "abcd...wxyz" in result.stderr  # the key, masked
    assert "abcdefgh12345678wxyz" not in result.stderr + result.stdout
    assert secret not in result.stderr + result.stdout
    assert "nothing was sent" in result.stderr
    assert result.stdout == ""


def test_sim_reports_a_bad_state_file_in_one_line(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(
        '{"prices": {"BNB": "600"}, "accounts": {"main": {"assets": {"BNB": {"debt": "1"}}}}}'
    )
    result = papi("sim", "--port", "0", "--state", str(seed), environ=env())
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"papi sim: cannot load the state file {seed}: asset BNB: unknown fields ['debt']"
    ]


def test_sim_reports_a_busy_port_in_one_line(sim: Sim) -> None:
    port = sim.url.rsplit(":", 1)[1]
    result = papi("sim", "--port", port, environ=env())
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "address already in use" in result.stderr


def test_a_slow_call_shows_progress_and_ctrl_c_ends_it_with_130(sim: Sim) -> None:
    add_fault(sim.url, {"kind": "latency", "seconds": 30, "path": "/papi/v1/account"})
    proc = subprocess.Popen(
        [str(PAPI), "account", "--progress", "--base-url", sim.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=DEMO_ENV,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # written once the call has waited about a second
    assert line.startswith("account: waiting for papi's answer ... "), line
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=START_TIMEOUT)
    assert proc.returncode == 130
    assert time.monotonic() - started < STOP_BOUND
    assert out == ""
    assert "interrupted" in err and "Traceback" not in err


def test_repay_with_an_unknown_outcome_finds_out_from_the_debt(own_sim: Sim) -> None:
    sim = own_sim
    # The simulator applies the repay, then drops the connection without an answer.
    add_fault(
        sim.url,
        {"kind": "drop", "after_apply": True, "path": "/papi/v1/margin/repay-debt"},
    )
    result = papi(
        "repay-debt", "ETH", "0.1", "--yes", "--json", "--recv-window", "1000",
        "--progress", "--base-url", sim.url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "execution status unknown" in result.stderr
    assert "finding out whether the repay was applied" in result.stderr  # the progress line
    assert "the repay WAS applied" in result.stderr
    assert json.loads(result.stdout) == {
        "asset": "ETH",
        "amount": "0.1",
        "outcome": "applied",
        "debtBefore": "0.40020000",  # the demo state's ETH debt
    }
    assert sim_debt(sim.url, "ETH") == Decimal("0.4002") - Decimal("0.1")  # once, never re-sent


def test_stream_prints_events_as_json_lines_until_sigterm(own_sim: Sim) -> None:
    sim = own_sim
    proc = subprocess.Popen(
        [str(PAPI), "stream", "--base-url", sim.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=DEMO_ENV,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stderr.readline().startswith("stream: connected")
        assert papi("repay-debt", "BNB", "0.01", "--yes", "--base-url", sim.url).returncode == 0
        event = json.loads(proc.stdout.readline())
        assert event["e"] == "liabilityChange"
        assert event["a"] == "BNB" and event["t"] == "REPAY"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=START_TIMEOUT)
    assert proc.returncode == 0
