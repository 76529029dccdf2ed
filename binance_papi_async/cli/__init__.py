"""The ``papi`` command: Binance Portfolio Margin from a shell, and the local simulator.

``papi sim``, ``papi balance [ASSET]``, ``papi account``, ``papi repay-debt ASSET
(AMOUNT | --all) [--specify USDT,BTC]``, ``papi limits``, ``papi stream`` and
``papi call METHOD PATH NAME=VALUE ...``; ``papi --help`` documents them, the
environment variables and the exit statuses.  Also ``python -m binance_papi_async``.

Only the entry points import this package, so ``import binance_papi_async`` does
not pay for it.  One module per concern: :mod:`._parser` (arguments and help),
:mod:`._main` (running a command, signals, exit codes), :mod:`._exit` (which
error gives which status), :mod:`._config` (environment, base URL, the client),
:mod:`._context`, :mod:`._output` (tables and JSON), :mod:`._progress` (the
progress line), and the commands: :mod:`._commands`, :mod:`._repay`,
:mod:`._call`, :mod:`._sim`.
"""

from __future__ import annotations

from ._exit import ExitCode
from ._main import main

__all__ = ["ExitCode", "main"]
