"""The counts README.md states about the spec, kept between markers the generator owns.

``<!-- spec:operations -->104<!-- /spec:operations -->`` holds the number of documented
papi REST operations (endpoints.json); every such span is rewritten on ``make generate``
and checked by ``make check-generated``.  The rest of the README is hand-written.
"""

from __future__ import annotations

import re

from .spec import Op

README_FILE = "README.md"

_OPERATIONS = re.compile(r"(<!-- spec:operations -->)\d*(<!-- /spec:operations -->)")


def gen_readme(ops: list[Op], current: str) -> str:
    """``current`` (README.md's text) with its counts set from the spec."""
    if not _OPERATIONS.search(current):
        raise SystemExit(f"{README_FILE} has no <!-- spec:operations --> count to keep")
    count = sum(op.documented for op in ops)
    return _OPERATIONS.sub(rf"\g<1>{count}\g<2>", current)
