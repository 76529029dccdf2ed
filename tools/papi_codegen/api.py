"""``binance_papi_async/api/_generated/``: one namespace base class per module, one typed
coroutine per operation, and ``METHODS`` (operation -> client attribute and method)."""

from __future__ import annotations

import json

from .spec import (
    Op,
    Overrides,
    Shapes,
    charges_rule,
    charges_text,
    order_count,
    pascal,
    rule_text,
    snake,
    summary_of,
)
from .text import HEADER, docstring, module_docstring, wrap

API_DIR = "binance_papi_async/api/_generated"

_RULE_FACTORY = {"one_of": "one_of", "exclusive": "exclusive", "requires": "requires"}
_SIGNING = ("timestamp", "signature")


def base_class(ns: str) -> str:
    return f"{pascal(ns)}APIBase"


def _charge_lines(op: Op) -> list[str]:
    r = op.raw
    charge = f"Charges {charges_text(op)}"
    if r["weight_kind"] == "ORDER":
        charge += ' (page: "Request Weight(Order)")'
    elif order_count(r):
        charge += " (places/amends orders: also counted on the order budget)"
    lines = [charge + "."]
    if "weight_note" in r:
        lines.append(
            f"Weight varies: {r['weight_note']} (the limiter charges what the arguments cost)."
        )
    return lines


def _shape_lines(op: Op) -> list[str]:
    shapes = op.shapes
    if shapes is None:
        return []
    by_value = ", ".join(f"{'/'.join(v.values)}: :class:`{v.name}`" for v in shapes.variants)
    text = f"The result's type follows ``{snake(shapes.param)}`` ({by_value}); without it, "
    if shapes.by is None:
        text += f"{shapes.default}."
    else:
        named = ", ".join(f"{k} gives {v}" for k, v in shapes.by_values.items())
        text += f"``{snake(shapes.by)}`` decides: {named}, any other {shapes.otherwise}."
    return ["", *wrap(text, 88)]


def method_doc(op: Op) -> list[str]:
    r = op.raw
    lines = [f"{summary_of(r)}: ``{r['method']} {r['path']}`` ({r['security']}).", ""]
    if op.account_note:
        lines += [*wrap(op.account_note + f" Effective {r['since']}." * bool(r.get("since")))]
        lines.append("")
    lines += _charge_lines(op)
    args = [p for p in op.args if p.name != "recvWindow"]
    if args or op.open_params:
        lines += ["", "Args:"]
        for p in args:
            req = "required" if p.required else "optional"
            text = f"{p.py} (``{p.name}``, {p.type}, {req})"
            note = p.described
            if note:
                text += f": {note}"
            lines.extend(wrap(text, 84, "    ", "        "))
        if op.open_params:
            text = f"extra_params: more parameters, by Binance's names; {op.open_params}"
            lines.extend(wrap(text, 84, "    ", "        "))
    if op.rules or op.mandatory:
        lines += ["", "Checked before sending (ValidationError naming the parameter):"]
        lines.extend(f"    * {rule_text(kind, snake(a), snake(b))}" for kind, a, b in op.rules)
        for decider, table in op.mandatory.items():
            for value, needed in table.items():
                lines.append(
                    f"    * {snake(decider)}={value} needs " + ", ".join(snake(n) for n in needed)
                )
    lines += _shape_lines(op)
    if op.untyped:
        lines += ["", *wrap("Returns the decoded JSON object: no page documents the answer.")]
    notes = [str(n) for n in r.get("notes", [])]
    if notes:
        lines += ["", "Notes from the endpoint's page:"]
        for n in notes:
            lines.extend(wrap(f"* {n}", 84, "    ", "      "))
    for n in r.get("uncertain_notes", []):
        lines += ["", *wrap(f"Uncertain: {n}", 88)]
    return lines


def _encoded_order(op: Op) -> list[str]:
    """The Python names in the order the method passes them to ``Arguments.encode``."""
    args = op.args
    return [p.py for p in args if p.name != "recvWindow"] + [
        p.py for p in args if p.name == "recvWindow"
    ]


def arguments_name(op: Op) -> str:
    return f"_{op.method_name.upper()}"


def _tuple(names: list[str]) -> str:
    items = [f'"{snake(n)}"' for n in names]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def arguments_decl(op: Op) -> list[str]:
    """``_NEW_ORDER = Arguments(Arg(...), ..., rules=..., mandatory=...)``."""
    by_py = {p.py: p for p in op.args}
    items = []
    for py in _encoded_order(op):
        p = by_py[py]
        encoder = p.encoder
        if p.refused:
            encoder = f"refusing({encoder}, {json.dumps(p.refused, ensure_ascii=False)})"
        items.append(
            f'Arg("{p.name}", "{p.py}", {encoder}' + (", required=True)" if p.required else ")")
        )
    if op.rules:
        rules = ", ".join(f'{_RULE_FACTORY[k]}("{snake(a)}", "{snake(b)}")' for k, a, b in op.rules)
        items.append(f"rules=({rules},)")
    if op.mandatory:
        tables = []
        for decider, table in op.mandatory.items():
            entries = ", ".join(f'"{value}": {_tuple(needed)}' for value, needed in table.items())
            tables.append(f'"{snake(decider)}": {{{entries}}}')
        items.append("mandatory={" + ", ".join(tables) + "}")
    return [f"{arguments_name(op)} = Arguments({', '.join(items)},)"]


def answer_name(op: Op) -> str:
    """The module-level parser (or, with shapes, parser table) of the method's answer."""
    return f"_{op.method_name.upper()}_ANSWER" + ("S" if op.shapes else "")


def _parser_kind(op: Op) -> str:
    """The parser of binance_papi_async._decode the answer goes through."""
    kind = "writing" if op.is_write else "reading"
    return f"{kind}_many" if op.is_array else kind


def _parser(op: Op, model: str) -> str:
    if op.is_write:
        return f'{_parser_kind(op)}({model}, "{op.key}")'
    return f"{_parser_kind(op)}({model})"


def answer_decl(op: Op) -> list[str]:
    """The parser(s) of the answer, built once: reads name the field a bad answer lacks;
    writes return their result whatever a field holds (see binance_papi_async._decode)."""
    if op.shapes is not None:
        union = " | ".join(op.models)
        entries = ", ".join(
            f'"{value}": {_parser(op, v.name)}' for v in op.shapes.variants for value in v.values
        )
        return [f"{answer_name(op)}: dict[str, Callable[[Any], {union}]] = {{{entries}}}"]
    if op.model_name is None:
        return []
    return [f"{answer_name(op)} = {_parser(op, op.model_name)}"]


def _return(op: Op) -> tuple[str, str]:
    """(return annotation, the ``parse=`` argument of the transport call)."""
    if op.untyped:
        return "Mapping[str, Any]", ", parse=mapping"
    if op.shapes is not None:
        return " | ".join(op.models), ", parse=parse"
    model = op.model_name
    if model is None:
        return "None", ""
    return (f"tuple[{model}, ...]" if op.is_array else model), f", parse={answer_name(op)}"


def _signature(op: Op, replace: dict[str, str] | None = None) -> list[str]:
    """The parameters after ``self``; ``replace`` swaps a parameter's declaration."""
    replace = replace or {}
    sig = ["self", "*"]
    plain = [p for p in op.args if p.name != "recvWindow"]
    for p in sorted(plain, key=lambda p: not p.required):
        if p.py in replace:
            sig.append(replace[p.py])
        elif p.required:
            sig.append(f"{p.py}: {p.annotation}")
        else:
            sig.append(f"{p.py}: {p.annotation} | None = None")
    if op.open_params:
        sig.append("extra_params: Mapping[str, Any] | None = None")
    if len(plain) < len(op.args):
        sig.append("recv_window: int | None = None")
    sig += [
        "timeout: Timeouts | float | None = None",
        "max_wait: float | None = None",
        'priority: Priority = "normal"',
    ]
    if not op.is_write:
        sig.append("retry: RetryPolicy | None = None")
    return sig


def _literal(values: list[str] | tuple[str, ...]) -> str:
    return "Literal[" + ", ".join(json.dumps(v) for v in values) + "]"


def _overloads(op: Op, shapes: Shapes) -> list[str]:
    """``@overload`` signatures: the result's model follows the shape parameter (and,
    without it, the parameter that decides the default)."""
    param = snake(shapes.param)
    cases: list[tuple[dict[str, str], str]] = []
    for v in shapes.variants:
        cases.append(({param: f"{param}: {_literal(v.values)}"}, v.name))
    unset = f"{param}: None = None"
    if shapes.by is None:
        assert shapes.default is not None
        cases.append(({param: unset}, shapes.variant(shapes.default).name))
    else:
        by = snake(shapes.by)
        decider = next(p for p in op.args if p.name == shapes.by)
        rest = [value for value in decider.values if value not in shapes.by_values]
        for v in shapes.variants:
            values = [k for k, target in shapes.by_values.items() if target in v.values]
            if shapes.otherwise in v.values:
                values += rest
            if values:
                cases.append(({param: unset, by: f"{by}: {_literal(values)}"}, v.name))
    out: list[str] = []
    for replace, model in cases:
        sig = ", ".join(_signature(op, replace))
        out += ["", "    @overload", f"    async def {op.method_name}({sig},) -> {model}: ..."]
    return out


def _shape_choice(shapes: Shapes) -> str:
    """The expression picking the answer's parser from the encoded parameters."""
    wire = f'params.get("{shapes.param}")'
    if shapes.by is None:
        default = f'"{shapes.default}"'
    else:
        table = json.dumps(shapes.by_values)
        default = f'{table}.get(params.get("{shapes.by}", ""), "{shapes.otherwise}")'
    return f"{wire} or {default}"


def gen_method(op: Op) -> list[str]:
    ret, parse = _return(op)
    lines = _overloads(op, op.shapes) if op.shapes else []
    lines.append("")
    sig = ", ".join(_signature(op))
    lines.append(f"    async def {op.method_name}({sig},) -> {ret}:")
    lines.extend(docstring(method_doc(op), "        "))
    if op.args:
        values = ", ".join(_encoded_order(op))
        lines.append(f"        params = {arguments_name(op)}.encode({values})")
    else:
        lines.append("        params: dict[str, str] = {}")
    if op.open_params:
        reserved = sorted({p.name for p in op.params} | set(_SIGNING))
        names = ", ".join(json.dumps(n) for n in reserved)
        lines.append(
            f"        params = add_extra_params(params, extra_params, frozenset({{{names}}}))"
        )
    if op.shapes is not None:
        smallest = f'{answer_name(op)}["{op.shapes.smallest.values[0]}"]'
        lines.append(
            f"        parse = {answer_name(op)}.get({_shape_choice(op.shapes)}, {smallest})"
        )
    # The transport parses the body, so a body of the wrong shape becomes a typed error
    # (ExecutionStatusUnknown for a write, UnexpectedResponseError for a read).
    read = not op.is_write
    call = (
        f"await self._client._transport.request(_specs.{op.const}, params, timeout=timeout, "
        f"max_wait=max_wait, priority=priority{', retry=retry' if read else ''}{parse})"
    )
    lines.append(f"        {call}" if ret == "None" else f"        return {call}")
    return lines


def _imports(ns: str, ops: list[Op]) -> list[str]:
    text_of_types = " ".join(p.annotation for op in ops for p in op.args)
    shaped = any(op.shapes for op in ops)
    untyped = any(op.untyped for op in ops)
    extra = any(op.open_params for op in ops)
    encoders = {p.encoder for op in ops for p in op.args}
    if any(p.refused for op in ops for p in op.args):
        encoders.add("refusing")
    if extra:
        encoders.add("add_extra_params")
    rules = {_RULE_FACTORY[k] for op in ops for k, _, _ in op.rules}
    params = sorted(
        encoders | rules | ({"Arg", "Arguments"} if any(op.args for op in ops) else set())
    )
    models = sorted({m for op in ops for m in op.models})
    decoders = {_parser_kind(op) for op in ops if op.models}
    if untyped:
        decoders.add("mapping")
    abc = sorted(({"Callable"} if shaped else set()) | ({"Mapping"} if untyped or extra else set()))
    typing = {"overload"} if shaped else set()
    if shaped or untyped or extra:
        typing.add("Any")
    if shaped or "Literal[" in text_of_types:
        typing.add("Literal")
    out = ["from __future__ import annotations", ""]
    out += [f"from collections.abc import {', '.join(abc)}"] if abc else []
    out += ["from datetime import datetime"] if "datetime" in text_of_types else []
    out += ["from decimal import Decimal"] if "Decimal" in text_of_types else []
    out += [f"from typing import {', '.join(sorted(typing))}"] if typing else []
    out.append("")
    if decoders:
        out.append(f"from ..._decode import {', '.join(sorted(decoders))}")
    if params:
        out.append(f"from ..._params import {', '.join(params)}")
    out.append("from ...timeouts import Timeouts")
    out.append("from ..._http.options import Priority")
    out.append("from ...endpoints import _table as _specs")
    if models:
        out.append(f"from ...models_generated.{ns} import {', '.join(models)}")
    out.append("from ...retry import RetryPolicy")
    out.append("from .._base import Namespace")
    return out


def _namespace_module(o: Overrides, ns: str, ops: list[Op]) -> str:
    ops = sorted(ops, key=lambda op: op.method_name)
    out = [
        HEADER,
        "# ruff: noqa: E501, RUF001, RUF002",
        *module_docstring(
            [
                f"``client.{ns}``, the generated methods: {o.namespace_doc(ns)}",
                "",
                "See :mod:`binance_papi_async.api._generated` for the naming and charging rules.",
            ]
        ),
        "",
        *_imports(ns, ops),
        "",
        f'__all__ = ["{base_class(ns)}"]',
    ]
    with_args = [op for op in ops if op.args]
    if with_args:
        out += ["", "# Each method's parameters, in the order it passes them to encode()."]
        for op in with_args:
            out.extend(arguments_decl(op))
    answers = [line for op in ops for line in answer_decl(op)]
    if answers:
        out += ["", "# The parsers of the answers, built once (reads: reading; writes: writing)."]
        out += answers
    out += ["", "", f"class {base_class(ns)}(Namespace):"]
    out.extend(docstring([f"``client.{ns}``: {o.namespace_doc(ns)}"], "    "))
    out += ["", "    __slots__ = ()"]
    for op in ops:
        out.extend(gen_method(op))
    return "\n".join(out) + "\n"


def _package_init(o: Overrides, ops: list[Op]) -> str:
    hand = sorted(f"``{op.namespace}.{op.method_name}``" for op in ops if op.handwritten)
    doc = [
        "Generated namespace bases: one typed coroutine per papi operation.",
        "",
        "One module per client namespace (``account``, ``margin``, ``um``, ``cm``,",
        "``user_stream``, ``market``), each with the base class the hand-written",
        "``binance_papi_async.api.<namespace>`` class extends.",
        "",
        *wrap(
            o.namespace_rule + "  Method names come from the fixed table in "
            "spec/papi/overrides.json, so they never change silently.",
            88,
        ),
        "",
        *wrap(
            "Operations with a hand-written method ("
            + ", ".join(hand)
            + ") are left out here; the hand-written subclasses provide them.",
            88,
        ),
        "",
        *wrap(
            "Answers: a read's answer that lacks a field Binance always sends raises "
            "UnexpectedResponseError naming it; a write answered 2xx returns its result "
            "even when a field cannot be decoded (None, listed in the result's undecoded, "
            "with an UndecodedFieldsWarning): see binance_papi_async._decode.",
            88,
        ),
        "",
        *charges_rule(ops).splitlines(),
    ]
    lines = [
        HEADER,
        "# ruff: noqa: E501, RUF001, RUF002",
        *docstring(doc, ""),
        "",
        "from __future__ import annotations",
        "",
        '__all__ = ["METHODS"]',
        "",
        "# Every operation of the table: spec name -> (client attribute, method name).",
        "METHODS: dict[str, tuple[str, str]] = {"
        + "".join(f'"{op.name}": ("{op.namespace}", "{op.method_name}"),' for op in ops)
        + "}",
    ]
    return "\n".join(lines) + "\n"


def gen_api(ops: list[Op], o: Overrides) -> dict[str, str]:
    """File (relative to the repository) -> text, before formatting."""
    files = {f"{API_DIR}/__init__.py": _package_init(o, ops)}
    for ns in o.namespaces:
        mine = [op for op in ops if op.namespace == ns and not op.handwritten]
        files[f"{API_DIR}/{ns}.py"] = _namespace_module(o, ns, mine)
    return files
