"""The fields of a response as the models see them: a tree of ``responses.json`` paths,
each with its Python type and the :mod:`binance_papi_async._decode` reader of its value.

Typing rules (one place; spec/papi/SOURCE.md documents the keys they read):

* a field Binance always sends (``required``) is typed without ``None``, unless the value
  itself may be empty: ``nullable``, an example showing ``null`` (or ``""`` for a
  non-text field), or a time Binance sets to ``0`` for "no time" (an example showing
  ``0``/``-1``, or a note saying "0 if ..." / "(0: ...)"); such a field is present but
  ``X | None``, with no default;
* any other field is ``X | None = None``;
* ``duration_ms`` integers are ``timedelta``; ``long-ms-time`` fields are ``datetime``;
  amounts are ``Decimal``; enumerated values stay ``str`` (responses.json's ``enum`` is an
  open set: a value Binance adds later is kept, so a ``Literal`` would be a lie).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .spec import Op, Overrides

# responses.json type -> (annotation, reader of a value that must be there, reader of one
# that may be empty)
SCALARS = {
    "string": ("str", "to_str", "to_str_or_none"),
    "string-decimal": ("Decimal", "to_decimal", "to_decimal_or_none"),
    "number": ("Decimal", "to_number", "to_number_or_none"),
    "long-ms-time": ("datetime", "to_time", "to_time_or_none"),
    "long": ("int", "to_int", "to_int_or_none"),
    "int": ("int", "to_int", "to_int_or_none"),
    "string-int": ("int", "to_int", "to_int_or_none"),
    "bool": ("bool", "to_bool", "to_bool_or_none"),
    "string-bool": ("bool", "to_bool", "to_bool_or_none"),
    "duration": ("timedelta", "to_duration", "to_duration_or_none"),
}

# "(ms; 0 if not triggered)", "(0: not GTD)": the field holds 0 when there is no time.
_NO_TIME_NOTE = re.compile(r"(?<![\w.])0 (?:if|when)\b|\(0:|(?<![\w.])0: ")


@dataclass
class FNode:
    """One field (or the root): its key, type, meta from responses.json, children."""

    key: str
    type: str = "object"
    note: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    children: dict[str, FNode] = field(default_factory=dict)
    map_of: FNode | None = None
    examples: list[Any] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return bool(self.meta.get("required"))

    @property
    def may_be_empty(self) -> bool:
        """A value Binance sends that decodes to ``None`` (null, ``""``, a 0 time)."""
        if self.meta.get("nullable") or any(v is None for v in self.examples):
            return True
        if self.type != "string" and "" in self.examples:
            return True
        if self.type == "long-ms-time":
            zero = any(type(v) in (int, str) and v in (0, -1, "0", "-1") for v in self.examples)
            return zero or bool(_NO_TIME_NOTE.search(self.note))
        return False


def _walk(value: Any, path: str, out: dict[str, list[Any]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _walk(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list):
        out.setdefault(path, []).append(value)
        for v in value:
            _walk(v, f"{path}[]" if path else "", out)
    else:
        out.setdefault(path, []).append(value)


def example_values(op: Op) -> dict[str, list[Any]]:
    """Every value the doc examples (and their variants) show, by field path."""
    out: dict[str, list[Any]] = {}
    bodies = [op.resp.get("example")] + [a["example"] for a in op.resp.get("alt_examples") or []]
    for body in bodies:
        for item in body if isinstance(body, list) else [body]:
            _walk(item, "", out)
    return out


def field_tree(o: Overrides, op: Op, paths: frozenset[str] | None = None) -> FNode:
    """The response's fields (``a.b[].c`` paths of responses.json) as a tree; only
    ``paths`` when given (one shape of the answer)."""
    types = o.by("field_type_overrides", "by_route").get(op.key, {})
    examples = example_values(op)
    root = FNode("")
    for path, spec in op.resp["fields"].items():
        if paths is not None and path not in paths:
            continue
        node = root
        segments = path.split(".")
        for i, seg in enumerate(segments):
            array = seg.endswith("[]")
            key = seg[:-2] if array else seg
            child = node.children.get(key)
            if child is None:
                child = FNode(key, type="array" if array else "object")
                if array:
                    child.meta["items"] = "object"
                node.children[key] = child
            if i == len(segments) - 1:
                child.type = types.get(path, spec["type"])
                if spec.get("duration_ms"):
                    child.type = "duration"
                child.note = spec.get("note", "")
                child.meta.update({k: v for k, v in spec.items() if k not in ("type", "note")})
                child.examples = examples.get(path, [])
            node = child
    for fpath, stand_in in o.by("map_fields", "by_route").get(op.key, {}).items():
        node = root.children[fpath]
        node.map_of = node.children[stand_in]
        node.children = {}
    return root


def field_doc(node: FNode) -> str | None:
    """The model docstring's line about a field, when there is something to say."""
    bits = []
    if node.meta.get("removed"):
        bits.append("removed by Binance (still in the doc example): expect None")
    if node.meta.get("nullable"):
        bits.append("may be null")
    if "only_in_variant" in node.meta:
        bits.append(f"only in the variant: {node.meta['only_in_variant']}")
    if node.meta.get("in_doc_example") is False:
        bits.append("not in the doc example (from the official SDK)")
    if node.type == "duration":
        bits.append("a duration (milliseconds on the wire), as a timedelta")
    if not bits:
        return None
    return f"``{node.key}``: " + "; ".join(bits) + "."
