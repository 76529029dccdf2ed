"""Smoke test of ``make bench`` (benchmarks/bench_calls.py) with a tiny call count.

It checks that the benchmark runs end to end and writes its report, never how
fast anything is.  It runs against the simulator (``--server sim``), which
verifies every signature, timestamp and parameter: the floor, the SDK and the
hand-optimised client must all send valid signed repay-debt calls for it to
pass.  ``make -o .venv/.installed`` keeps make from (re)installing the venv:
the interpreter running the tests is used instead.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def test_make_bench_runs_with_a_tiny_call_count(tmp_path: Path) -> None:
    args = [
        "--calls",
        "40",
        "--repeats",
        "1",
        "--memory-calls",
        "300",
        "--micro-n",
        "50",
        "--server",
        "sim",
        "--quiet",
        "--results-dir",
        str(tmp_path),
    ]
    proc = subprocess.run(
        [
            "make",
            "-s",
            "-o",
            ".venv/.installed",
            "bench",
            f"BIN={Path(sys.executable).parent}",
            f"BENCH_ARGS={shlex.join(args)}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SDK/floor" in proc.stdout and "hand-opt/floor" in proc.stdout

    report = json.loads((tmp_path / "bench_calls.json").read_text())
    assert report["settings"]["calls"] == 40
    assert {"python", "aiohttp", "client_cpu", "server_cpu", "server"} <= set(report["environment"])
    assert [row["concurrency"] for row in report["summary"]] == [1, 32, 256]
    for row in report["summary"]:
        for impl in ("floor", "sdk", "handopt"):
            cell = row[impl]
            assert cell["cpu_us_per_call"] > 0 and cell["calls_per_s"] > 0
            assert len(cell["samples_cpu_us_per_call"]) == 1
        for key in ("sdk_floor", "handopt_floor", "sdk_floor_paired", "handopt_floor_paired"):
            assert row[f"ratio_{key}"] > 0
    assert len(report["runs"]) == 3 * 3  # one repeat x three concurrencies x three clients

    memory = report["memory"]
    assert memory["calls"] == 300 and memory["pool_size"] == 64
    assert memory["samples"][-1]["calls"] == 300 and memory["rss_end_mib"] > 0
    if memory["max_open_connections"] is not None:  # counted from /proc/self/fd on Linux
        assert memory["connections_bounded_by_pool"] is True

    groups = {row["group"] for row in report["micro"]}
    assert {"sign", "encode", "parse", "limiter"} <= groups
    assert all(row["us_per_op"] > 0 for row in report["micro"])

    png = (tmp_path / "ratio_by_concurrency.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_bench_ab_runs_its_variants_and_a_revision() -> None:
    variants = [
        "floor",
        "sdk",
        "sdk-rev",
        "sdk-nolimiter",
        "sdk-noobserve",
        "sdk-aiohttp-timeout",
        "transport",
    ]
    proc = subprocess.run(
        [
            sys.executable,
            "benchmarks/bench_ab.py",
            *variants,
            "--rev",
            "HEAD",
            "--calls",
            "20",
            "--repeats",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0 and "not a git repository" in proc.stderr:
        pytest.skip("not run from a git checkout")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("20 calls x 1 repeats")
    assert [line.split()[0] for line in lines[1:]] == variants
    assert lines[1].split()[-1] == "1.000"  # every ratio is to the first variant
