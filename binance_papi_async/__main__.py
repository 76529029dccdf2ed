"""``python -m binance_papi_async``: the ``papi`` command (see :mod:`binance_papi_async.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m binance_papi_async"))
