"""``python -m binance_papi_async.testing``: run the papi simulator until Ctrl-C or SIGTERM.

Prints the base URL and the API key pair(s) to use, then serves until
interrupted; exits with status 0 on Ctrl-C (SIGINT) or SIGTERM.  Listens on
loopback only unless ``--allow-remote`` is given with a non-loopback ``--host``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from .simulator import PapiSimulator, is_loopback
from .state import DEMO_API_KEY, DEMO_API_SECRET, SimState, demo_state

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m binance_papi_async.testing",
        description="Run a local Binance Portfolio Margin (papi) simulator.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )
    parser.add_argument("--state", metavar="FILE", help="seed state from a JSON or TOML file")
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="count weight but never answer 429/418"
    )
    parser.add_argument("--ip-weight-limit", type=int, default=6000, help="IP weight per minute")
    parser.add_argument("--order-limit", type=int, default=1200, help="orders per minute")
    parser.add_argument(
        "--window-seconds", type=int, default=60, help="rate-limit window length (default 60)"
    )
    return parser


async def _serve(args: argparse.Namespace) -> int:
    state = SimState.from_file(args.state) if args.state else demo_state()
    sim = PapiSimulator(
        state=state,
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        rate_limits=not args.no_rate_limits,
        ip_weight_limit=args.ip_weight_limit,
        order_limit=args.order_limit,
        window_s=args.window_seconds,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises
            loop.add_signal_handler(sig, stop.set)
    async with sim:
        print(f"papi simulator listening on {sim.url}", flush=True)
        if state.keys:
            for spec in state.keys:
                secret = spec.secret if spec.secret is not None else "<public key from file>"
                print(f"  API key: {spec.api_key}  secret: {secret}  account: {spec.account}")
        else:
            print(f"  API key:    {DEMO_API_KEY}")
            print(f"  API secret: {DEMO_API_SECRET}")
        print("  (simulated: these keys are fake and only work here). Ctrl-C to stop.", flush=True)
        await stop.wait()
    print("papi simulator stopped", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not is_loopback(args.host) and not args.allow_remote:
        parser.error(
            f"--host {args.host} is not a loopback address; add --allow-remote to allow it"
        )
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:  # pragma: no cover - platforms without signal handlers
        return 0


if __name__ == "__main__":
    sys.exit(main())
