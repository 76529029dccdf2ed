"""JSON values to Python values: the one set of rules for REST results and stream events.

Every typed result (``models``, ``models_generated``) and every user-stream event
(``stream_events``) reads its fields through these functions, so a value means the same
thing wherever it arrives.  The rules, chosen for an engine that trades on the numbers:

* **Exact or an error, never a guess.**  A value of the wrong shape raises ``ValueError``
  (or ``TypeError``): the REST call then fails with a typed error carrying the raw body
  (``ExecutionStatusUnknown`` for a write, ``UnexpectedResponseError`` for a read), and a
  stream event becomes an ``UnknownEvent`` with the reason.  Nothing is rounded,
  truncated or defaulted behind the caller's back.
* **Tolerant where Binance really sends another shape** (spec/papi/responses.json and
  USER_STREAM.md examples): ``""`` and ``null`` mean "no value" (``None``); ids and
  times arrive as JSON integers or as digit strings (``"E": "1576653824250"``,
  leverage ``"125"``); a few booleans arrive as the strings ``"true"``/``"false"``
  (``isAutoAddMargin``); a few ratios and limits arrive as JSON numbers.

Per kind:

========  ==============================================================================
decimal   A JSON string of a finite decimal number (exact, trailing zeros kept:
          ``"0.10000000"``), or a JSON integer.  A JSON float is an error: Binance sends
          amounts as strings, and a float has already lost the digits of the text.
number    A decimal field Binance sends as a JSON number (the ``number`` fields of
          responses.json: leverage-bracket ratios, trading-rule indicator values): as
          *decimal*, plus a JSON float read through its shortest ``repr``, which gives
          the JSON text's own digits for every number of up to 15 significant digits.
integer   A JSON integer (never a bool) or a string of ASCII digits with an optional
          ``-``.  A float is an error, even ``5.0``.  Big ids stay exact (orjson reads
          integers exactly, nothing goes through float).
boolean   A JSON ``true``/``false``, or exactly the strings ``"true"``/``"false"``.
          Numbers and other strings are errors.
time      Epoch milliseconds (an *integer*) as an aware UTC ``datetime``, by integer
          arithmetic on ``timedelta`` (no float on the way).  ``0`` and ``-1`` are
          Binance's "no time" (``goodTillDate: 0``, ``gtd: 0``, ``tt: 0``) and give
          ``None``; other negative values and values beyond year 9999 are errors.
text      A JSON string as is (``""`` stays ``""``: it is a value for a string), or a
          JSON integer as its digits (ids Binance sends either way).  Floats, bools,
          arrays and objects are errors.
========  ==============================================================================

The ``*_or_none`` functions give ``None`` for a missing value (``None``, and ``""``
except for text); the others raise for it, for fields an event or result cannot lack.
Containers: ``objects`` / ``object_or_none`` parse nested objects with a model's
``from_json``; an element that is not an object is an error, never skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

__all__ = [
    "EPOCH",
    "MAX_MS",
    "array_or_none",
    "many",
    "mapping_or_none",
    "ms_to_datetime",
    "object_map_or_none",
    "object_or_none",
    "objects",
    "objects_or_none",
    "to_bool",
    "to_bool_or_none",
    "to_decimal",
    "to_decimal_or_none",
    "to_int",
    "to_int_or_none",
    "to_number_or_none",
    "to_str",
    "to_str_or_none",
    "to_strs",
    "to_strs_or_none",
    "to_time",
    "to_time_or_none",
]

_T = TypeVar("_T")

#: 1970-01-01T00:00:00Z, the origin of Binance's epoch milliseconds.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)
#: The largest epoch millisecond a ``datetime`` can hold (9999-12-31T23:59:59.999Z).
MAX_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc) - EPOCH) // _ONE_MS
_DIGITS = frozenset("0123456789")


def _bad(kind: str, value: object) -> ValueError:
    return ValueError(f"expected {kind}, got {type(value).__name__} {value!r:.60}")


# -- decimal and number ----------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal:
    """A finite Decimal from a decimal string or an integer (see the module's rules)."""
    kind = type(value)
    if kind is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise _bad("a decimal string", value) from None
        if number.is_finite():
            return number
    elif kind is int:
        return Decimal(value)
    raise _bad("a decimal string", value)


def to_decimal_or_none(value: Any) -> Decimal | None:
    """:func:`to_decimal`, or ``None`` for ``null`` or ``""``."""
    if value is None or value == "":
        return None
    return to_decimal(value)


def to_number_or_none(value: Any) -> Decimal | None:
    """:func:`to_decimal_or_none`, and a JSON float through its shortest ``repr``."""
    if type(value) is float:
        if not math.isfinite(value):
            raise _bad("a finite number", value)
        return Decimal(repr(value))
    return to_decimal_or_none(value)


# -- integer ----------------------------------------------------------------------------------


def to_int(value: Any) -> int:
    """An int from a JSON integer or a string of ASCII digits (optional ``-``)."""
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    if kind is str:
        digits = value[1:] if value[:1] == "-" else value
        if digits and _DIGITS.issuperset(digits):
            return int(value)
    raise _bad("an integer", value)


def to_int_or_none(value: Any) -> int | None:
    """:func:`to_int`, or ``None`` for ``null`` or ``""``."""
    if value is None or value == "":
        return None
    return to_int(value)


# -- boolean ----------------------------------------------------------------------------------


def to_bool(value: Any) -> bool:
    """A bool from JSON ``true``/``false`` or the strings ``"true"``/``"false"``."""
    if value is True or value == "true":
        return True
    if value is False or value == "false":
        return False
    raise _bad("a boolean", value)


def to_bool_or_none(value: Any) -> bool | None:
    """:func:`to_bool`, or ``None`` for ``null`` or ``""``."""
    if value is True or value is False or value is None:
        return value
    if value == "":
        return None
    return to_bool(value)


# -- time -------------------------------------------------------------------------------------


def ms_to_datetime(ms: int) -> datetime:
    """Epoch milliseconds (an int from 0 to :data:`MAX_MS`) to an aware UTC datetime, exactly."""
    return EPOCH + _ONE_MS * ms  # integer arithmetic on days, seconds and microseconds


def to_time_or_none(value: Any) -> datetime | None:
    """Epoch milliseconds to an aware UTC datetime; ``None`` for 0, -1, ``null`` or ``""``."""
    ms = value if type(value) is int else to_int_or_none(value)
    if ms is not None and 0 < ms <= MAX_MS:
        return EPOCH + _ONE_MS * ms
    if ms is None or ms == 0 or ms == -1:
        return None
    raise _bad("epoch milliseconds", value)


def to_time(value: Any) -> datetime:
    """:func:`to_time_or_none` for a time that must be there (0 and -1 are errors)."""
    if type(value) is int and 0 < value <= MAX_MS:
        return EPOCH + _ONE_MS * value
    time = to_time_or_none(value)
    if time is None:
        raise _bad("epoch milliseconds", value)
    return time


# -- text -------------------------------------------------------------------------------------


def to_str(value: Any) -> str:
    """A JSON string as is, or a JSON integer as its digits."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    raise _bad("a string", value)


def to_str_or_none(value: Any) -> str | None:
    """:func:`to_str`, or ``None`` for ``null`` (``""`` stays ``""``)."""
    return None if value is None else to_str(value)


def to_strs(value: Any) -> tuple[str, ...]:
    """A JSON array of strings as a tuple (``null`` gives ``()``)."""
    if value is None:
        return ()
    if type(value) is not list:
        raise _bad("an array", value)
    for item in value:
        if type(item) is not str:
            return tuple(map(to_str, value))  # integers as their digits, or an error
    return tuple(value)


def to_strs_or_none(value: Any) -> tuple[str, ...] | None:
    """:func:`to_strs`, or ``None`` for ``null``."""
    return None if value is None else to_strs(value)


# -- containers -------------------------------------------------------------------------------


def array_or_none(value: Any) -> tuple[Any, ...] | None:
    """A JSON array of anything, as a tuple of the decoded JSON; ``None`` for ``null``."""
    if value is None:
        return None
    if type(value) is not list:
        raise _bad("an array", value)
    return tuple(value)


def mapping_or_none(value: Any) -> Mapping[str, Any] | None:
    """A JSON object kept as decoded; ``None`` for ``null``."""
    if value is None or isinstance(value, Mapping):
        return value
    raise _bad("an object", value)


def _object(parse: Callable[[Mapping[str, Any]], _T], value: Any) -> _T:
    if not isinstance(value, Mapping):
        raise _bad("an object", value)
    return parse(value)


def object_or_none(parse: Callable[[Mapping[str, Any]], _T], value: Any) -> _T | None:
    """A nested JSON object read by ``parse``; ``None`` for ``null``."""
    return None if value is None else _object(parse, value)


def objects(parse: Callable[[Mapping[str, Any]], _T], value: Any) -> tuple[_T, ...]:
    """A JSON array of objects, each read by ``parse`` (``null`` gives ``()``)."""
    if value is None:
        return ()
    if type(value) is not list:
        raise _bad("an array", value)
    return tuple(_object(parse, item) for item in value)


def objects_or_none(parse: Callable[[Mapping[str, Any]], _T], value: Any) -> tuple[_T, ...] | None:
    """:func:`objects`, or ``None`` for ``null``."""
    return None if value is None else objects(parse, value)


def object_map_or_none(
    parse: Callable[[Mapping[str, Any]], _T], value: Any
) -> Mapping[str, tuple[_T, ...]] | None:
    """A JSON object of arrays of objects keyed by e.g. a symbol; ``None`` for ``null``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _bad("an object", value)
    return {key: objects(parse, items) for key, items in value.items()}


def many(parse: Callable[[Mapping[str, Any]], _T]) -> Callable[[Any], tuple[_T, ...]]:
    """A parser of a top-level JSON array of objects, each read by ``parse``.

    Anything but an array (``null`` included) is an error: a response that should list
    things and does not is not an empty list.
    """

    def parse_all(data: Any) -> tuple[_T, ...]:
        if type(data) is not list:
            raise _bad("an array", data)
        return tuple(_object(parse, item) for item in data)

    return parse_all
