"""``papi sim``: the local papi simulator until SIGINT or SIGTERM.

Errors a user can fix (a state file that does not load, a port in use, a host
that is not loopback) are one line on stderr and exit status 3, never a
traceback.  A signal stops it at once: the listening socket and every open
connection are closed, with at most :data:`CLOSE_TIMEOUT` seconds for requests in
flight.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
from typing import TYPE_CHECKING

from ._config import mask
from ._context import Context
from ._exit import CommandError, ExitCode

if TYPE_CHECKING:  # pragma: no cover
    from ..testing import SimState

__all__ = ["CLOSE_TIMEOUT", "load_state", "prepare_sim", "run_sim"]

#: Seconds a stopping simulator gives requests in flight before it closes them.
CLOSE_TIMEOUT = 0.25

_LOAD_ERRORS = (OSError, ValueError, TypeError, KeyError, RuntimeError)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return text or type(exc).__name__


def load_state(path: str | None) -> SimState:
    """The seed state from ``path`` (JSON or TOML), or the demo state; a file that does
    not load is a one-line configuration error."""
    from ..testing import SimState, demo_state

    if path is None:
        return demo_state()
    try:
        return SimState.from_file(path)
    except _LOAD_ERRORS as exc:
        raise CommandError(
            f"cannot load the state file {path}: {_reason(exc)}", ExitCode.CONFIG
        ) from None


def prepare_sim(args: argparse.Namespace) -> SimState:
    from ..testing import is_loopback

    if not is_loopback(args.host) and not args.allow_remote:
        raise CommandError(
            f"--host {args.host} is not a loopback address; add --allow-remote to allow it",
            ExitCode.USAGE,
        )
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be 0..65535, got {args.port}", ExitCode.USAGE)
    return load_state(args.state)


def _listen_error(args: argparse.Namespace, exc: OSError) -> CommandError:
    where = f"{args.host}:{args.port}"
    if exc.errno == errno.EADDRINUSE:
        hint = "address already in use (another papi sim?); pick another --port, or 0"
    else:
        hint = _reason(exc)
    return CommandError(f"cannot listen on {where}: {hint}", ExitCode.CONFIG)


def _key_lines(state: SimState) -> list[str]:
    from ..testing import DEMO_API_KEY, DEMO_API_SECRET

    if not state.keys:
        return [
            "  demo key pair (fake, only valid here):",
            f"  export BINANCE_API_KEY={DEMO_API_KEY}",
            f"  export BINANCE_API_SECRET={DEMO_API_SECRET}",
        ]
    return [
        f"  API key {mask(spec.api_key)} for account {spec.account!r} "
        f"({'HMAC secret' if spec.secret is not None else 'public key'} from the state file)"
        for spec in state.keys
    ]


async def run_sim(ctx: Context, state: SimState) -> int:
    from ..testing import PapiSimulator

    args = ctx.args
    try:
        sim = PapiSimulator(
            state=state,
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            rate_limits=not args.no_rate_limits,
            ip_weight_limit=args.ip_weight_limit,
            order_limit=args.order_limit,
            window_s=args.window_seconds,
            examples=args.examples,
        )
    except ValueError as exc:
        raise CommandError(f"cannot start the simulator: {exc}", ExitCode.CONFIG) from None
    try:
        await sim.start()
    except OSError as exc:
        raise _listen_error(args, exc) from None
    try:
        ctx.out(f"papi simulator listening on {sim.url}")
        ctx.out("\n".join([*_key_lines(state), "  Ctrl-C or SIGTERM stops it."]))
        await ctx.stop.wait()
    finally:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(sim.close(), CLOSE_TIMEOUT)
    ctx.note("papi simulator stopped")
    return ExitCode.OK
