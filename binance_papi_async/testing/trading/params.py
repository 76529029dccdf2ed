"""Reading a trading handler's parameters, and the errors the desks share.

Parameters arrive as decoded strings (the pipeline already refused unknown and
missing mandatory ones, see :mod:`..pipeline`); these helpers parse the values the
way Binance does and raise its error for a bad one (-1102 missing, -1130 invalid,
-1117 bad side).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from .._errors import SimulatedError, invalid, mandatory

__all__ = [
    "ZERO",
    "cancel_unknown",
    "choice",
    "decimal",
    "flag",
    "in_window",
    "insufficient",
    "integer",
    "limit",
    "plain",
    "positive",
    "side",
    "unknown_order",
]

ZERO = Decimal(0)
_SIDES = ("BUY", "SELL")


def plain(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros (``"0.01"``, ``"60000"``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def unknown_order() -> SimulatedError:
    """-2013, for queries and modify of an order that does not exist (or no longer works)."""
    return SimulatedError(400, -2013, "Order does not exist.")


def cancel_unknown() -> SimulatedError:
    """-2011, for a cancel of an order that does not exist or is no longer open."""
    return SimulatedError(400, -2011, "Unknown order sent.")


def insufficient() -> SimulatedError:
    """-2010, for a margin order the balances cannot pay for."""
    return SimulatedError(400, -2010, "Account has insufficient balance for requested action.")


def decimal(params: dict[str, str], name: str, *, required: bool = True) -> Decimal | None:
    """A positive finite decimal; ``None`` when absent and not ``required``."""
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise mandatory(name)
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise invalid(name) from None
    if not value.is_finite() or value <= 0:
        raise invalid(name)
    return value


def positive(params: dict[str, str], name: str) -> Decimal:
    """A mandatory positive finite decimal."""
    value = decimal(params, name)
    assert value is not None
    return value


def integer(params: dict[str, str], name: str) -> int | None:
    """An optional integer (ASCII digits, optional minus sign)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.lstrip("-").isdigit()):
        raise invalid(name)
    return int(raw)


def choice(params: dict[str, str], name: str, allowed: Iterable[str], default: str) -> str:
    """One of ``allowed``, ``default`` when absent or empty."""
    value = params.get(name) or default
    if value not in allowed:
        raise invalid(name)
    return value


def side(params: dict[str, str]) -> str:
    """``BUY`` or ``SELL`` (-1117 otherwise)."""
    value = params.get("side", "")
    if value not in _SIDES:
        raise SimulatedError(400, -1117, "Invalid side.")
    return value


def flag(params: dict[str, str], name: str) -> bool:
    """A ``true`` / ``false`` flag (any case); absent is false."""
    return params.get(name, "false").lower() == "true"


def limit(params: dict[str, str], default: int = 500, maximum: int = 1000) -> int:
    """The ``limit`` of a list query: 1..``maximum``, ``default`` when absent."""
    value = integer(params, "limit")
    if value is None:
        return default
    if not 0 < value <= maximum:
        raise invalid("limit")
    return value


def in_window(t: int, params: dict[str, str]) -> bool:
    """Whether time ``t`` (ms) lies in the ``startTime`` / ``endTime`` window (both inclusive)."""
    start = integer(params, "startTime")
    end = integer(params, "endTime")
    return (start is None or t >= start) and (end is None or t <= end)
