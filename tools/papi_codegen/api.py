"""``binance_papi_async/api/_generated/``: one namespace base class per module, one typed
coroutine per operation, and ``METHODS`` (operation -> client attribute and method)."""

from __future__ import annotations

from .spec import (
    CHARGES_RULE,
    Op,
    Overrides,
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


def base_class(ns: str) -> str:
    return f"{pascal(ns)}APIBase"


def method_doc(op: Op) -> list[str]:
    r = op.raw
    lines = [f"{summary_of(r)}: ``{r['method']} {r['path']}`` ({r['security']}).", ""]
    charge = f"Charges {charges_text(r)}"
    if r["weight_kind"] == "ORDER":
        charge += ' (page: "Request Weight(Order)")'
    elif order_count(r):
        charge += " (places/amends orders: also counted on the order budget)"
    lines.append(charge + ".")
    if "weight_note" in r:
        lines.append(
            f"Weight varies: {r['weight_note']} (the limiter charges what the arguments cost)."
        )
    args = [p for p in op.args if p.name != "recvWindow"]
    if args:
        lines += ["", "Args:"]
        for p in args:
            req = "required" if p.required else "optional"
            text = f"{p.py} (``{p.name}``, {p.type}, {req})"
            if p.note:
                text += f": {p.note}"
            lines.extend(wrap(text, 84, "    ", "        "))
    if op.rules or op.mandatory:
        lines += ["", "Checked before sending (ValidationError naming the parameter):"]
        lines.extend(f"    * {rule_text(kind, snake(a), snake(b))}" for kind, a, b in op.rules)
        for decider, table in op.mandatory.items():
            for value, needed in table.items():
                lines.append(
                    f"    * {snake(decider)}={value} needs " + ", ".join(snake(n) for n in needed)
                )
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
        items.append(
            f'Arg("{p.name}", "{p.py}", {p.encoder}' + (", required=True)" if p.required else ")")
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


def _return(op: Op) -> tuple[str, str]:
    """(return annotation, the ``parse=`` argument of the transport call)."""
    model = op.model_name
    if model is None:
        return "None", ""
    if op.is_array:
        return f"tuple[{model}, ...]", f", parse=_many_{model}"
    return model, f", parse={model}.from_json"


def gen_method(op: Op) -> list[str]:
    read = op.raw["method"] == "GET"
    sig = ["self", "*"]
    plain = [p for p in op.args if p.name != "recvWindow"]
    for p in sorted(plain, key=lambda p: not p.required):
        sig.append(
            f"{p.py}: {p.annotation}" if p.required else f"{p.py}: {p.annotation} | None = None"
        )
    if len(plain) < len(op.args):
        sig.append("recv_window: int | None = None")
    sig += ["timeout: Timeouts | None = None", "max_wait: float | None = None"]
    if read:
        sig.append("retry: RetryPolicy | None = None")
    ret, parse = _return(op)
    lines = ["", f"    async def {op.method_name}({', '.join(sig)},) -> {ret}:"]
    lines.extend(docstring(method_doc(op), "        "))
    if op.args:
        values = ", ".join(_encoded_order(op))
        lines.append(f"        params = {arguments_name(op)}.encode({values})")
    else:
        lines.append("        params: dict[str, str] = {}")
    # The transport parses the body, so a body of the wrong shape becomes a typed error
    # (ExecutionStatusUnknown for a write, UnexpectedResponseError for a read).
    call = (
        f"await self._client._transport.request(_specs.{op.const}, params, timeout=timeout, "
        f"max_wait=max_wait{', retry=retry' if read else ''}{parse})"
    )
    lines.append(f"        {call}" if ret == "None" else f"        return {call}")
    return lines


def _imports(ns: str, ops: list[Op]) -> list[str]:
    text_of_types = " ".join(p.annotation for op in ops for p in op.args)
    encoders = {p.encoder for op in ops for p in op.args}
    rules = {_RULE_FACTORY[k] for op in ops for k, _, _ in op.rules}
    params = sorted(encoders | rules | ({"Arg", "Arguments"} if encoders else set()))
    models = sorted({op.model_name for op in ops if op.model_name})
    out = ["from __future__ import annotations", ""]
    out += ["from datetime import datetime"] if "datetime" in text_of_types else []
    out += ["from decimal import Decimal"] if "Decimal" in text_of_types else []
    out += ["from typing import Literal"] if "Literal[" in text_of_types else []
    out.append("")
    if any(op.is_array and op.model_name for op in ops):
        out.append("from ..._decode import many")
    if params:
        out.append(f"from ..._params import {', '.join(params)}")
    out.append("from ...timeouts import Timeouts")
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
    arrays = sorted({op.model_name for op in ops if op.is_array and op.model_name})
    if arrays:
        out += ["", "# Parsers of the array responses, built once."]
        out += [f"_many_{m} = many({m}.from_json)" for m in arrays]
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
        *CHARGES_RULE.splitlines(),
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
