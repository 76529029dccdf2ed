"""``python -m binance_papi_async.testing``: the papi simulator until Ctrl-C or SIGTERM.

The same command as ``papi sim`` (:mod:`binance_papi_async.cli`): the same options,
seed format (``--help``), one-line errors for a bad state file or a busy port, and an
immediate stop on SIGINT or SIGTERM (exit status 0).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    from ..cli._main import main as cli_main

    return cli_main(argv, prog="python -m binance_papi_async.testing", sim_only=True)


if __name__ == "__main__":
    sys.exit(main())
