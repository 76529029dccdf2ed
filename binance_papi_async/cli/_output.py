"""How the ``papi`` command prints: aligned tables for people, JSON for scripts.

Money stays exact: ``Decimal`` values are printed from their digits (JSON carries
them as strings, as papi does), never through ``float`` and never in exponent
notation.  Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, TextIO

__all__ = ["dumps", "dumps_line", "generic", "key_values", "plain", "table", "utc"]


def _default(value: object) -> Any:
    if isinstance(value, Decimal):
        return plain(value, trim=False)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot print a {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    """``value`` as indented JSON (Decimals as exact strings)."""
    return json.dumps(value, default=_default, indent=2, ensure_ascii=False)


def dumps_line(value: Any) -> str:
    """``value`` as compact one-line JSON (for JSON lines)."""
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))


def plain(value: Decimal, *, trim: bool = True) -> str:
    """A Decimal as a plain decimal string (``1E-8`` -> ``0.00000001``).

    With ``trim``, trailing fractional zeros go (``5000.00000000`` -> ``5000``).
    """
    text = format(value, "f")
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def utc(value: datetime | float | None) -> str:
    """An aware datetime or epoch seconds as ``YYYY-MM-DD HH:MM:SS.mmmZ``; ``-`` for None."""
    if value is None:
        return "-"
    if not isinstance(value, datetime):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def cell(value: object) -> str:
    """One table cell: Decimals trimmed, booleans as papi writes them, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, (dict, list)):
        return dumps_line(value)
    return str(value)


def _numeric(text: str) -> bool:
    body = text[1:] if text.startswith("-") else text
    return bool(body) and body.replace(".", "", 1).isdigit() and body.isascii()


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Rows under headers, columns two spaces apart; numeric columns right-aligned."""
    body = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text))
    numeric = [
        bool(body) and all(_numeric(row[i]) or row[i] == "-" for row in body)
        for i in range(len(headers))
    ]

    def line(texts: Sequence[str]) -> str:
        parts = [
            t.rjust(w) if num else t.ljust(w)
            for t, w, num in zip(texts, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in body)])


def key_values(pairs: Iterable[tuple[str, object]]) -> str:
    """``key  value`` lines, keys padded to one width."""
    items = [(k, cell(v)) for k, v in pairs]
    width = max((len(k) for k, _ in items), default=0)
    return "\n".join(f"{k.ljust(width)}  {v}".rstrip() for k, v in items)


def generic(data: Any) -> str:
    """A readable view of any decoded papi answer.

    A list of objects becomes a table (columns in first-seen order), an object a
    key/value list, anything else its JSON.
    """
    if isinstance(data, list) and data and all(isinstance(x, Mapping) for x in data):
        columns: dict[str, None] = {}
        for row in data:
            columns.update(dict.fromkeys(row))
        names = list(columns)
        return table(names, ([row.get(n) for n in names] for row in data))
    if isinstance(data, Mapping):
        return key_values((str(k), v) for k, v in data.items()) if data else "{}"
    if isinstance(data, list) and not data:
        return "(none)"
    return dumps(data)


def emit(text: str, out: TextIO) -> None:
    """Write ``text`` and a newline, flushed (output may be piped to another program)."""
    out.write(text + "\n")
    out.flush()
