"""Argument encoders and rule checks used by the generated endpoint methods.

Each encoder turns one Python argument into the string Binance expects on the
wire, or raises :class:`~binance_papi_async.errors.ValidationError` naming the
parameter (its Python name) before any I/O.  ``None`` for a required argument
is refused as "required".
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from .._params import check_positive_decimal, check_recv_window, decimal_to_wire
from ..errors import ValidationError

T = TypeVar("T")

__all__ = [
    "many",
    "refuse_together",
    "require_given",
    "require_one_of",
    "require_with",
    "wire_bool",
    "wire_decimal",
    "wire_enum",
    "wire_int",
    "wire_recv_window",
    "wire_str",
    "wire_time",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def _required(value: object, name: str) -> None:
    if value is None:
        raise ValidationError(f"{name} is required", param=name)


def wire_str(value: object, name: str) -> str:
    """A non-empty ``str`` (a ``str``-valued Enum member gives its value)."""
    _required(value, name)
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{name} must be a non-empty str, got {value!r}", param=name)
    return value


def wire_enum(value: object, name: str) -> str:
    """One of the values an ENUM parameter takes, sent as is.

    The allowed values are in the method's ``Literal`` annotation (checked by type
    checkers); at run time only the type is checked, so a value Binance adds later
    is not refused by an older SDK.
    """
    return wire_str(value, name)


def wire_bool(value: object, name: str) -> str:
    """A ``bool``, sent as ``true`` / ``false``."""
    _required(value, name)
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be a bool, got {value!r}", param=name)
    return "true" if value else "false"


def wire_int(value: object, name: str) -> str:
    """An ``int`` (not a bool, not a float)."""
    _required(value, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an int, got {value!r}", param=name)
    return str(value)


def wire_decimal(value: object, name: str) -> str:
    """A finite number > 0 given as ``Decimal``, ``str`` or ``int`` (never float), plain."""
    _required(value, name)
    return decimal_to_wire(check_positive_decimal(value, name))


def wire_time(value: object, name: str) -> str:
    """A time: an aware ``datetime`` or epoch milliseconds as an ``int`` >= 0."""
    _required(value, name)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(f"{name} must be a timezone-aware datetime", param=name)
        return str((value - _EPOCH) // _MS)  # exact: no float on the way
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{name} must be an aware datetime or int milliseconds, got {value!r}", param=name
        )
    if value < 0:
        raise ValidationError(f"{name} must be >= 0 ms, got {value}", param=name)
    return str(value)


def wire_recv_window(value: object) -> str:
    """``recvWindow``: an int from 1 to 60000 ms."""
    return str(check_recv_window(value))


def require_one_of(*args: tuple[str, object]) -> None:
    """At least one of the named arguments must be given (not ``None``)."""
    if all(value is None for _, value in args):
        names = " or ".join(name for name, _ in args)
        raise ValidationError(f"give {names}", param=args[0][0])


def refuse_together(first: tuple[str, object], second: tuple[str, object]) -> None:
    """The two named arguments must not both be given."""
    if first[1] is not None and second[1] is not None:
        raise ValidationError(
            f"{first[0]} and {second[0]} cannot be sent together", param=second[0]
        )


def require_with(given: tuple[str, object], needed: tuple[str, object]) -> None:
    """When ``given`` is sent, ``needed`` must be sent too."""
    if given[1] is not None and needed[1] is None:
        raise ValidationError(f"{needed[0]} is required with {given[0]}", param=needed[0])


def require_given(condition: str, *needed: tuple[str, object]) -> None:
    """Under ``condition`` (e.g. ``type=LIMIT``) every one of ``needed`` must be sent."""
    for name, value in needed:
        if value is None:
            raise ValidationError(f"{name} is required when {condition}", param=name)


def many(parse: Callable[[Any], T]) -> Callable[[Any], tuple[T, ...]]:
    """A parser of a JSON array whose items ``parse`` reads (a non-list is a shape error)."""

    def parse_all(data: Any) -> tuple[T, ...]:
        if not isinstance(data, list):
            raise TypeError(f"expected a JSON array, got {type(data).__name__}")
        return tuple(parse(item) for item in data)

    return parse_all
