"""``binance_papi_async/models_generated/``: one frozen dataclass per response (per shape
when a request parameter picks the shape), a module per namespace, and a package
``__init__`` that loads them on first use."""

from __future__ import annotations

from dataclasses import dataclass, field

from .fields import SCALARS, FNode, field_doc, field_tree
from .spec import Op, Overrides, Shapes, pascal, singular, snake, summary_of
from .text import HEADER, docstring, module_docstring, wrap

MODELS_DIR = "binance_papi_async/models_generated"

CONVENTIONS = [
    "Typed results of the papi endpoints: one frozen, slotted dataclass per response.",
    "",
    "Generated from spec/papi/responses.json.  Conventions:",
    "",
    "* a field Binance always sends (responses.json ``required``) is typed without",
    '  ``None`` (``order_id: int``), unless its value may be empty (``null``, ``""``,',
    '  a time of ``0`` for "no time"): then it is ``X | None`` but still required;',
    "  every other field is ``X | None = None`` (``None`` when Binance does not send",
    "  it: it was removed, as ``cumQuote``/``avgPrice`` on order responses since",
    "  2026-07, or it belongs to another shape of the response);",
    "* where a request parameter picks the answer's shape (``newOrderRespType`` of",
    "  ``POST /papi/v1/margin/order``: ACK, RESULT, FULL), each shape has its model",
    "  (``NewMarginOrderAckResponse`` < ``...ResultResponse`` < ``...FullResponse``: a",
    "  larger shape extends the smaller one), and the method's overloads give the model",
    "  of the shape the arguments ask for;",
    "* ``raw`` keeps the parsed body, so fields Binance adds later are never lost;",
    "* values are read by the rules of :mod:`binance_papi_async._decode`, as the",
    "  hand-written models and the stream events are: amounts are exact ``Decimal``",
    "  (Binance's strings; JSON numbers only in the fields Binance sends as numbers);",
    "  ids are ``int`` (exact: nothing goes through float); times are aware UTC",
    "  ``datetime``; durations (``avgCostTimestampOfLast30d``) are ``timedelta``;",
    '  booleans are ``bool`` (the strings ``"true"``/``"false"`` too); enumerated',
    "  values are ``str`` (Binance's documented values are an open set);",
    "* ``FIELDS`` lists each field's wire key, reader and presence.  A read whose",
    "  answer lacks a required field, or holds a value of another shape, raises",
    "  ``UnexpectedResponseError`` naming the field; a write answered 2xx never fails",
    "  for a field: the result comes back with the fields that could not be decoded",
    "  ``None`` (whatever their annotation), their paths in ``undecoded`` and an",
    "  ``UndecodedFieldsWarning``, so a placed order is never reported as failed.",
    "",
    "The models live in one module per client namespace (``account``, ``margin``, ``um``,",
    "``cm``, ``user_stream``), and every one is importable from here.  They load on first",
    "use (PEP 562): importing this package builds none of them; ``RESPONSE_MODELS``",
    "(route -> model; the widest shape where there are several) loads them all.",
    "",
    "The four models of ``binance_papi_async.models`` (AccountInformation, AssetBalance,",
    "OrderRateLimit, RepayDebtResult) are not repeated here.",
]


@dataclass
class FieldOut:
    """One emitted field: wire key, Python name and annotation, the ``from_json``
    expression, the ``FIELDS`` entry, and whether it has a default (``= None``)."""

    key: str
    py: str
    annotation: str
    expr: str
    entry: str
    optional: bool


@dataclass
class ModelOut:
    lines: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    converters: set[str] = field(default_factory=set)
    fields_of: dict[str, list[FieldOut]] = field(default_factory=dict)
    uses: set[str] = field(default_factory=set)  # "partial", "datetime", "timedelta", ...


def _reader(out: ModelOut, node: FNode) -> tuple[str, str, str, str]:
    """(annotation, strict reader, reader of an empty value, container) of a leaf."""
    if node.type == "array":
        if node.meta.get("items") == "string":
            return "tuple[str, ...]", "to_strs", "to_strs_or_none", ""
        return "tuple[Any, ...]", "array", "array_or_none", ""
    if node.type == "object":
        return "Mapping[str, Any]", "mapping", "mapping_or_none", ""
    annotation, strict, empty = SCALARS[node.type]
    if annotation in ("datetime", "timedelta"):
        out.uses.add(annotation)
    return annotation, strict, empty, ""


def _nested(
    out: ModelOut, cls: str, key: str, child: FNode, op: Op
) -> tuple[str, str, str, str, str] | None:
    """(annotation, strict reader, reader of an empty value, container, model) of a
    nested model field (emitted first), or ``None`` for a leaf."""
    if child.map_of is not None:
        sub = cls + pascal(singular(key))
        emit_model(out, sub, child.map_of, [f"One entry of ``{key}`` (per symbol)."], op)
        ann = f"Mapping[str, tuple[{sub}, ...]]"
        return ann, "object_map", "object_map_or_none", "map", sub
    if child.type == "array" and child.children:
        sub = cls + pascal(singular(key))
        emit_model(out, sub, child, [f"One element of ``{key}``."], op)
        return f"tuple[{sub}, ...]", "objects", "objects_or_none", "objects", sub
    if child.type == "object" and child.children:
        sub = cls + pascal(key)
        emit_model(out, sub, child, [f"The ``{key}`` object."], op)
        return sub, "to_object", "object_or_none", "object", sub
    return None


def _field(out: ModelOut, cls: str, key: str, child: FNode, op: Op) -> FieldOut:
    """One field; nested models are emitted first."""
    py = snake(key)
    nested = _nested(out, cls, key, child, op)
    if nested is not None:
        annotation, strict, empty, container, sub = nested
        out.uses.add("partial")
    else:
        annotation, strict, empty, container = _reader(out, child)
        sub = ""
    required = child.required
    reader = strict if required and not child.may_be_empty else empty
    out.converters.add(reader)
    value = f'd["{key}"]' if required else f'd.get("{key}")'
    if sub:
        expr = f"{reader}({sub}.from_json, {value})"
        read = f"partial({reader}, {sub}.from_json)"
        extra = f', {sub}, "{container}"'
    else:
        expr, read, extra = f"{reader}({value})", reader, ""
    entry = f'Field("{py}", "{key}", {read}, {required}{extra})'
    if reader == empty:  # optional, or present but possibly empty
        annotation += " | None"
    return FieldOut(key, py, annotation, expr, entry, optional=not required)


def _model_doc(doc: list[str], notes: list[str], op: Op, top: bool) -> list[str]:
    body = list(doc)
    if top and op.resp.get("uncertain"):
        body += ["", "Uncertain shape: responses.json marks this response uncertain (see notes)."]
    if notes:
        body.append("")
        body.extend(notes)
    if top:
        for n in op.resp.get("notes", []):
            body.append("")
            body.extend(wrap(f"Note: {n}", 88))
    wrapped: list[str] = []
    for line in body:
        wrapped.extend(wrap(line, 88) if line else [""])
    return docstring(wrapped, "    ")


def emit_model(
    out: ModelOut,
    cls: str,
    node: FNode,
    doc: list[str],
    op: Op,
    top: bool = False,
    base: str | None = None,
) -> None:
    """The dataclass ``cls`` of ``node``'s fields (extending ``base``'s, if given)."""
    inherited = out.fields_of[base] if base else []
    known = {f.key for f in inherited}
    own: list[FieldOut] = []
    notes: list[str] = []
    for key, child in node.children.items():
        if key in known:
            continue
        fd = field_doc(child)
        if fd:
            notes.append(fd)
        own.append(_field(out, cls, key, child, op))
    every = inherited + own
    names = [f.py for f in every]
    if len(set(names)) != len(names) or {"raw", "undecoded", "FIELDS"} & set(names):
        raise SystemExit(f"{cls}: field name clash in {names}")
    if cls in out.names:
        raise SystemExit(f"duplicate model name {cls}")
    out.names.add(cls)
    out.fields_of[cls] = every
    lines = ["", "", "@dataclass(frozen=True, slots=True, kw_only=True)"]
    lines.append(f"class {cls}({base}):" if base else f"class {cls}:")
    lines.extend(_model_doc(doc, notes, op, top))
    lines.append("")
    lines.extend(f"    {f.py}: {f.annotation}" + (" = None" if f.optional else "") for f in own)
    if base is None:
        lines.append("    raw: Mapping[str, Any] = field(repr=False, compare=False)")
        lines.append(
            "    undecoded: tuple[str, ...] = field(default=(), repr=False, compare=False)"
        )
    lines.append("")
    lines.append("    FIELDS: ClassVar[tuple[Field, ...]] = (")
    lines.extend(f"        {f.entry}," for f in every)
    lines.append("    )")
    lines.append("")
    lines.append("    @classmethod")
    lines.append(f"    def from_json(cls, d: Mapping[str, Any]) -> {cls}:")
    args = "".join(f"{f.py}={f.expr}," for f in every)
    lines.append(f"        return cls({args}raw=d)")
    out.lines.extend(lines)


def _shape_doc(shapes: Shapes, values: tuple[str, ...]) -> str:
    """When the answer has this shape: the parameter's values, and the default rule."""
    when = " or ".join(values)
    text = f"with ``{shapes.param}`` {when}"
    if shapes.default in values:
        text += " (the default)"
    elif shapes.by is not None:
        by = [k for k, v in shapes.by_values.items() if v in values]
        if by:
            text += f" (the default for ``{shapes.by}`` {', '.join(by)})"
        elif shapes.otherwise in values:
            text += f" (the default for every other ``{shapes.by}``)"
    return text


def _op_models(out: ModelOut, o: Overrides, op: Op) -> None:
    r = op.raw
    what = "One element of the array returned by" if op.is_array else "Result of"
    head = f"{what} ``{r['method']} {r['path']}`` ({summary_of(r)})"
    if op.shapes is None:
        assert op.model_name is not None
        emit_model(out, op.model_name, field_tree(o, op), [head + "."], op, top=True)
        return
    for v in op.shapes.variants:
        doc = [f"{head}, {_shape_doc(op.shapes, v.values)}."]
        if v.base:
            doc += ["", f"Every field of :class:`{v.base}`, and more."]
        tree = field_tree(o, op, v.paths)
        emit_model(out, v.name, tree, doc, op, top=True, base=v.base)


def _namespace_models(o: Overrides, ns: str, ops: list[Op]) -> tuple[str, list[str]]:
    """The module text of one namespace's models, and their names."""
    out = ModelOut()
    for op in ops:
        if op.model_name is not None:
            _op_models(out, o, op)
    names = sorted(out.names)
    datetimes = sorted(out.uses & {"datetime", "timedelta"})
    head = [
        HEADER,
        "# ruff: noqa: E501, RUF001, RUF002",
        *module_docstring(
            [
                f"Typed results of ``client.{ns}``: {o.namespace_doc(ns)}",
                "",
                "See :mod:`binance_papi_async.models_generated` for the conventions.",
            ]
        ),
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping",
        "from dataclasses import dataclass, field",
        *([f"from datetime import {', '.join(datetimes)}"] if datetimes else []),
        "from decimal import Decimal",
        *(["from functools import partial"] if "partial" in out.uses else []),
        "from typing import Any, ClassVar",
        "",
        f"from .._decode import {', '.join(['Field', *sorted(out.converters)])}",
        "",
        "__all__ = [" + ", ".join(repr(n) for n in [*names, "RESPONSE_MODELS"]) + "]",
    ]
    index = [
        "",
        "",
        "# Route -> model of its response (of one element when the response is an array;",
        "# the widest shape where the request picks one).",
        "RESPONSE_MODELS: dict[str, type[Any]] = {",
        *(f'    "{op.key}": {op.model_name},' for op in ops if op.model_name is not None),
        "}",
    ]
    return "\n".join([*head, *out.lines, *index]) + "\n", names


def _package_init(homes: dict[str, str], modules: list[str]) -> str:
    names = sorted(homes)
    imports: list[str] = []
    for module in modules:
        mine = [n for n in names if homes[n] == module]
        imports.append(f"    from .{module} import {', '.join(mine)}")
    lines = [
        HEADER,
        "# ruff: noqa: E501",
        *module_docstring(CONVENTIONS),
        "",
        "from __future__ import annotations",
        "",
        "import importlib",
        "from typing import TYPE_CHECKING, Any",
        "",
        "from .._lazy import lazy_attributes",
        "",
        "if TYPE_CHECKING:",
        *imports,
        "",
        "    RESPONSE_MODELS: dict[str, type[Any]]",
        "",
        "__all__ = [" + ", ".join(repr(n) for n in ["RESPONSE_MODELS", *names]) + "]",
        "",
        "# Model -> the module that defines it.",
        "_HOMES: dict[str, str] = {" + "".join(f'"{n}": ".{homes[n]}",' for n in names) + "}",
        f"_MODULES = ({''.join(repr(m) + ', ' for m in modules)})",
        "",
        "",
        "def _response_models() -> dict[str, type[Any]]:",
        '    """Every route\'s model (this loads every module)."""',
        "    out: dict[str, type[Any]] = {}",
        "    for module in _MODULES:",
        '        out.update(importlib.import_module(f".{module}", __name__).RESPONSE_MODELS)',
        "    return out",
        "",
        "",
        "if not TYPE_CHECKING:",
        "    __getattr__, __dir__ = lazy_attributes(",
        '        __name__, _HOMES, {"RESPONSE_MODELS": _response_models}',
        "    )",
    ]
    return "\n".join(lines) + "\n"


def gen_models(ops: list[Op], o: Overrides) -> dict[str, str]:
    """File (relative to the repository) -> text, before formatting."""
    files: dict[str, str] = {}
    homes: dict[str, str] = {}
    modules: list[str] = []
    for ns in o.namespaces:
        mine = [op for op in ops if op.namespace == ns]
        if not any(op.model_name for op in mine):
            continue
        text, names = _namespace_models(o, ns, mine)
        files[f"{MODELS_DIR}/{ns}.py"] = text
        homes.update(dict.fromkeys(names, ns))
        modules.append(ns)
    files[f"{MODELS_DIR}/__init__.py"] = _package_init(homes, modules)
    return files
