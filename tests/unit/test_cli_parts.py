"""The ``papi`` command's parts without a server: arguments, amounts, output, exit
codes, the confirmation prompt and the progress line."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binance_papi_async import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    Budget,
    ConfigurationError,
    ExecutionStatusUnknown,
    LimiterWait,
    LimiterWaitStarted,
    RateLimitWaitTimeout,
    RequestEnd,
    RequestStart,
    ValidationError,
)
from binance_papi_async.cli import ExitCode, main
from binance_papi_async.cli._call import find_spec, parse_params
from binance_papi_async.cli._config import Credentials, is_loopback_url, mask, read_credentials
from binance_papi_async.cli._context import IO, Context, confirm
from binance_papi_async.cli._exit import CommandError, classify
from binance_papi_async.cli._output import generic, plain, table
from binance_papi_async.cli._parser import build_parser
from binance_papi_async.cli._progress import Progress, describe_wait
from binance_papi_async.cli._repay import RepayPlan, parse_amount
from binance_papi_async.ratelimit import BudgetSnapshot, RateLimitSnapshot


def streams(stdin: str = "") -> IO:
    return IO(io.StringIO(stdin), io.StringIO(), io.StringIO())


# -- amounts and parameters ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0.1", "25", "0.00000001", "1000000", "007.50"])
def test_plain_ascii_decimals_are_amounts(text: str) -> None:
    assert parse_amount(text) == Decimal(text)


@pytest.mark.parametrize(
    "text",
    ["0", "0.0", "-1", "+1", "1e3", "1E-8", ".5", "1.", "1_000", "1,5", " 1", "NaN", "Infinity",
     "\u0661\u0662", "\uff11", "", "0x10"],
)  # fmt: skip
def test_anything_else_is_a_usage_error(text: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_amount(text)
    assert info.value.code is ExitCode.USAGE


@given(st.text(max_size=12))
def test_an_accepted_amount_is_exactly_its_ascii_digits(text: str) -> None:
    try:
        value = parse_amount(text)
    except CommandError:
        return
    assert text.isascii() and set(text) <= set("0123456789.")
    assert value == Decimal(text) > 0
    assert format(value, "f") == text or Decimal(format(value, "f")) == value


def test_params_are_name_value_words() -> None:
    assert parse_params(["symbol=BTCUSDT", "note=a=b", "empty="]) == {
        "symbol": "BTCUSDT",
        "note": "a=b",
        "empty": "",
    }
    for bad in (["symbol"], ["=x"], ["a b=1"], ["symbol=1", "symbol=2"], ["signature=x"],
                ["timestamp=1"]):  # fmt: skip
        with pytest.raises(CommandError) as info:
            parse_params(bad)
        assert info.value.code is ExitCode.USAGE


def test_declared_routes_are_found_in_the_endpoint_table() -> None:
    spec = find_spec("POST", "/papi/v1/margin/repay-debt")
    assert spec is not None and spec.weight == 3000
    assert find_spec("GET", "/papi/v1/margin/repay-debt") is None


def test_repay_plan_says_what_it_will_do() -> None:
    assert RepayPlan("BNB", Decimal("0.10"), ("USDT", "BTC")).describe() == (
        "repay 0.10 BNB of debt (cross margin), paid with BNB first, then USDT, BTC"
    )
    assert "ALL of the ETH debt" in RepayPlan("ETH", None, ()).describe()


# -- configuration -----------------------------------------------------------------------------


def test_keys_are_masked_and_the_secret_never_shows() -> None:
    creds = read_credentials(
        {"BINANCE_API_KEY": "abcdefghijklmnopqrstuvwxyz", "BINANCE_API_SECRET": "hush-hush"},
        required=True,
    )
    assert mask("abcdefghijklmnopqrstuvwxyz") == "abcd...wxyz"
    assert mask("short") == "****"
    assert "hush" not in repr(creds) and "abcdefghijklm" not in repr(creds)
    assert repr(Credentials(None, None)) == "Credentials(api_key=None, api_secret=None)"


def test_missing_keys_name_the_variables() -> None:
    with pytest.raises(CommandError, match="BINANCE_API_SECRET") as info:
        read_credentials({"BINANCE_API_KEY": "k"}, required=True)
    assert info.value.code is ExitCode.CONFIG
    assert read_credentials({}, required=False).api_key is None


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://localhost:1", True),
        ("http://[::1]:8765", True),
        ("http://127.5.6.7", True),
        ("https://papi.binance.com", False),
        ("https://papi.invalid", False),
        ("https://10.0.0.1", False),
        ("https://127.0.0.1.example.com", False),
    ],
)
def test_loopback_urls(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


# -- exit codes ---------------------------------------------------------------------------------


def _status_error(cls: type[Any], status: int, code: int) -> Any:
    return cls(status=status, code=code, msg="m", method="GET", path="/p", headers={}, body=b"")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (_status_error(BadRequestError, 400, -1102), ExitCode.API_ERROR),
        (_status_error(AuthenticationError, 401, -2015), ExitCode.CONFIG),
        (ConfigurationError("x"), ExitCode.CONFIG),
        (ValidationError("x"), ExitCode.USAGE),
        (APIConnectionError("x", method="GET", path="/p", sent=False), ExitCode.NETWORK),
        (
            ExecutionStatusUnknown("x", method="POST", path="/p", params={}, sent_at=0.0),
            ExitCode.NETWORK,
        ),
        (RateLimitWaitTimeout("x", max_wait=1.0), ExitCode.API_ERROR),
        (CommandError("x", ExitCode.DECLINED), ExitCode.DECLINED),
        (RuntimeError("a bug"), None),
    ],
)
def test_each_failure_has_its_exit_code(error: BaseException, code: ExitCode | None) -> None:
    assert classify(error) == code


def test_help_and_usage_errors_exit_0_and_2() -> None:
    s = streams()
    assert main(["--help"], io=s, env={}) == 0
    assert main(["repay-debt"], io=s, env={}) == 2
    assert main(["balance", "--recv-window", "0"], io=s, env={}) == 2


def test_a_bug_prints_its_traceback_and_exits_70(monkeypatch: pytest.MonkeyPatch) -> None:
    from binance_papi_async.cli import _main

    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    command = _main.COMMANDS["account"]
    monkeypatch.setitem(_main.COMMANDS, "account", _main.Command(broken, command.run))
    s = streams()
    assert main(["account"], io=s, env={}) == ExitCode.INTERNAL
    assert "Traceback" in s.stderr.getvalue() and "boom" in s.stderr.getvalue()  # type: ignore[attr-defined]


def test_common_options_go_before_or_after_the_command() -> None:
    parser = build_parser()
    after = parser.parse_args(["balance", "--json", "--base-url", "http://127.0.0.1:1"])
    before = parser.parse_args(["--json", "--base-url", "http://127.0.0.1:1", "balance"])
    for args in (after, before):
        assert args.json is True and args.base_url == "http://127.0.0.1:1"
    assert parser.parse_args(["balance"]).base_url == "https://papi.binance.com"


# -- confirmation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["y\n", "YES\n", " yes \n"])
def test_yes_confirms(answer: str) -> None:
    s = streams(answer)
    confirm(s, "About to do it")
    assert s.stderr.getvalue().startswith("About to do it\nProceed? [y/N] ")  # type: ignore[attr-defined]


@pytest.mark.parametrize("answer", ["n\n", "\n", "", "yep\n", "no\n"])
def test_anything_else_declines(answer: str) -> None:
    with pytest.raises(CommandError, match="nothing was sent") as info:
        confirm(streams(answer), "About to do it")
    assert info.value.code is ExitCode.DECLINED


# -- output ----------------------------------------------------------------------------------------


def test_decimals_print_plainly() -> None:
    assert plain(Decimal("5000.00000000")) == "5000"
    assert plain(Decimal("1E-8")) == "0.00000001"
    assert plain(Decimal("1E+3")) == "1000"
    assert plain(Decimal("0E-8")) == "0"
    assert plain(Decimal("0.10000000"), trim=False) == "0.10000000"


def test_tables_right_align_numbers() -> None:
    text = table(("ASSET", "FREE"), [("BNB", Decimal("0.3")), ("USDT", Decimal("5000"))])
    assert text.splitlines() == ["ASSET  FREE", "BNB     0.3", "USDT   5000"]


def test_generic_output_of_any_answer() -> None:
    assert generic([{"a": 1, "b": True}, {"a": 2, "c": None}]).splitlines() == [
        "a  b     c",
        "1  true  -",
        "2  -     -",
    ]
    assert generic({"tranId": 12}) == "tranId  12"
    assert generic([]) == "(none)"


# -- progress --------------------------------------------------------------------------


def snapshot(*, waiters: int = 0, used: int = 6000) -> RateLimitSnapshot:
    budget = BudgetSnapshot(
        budget=Budget.REQUEST_WEIGHT,
        interval_s=60.0,
        limit=6000,
        used=used,
        window_start=1_000_020.0,
        window_reset=1_000_080.0,
        waiters=waiters,
        held=0,
    )
    return RateLimitSnapshot(
        time=1_000_038.0, budgets=(budget,), waiters=waiters, paused_until=None, banned_until=None
    )


def test_a_wait_for_budget_says_which_and_until_when() -> None:
    assert describe_wait(snapshot(waiters=0)) is None
    assert describe_wait(snapshot(waiters=1)) == (
        "rate budget (REQUEST_WEIGHT 6000/6000 used, window resets in 42 s)"
    )


async def test_a_quick_call_shows_nothing() -> None:
    err = io.StringIO()
    assert await Progress(err, delay=10).run(asyncio.sleep(0, "done"), "quick") == "done"
    assert err.getvalue() == ""


async def test_a_slow_call_shows_one_line_when_not_on_a_terminal() -> None:
    err = io.StringIO()
    progress = Progress(err, delay=0.01, interval=0.01)
    progress.on_event(RequestStart("GET", "/papi/v1/balance", 1))
    assert await progress.run(asyncio.sleep(0.1, "late"), "balances") == "late"
    lines = err.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("balances: waiting for papi's answer ... ")
    progress.on_event(RequestEnd("GET", "/papi/v1/balance", 1, 200, 0.1))
    assert progress.status("x", 2.0) == "x ... 2 s"


async def test_a_terminal_line_is_rewritten_and_erased() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    await Progress(err, delay=0.01, interval=0.01).run(asyncio.sleep(0.05), "wait")
    text = err.getvalue()
    assert text.startswith("\rwait ... ") and text.endswith("\r\x1b[K")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "flags", "shown"),
    [
        (True, [], True),
        (False, [], False),
        (False, ["--progress"], True),
        (True, ["--quiet"], False),
        (False, ["--progress", "--quiet"], False),
    ],
)
def test_the_progress_line_is_shown_on_a_terminal_or_when_asked_for(
    tty: bool, flags: list[str], shown: bool
) -> None:
    err = _Tty() if tty else io.StringIO()
    args = build_parser().parse_args(["balance", *flags])
    ctx = Context(args, IO(io.StringIO(), io.StringIO(), err), {})
    assert ctx.progress.enabled is shown


async def test_a_wait_for_rate_budget_shows_how_long_it_is_expected_to_last() -> None:
    now = [100.0]
    progress = Progress(io.StringIO(), clock=lambda: now[0])
    progress.on_event(LimiterWaitStarted("POST", "/papi/v1/margin/repay-debt", 42.0))
    now[0] += 10
    assert (
        progress.status("repay", 10.0) == "repay: waiting for rate budget, about 32 s more ... 10 s"
    )
    progress.on_event(LimiterWait("POST", "/papi/v1/margin/repay-debt", 42.0))
    assert progress.status("repay", 42.0) == "repay ... 42 s"


async def test_cancelling_the_progress_cancels_the_call() -> None:
    started = asyncio.Event()
    cancelled = False

    async def call() -> None:
        nonlocal cancelled
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled = True
            raise

    task = asyncio.ensure_future(Progress(io.StringIO()).run(call(), "call"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled


def test_the_command_leaves_the_sdk_logger_as_it_found_it() -> None:
    import logging

    logger = logging.getLogger("binance_papi_async")
    level, handlers = logger.level, list(logger.handlers)
    assert main(["-vv", "balance"], io=streams(), env={}) == ExitCode.CONFIG
    assert (logger.level, logger.handlers) == (level, handlers)
