"""Python values to papi wire strings, and the argument checks shared by endpoints.

Every check raises :class:`~binance_papi_async.errors.ValidationError` naming the
parameter, before any network I/O and before any rate budget is spent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from ._constants import MAX_RECV_WINDOW_MS
from .errors import ValidationError

__all__ = [
    "check_asset",
    "check_assets",
    "check_assets_encoded",
    "check_positive_decimal",
    "check_recv_window",
    "decimal_to_wire",
    "positive_decimal_wire",
    "to_wire",
    "wire_params",
]

_ASSET_RE = re.compile(r"[A-Z0-9]{1,32}")


# Bounds on what a decimal may expand to on the wire: papi amounts have at most 8 (a few
# assets 18) decimals and are far below 10**18.  "1e-999999999" would otherwise become a
# gigabyte-long string built on the event loop.
MAX_DECIMAL_PLACES = 18
MAX_DECIMAL_DIGITS_BEFORE_POINT = 18


def _check_decimal_size(value: Decimal, name: str) -> None:
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite values only reach here
    beyond = -exponent - MAX_DECIMAL_PLACES  # digits after the 18th decimal place
    # Trailing zeros there are fine ("1.5000...0"); any other digit is not.  (Not by
    # quantize(): with more than 28 digits it raises InvalidOperation instead.)
    if beyond > 0 and any(digits[-beyond:]):
        raise ValidationError(
            f"{name} has more than {MAX_DECIMAL_PLACES} decimal places: {value}", param=name
        )
    if value.adjusted() >= MAX_DECIMAL_DIGITS_BEFORE_POINT:
        raise ValidationError(
            f"{name} is too large (10**{MAX_DECIMAL_DIGITS_BEFORE_POINT} or more): {value}",
            param=name,
        )


def decimal_to_wire(value: Decimal, name: str = "value") -> str:
    """A plain decimal string, never exponent notation: ``Decimal("1E-8")`` -> ``"0.00000001"``.

    Raises :class:`ValidationError` for values with more than 18 decimal places or 18
    digits before the point (nothing papi accepts), so no huge string is ever built.
    """
    if not value.is_finite():
        raise ValidationError(f"{name} must be finite, got {value}", param=name)
    _check_decimal_size(value, name)
    return format(value, "f")


def to_wire(value: Any, name: str = "value") -> str:
    """Encode one parameter value as Binance expects it (before percent-encoding)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_to_wire(value, name)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(f"{name} must be a timezone-aware datetime", param=name)
        return str(int(value.timestamp() * 1000))
    if isinstance(value, float):
        raise ValidationError(
            f"{name} must not be a float (binary floats are inexact); pass a Decimal or a str",
            param=name,
        )
    if isinstance(value, Sequence):
        return ",".join(to_wire(v, name) for v in value)
    raise ValidationError(f"{name}: unsupported type {type(value).__name__}", param=name)


def wire_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Wire strings for a parameter mapping; ``None`` values are omitted."""
    if not params:
        return {}
    return {k: to_wire(v, k) for k, v in params.items() if v is not None}


# Asset codes already found valid: engines repay and trade the same few assets, so the
# check is a set lookup after the first time.  Bounded (emptied when full).
_VALID_ASSETS: set[str] = set()


def check_asset(value: object, name: str = "asset") -> str:
    """An asset code: non-empty uppercase letters and digits (``BNB``, ``USDT``, ``1000SATS``)."""
    if type(value) is str and value in _VALID_ASSETS:
        return value
    if not isinstance(value, str) or not _ASSET_RE.fullmatch(value):
        raise ValidationError(
            f"{name} must be an asset code of uppercase letters and digits, got {value!r}",
            param=name,
        )
    if len(_VALID_ASSETS) >= 4096:
        _VALID_ASSETS.clear()
    _VALID_ASSETS.add(value)
    return value


# Lists of asset codes already found valid (as tuples) -> their comma-joined wire form and
# that form percent-encoded ("," is "%2C"; asset codes need nothing).  Bounded like
# _VALID_ASSETS.
_VALID_ASSET_LISTS: dict[tuple[object, ...], tuple[str, str]] = {}


def check_assets(value: object, name: str) -> str:
    """A non-empty sequence of distinct asset codes, comma-joined for the wire."""
    return check_assets_encoded(value, name)[0]


def check_assets_encoded(value: object, name: str) -> tuple[str, str]:
    """:func:`check_assets`, and the result percent-encoded for the query string."""
    if type(value) is list or type(value) is tuple:  # the common case: seen before
        key = tuple(value)
        try:
            known = _VALID_ASSET_LISTS.get(key)
        except TypeError:  # an unhashable item: not an asset code
            known = None
        if known is not None:  # only valid lists are ever stored (equal ones are the same)
            return known
        joined = _check_assets(value, name)
        known = (joined, joined.replace(",", "%2C"))
        if len(_VALID_ASSET_LISTS) >= 1024:
            _VALID_ASSET_LISTS.clear()
        _VALID_ASSET_LISTS[key] = known
        return known
    joined = _check_assets(value, name)
    return joined, joined.replace(",", "%2C")


def _check_assets(value: object, name: str) -> str:
    items: Sequence[object]
    # list and tuple first: the common case, without the slower ABC check.
    if (
        type(value) is list
        or type(value) is tuple
        or (isinstance(value, Sequence) and not isinstance(value, (str, bytes)))
    ):
        items = value
    else:
        raise ValidationError(
            f"{name} must be a list of asset codes such as ['USDT', 'BTC'], got {value!r}",
            param=name,
        )
    if not items:
        raise ValidationError(f"{name} must not be empty (pass None to omit it)", param=name)
    assets = [check_asset(v, name) for v in items]
    if len(set(assets)) != len(assets):
        raise ValidationError(f"{name} lists an asset twice: {assets}", param=name)
    return ",".join(assets)


def check_positive_decimal(value: object, name: str) -> Decimal:
    """A finite amount > 0 given as Decimal, str or int (never float or bool)."""
    if type(value) is Decimal:  # the common case first
        dec = value
        if dec.is_finite() and dec > 0:
            _check_decimal_size(dec, name)
            return dec
    if isinstance(value, (bool, float)):
        raise ValidationError(
            f"{name} must be a Decimal, str or int, not {type(value).__name__} "
            "(binary floats are inexact)",
            param=name,
        )
    if isinstance(value, Decimal):
        dec = value
    elif isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, str):
        try:
            dec = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(
                f"{name} is not a decimal number: {value!r}", param=name
            ) from None
    else:
        raise ValidationError(
            f"{name} must be a Decimal, str or int, not {type(value).__name__}", param=name
        )
    if not dec.is_finite():
        raise ValidationError(f"{name} must be finite, got {value!r}", param=name)
    if dec <= 0:
        raise ValidationError(f"{name} must be greater than 0, got {value!r}", param=name)
    _check_decimal_size(dec, name)
    return dec


def positive_decimal_wire(value: object, name: str) -> str:
    """:func:`check_positive_decimal`, then the plain wire string (never exponent notation).

    The common case, a ``Decimal`` whose ``str()`` is already plain (digits and at most
    one point: no sign, no exponent, not NaN or Infinity) with at most 18 digits before
    and 18 after the point and not zero, is checked on that string alone: one call into
    the decimal module instead of four.  Anything else goes through the full checks.
    """
    if type(value) is Decimal:
        text = str(value)  # exponent notation only if the exponent is > 0 or the value < 1e-6
        dot = text.find(".")
        if dot < 0:
            if len(text) <= MAX_DECIMAL_DIGITS_BEFORE_POINT and text.isdigit() and text != "0":
                return text  # (a Decimal's str has no leading zeros: "0" is the only zero)
        elif (
            dot <= MAX_DECIMAL_DIGITS_BEFORE_POINT
            and len(text) - dot - 1 <= MAX_DECIMAL_PLACES
            and text.replace(".", "", 1).isdigit()
            and text.strip("0.")
        ):
            return text
    return format(check_positive_decimal(value, name), "f")


def check_recv_window(value: object, name: str = "recv_window") -> int:
    """recvWindow in milliseconds: an int from 1 to 60000."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an int (milliseconds), got {value!r}", param=name)
    if not 1 <= value <= MAX_RECV_WINDOW_MS:
        raise ValidationError(
            f"{name} must be between 1 and {MAX_RECV_WINDOW_MS} ms, got {value}", param=name
        )
    return value
