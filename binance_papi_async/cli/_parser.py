"""The ``papi`` command line: subcommands, options and help texts (argparse)."""

from __future__ import annotations

import argparse

from .._constants import DEFAULT_BASE_URL
from ._exit import EXIT_CODES_HELP

__all__ = ["SEED_FORMAT_HELP", "build_parser", "build_sim_parser"]

SEED_FORMAT_HELP = """\
state file (--state FILE, .json or .toml; without it, the demo account):
  {
    "prices":     {"BNB": "600", "USDT": "1", "BTC": "60000"},
    "accounts":   {"main": {"assets": {
                    "BNB":  {"free": "0.3", "borrowed": "2", "interest": "0.00125"},
                    "USDT": {"free": "5000"}},
                  "wallets": {"UM": {"USDT": "100"}}}},
    "keys":       [{"api_key": "my-key", "secret": "my-secret", "account": "main"}],
    "marks":      {"BTCUSDT": "60000"},
    "symbols":    {"UM": {"BTCUSDT": {"tickSize": "0.1", "stepSize": "0.001",
                                      "minNotional": "100"}}},
    "commission": {"UM": {"maker": "0.0002", "taker": "0.0005"}}
  }
  prices      USD price of each asset; every asset an account holds needs one
  accounts    per account name: "assets", per asset free, locked, borrowed, interest
              (>= 0; the debt is borrowed + interest); optional "wallets", the UM / CM
              futures wallet balance per asset (default 0); optional
              "unimmrNotification" (true / false)
  keys        optional API keys: "api_key", and "secret" (HMAC) or "public_key_pem"
              (RSA / Ed25519), and "account" (default "main"); without keys the demo
              key pair is registered and printed
  marks       optional mark prices per symbol (otherwise derived from prices)
  symbols     optional filters per product (UM, CM, MARGIN) and symbol: tickSize,
              stepSize, minNotional; a symbol not listed trades with 8 decimals (CM:
              whole contracts) and no minimum notional
  commission  optional maker / taker rates per product (default UM and CM 0.0002 /
              0.0005, MARGIN 0.001 / 0.001)
  Amounts are strings or numbers, read exactly (never through float). TOML files
  use the same names: [prices], [accounts.main.assets.BNB], [[keys]], [marks],
  [symbols.UM.BTCUSDT], [commission.UM]."""

_MAIN_EPILOG = f"""\
environment:
  BINANCE_API_KEY, BINANCE_API_SECRET   the API key pair (HMAC); the secret is never
                                        printed and the key only masked

examples:
  papi sim --port 8765 &
  export BINANCE_API_KEY=... BINANCE_API_SECRET=...   (papi sim prints the demo pair)
  papi balance BNB --base-url http://127.0.0.1:8765
  papi repay-debt BNB 0.1 --specify USDT,BTC --base-url http://127.0.0.1:8765
  papi call GET /papi/v1/um/positionRisk symbol=BTCUSDT --json

{EXIT_CODES_HELP}"""

_REPAY_EPILOG = """\
AMOUNT is a plain decimal of ASCII digits, e.g. 0.1 or 25 (no sign, exponent,
separator or other digits). Against a base URL that is not on this machine the
command shows what it will do and asks for confirmation (unless --yes); nothing is
sent before that. If the outcome is unknown (timeout, disconnect, 5xx), it waits
until the request can no longer execute and reads the debt to tell whether the
repay was applied; it never sends the repay again."""

_CALL_EPILOG = """\
A route of the endpoint table (docs/endpoints.md) is charged and signed as declared
there; any other route as --security (default USER_DATA) and --weight (default 1).
Parameters use Binance's names (symbol=BTCUSDT recvWindow=5000); timestamp and
signature are added by the client. A call that is not a GET, against a base URL
that is not on this machine, asks for confirmation unless --yes."""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _recv_window(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 60000:
        raise argparse.ArgumentTypeError(f"must be an integer 1..60000 (ms), got {text!r}")
    return int(text)


def _common(*, suppress: bool) -> argparse.ArgumentParser:
    """Options every client subcommand takes (before or after the subcommand name).

    The subcommand's copies default to SUPPRESS so they never overwrite a value
    given before the subcommand name.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument(
        "--base-url",
        metavar="URL",
        default=default(DEFAULT_BASE_URL),
        help=f"papi base URL (default {DEFAULT_BASE_URL}); e.g. http://127.0.0.1:8765 for papi sim",
    )
    g.add_argument(
        "--json", action="store_true", default=default(False), help="print JSON for scripts"
    )
    g.add_argument(
        "--max-wait",
        metavar="SECONDS",
        type=_seconds,
        default=default(None),
        help="give up a call that would wait longer than this for rate budget",
    )
    g.add_argument(
        "--recv-window",
        metavar="MS",
        type=_recv_window,
        default=default(None),
        help="recvWindow of signed calls, 1..60000 ms (papi's default 5000)",
    )
    g.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default(False),
        help="no progress line on stderr while a call waits",
    )
    g.add_argument(
        "--progress",
        action="store_true",
        default=default(False),
        help="show the progress line also when stderr is not a terminal (once, as a line)",
    )
    g.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="log the client's activity on stderr (-v INFO, -vv DEBUG)",
    )
    return p


_SIM_DESCRIPTION = (
    "Run the local Binance Portfolio Margin simulator until Ctrl-C or SIGTERM.\n"
    "Prints one line 'papi simulator listening on URL' when ready."
)


def _add_sim(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sim",
        help="run the local papi simulator",
        description=_SIM_DESCRIPTION,
        epilog=SEED_FORMAT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _sim_arguments(p)


def build_sim_parser(prog: str, version: str = "") -> argparse.ArgumentParser:
    """The parser of ``papi sim`` alone (``python -m binance_papi_async.testing``)."""
    p = argparse.ArgumentParser(
        prog=prog,
        description=_SIM_DESCRIPTION,
        epilog=SEED_FORMAT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {version}")
    _sim_arguments(p)
    p.set_defaults(command="sim")
    return p


def _sim_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    p.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )
    p.add_argument("--state", metavar="FILE", help="seed the state from a JSON or TOML file")
    p.add_argument(
        "--no-rate-limits", action="store_true", help="count weight but never answer 429/418"
    )
    p.add_argument("--ip-weight-limit", type=int, default=6000, help="IP weight per window")
    p.add_argument("--order-limit", type=int, default=1200, help="orders per window")
    p.add_argument(
        "--window-seconds", type=int, default=60, help="rate-limit window length (default 60)"
    )
    p.add_argument(
        "--examples",
        action="store_true",
        help="answer the documentation example of each operation the simulator does not "
        "model, instead of HTTP 501 'not simulated'",
    )


def _add_client_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "balance",
        parents=[common],
        help="balances and margin debts",
        description="Balances (GET /papi/v1/balance): wallet, cross-margin free, locked, "
        "borrowed, interest and debt, UM and CM wallets.",
    )
    p.add_argument("asset", nargs="?", metavar="ASSET", help="one asset, e.g. BNB")
    p.add_argument(
        "--zeros", action="store_true", help="also list assets whose amounts are all zero"
    )
    sub.add_parser(
        "account",
        parents=[common],
        help="account summary (equity, margin, status)",
        description="The account summary (GET /papi/v1/account), in USD.",
    )
    p = sub.add_parser(
        "repay-debt",
        parents=[common],
        help="repay cross-margin debt",
        description="Repay cross-margin debt (POST /papi/v1/margin/repay-debt, weight 3000).",
        epilog=_REPAY_EPILOG,
        formatter_class=raw,
    )
    p.add_argument("asset", metavar="ASSET", help="the debt's asset, e.g. BNB")
    p.add_argument("amount", nargs="?", metavar="AMOUNT", help="how much to repay, e.g. 0.1")
    p.add_argument("--all", action="store_true", help="repay the whole debt (instead of AMOUNT)")
    p.add_argument(
        "--specify",
        metavar="ASSETS",
        help="comma-separated assets to repay with, after ASSET itself, e.g. USDT,BTC",
    )
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    sub.add_parser(
        "limits",
        parents=[common],
        help="rate budgets: used, limit, window reset",
        description="The rate budgets (IP weight and the account's order limits, from "
        "GET /papi/v1/rateLimit/order and papi's usage headers).",
    )
    sub.add_parser(
        "stream",
        parents=[common],
        help="user data stream events as JSON lines",
        description="Print the user data stream's events, one JSON object per line on "
        "stdout (papi's frames as sent), until Ctrl-C or SIGTERM. Connections, "
        "reconnects and overflows (events may have been missed) are reported on stderr.",
    )
    p = sub.add_parser(
        "call",
        parents=[common],
        help="call any papi endpoint",
        description="Call any papi endpoint and print its answer.",
        epilog=_CALL_EPILOG,
        formatter_class=raw,
    )
    p.add_argument("method", metavar="METHOD", help="GET, POST, PUT or DELETE")
    p.add_argument("path", metavar="PATH", help="e.g. /papi/v1/um/positionRisk")
    p.add_argument("params", nargs="*", metavar="NAME=VALUE", help="request parameters")
    p.add_argument(
        "--security",
        choices=["NONE", "MARKET_DATA", "USER_STREAM", "USER_DATA", "TRADE", "MARGIN"],
        help="security type of a route not in the endpoint table (default USER_DATA)",
    )
    p.add_argument(
        "--weight", type=int, metavar="N", help="IP weight of a route not in the table (default 1)"
    )
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def build_parser(prog: str = "papi", version: str = "") -> argparse.ArgumentParser:
    """The ``papi`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=prog,
        parents=[_common(suppress=False)],
        description="Binance Portfolio Margin (papi) from the command line, and its local "
        "simulator.",
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_sim(sub)
    _add_client_commands(sub, _common(suppress=True))
    return parser
