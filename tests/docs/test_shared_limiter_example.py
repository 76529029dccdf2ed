"""examples/shared_limiter.py runs as documented: two processes, one budget in Redis."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from binance_papi_async.testing.local_redis import LocalRedis

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shared_limiter.py"


def test_two_processes_share_the_budget_and_the_simulator_never_answers_429(
    redis_server: LocalRedis,
) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--redis", redis_server.url, "--seconds", "12"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    workers = [json.loads(line.split(":", 1)[1]) for line in lines if line.startswith("worker:")]
    assert len(workers) == 2
    assert "HTTP statuses the simulator answered: [200]" in lines
    windows = next(line for line in lines if line.startswith("weight per"))
    counts = json.loads(windows.split(":", 1)[1])
    assert max(counts) <= 100  # the limit of a window, both processes together
    assert sum(w["answered"] for w in workers) > 100  # more than one window's budget
