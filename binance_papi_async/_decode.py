"""JSON values to Python values: the one set of rules for REST results and stream events.

Every typed result (``models``, ``models_generated``) and every user-stream event
(``stream_events``) reads its fields through these functions, so a value means the same
thing wherever it arrives.  The rules, chosen for an engine that trades on the numbers:

* **Exact or an error, never a guess.**  A value of the wrong shape raises
  :class:`DecodeError` (a ``ValueError``); nothing is rounded, truncated or defaulted
  behind the caller's back.  What happens then depends on what was decoded (below).
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
duration  Milliseconds (an *integer* >= 0) that measure a length of time, not a point
          in it (``avgCostTimestampOfLast30d``), as an exact ``timedelta``.
text      A JSON string as is (``""`` stays ``""``: it is a value for a string), or a
          JSON integer as its digits (ids Binance sends either way).  Floats, bools,
          arrays and objects are errors.
========  ==============================================================================

The ``*_or_none`` functions give ``None`` for a missing value (``None``, and ``""``
except for text); the others raise for it, for fields an event or result cannot lack.
Containers: ``objects`` / ``object_or_none`` parse nested objects with a model's
``from_json``; an element that is not an object is an error, never skipped.

Fields a result must have
-------------------------
A REST model lists its fields in ``FIELDS`` (:class:`Field`: attribute, wire key, the
reader above, whether Binance always sends the key: responses.json ``required``).  A
required field is typed without ``None`` (``order.order_id: int``) unless the value
itself may be empty (``"goodTillDate": 0``, a ``""`` amount, a ``null``).  The methods
decode an answer with one of two parsers, by what the call did:

* **a read** (:func:`reading`, :func:`reading_many`): an answer that lacks a required
  field, or has a value of the wrong shape, is a :class:`FieldError` naming the field
  (``fills[0].price``); the call raises ``UnexpectedResponseError`` with that text and
  the raw body.  Nothing was changed on Binance: reading again is safe.
* **a write** (:func:`writing`, :func:`writing_many`): Binance answered 2xx, so the
  order was placed (the money moved): a JSON object is never turned into an error.
  The fields that cannot be decoded are ``None`` (whatever their annotation says),
  their paths are in the result's ``undecoded`` and an :class:`UndecodedFieldsWarning`
  says so; the body is in ``raw``.  A body that is not a JSON object (a proxy's page),
  or is a Binance error object (``{"code": -1007, "msg": ...}``) sent with a 2xx, is no
  answer to decode: the call raises ``ExecutionStatusUnknown``.

The common path of both is the model's generated ``from_json`` (straight-line code);
``FIELDS`` is walked only when it fails, to name the field or to keep the others.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, NamedTuple, Protocol, TypeVar

from .errors import UndecodedFieldsWarning

__all__ = [
    "EPOCH",
    "MAX_MS",
    "DecodeError",
    "Field",
    "FieldError",
    "Model",
    "array",
    "array_or_none",
    "decode_tolerantly",
    "many",
    "mapping",
    "mapping_or_none",
    "ms_to_datetime",
    "object_map",
    "object_map_or_none",
    "object_or_none",
    "objects",
    "objects_or_none",
    "reading",
    "reading_many",
    "shape_problem",
    "to_bool",
    "to_bool_or_none",
    "to_decimal",
    "to_decimal_or_none",
    "to_duration",
    "to_duration_or_none",
    "to_int",
    "to_int_or_none",
    "to_number",
    "to_number_or_none",
    "to_object",
    "to_str",
    "to_str_or_none",
    "to_strs",
    "to_strs_or_none",
    "to_time",
    "to_time_or_none",
    "writing",
    "writing_many",
]

_T = TypeVar("_T")

#: 1970-01-01T00:00:00Z, the origin of Binance's epoch milliseconds.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)
#: The largest epoch millisecond a ``datetime`` can hold (9999-12-31T23:59:59.999Z).
MAX_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc) - EPOCH) // _ONE_MS
_DIGITS = frozenset("0123456789")


class DecodeError(ValueError):
    """A JSON value of the wrong shape for its rule: ``expected`` says what the rule reads,
    ``got`` the JSON type found (the message also shows the start of the value)."""

    def __init__(self, expected: str, value: object) -> None:
        self.expected = expected
        self.got = type(value).__name__
        super().__init__(f"expected {expected}, got {self.got} {value!r:.60}")


def _bad(kind: str, value: object) -> DecodeError:
    return DecodeError(kind, value)


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


def to_number(value: Any) -> Decimal:
    """:func:`to_decimal`, and a JSON float through its shortest ``repr``."""
    number = to_number_or_none(value)
    if number is None:
        raise _bad("a number", value)
    return number


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


# -- duration ---------------------------------------------------------------------------------


def to_duration(value: Any) -> timedelta:
    """Milliseconds (an integer >= 0, see :func:`to_int`) as an exact ``timedelta``."""
    ms = to_int(value)
    if ms < 0:
        raise _bad("a duration in milliseconds (>= 0)", value)
    return _ONE_MS * ms


def to_duration_or_none(value: Any) -> timedelta | None:
    """:func:`to_duration`, or ``None`` for ``null`` or ``""``."""
    if value is None or value == "":
        return None
    return to_duration(value)


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


def array(value: Any) -> tuple[Any, ...]:
    """A JSON array of anything, as a tuple of the decoded JSON (``null`` gives ``()``)."""
    if value is None:
        return ()
    if type(value) is not list:
        raise _bad("an array", value)
    return tuple(value)


def mapping(value: Any) -> Mapping[str, Any]:
    """A JSON object kept as decoded."""
    if isinstance(value, Mapping):
        return value
    raise _bad("an object", value)


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


def to_object(parse: Callable[[Mapping[str, Any]], _T], value: Any) -> _T:
    """A nested JSON object read by ``parse`` (``null`` is an error)."""
    return _object(parse, value)


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


def object_map(
    parse: Callable[[Mapping[str, Any]], _T], value: Any
) -> Mapping[str, tuple[_T, ...]]:
    """A JSON object of arrays of objects keyed by e.g. a symbol (``null`` is an error)."""
    if not isinstance(value, Mapping):
        raise _bad("an object", value)
    return {key: objects(parse, items) for key, items in value.items()}


def object_map_or_none(
    parse: Callable[[Mapping[str, Any]], _T], value: Any
) -> Mapping[str, tuple[_T, ...]] | None:
    """:func:`object_map`, or ``None`` for ``null``."""
    return None if value is None else object_map(parse, value)


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


# -- models: required fields, reads and writes ------------------------------------------------

_READ_ERRORS = (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError)


class Field(NamedTuple):
    """One field of a model, for the parsers below (the generated ``FIELDS`` tables).

    ``read`` is the reader ``from_json`` applies to the value (e.g. :func:`to_int`, or
    :func:`to_time_or_none` where ``0`` means "no time"); ``required``: Binance always
    sends the key.  A nested object, array of objects or map of arrays of objects
    (``container`` ``"object"``, ``"objects"``, ``"map"``) names its model in ``nested``.
    """

    name: str
    key: str
    read: Callable[[Any], Any]
    required: bool = False
    nested: type[Any] | None = None
    container: str = ""


class Model(Protocol):
    """What the parsers need of a model class (every generated and hand-written REST model)."""

    FIELDS: ClassVar[tuple[Field, ...]]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Any: ...


_M = TypeVar("_M", bound=Model)


class FieldError(ValueError):
    """Fields of an answer that could not be decoded: ``problems`` lists ``(path, why)``
    (``("orderId", "missing")``, ``("fills[0].price", "expected a decimal string, got
    float")``); the message names them all.  No value is quoted (a body can hold a listen
    key): the raw body travels with the error that carries this text."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        self.paths = tuple(path for path, _ in problems)
        super().__init__("; ".join(f"field {path}: {why}" for path, why in problems))


def _why(exc: BaseException) -> str:
    if isinstance(exc, DecodeError):
        return f"expected {exc.expected}, got {exc.got}"
    return f"cannot be read ({type(exc).__name__})"


def _tolerant(model: type[Any], d: Mapping[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    """``model`` from ``d`` field by field: a field that cannot be decoded is ``None`` and
    reported as ``(path, why)`` (nested objects and arrays are decoded the same way)."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for f in model.FIELDS:
        if f.key not in d and f.required:
            values[f.name] = None
            problems.append((f.key, "missing"))
            continue
        value = d.get(f.key)  # an optional key that is absent reads as from_json reads it
        if f.nested is not None and value is not None:
            values[f.name] = _tolerant_nested(f, value, problems)
            continue
        try:
            values[f.name] = f.read(value)
        except _READ_ERRORS as exc:
            values[f.name] = None
            problems.append((f.key, _why(exc)))
    paths = tuple(path for path, _ in problems)
    return model(**values, raw=d, undecoded=paths), problems


def _tolerant_items(
    model: type[Any], items: Any, path: str, problems: list[tuple[str, str]]
) -> tuple[Any, ...] | None:
    if type(items) is not list:
        problems.append((path, _why(_bad("an array", items))))
        return None
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.append((f"{path}[{i}]", _why(_bad("an object", item))))
            continue
        obj, inner = _tolerant(model, item)
        problems.extend((f"{path}[{i}].{p}", why) for p, why in inner)
        out.append(obj)
    return tuple(out)


def _tolerant_nested(f: Field, value: Any, problems: list[tuple[str, str]]) -> Any:
    model = f.nested
    assert model is not None
    if f.container == "objects":
        return _tolerant_items(model, value, f.key, problems)
    if not isinstance(value, Mapping):
        problems.append((f.key, _why(_bad("an object", value))))
        return None
    if f.container == "map":
        return {k: _tolerant_items(model, v, f"{f.key}.{k}", problems) for k, v in value.items()}
    obj, inner = _tolerant(model, value)
    problems.extend((f"{f.key}.{p}", why) for p, why in inner)
    return obj


def _error_object(data: Mapping[str, Any]) -> ValueError | None:
    """A Binance error object (``{"code": -1007, "msg": ...}``) sent with a 2xx status:
    never a result (a successful answer's ``code``, where it has one, is not negative)."""
    code = data.get("code")
    if type(code) is int and code < 0 and "msg" in data:
        return ValueError(f"a Binance error object (code {code}) with a success status")
    return None


def _read_failure(model: type[Any], data: Any, prefix: str = "") -> ValueError:
    """Why ``model.from_json(data)`` failed: a :class:`FieldError` naming the fields."""
    if not isinstance(data, Mapping):
        return _bad("an object", data)
    error = _error_object(data)
    if error is not None:
        return error
    _, problems = _tolerant(model, data)
    if not problems:  # from_json and FIELDS disagree: never expected
        return ValueError(f"{model.__name__} could not be decoded")
    return FieldError([(prefix + path, why) for path, why in problems])


def reading(model: type[_M]) -> Callable[[Any], _M]:
    """The parser of a read's answer: ``model.from_json``, and on failure a
    :class:`FieldError` naming every field that is missing or malformed."""
    from_json = model.from_json

    def parse(data: Any) -> _M:
        try:
            return from_json(data)  # type: ignore[no-any-return]
        except _READ_ERRORS:
            raise _read_failure(model, data) from None

    return parse


def reading_many(model: type[_M]) -> Callable[[Any], tuple[_M, ...]]:
    """:func:`reading` for an answer that is a JSON array of objects (anything but an
    array, ``null`` included, is an error: a list that is not there is not empty)."""
    from_json = model.from_json

    def parse(data: Any) -> tuple[_M, ...]:
        if type(data) is not list:
            raise _bad("an array", data)
        try:
            return tuple(from_json(item) for item in data)
        except _READ_ERRORS:
            pass
        for i, item in enumerate(data):
            if not isinstance(item, Mapping):
                raise FieldError([(f"[{i}]", _why(_bad("an object", item)))])
            try:
                from_json(item)
            except _READ_ERRORS:
                raise _read_failure(model, item, f"[{i}].") from None
        raise ValueError(f"{model.__name__} could not be decoded")  # pragma: no cover

    return parse


def decode_tolerantly(model: type[_M], data: Mapping[str, Any], route: str) -> _M:
    """``model`` from a write's answer whatever its fields hold: those that cannot be
    decoded are ``None`` and listed in ``undecoded``, and an
    :class:`UndecodedFieldsWarning` names them (``route`` says which call)."""
    obj, problems = _tolerant(model, data)
    if problems:
        listed = ", ".join(f"{path} ({why})" for path, why in problems)
        warnings.warn(
            UndecodedFieldsWarning(
                f"{route} answered with fields that could not be decoded: {listed}. "
                "The call was applied: the result is returned with these fields None "
                "(see its undecoded) and the whole body in its raw."
            ),
            stacklevel=2,
        )
    return obj  # type: ignore[no-any-return]


def writing(model: type[_M], route: str) -> Callable[[Any], _M]:
    """The parser of a write's answer: ``model.from_json``, or, when a field cannot be
    decoded, :func:`decode_tolerantly` (a JSON object never fails; anything else does)."""
    from_json = model.from_json

    def parse(data: Any) -> _M:
        try:
            return from_json(data)  # type: ignore[no-any-return]
        except _READ_ERRORS:
            if not isinstance(data, Mapping):
                raise _bad("an object", data) from None
            error = _error_object(data)
            if error is not None:  # not an answer to decode: the outcome is unknown
                raise error from None
        return decode_tolerantly(model, data, route)

    return parse


def writing_many(model: type[_M], route: str) -> Callable[[Any], tuple[_M, ...]]:
    """:func:`writing` for an answer that is a JSON array of objects (an element that is
    not an object, or a body that is not an array, fails)."""
    one = writing(model, route)

    def parse(data: Any) -> tuple[_M, ...]:
        if type(data) is not list:
            raise _bad("an array", data)
        return tuple(one(item) for item in data)

    return parse


def shape_problem(exc: BaseException) -> str:
    """The text an error about an unreadable 2xx body carries: what did not decode."""
    if type(exc) in (FieldError, DecodeError, ValueError):
        return f"a body of an unexpected shape: {exc}"
    return "a body of an unexpected shape"
