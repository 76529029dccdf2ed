"""Smoke test of ``make bench`` (benchmarks/bench_calls.py) with a tiny call count.

It checks that the benchmark runs end to end, on every event loop installed, and
writes its JSON report, never how fast anything is.  It runs against the simulator
(``--server sim``), which verifies every signature, timestamp and parameter: the
floor, the SDK and the hand-optimised client must all send valid signed repay-debt
calls, and the SDK and the hand-written order client valid UM orders and
cancellations, for it to pass.  ``make -o .venv/.installed`` keeps make from
(re)installing the venv: the interpreter running the tests is used instead.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def test_make_bench_runs_with_a_tiny_call_count(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    args = [
        "--calls",
        "40",
        "--repeats",
        "1",
        "--latency-pairs",
        "12",
        "--memory-calls",
        "300",
        "--micro-n",
        "50",
        "--server",
        "sim",
        "--quiet",
        "--results-dir",
        str(tmp_path),
        "--json",
        str(report_path),
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
    assert "latency of um.new_order / um.cancel_order" in proc.stdout
    assert f"JSON: {report_path}" in proc.stdout

    report = json.loads(report_path.read_text())
    assert report["settings"]["calls"] == 40
    assert {"python", "aiohttp", "client_cpu", "server_cpu", "server", "loops"} <= set(
        report["environment"]
    )
    loops = report["environment"]["loops"]
    assert loops[0] == "asyncio"
    if importlib.util.find_spec("uvloop") is not None:  # a dev dependency, not on Windows
        assert loops == ["asyncio", "uvloop"]
        assert "SDK/floor (paired)" in proc.stdout and "uvloop" in proc.stdout
    assert list(report["loops"]) == loops
    for cells in report["loops"].values():
        check_cpu_cells(cells)
        check_latency_cells(cells["latency"])

    memory = report["memory"]
    assert memory["impl"] == "sdk" and memory["calls"] == 300 and memory["pool_size"] == 64
    assert memory["samples"][-1]["calls"] == 300 and memory["rss_end_mib"] > 0
    if memory["max_open_connections"] is not None:  # counted from /proc/self/fd on Linux
        assert memory["connections_bounded_by_pool"] is True

    groups = {row["group"] for row in report["micro"]}
    assert {"sign", "encode", "parse", "limiter", "timer"} <= groups
    timer_rows = [row["name"] for row in report["micro"] if row["group"] == "timer"]
    assert {name.partition(":")[0] for name in timer_rows} == set(loops)
    for row in report["micro"]:
        if row["group"] == "timer":  # differences of two timings: any sign with 50 iterations
            assert isinstance(row["us_per_op"], float)
        else:
            assert row["us_per_op"] is None or row["us_per_op"] > 0
    assert not list(tmp_path.glob("*.png"))


def check_cpu_cells(cells: dict[str, Any]) -> None:
    """One repeat x three concurrencies x three clients, each with its figures and ratios."""
    assert [row["concurrency"] for row in cells["summary"]] == [1, 32, 256]
    for row in cells["summary"]:
        for impl in ("floor", "sdk", "handopt"):
            cell = row[impl]
            assert cell["cpu_us_per_call"] > 0 and cell["calls_per_s"] > 0
            assert len(cell["samples_cpu_us_per_call"]) == 1
        for key in ("sdk_floor", "handopt_floor", "sdk_floor_paired", "handopt_floor_paired"):
            assert row[f"ratio_{key}"] > 0
    assert len(cells["runs"]) == 3 * 3


def check_latency_cells(latency: dict[str, Any]) -> None:
    """p50/p99 of new_order and cancel_order at c=1 and c=32, both clients, every call."""
    assert latency["pairs_per_run"] == 12 and latency["repeats"] == 1
    rows = latency["rows"]
    assert [(row["concurrency"], row["op"]) for row in rows] == [
        (1, "new_order"),
        (1, "cancel_order"),
        (32, "new_order"),
        (32, "cancel_order"),
    ]
    for row in rows:
        for impl in ("hand", "sdk"):
            cell = row[impl]
            assert cell["calls"] == 12  # every order placed was cancelled, none cut short
            assert 0 < cell["p50_us"] <= cell["p99_us"]
        for q in ("p50", "p99"):
            assert row[f"added_{q}_us"] == row["sdk"][f"{q}_us"] - row["hand"][f"{q}_us"]
            by_repeat = [row[impl][f"{q}_us_by_repeat"] for impl in ("sdk", "hand")]
            assert row[f"added_{q}_us_paired"] == by_repeat[0][0] - by_repeat[1][0]


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
