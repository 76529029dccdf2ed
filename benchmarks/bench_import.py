"""What importing the SDK costs, against importing aiohttp alone.

Each sample is a fresh interpreter that runs one import statement and reports the CPU
time of that statement (``time.process_time``, so interpreter start-up is not counted)
and its peak RSS (``ru_maxrss``).  The statements run interleaved, ``--runs`` times
each, and the report gives the median CPU time of each, its ratio to ``import aiohttp``
and the median peak RSS:

* ``aiohttp``: ``import aiohttp``, the floor every asyncio HTTP client pays;
* ``package``: ``import binance_papi_async`` (names load on first use);
* ``client``: ``from binance_papi_async import PortfolioMarginClient``, what a program
  that makes calls pays before its first ``async with`` (which loads the namespaces and
  their models);
* ``everything``: the client, every namespace and every response model, for reference.

The bytecode caches are written by a warm-up run first (as ``pip install`` does for an
installed package), so the samples measure imports, not compilation.  ``--rev REV``
also measures the package as it was at a git revision (``git archive`` into a temporary
directory), beside the working tree's.  Exits 1 when ``package`` or ``client`` costs
more than ``--max-ratio`` (default 1.5) times ``import aiohttp``.

    python benchmarks/bench_import.py                 # 10 runs of each
    python benchmarks/bench_import.py --rev main --runs 20 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

STATEMENTS: dict[str, str] = {
    "aiohttp": "import aiohttp",
    "package": "import binance_papi_async",
    "client": "from binance_papi_async import PortfolioMarginClient",
    "everything": (
        "import binance_papi_async.client, binance_papi_async.models_generated as m\n"
        "m.RESPONSE_MODELS\n"
        "from binance_papi_async.api import account, cm, margin, market, um, user_stream"
    ),
}
CHECKED = ("package", "client")

# One sample: CPU seconds of the statement and peak RSS in KiB, printed as JSON.
PROBE = """\
import json, resource, time
start = time.process_time()
exec(compile({statement!r}, "<import>", "exec"))
cpu = time.process_time() - start
print(json.dumps([cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))
"""


def sample(statement: str, path: Path, cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """CPU seconds and peak RSS (KiB) of ``statement`` in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(path)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu, rss = json.loads(out.splitlines()[-1])
    return float(cpu), int(rss)


def package_at(rev: str, into: Path) -> Path:
    """The repository's ``binance_papi_async`` at ``rev``, extracted under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "binance_papi_async"],
        check=True,
        capture_output=True,
    ).stdout
    target = into / "rev"
    target.mkdir()
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def measure(
    sources: dict[str, Path], runs: int, cwd: Path
) -> dict[str, dict[str, list[float] | list[int]]]:
    """``{label: {"cpu": [...], "rss": [...]}}`` for every statement of every source."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    labels = {"aiohttp": ("aiohttp", ROOT)}
    for source, path in sources.items():
        for name in STATEMENTS:
            if name != "aiohttp":
                labels[f"{name}{source}"] = (name, path)
    for name, path in labels.values():  # warm-up: writes the bytecode caches
        sample(STATEMENTS[name], path, cwd, env)
    results: dict[str, dict[str, Any]] = {label: {"cpu": [], "rss": []} for label in labels}
    order = list(labels)
    for run in range(runs):
        shift = run % len(order)
        for label in order[shift:] + order[:shift]:  # rotate: drifts hit every label alike
            name, path = labels[label]
            cpu, rss = sample(STATEMENTS[name], path, cwd, env)
            results[label]["cpu"].append(cpu)
            results[label]["rss"].append(rss)
    return results


def summarise(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    floor = results["aiohttp"]["cpu"]
    out = {}
    for label, got in results.items():
        paired = [a / b for a, b in zip(got["cpu"], floor, strict=True)]
        out[label] = {
            "cpu_ms": statistics.median(got["cpu"]) * 1e3,
            "ratio": statistics.median(got["cpu"]) / statistics.median(floor),
            "paired_ratio": statistics.median(paired),
            "peak_rss_mib": statistics.median(got["rss"]) / 1024,
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10, help="samples of each statement")
    parser.add_argument("--rev", help="also measure the package at this git revision")
    parser.add_argument("--max-ratio", type=float, default=1.5)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="papi-import-") as tmp:
        sources = {"": ROOT}
        if args.rev:
            sources[f"@{args.rev}"] = package_at(args.rev, Path(tmp))
        cwd = Path(tmp) / "cwd"  # not the repository: "-c" puts the cwd first on sys.path
        cwd.mkdir()
        report = summarise(measure(sources, args.runs, cwd))
    failed = [name for name in CHECKED if report[name]["ratio"] > args.max_ratio]
    if args.json:
        print(json.dumps({"runs": args.runs, "results": report, "failed": failed}, indent=2))
    else:
        print(f"median of {args.runs} fresh interpreters each, CPU of the import statement")
        print(f"{'statement':<22} {'CPU ms':>8} {'x aiohttp':>10} {'paired':>8} {'peak RSS':>10}")
        for label, row in report.items():
            print(
                f"{label:<22} {row['cpu_ms']:8.1f} {row['ratio']:10.2f} "
                f"{row['paired_ratio']:8.2f} {row['peak_rss_mib']:7.1f} MiB"
            )
        if failed:
            print(f"over {args.max_ratio} x import aiohttp: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
