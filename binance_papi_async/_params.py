"""Python arguments to papi wire strings: the one encoder of every endpoint's arguments.

Every check raises :class:`~binance_papi_async.errors.ValidationError` naming the
parameter (its Python name), before any network I/O and before any rate budget is
spent.  The rules:

* **decimal** (prices, quantities, amounts): a ``Decimal``, ``str`` or ``int`` > 0,
  finite, at most 18 digits before and 18 after the point; never a ``float`` (binary
  floats are inexact) or a ``bool``.  Sent as a plain decimal, never in exponent
  notation: ``Decimal("1E-8")`` is ``0.00000001``, trailing zeros are kept.  A ``str``
  is a money string: ASCII digits with at most one point and a digit on each side of
  it (``"0.5"``, ``"12"``, ``"1.50"``); no sign, exponent, space, ``_`` or non-ASCII
  digit (``Decimal()`` would read ``"1_00"`` as 100, and full-width or Arabic-Indic
  digits as ASCII ones), and no ``".5"`` or ``"5."`` (a truncated number looks so).
* **time**: an aware ``datetime`` (naive ones are refused: their zone is a guess) or
  epoch milliseconds as an ``int`` >= 0.  A datetime becomes milliseconds by integer
  arithmetic on ``timedelta`` (floor to the millisecond), exact over the whole range of
  ``datetime``; nothing goes through a float.
* **bool**: a ``bool``, sent as ``true``/``false`` (``1`` and ``"true"`` are refused).
* **int**: an ``int`` (not a ``bool``, not a ``float``).
* **str** / **enum**: a non-empty ``str`` that UTF-8 can encode (no lone surrogate;
  a ``str``-valued ``Enum`` member gives its value).  An enum's allowed values are in
  the method's ``Literal`` annotation, for type checkers; at run time only the type is
  checked, so a value Binance adds later is not refused by an older SDK.  A value
  Binance is known to refuse (it was removed, e.g. ``selfTradePreventionMode=NONE`` on
  UM orders) is refused before sending (:func:`refusing`).
* **asset codes**: uppercase letters and digits; lists of them are comma-joined.
* ``recvWindow``: an ``int`` from 1 to 60000 ms.

:class:`Arguments` declares a generated endpoint method's parameters as data (encoder,
required or not, and the rules between them: "either A or B", "not A with B", "B with
A", and the parameters an order type makes mandatory) and encodes a call's values in
one pass.  :func:`to_wire` encodes the values of the generic ``client.call``, and
:func:`add_extra_params` the ``extra_params`` of a method whose page is not available.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from ._constants import MAX_RECV_WINDOW_MS
from ._decode import EPOCH
from .errors import ValidationError

__all__ = [
    "Arg",
    "Arguments",
    "Rule",
    "add_extra_params",
    "check_asset",
    "check_assets",
    "check_recv_window",
    "datetime_to_ms",
    "decimal_to_wire",
    "exclusive",
    "one_of",
    "positive_decimal_wire",
    "refusing",
    "requires",
    "to_wire",
    "wire_bool",
    "wire_decimal",
    "wire_enum",
    "wire_int",
    "wire_params",
    "wire_recv_window",
    "wire_str",
    "wire_time",
]

_ASSET_RE = re.compile(r"[A-Z0-9]{1,32}")
_ASSET_LIST_RE = re.compile(r"[A-Z0-9]{1,32}(?:,[A-Z0-9]{1,32})*")
_ONE_MS = timedelta(milliseconds=1)

# Bounds on what a decimal may expand to on the wire: papi amounts have at most 8 (a few
# assets 18) decimals and are far below 10**18.  "1e-999999999" would otherwise become a
# gigabyte-long string built on the event loop.
MAX_DECIMAL_PLACES = 18
MAX_DECIMAL_DIGITS_BEFORE_POINT = 18


# -- decimals ---------------------------------------------------------------------------------


def _plain(value: Decimal, name: str) -> str:
    """A finite ``value`` as a plain decimal string: at most 18 digits before the point
    and 18 significant places after it (trailing zeros are kept, and are fine)."""
    if value:
        magnitude = value.adjusted()  # the power of ten of the first digit
        if magnitude >= MAX_DECIMAL_DIGITS_BEFORE_POINT:
            raise ValidationError(
                f"{name} is too large (10**{MAX_DECIMAL_DIGITS_BEFORE_POINT} or more): {value}",
                param=name,
            )
        if magnitude < -MAX_DECIMAL_PLACES:  # its first digit is beyond the 18th place
            raise ValidationError(
                f"{name} has more than {MAX_DECIMAL_PLACES} decimal places: {value}", param=name
            )
    elif value.adjusted() < -MAX_DECIMAL_PLACES:  # a zero such as 0E-999999999
        raise ValidationError(
            f"{name} has more than {MAX_DECIMAL_PLACES} decimal places: {value}", param=name
        )
    # Bounded now ("1e-999999999" would otherwise be a gigabyte-long string): at most 18
    # digits before the point, and after it no more than the coefficient's own digits.
    text = format(value, "f")
    point = text.find(".")
    if point >= 0 and len(text.rstrip("0")) - point - 1 > MAX_DECIMAL_PLACES:
        raise ValidationError(
            f"{name} has more than {MAX_DECIMAL_PLACES} decimal places: {value}", param=name
        )
    return text


def decimal_to_wire(value: Decimal, name: str = "value") -> str:
    """A plain decimal string, never exponent notation: ``Decimal("1E-8")`` -> ``"0.00000001"``.

    Raises :class:`ValidationError` for values with more than 18 decimal places or 18
    digits before the point (nothing papi accepts), so no huge string is ever built.
    """
    if not value.is_finite():
        raise ValidationError(f"{name} must be finite, got {value}", param=name)
    return _plain(value, name)


def _decimal_argument(value: object, name: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (bool, float)):
        raise ValidationError(
            f"{name} must be a Decimal, str or int, not {type(value).__name__} "
            "(binary floats are inexact)",
            param=name,
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        # ASCII digits, then at most one point followed by digits: a money string.  (On an
        # ASCII str, isdigit() is true for 0-9 only.)
        head, point, tail = value.partition(".")
        if value.isascii() and head.isdigit() and (tail.isdigit() or not point):
            return Decimal(value)
        raise ValidationError(
            f"{name} is not a plain decimal string (ASCII digits with at most one point and a "
            f"digit on each side, no sign, exponent, space or '_', e.g. '0.5'): {value!r}",
            param=name,
        )
    raise ValidationError(
        f"{name} must be a Decimal, str or int, not {type(value).__name__}", param=name
    )


# Amounts recur from call to call too: the ``str()`` of a Decimal found good is remembered
# when it is its wire string (no exponent).  ``str()`` is exact (the sign, digits and
# exponent of a Decimal give one string, and back), so a Decimal with a remembered
# ``str()`` passes the same checks and has the same wire string; bounded like the assets.
# 4,600 instr/call, 0.9 % of the floor's: bench_icount.py sdk sdk-unremembered-amounts
_valid_amounts: set[str] = set()


def positive_decimal_wire(value: object, name: str) -> str:
    """A finite amount > 0 given as ``Decimal``, ``str`` or ``int`` (never float or bool),
    as the plain wire string (never exponent notation; trailing zeros kept)."""
    text = str(value) if type(value) is Decimal else None
    if text is not None and text in _valid_amounts:
        return text
    dec = _decimal_argument(value, name)
    if not dec.is_finite():
        raise ValidationError(f"{name} must be finite, got {value!r}", param=name)
    if dec <= 0:
        raise ValidationError(f"{name} must be greater than 0, got {value!r}", param=name)
    wire = _plain(dec, name)
    if wire == text:
        if len(_valid_amounts) >= _CACHE_SIZE:
            _valid_amounts.clear()
        _valid_amounts.add(wire)
    return wire


# -- times ------------------------------------------------------------------------------------


def datetime_to_ms(value: datetime, name: str = "value") -> int:
    """Epoch milliseconds of an aware datetime, floored, by exact integer arithmetic."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must be a timezone-aware datetime", param=name)
    return (value - EPOCH) // _ONE_MS


def _time_ms(value: object, name: str) -> int:
    if isinstance(value, datetime):
        ms = datetime_to_ms(value, name)
    elif isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{name} must be an aware datetime or int milliseconds, got {value!r}", param=name
        )
    else:
        ms = value
    if ms < 0:
        raise ValidationError(f"{name} must be at or after 1970-01-01 (>= 0 ms)", param=name)
    return ms


# -- the generic encoder of client.call -------------------------------------------------------


def _unencodable(value: str, name: str, what: str | None = None) -> ValidationError | None:
    """The error for a ``str`` that UTF-8 cannot encode (a lone surrogate), else None."""
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        return ValidationError(
            f"{what or name} cannot be sent: it holds {value[exc.start : exc.end]!r} at index "
            f"{exc.start}, a lone surrogate that UTF-8 cannot encode",
            param=name,
        )
    return None


def to_wire(value: Any, name: str = "value") -> str:
    """Encode one parameter value as Binance expects it (before percent-encoding)."""
    if isinstance(value, str):
        if not value.isascii() and (error := _unencodable(value, name)) is not None:
            raise error
        return value
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_to_wire(value, name)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return str(_time_ms(value, name))
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
    for k in params:
        if not isinstance(k, str) or not k:
            raise ValidationError(f"parameter names are non-empty str, got {k!r}", param=str(k))
        if not k.isascii() and (error := _unencodable(k, k, f"parameter name {k!r}")):
            raise error
    return {k: to_wire(v, k) for k, v in params.items() if v is not None}


def add_extra_params(
    params: dict[str, str], extra: Mapping[str, Any] | None, reserved: frozenset[str]
) -> dict[str, str]:
    """``params`` plus ``extra`` (Binance's names, values encoded as by :func:`to_wire`);
    a name of ``reserved`` (the method's own parameters, ``timestamp``, ``signature``)
    or one that is not a non-empty ``str`` is a :class:`ValidationError`."""
    if extra is None:
        return params
    if not isinstance(extra, Mapping):
        raise ValidationError("extra_params must be a mapping", param="extra_params")
    for name in extra:
        if not isinstance(name, str) or not name or name in reserved:
            raise ValidationError(
                f"extra_params cannot set {name!r} (one of the method's own parameters, "
                "or not a parameter name)",
                param="extra_params",
            )
    params.update(wire_params(extra))
    return params


# -- asset codes ------------------------------------------------------------------------------


# Asset codes and lists of them recur from call to call: the valid ones are remembered
# (bounded: each cache is emptied when full); tests/unit/test_equivalent_paths.py compares.
# 7,600 instr/call, 1.5 % of the floor's: bench_icount.py --stub sdk sdk-unremembered-assets
_CACHE_SIZE = 1024
_valid_assets: set[str] = set()
_valid_asset_lists: dict[tuple[object, ...], str] = {}


def check_asset(value: object, name: str = "asset") -> str:
    """An asset code: non-empty uppercase letters and digits (``BNB``, ``USDT``, ``1000SATS``)."""
    if type(value) is str:
        if value in _valid_assets:
            return value
        if _ASSET_RE.fullmatch(value):
            if len(_valid_assets) >= _CACHE_SIZE:
                _valid_assets.clear()
            _valid_assets.add(value)
            return value
    raise ValidationError(
        f"{name} must be an asset code of uppercase letters and digits, got {value!r}",
        param=name,
    )


def check_assets(value: object, name: str) -> str:
    """A non-empty sequence of distinct asset codes, comma-joined for the wire."""
    kind = type(value)
    if kind is list or kind is tuple:
        key: tuple[object, ...] = tuple(value)  # type: ignore[arg-type]
        try:
            joined = _valid_asset_lists.get(key)
        except TypeError:  # an item that cannot be hashed cannot be an asset code
            joined = None
        if joined is None:
            joined = _check_assets(value, name)
            if len(_valid_asset_lists) >= _CACHE_SIZE:
                _valid_asset_lists.clear()
            _valid_asset_lists[key] = joined
        return joined
    return _check_assets(value, name)


def _check_assets(value: object, name: str) -> str:
    kind = type(value)
    if kind is not list and kind is not tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValidationError(
                f"{name} must be a list of asset codes such as ['USDT', 'BTC'], got {value!r}",
                param=name,
            )
        value = tuple(value)
    assert isinstance(value, (list, tuple))
    if not value:
        raise ValidationError(f"{name} must not be empty (pass None to omit it)", param=name)
    try:
        joined = ",".join(value)
    except TypeError:  # not all str
        joined = ""
    # One match for the whole list: as many codes as items, so no item holds a comma.
    if not _ASSET_LIST_RE.fullmatch(joined) or joined.count(",") != len(value) - 1:
        for item in value:
            check_asset(item, name)  # names the first item at fault
    if len(set(value)) != len(value):
        raise ValidationError(f"{name} lists an asset twice: {list(value)}", param=name)
    return joined


def check_recv_window(value: object, name: str = "recv_window") -> int:
    """recvWindow in milliseconds: an int from 1 to 60000."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an int (milliseconds), got {value!r}", param=name)
    if not 1 <= value <= MAX_RECV_WINDOW_MS:
        raise ValidationError(
            f"{name} must be between 1 and {MAX_RECV_WINDOW_MS} ms, got {value}", param=name
        )
    return value


# -- one encoder per parameter kind (the generated methods' Arg declarations) ------------------

Encoder = Callable[[Any, str], str]


def wire_str(value: object, name: str) -> str:
    """A non-empty ``str`` (a ``str``-valued Enum member gives its value)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{name} must be a non-empty str, got {value!r}", param=name)
    if not value.isascii() and (error := _unencodable(value, name)) is not None:
        raise error
    return value


#: An ENUM parameter: checked like a str (the allowed values are in the ``Literal`` type).
wire_enum = wire_str


def wire_bool(value: object, name: str) -> str:
    """A ``bool``, sent as ``true`` / ``false``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise ValidationError(f"{name} must be a bool, got {value!r}", param=name)


def wire_int(value: object, name: str) -> str:
    """An ``int`` (not a bool, not a float)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an int, got {value!r}", param=name)
    return str(value)


#: A DECIMAL parameter: :func:`positive_decimal_wire`.
wire_decimal = positive_decimal_wire


def wire_time(value: object, name: str) -> str:
    """A time: an aware ``datetime`` or epoch milliseconds as an ``int`` >= 0."""
    return str(_time_ms(value, name))


def refusing(encode: Encoder, refused: Mapping[str, str]) -> Encoder:
    """``encode``, refusing the values Binance no longer accepts (value -> why)."""

    def check(value: object, name: str) -> str:
        wire = encode(value, name)
        why = refused.get(wire)
        if why is not None:
            raise ValidationError(f"{name}={wire} is refused: {why}", param=name)
        return wire

    return check


def wire_recv_window(value: object, name: str = "recv_window") -> str:
    """``recvWindow``: an int from 1 to 60000 ms."""
    return str(check_recv_window(value, name))


# -- a method's parameters as data ------------------------------------------------------------


class Arg(NamedTuple):
    """One parameter: Binance's name, the Python name, its encoder, whether it is required."""

    wire: str
    name: str
    encode: Encoder
    required: bool = False


class Rule(NamedTuple):
    """A rule between two parameters (by Python name); see :func:`one_of` and friends."""

    kind: str  # "one_of" | "exclusive" | "requires"
    first: str
    second: str


def one_of(first: str, second: str) -> Rule:
    """At least one of the two must be given."""
    return Rule("one_of", first, second)


def exclusive(first: str, second: str) -> Rule:
    """The two must not both be given."""
    return Rule("exclusive", first, second)


def requires(given: str, needed: str) -> Rule:
    """When ``given`` is given, ``needed`` must be given too."""
    return Rule("requires", given, needed)


_RuleCheck = tuple[str, int, int, str, str]
_Mandatory = tuple[str, str, dict[str, tuple[tuple[int, str], ...]]]


class Arguments:
    """The parameters of one endpoint method, declared once at import, encoded per call.

    ``Arguments(Arg(...), ..., rules=(one_of("a", "b"), ...), mandatory={"type":
    {"LIMIT": ("price", ...)}})``; :meth:`encode` takes the call's values in the order
    of the ``Arg`` declarations and returns the wire parameters.  Checks, in order: the
    rules (on which values are given), each value (missing required ones first named),
    then the parameters the value of another makes mandatory (e.g. ``type=LIMIT``).
    """

    __slots__ = ("_args", "_mandatory", "_rules")

    def __init__(
        self,
        *args: Arg,
        rules: Sequence[Rule] = (),
        mandatory: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    ) -> None:
        index = {arg.name: i for i, arg in enumerate(args)}
        self._args = args
        self._rules: tuple[_RuleCheck, ...] = tuple(
            (r.kind, index[r.first], index[r.second], r.first, r.second) for r in rules
        )
        self._mandatory: tuple[_Mandatory, ...] = tuple(
            (
                args[index[name]].wire,
                name,
                {value: tuple((index[n], n) for n in needed) for value, needed in table.items()},
            )
            for name, table in (mandatory or {}).items()
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The Python names of the parameters, in the order :meth:`encode` takes them."""
        return tuple(arg.name for arg in self._args)

    def encode(self, *values: object) -> dict[str, str]:
        """The wire parameters of one call (``None`` values are not sent)."""
        if self._rules:
            self._check_rules(values)
        params: dict[str, str] = {}
        for (wire, name, encode, required), value in zip(self._args, values, strict=True):
            if value is not None:
                params[wire] = encode(value, name)
            elif required:
                raise ValidationError(f"{name} is required", param=name)
        for wire, decider, table in self._mandatory:
            needed = table.get(params.get(wire, ""))
            if needed is not None:
                for i, name in needed:
                    if values[i] is None:
                        raise ValidationError(
                            f"{name} is required when {decider}={params[wire]}", param=name
                        )
        return params

    def _check_rules(self, values: tuple[object, ...]) -> None:
        for kind, i, j, first, second in self._rules:
            a, b = values[i], values[j]
            if kind == "one_of":
                if a is None and b is None:
                    raise ValidationError(f"give {first} or {second}", param=first)
            elif kind == "exclusive":
                if a is not None and b is not None:
                    raise ValidationError(
                        f"{first} and {second} cannot be sent together", param=second
                    )
            elif a is not None and b is None:
                raise ValidationError(f"{second} is required with {first}", param=second)
