"""``binance_papi_async/models_generated/``: one frozen dataclass per response, a module per
namespace, and a package ``__init__`` that loads them on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .spec import Op, Overrides, pascal, singular, snake, summary_of
from .text import HEADER, docstring, module_docstring, wrap

MODELS_DIR = "binance_papi_async/models_generated"

CONVENTIONS = [
    "Typed results of the papi endpoints: one frozen, slotted dataclass per response.",
    "",
    "Generated from spec/papi/responses.json.  Conventions:",
    "",
    "* every field may be ``None``: a field Binance does not send (it was removed, as",
    "  ``cumQuote``/``avgPrice`` on order responses since 2026-07, or it belongs to",
    "  another variant of the response) is ``None``, never an error;",
    "* ``raw`` keeps the parsed body, so fields Binance adds later are never lost;",
    "* values are read by the rules of :mod:`binance_papi_async._decode`, as the",
    "  hand-written models and the stream events are: amounts are exact ``Decimal``",
    "  (Binance's strings; JSON numbers only in the fields Binance sends as numbers;",
    '  ``""`` is ``None``); ids are ``int`` (exact: nothing goes through float); times',
    '  are aware UTC ``datetime`` (``0`` and ``-1``, Binance\'s "none", are ``None``);',
    '  booleans are ``bool`` (the strings ``"true"``/``"false"`` too).  A value of',
    "  another shape is an error (the call raises a typed error with the raw body),",
    "  never a guess.",
    "",
    "The models live in one module per client namespace (``account``, ``margin``, ``um``,",
    "``cm``, ``user_stream``), and every one is importable from here.  They load on first",
    "use (PEP 562): importing this package builds none of them; ``RESPONSE_MODELS``",
    "(route -> model) loads them all.",
    "",
    "The four models of ``binance_papi_async.models`` (AccountInformation, AssetBalance,",
    "OrderRateLimit, RepayDebtResult) are not repeated here.",
]

# responses.json type -> (annotation, converter of binance_papi_async._decode)
_SCALARS = {
    "string": ("str", "to_str_or_none"),
    "string-decimal": ("Decimal", "to_decimal_or_none"),
    "number": ("Decimal", "to_number_or_none"),
    "long-ms-time": ("datetime", "to_time_or_none"),
    "long": ("int", "to_int_or_none"),
    "int": ("int", "to_int_or_none"),
    "string-int": ("int", "to_int_or_none"),
    "bool": ("bool", "to_bool_or_none"),
    "string-bool": ("bool", "to_bool_or_none"),
}


@dataclass
class FNode:
    key: str
    type: str = "object"
    note: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    children: dict[str, FNode] = field(default_factory=dict)
    map_of: FNode | None = None


def field_tree(o: Overrides, op: Op) -> FNode:
    """The response's fields (``a.b[].c`` paths of responses.json) as a tree."""
    types = o.by("field_type_overrides", "by_route").get(op.key, {})
    root = FNode("")
    for path, spec in op.resp["fields"].items():
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
                child.note = spec.get("note", "")
                child.meta.update({k: v for k, v in spec.items() if k not in ("type", "note")})
            node = child
    for fpath, stand_in in o.by("map_fields", "by_route").get(op.key, {}).items():
        node = root.children[fpath]
        node.map_of = node.children[stand_in]
        node.children = {}
    return root


@dataclass
class ModelOut:
    lines: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    converters: set[str] = field(default_factory=set)


def field_doc(node: FNode) -> str | None:
    bits = []
    if node.meta.get("removed"):
        bits.append("removed by Binance (still in the doc example): expect None")
    if node.meta.get("nullable"):
        bits.append("may be null")
    if "only_in_variant" in node.meta:
        bits.append(f"only in the variant: {node.meta['only_in_variant']}")
    if node.meta.get("in_doc_example") is False:
        bits.append("not in the doc example (from the official SDK)")
    if not bits:
        return None
    return f"``{node.key}``: " + "; ".join(bits) + "."


def _field(out: ModelOut, cls: str, key: str, child: FNode, op: Op) -> tuple[str, str]:
    """(annotation, converter expression) of one field; nested models are emitted first."""
    expr = f'd.get("{key}")'
    if child.map_of is not None:
        sub = cls + pascal(singular(key))
        emit_model(out, sub, child.map_of, [f"One entry of ``{key}`` (per symbol)."], op)
        out.converters.add("object_map_or_none")
        return f"Mapping[str, tuple[{sub}, ...]]", f"object_map_or_none({sub}.from_json, {expr})"
    if child.type == "array" and child.children:
        sub = cls + pascal(singular(key))
        emit_model(out, sub, child, [f"One element of ``{key}``."], op)
        out.converters.add("objects_or_none")
        return f"tuple[{sub}, ...]", f"objects_or_none({sub}.from_json, {expr})"
    if child.type == "object" and child.children:
        sub = cls + pascal(key)
        emit_model(out, sub, child, [f"The ``{key}`` object."], op)
        out.converters.add("object_or_none")
        return sub, f"object_or_none({sub}.from_json, {expr})"
    if child.type == "array":
        ann, conv = (
            ("tuple[str, ...]", "to_strs_or_none")
            if child.meta.get("items") == "string"
            else ("tuple[Any, ...]", "array_or_none")
        )
    elif child.type == "object":
        ann, conv = "Mapping[str, Any]", "mapping_or_none"
    else:
        ann, conv = _SCALARS[child.type]
    out.converters.add(conv)
    return ann, f"{conv}({expr})"


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
    out: ModelOut, cls: str, node: FNode, doc: list[str], op: Op, top: bool = False
) -> None:
    fields: list[tuple[str, str, str]] = []  # (py name, annotation, converter expression)
    notes: list[str] = []
    for key, child in node.children.items():
        py = snake(key)
        if py == "raw" or any(py == f[0] for f in fields):
            raise SystemExit(f"{cls}: field name clash {py}")
        fd = field_doc(child)
        if fd:
            notes.append(fd)
        fields.append((py, *_field(out, cls, key, child, op)))
    if cls in out.names:
        raise SystemExit(f"duplicate model name {cls}")
    out.names.add(cls)
    lines = ["", "", "@dataclass(frozen=True, slots=True, kw_only=True)", f"class {cls}:"]
    lines.extend(_model_doc(doc, notes, op, top))
    lines.append("")
    lines.extend(f"    {py}: {ann} | None = None" for py, ann, _ in fields)
    lines.append("    raw: Mapping[str, Any] = field(repr=False, compare=False)")
    lines.append("")
    lines.append("    @classmethod")
    lines.append(f"    def from_json(cls, d: Mapping[str, Any]) -> {cls}:")
    args = "".join(f"{py}={conv}," for py, _, conv in fields)
    lines.append(f"        return cls({args}raw=d)")
    out.lines.extend(lines)


def _namespace_models(o: Overrides, ns: str, ops: list[Op]) -> tuple[str, list[str]]:
    """The module text of one namespace's models, and their names."""
    out = ModelOut()
    for op in ops:
        name = op.model_name
        if name is None:
            continue
        r = op.raw
        what = "One element of the array returned by" if op.is_array else "Result of"
        doc = [f"{what} ``{r['method']} {r['path']}`` ({summary_of(r)})."]
        emit_model(out, name, field_tree(o, op), doc, op, top=True)
    names = sorted(out.names)
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
        "from datetime import datetime",
        "from decimal import Decimal",
        "from typing import Any",
        "",
        f"from .._decode import {', '.join(sorted(out.converters))}",
        "",
        "__all__ = [" + ", ".join(repr(n) for n in [*names, "RESPONSE_MODELS"]) + "]",
    ]
    index = [
        "",
        "",
        "# Route -> model of its response (of one element when the response is an array).",
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
