"""Run a benchmark script on uvloop's event loop instead of asyncio's.

``python benchmarks/on_uvloop.py benchmarks/bench_ab.py floor sdk sdk-aiohttp-timeout``
runs ``bench_ab.py`` with those arguments after installing uvloop's event loop policy,
so every ``asyncio.run`` in it creates a uvloop loop.  ``bench_calls.py`` (``make bench``)
does not need it: its ``--loops`` option runs each loop itself.
"""

from __future__ import annotations

import asyncio
import runpy
import sys
import warnings
from pathlib import Path


def main(argv: list[str]) -> int:
    """Install uvloop's policy, then run ``argv[0]`` as ``__main__`` with ``argv[1:]``."""
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import uvloop
    except ImportError:
        print("uvloop is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    script = Path(argv[0]).resolve()
    sys.argv = [str(script), *argv[1:]]
    sys.path.insert(0, str(script.parent))
    with warnings.catch_warnings():
        # Event loop policies are deprecated from Python 3.14 on; this still works there.
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    runpy.run_path(str(script), run_name="__main__")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
