"""Exit codes of the ``papi`` command, and which error gives which code."""

from __future__ import annotations

import enum

from ..errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BinancePapiError,
    ConfigurationError,
    ExecutionStatusUnknown,
    UnexpectedResponseError,
    ValidationError,
)
from ..stream_events import UserStreamError

__all__ = ["EXIT_CODES_HELP", "CommandError", "ExitCode", "classify"]


class ExitCode(enum.IntEnum):
    """What the process exit status says."""

    OK = 0
    #: papi answered with an error (4xx, 5xx, 429, 418), or the rate limiter refused.
    API_ERROR = 1
    #: bad command line or argument; nothing was sent.
    USAGE = 2
    #: configuration or authentication: missing or rejected key, bad base URL, bad
    #: simulator state file, port in use.
    CONFIG = 3
    #: network failure or unknown outcome: no (usable) answer, the call may have executed.
    NETWORK = 4
    #: the confirmation prompt was declined; nothing was sent.
    DECLINED = 5
    #: an unexpected exception: a bug (the traceback is printed).
    INTERNAL = 70
    #: interrupted by Ctrl-C (SIGINT) / by SIGTERM: 128 + the signal number.
    INTERRUPTED = 130
    TERMINATED = 143


EXIT_CODES_HELP = """\
exit status:
  0    success
  1    papi answered with an error (4xx, 5xx, 429, 418), or the rate limiter refused
  2    usage: bad command line or argument (nothing was sent)
  3    configuration or authentication: missing or rejected API key, bad base URL,
       bad simulator state file, port in use
  4    network failure or unknown outcome: no usable answer (a write may have executed)
  5    the confirmation prompt was declined (nothing was sent)
  70   internal error: a bug (the traceback is printed; please report it)
  130  interrupted by Ctrl-C (SIGINT); 143 by SIGTERM
       (papi sim and papi stream stop on either signal and exit 0)"""


class CommandError(Exception):
    """A failure the command reports as one line, with the exit code to use."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


def classify(exc: BaseException) -> ExitCode | None:
    """The exit code for an error of the SDK, or ``None`` if it is not one of them.

    Messages of these errors never carry a secret (the SDK guarantees it), so the
    command prints ``str(exc)`` as is.
    """
    if isinstance(exc, CommandError):
        return exc.code
    if isinstance(exc, (AuthenticationError, ConfigurationError)):
        return ExitCode.CONFIG
    if isinstance(exc, ValidationError):
        return ExitCode.USAGE
    if isinstance(
        exc, (ExecutionStatusUnknown, APIConnectionError, UnexpectedResponseError, UserStreamError)
    ):
        return ExitCode.NETWORK
    if isinstance(exc, (APIStatusError, BinancePapiError)):
        return ExitCode.API_ERROR
    return None
