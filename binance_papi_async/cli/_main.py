"""The ``papi`` entry point: parse, prepare (synchronously), run, map errors to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._call import prepare_call, run_call
from ._commands import prepare_balance, run_account, run_balance, run_limits, run_stream
from ._context import IO, Context
from ._exit import ExitCode, classify
from ._parser import build_parser, build_sim_parser
from ._repay import prepare_repay, run_repay
from ._sim import prepare_sim, run_sim

__all__ = ["main"]

_LOGGER = "binance_papi_async"


@dataclass(frozen=True, slots=True)
class Command:
    """``prepare`` runs before the event loop (argument checks, confirmation prompt);
    ``run`` gets its result.  ``until_stopped`` commands stop on the first signal."""

    prepare: Callable[[argparse.Namespace, IO, Mapping[str, str]], Any]
    run: Callable[[Context, Any], Awaitable[int]]
    until_stopped: bool = False


def _nothing(args: argparse.Namespace, io: IO, env: Mapping[str, str]) -> None:
    return None


COMMANDS: dict[str, Command] = {
    "sim": Command(lambda a, io, env: prepare_sim(a), run_sim, until_stopped=True),
    "balance": Command(lambda a, io, env: prepare_balance(a), run_balance),
    "account": Command(_nothing, run_account),
    "limits": Command(_nothing, run_limits),
    "stream": Command(_nothing, run_stream, until_stopped=True),
    "repay-debt": Command(prepare_repay, run_repay),
    "call": Command(prepare_call, run_call),
}


@contextlib.contextmanager
def _logging_to(stream: Any, verbose: int) -> Iterator[None]:
    """The SDK's log records on ``stream`` while the command runs: WARNING and above,
    -v INFO, -vv DEBUG.  The logger's handlers and level are restored afterwards."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(stream)
    fmt = "%(levelname)s %(name)s: %(message)s"
    if verbose >= 2:
        fmt = "%(asctime)s " + fmt
    handler.setFormatter(logging.Formatter(fmt))
    logger = logging.getLogger(_LOGGER)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


async def _run(command: Command, ctx: Context, prepared: Any) -> int:
    """Run ``command`` with SIGINT / SIGTERM handled: the first signal stops an
    ``until_stopped`` command (exit 0) and cancels any other (exit 128 + signal); a
    second signal cancels whatever runs."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        if command.until_stopped and len(received) == 1:
            ctx.stop.set()
        else:
            task.cancel()

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows, threads
            continue
        installed.append(signum)
    try:
        return await command.run(ctx, prepared)
    except asyncio.CancelledError:
        if not received:
            raise
        if sys.version_info >= (3, 11):
            task.uncancel()
        return _interrupted(ctx, received[0])
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _interrupted(ctx: Context, signum: int) -> int:
    for event in ctx.unknown_outcomes:
        ctx.note(
            f"{event.method} {event.path} was interrupted after it may have been sent: it "
            "may have been applied; check the account before sending it again"
        )
    ctx.note("interrupted")
    return 128 + signum


def main(
    argv: Sequence[str] | None = None,
    *,
    prog: str = "papi",
    io: IO | None = None,
    env: Mapping[str, str] | None = None,
    sim_only: bool = False,
) -> int:
    """Run ``papi`` with ``argv`` (default ``sys.argv[1:]``), the standard streams ``io``
    and the environment ``env`` (default: the process's); returns the exit status.
    ``sim_only``: the command line is ``papi sim``'s alone (``python -m
    binance_papi_async.testing``)."""
    from .. import __version__

    io = io if io is not None else IO(sys.stdin, sys.stdout, sys.stderr)
    parser = build_sim_parser(prog, __version__) if sim_only else build_parser(prog, __version__)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (argparse printed them)
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    command = COMMANDS[args.command]
    label = prog if sim_only else f"{prog} {args.command}"
    env = env if env is not None else os.environ
    try:
        with _logging_to(io.stderr, getattr(args, "verbose", 0)):
            prepared = command.prepare(args, io, env)
            return asyncio.run(_run(command, Context(args, io, env), prepared))
    except KeyboardInterrupt:  # Ctrl-C before the event loop ran (e.g. at the prompt)
        io.stderr.write("\ninterrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # e.g. papi stream | head -1
        _silence_stdout()
        return ExitCode.OK
    except Exception as exc:
        code = classify(exc)
        if code is None:
            io.stderr.write(f"{label}: internal error (a bug, please report):\n")
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=io.stderr)
            return ExitCode.INTERNAL
        io.stderr.write(f"{label}: {exc}\n")
        return int(code)


def _silence_stdout() -> None:
    """After a broken pipe, stop Python from failing again when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
        pass
