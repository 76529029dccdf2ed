"""examples/exactly_once.py runs as written and shows every lost order resolved once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "exactly_once.py"


def test_the_exactly_once_example_resolves_every_lost_order_to_one_order() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "placed (found by its client id)" in out
    assert "not_placed (no order has its client id)" in out
    assert "resent" in out and "refused the resend" in out  # the query-lag case
    assert "orders per client id: [1, 1, 1]" in out


def test_the_readme_documents_the_guarantee_and_its_assumptions() -> None:
    readme = (EXAMPLE.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exactly-once orders", 1)[1].split("\n## ", 1)[0]
    for needed in ("recvWindow", "Residual risk", "accept_duplicate_risk", "settle_margin"):
        assert needed in section
