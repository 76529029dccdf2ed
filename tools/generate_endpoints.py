#!/usr/bin/env python3
"""Generate the papi endpoint table, response models, namespaces and reference page.

Reads ``endpoints.json``, ``responses.json`` and ``overrides.json`` (the hand-kept names
and corrections) from ``--source`` (default ``spec/papi`` in this repository) and writes
the checked-in files:

* ``binance_papi_async/endpoints/_table.py``      one ``EndpointSpec`` per operation + ``TABLE``
* ``binance_papi_async/models_generated/*.py``    one frozen dataclass per response, by namespace
* ``binance_papi_async/api/_generated/*.py``      one namespace base class per module
* ``docs/endpoints.md``                           the reference page
* ``binance_papi_async/testing/_examples.py``     the doc example bodies the simulator serves
* ``README.md``                                   only the counts between its
                                                  ``<!-- spec:... -->`` markers

``--check`` writes nothing and exits 1 if any file would change (or a generated file
would be left over).  The output is formatted with ``ruff format`` so that regenerating
is byte-stable.  The generator itself is the ``papi_codegen`` package beside this script.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from papi_codegen.api import API_DIR, gen_api
from papi_codegen.docs import DOCS_FILE, EXAMPLES_FILE, gen_docs, gen_examples
from papi_codegen.models import MODELS_DIR, gen_models
from papi_codegen.readme import README_FILE, gen_readme
from papi_codegen.spec import DEFAULT_SOURCE, REPO, load
from papi_codegen.table import TABLE_FILE, gen_table
from papi_codegen.text import HEADER, ruff_format


def render(source: Path) -> dict[str, str]:
    """Every generated file (relative to the repository) and its text."""
    ops, overrides = load(source)
    python = {
        TABLE_FILE: gen_table(ops),
        **gen_models(ops, overrides),
        **gen_api(ops, overrides),
        EXAMPLES_FILE: gen_examples(ops, overrides),
    }
    files = {rel: ruff_format(text, rel) for rel, text in python.items()}
    files[DOCS_FILE] = gen_docs(ops, overrides)
    files[README_FILE] = gen_readme(ops, (REPO / README_FILE).read_text(encoding="utf-8"))
    return files


def leftovers(files: dict[str, str]) -> list[str]:
    """Generated files in the generated directories that the generator no longer writes."""
    out = []
    for folder in (MODELS_DIR, API_DIR):
        for path in sorted((REPO / folder).glob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel not in files and path.read_text(encoding="utf-8").startswith(HEADER):
                out.append(rel)
    return out


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="directory of the JSON")
    parser.add_argument("--check", action="store_true", help="fail if a file would change")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not (args.source / "endpoints.json").is_file():
        print(f"no endpoints.json in {args.source} (pass --source DIR)", file=sys.stderr)
        return 2
    files = render(args.source)
    stale = []
    for rel, text in files.items():
        path = REPO / rel
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(rel)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    extra = leftovers(files)
    if args.check and (stale or extra):
        print("out of date: " + ", ".join(stale + extra), file=sys.stderr)
        return 1
    for rel in extra:
        (REPO / rel).unlink()
        print(f"removed {rel}")
    for rel in stale:
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
