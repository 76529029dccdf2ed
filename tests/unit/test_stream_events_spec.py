"""The typed user-stream events against spec/papi/user_stream.json.

For every event of the spec a payload is built with a distinct value in every field; the
event must decode to its class (never ``UnknownEvent``), every value must land in a typed
attribute (not only in ``raw``), a field the spec calls optional may be absent, and a
field Binance always sends is typed without ``None`` unless its value may be empty (a
time, where ``0`` is "no time", or a field the spec marks ``nullable``).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import typing
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from binance_papi_async.stream_events import KNOWN_EVENT_TYPES, UnknownEvent, parse_event

SPEC = Path(__file__).resolve().parents[2] / "spec" / "papi" / "user_stream.json"
EVENTS: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))["events"]


def _value(kind: str, n: int) -> Any:
    """A value of ``kind`` that no other field of the payload holds."""
    return {
        "string": f"text-{n}",
        "string-decimal": f"{n}.{n:04d}1",
        "long": 7_000_000_000 + n,
        "int": 300 + n,
        "long-ms-time": 1_700_000_000_000 + n * 1000,
        "bool": n % 2 == 0,
    }[kind]


def _decoded(kind: str, value: Any) -> Any:
    """What the decoder makes of ``value`` (the thing to look for in the event)."""
    if kind == "string-decimal":
        return Decimal(value)
    if kind == "long-ms-time":
        return datetime.fromtimestamp(value / 1000, tz=datetime.now().astimezone().tzinfo)
    return value


def payload(event: str, optional: bool) -> tuple[dict[str, Any], dict[str, tuple[str, Any]]]:
    """The event's frame (``optional``: with the fields the spec calls optional) and, by
    field path, its kind and the value sent."""
    counter = itertools.count(1)
    frame: dict[str, Any] = {"e": event}
    sent: dict[str, tuple[str, Any]] = {}
    for path, spec in EVENTS[event]["fields"].items():
        if not optional and not spec["required"]:
            continue
        if spec["type"] in ("object", "array"):
            continue  # built from their fields' paths
        node: Any = frame
        parts = path.split(".")
        for part in parts[:-1]:
            if part.endswith("[]"):
                node = node.setdefault(part[:-2], [{}])[0]
            else:
                node = node.setdefault(part, {})
        value = _value(spec["type"], next(counter))
        node[parts[-1]] = value
        sent[path] = (spec["type"], value)
    for path, spec in EVENTS[event]["fields"].items():  # containers without a sent field
        if spec["type"] == "array" and (optional or spec["required"]) and "." not in path:
            frame.setdefault(path, [])
    return frame, sent


def _attributes(obj: Any) -> Iterator[tuple[Any, str, Any]]:
    """(owner, attribute, value) of every typed attribute, through nested events."""
    if not dataclasses.is_dataclass(obj):
        return
    for f in dataclasses.fields(obj):
        if f.name == "raw":
            continue
        value = getattr(obj, f.name)
        yield obj, f.name, value
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            yield from _attributes(item)


def _holder(event: Any, kind: str, value: Any) -> tuple[Any, str] | None:
    for owner, name, attr in _attributes(event):
        if kind == "long-ms-time":
            if isinstance(attr, datetime) and int(attr.timestamp() * 1000) == value:
                return owner, name
        elif kind == "string-decimal":
            if isinstance(attr, Decimal) and attr == Decimal(value):
                return owner, name
        elif type(attr) is type(value) and attr == value:
            return owner, name
    return None


def test_every_event_of_the_spec_has_a_class() -> None:
    assert set(EVENTS) <= KNOWN_EVENT_TYPES


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_field_is_typed(event: str) -> None:
    frame, sent = payload(event, optional=True)
    parsed = parse_event(frame)
    assert not isinstance(parsed, UnknownEvent), parsed.error
    for path, (kind, value) in sent.items():
        if kind == "bool":
            continue  # not a distinct value; the annotations test covers it
        assert _holder(parsed, kind, value) is not None, f"{event}.{path} is only in raw"


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_optional_fields_may_be_absent(event: str) -> None:
    frame, _ = payload(event, optional=False)
    parsed = parse_event(frame)
    assert not isinstance(parsed, UnknownEvent), parsed.error


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_fields_binance_always_sends_are_not_optional(event: str) -> None:
    frame, sent = payload(event, optional=True)
    parsed = parse_event(frame)
    for path, (kind, value) in sent.items():
        spec = EVENTS[event]["fields"][path]
        if not spec["required"] or spec.get("nullable") or kind in ("long-ms-time", "bool"):
            continue
        found = _holder(parsed, kind, value)
        assert found is not None
        owner, name = found
        hint = typing.get_type_hints(type(owner))[name]
        assert type(None) not in typing.get_args(hint), f"{event}.{path}: {name} is {hint}"
