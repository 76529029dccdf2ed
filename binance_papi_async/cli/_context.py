"""What every ``papi`` subcommand gets: its arguments, streams, stop signal and client."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..client import PortfolioMarginClient
from ..events import Event, OutcomeUnknown
from ._config import Credentials, make_client
from ._exit import CommandError, ExitCode
from ._progress import Progress

__all__ = ["IO", "Context", "confirm"]


@dataclass(frozen=True, slots=True)
class IO:
    """The command's standard streams (replaced by tests)."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO


@dataclass(slots=True)
class Context:
    """One run of a subcommand.

    ``stop`` is set by the first SIGINT / SIGTERM for commands that run until
    interrupted (``sim``, ``stream``); the others are cancelled instead.
    ``unknown_outcomes`` collects the client's ``OutcomeUnknown`` events (a write
    cancelled after it may have been sent), reported if the command is interrupted.
    """

    args: argparse.Namespace
    io: IO
    env: Mapping[str, str]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    unknown_outcomes: list[OutcomeUnknown] = field(default_factory=list)
    progress: Progress = field(init=False)

    def __post_init__(self) -> None:
        # On a terminal, or when asked for (--progress); never with --quiet.
        shown = _isatty(self.io.stderr) or getattr(self.args, "progress", False)
        self.progress = Progress(
            self.io.stderr, enabled=shown and not getattr(self.args, "quiet", False)
        )

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def on_event(self, event: Event) -> None:
        """The client's event hook: progress bookkeeping and unknown outcomes."""
        self.progress.on_event(event)
        if isinstance(event, OutcomeUnknown):
            self.unknown_outcomes.append(event)

    def client(self, credentials: Credentials, **options: Any) -> PortfolioMarginClient:
        """A client for this run, its events wired to the progress line."""
        client = make_client(self.args, credentials, on_event=self.on_event, **options)
        self.progress.bind(client)
        return client

    def out(self, text: str) -> None:
        self.io.stdout.write(text + "\n")
        self.io.stdout.flush()

    def note(self, text: str) -> None:
        self.io.stderr.write(text + "\n")
        self.io.stderr.flush()


def confirm(io: IO, plan: str) -> None:
    """Show ``plan`` on stderr and ask; anything but ``y`` / ``yes`` declines.

    Runs before the event loop starts, so Ctrl-C at the prompt interrupts at once.
    End of input (no terminal, nothing piped) declines too.
    """
    io.stderr.write(plan.rstrip("\n") + "\nProceed? [y/N] ")
    io.stderr.flush()
    answer = io.stdin.readline()
    if not _isatty(io.stdin):  # a terminal echoed the answer; show a piped one
        io.stderr.write(answer.strip() + "\n")
        io.stderr.flush()
    if answer.strip().lower() not in ("y", "yes"):
        raise CommandError("not confirmed: nothing was sent", ExitCode.DECLINED)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a file
        return False
