"""``docs/endpoints.md`` (the reference page) and ``binance_papi_async/testing/_examples.py``
(the doc example bodies the simulator serves)."""

from __future__ import annotations

import json
from typing import Any

from .spec import Op, Overrides, charges_rule, charges_text, rule_text, snake, summary_of
from .text import HEADER, md, wrap

DOCS_FILE = "docs/endpoints.md"
EXAMPLES_FILE = "binance_papi_async/testing/_examples.py"

_INTRO = [
    "Arguments are keyword-only, in snake_case; DECIMAL arguments take `Decimal`, `str` or",
    "`int` (never `float`) and are sent as plain decimal strings; times take an aware",
    "`datetime` or int milliseconds; `true`/`false` parameters take a `bool`; enumerated",
    "parameters are `Literal` types. Every method also takes `timeout=` (seconds or a",
    '`Timeouts`), `max_wait=` and `priority=` (`"normal"` or `"high"`: admitted by the rate',
    "limiter before normal waiters; order cancels always are), reads (GET) take `retry=`,",
    "and signed endpoints take `recv_window=`. `timestamp` and `signature` are added by the",
    "client.",
    "",
    "Results are frozen dataclasses (`binance_papi_async.models_generated`): the fields",
    "Binance always sends are typed without `None`; where a request parameter picks the",
    "answer's shape (`newOrderRespType`), the result's type follows it. A read whose answer",
    "lacks such a field raises `UnexpectedResponseError` naming it; a write answered 2xx",
    "returns its result even when a field cannot be decoded (`None`, listed in `undecoded`,",
    "with an `UndecodedFieldsWarning`).",
]


def _returns(op: Op) -> str:
    if op.handwritten:
        if op.returns is None:
            return "`None`"
        return f"`{op.returns}`" + (" (a tuple of them)" if op.is_array else "")
    if op.untyped:
        return "`Mapping[str, Any]` (the decoded JSON object: no page documents the answer)"
    if op.shapes is not None:
        shapes = op.shapes
        by_value = ", ".join(
            f"{'/'.join(v.values)}: `models_generated.{v.name}`" for v in shapes.variants
        )
        if shapes.by is None:
            default = f"default {shapes.default}"
        else:
            named = ", ".join(f"{k} {v}" for k, v in shapes.by_values.items())
            default = f"default by `{snake(shapes.by)}`: {named}, any other {shapes.otherwise}"
        return f"by `{snake(shapes.param)}` ({by_value}; {default})"
    if op.model_name is None:
        return "`None`"
    tuple_note = " (a tuple of them)" if op.is_array else ""
    return f"`models_generated.{op.model_name}`{tuple_note}"


def _operation(ns: str, op: Op) -> list[str]:
    r = op.raw
    out = ["", f"### client.{ns}.{op.method_name}", ""]
    out.append(f"{summary_of(r)}: `{r['method']} {r['path']}`")
    out.append("")
    out.append(f"- Security: {r['security']}")
    if op.account_note:
        since = f" Effective {r['since']}." if r.get("since") else ""
        out.append(f"- Accounts: {op.account_note}{since}")
    charge = charges_text(op)
    if "weight_note" in r:
        charge += f" (weight varies: {md(r['weight_note'])})"
    out.append(f"- Charges: {charge}")
    out.append(f"- Returns: {_returns(op)}")
    if op.handwritten:
        out.append("- Hand-written method (see its docstring for its signature).")
    if not op.documented:
        out.append(f"- Undocumented on papi: {md(str(r['source']))}.")
    if op.rules:
        out.append(
            "- Checked before sending: "
            + "; ".join(rule_text(k, snake(a), snake(b)) for k, a, b in op.rules)
        )
    for n in r.get("uncertain_notes", []):
        out.append(f"- Uncertain: {md(n)}")
    args = op.args
    if args:
        out += [
            "",
            "| Parameter | Python | Type | Required | Note |",
            "|---|---|---|---|---|",
        ]
        for p in args:
            note = p.described
            out.append(
                f"| `{p.name}` | `{p.py}` | {p.type} → `{md(p.doc_type)}` | "
                f"{'yes' if p.required else 'no'} | {md(note)} |"
            )
        if op.open_params:
            out.append(
                f"| (any) | `extra_params` | `Mapping[str, Any]` | no | {md(op.open_params)} |"
            )
    return out


def gen_docs(ops: list[Op], o: Overrides) -> str:
    out = [
        "<!-- " + HEADER.lstrip("# ") + " -->",
        "",
        "# papi endpoint reference",
        "",
        *wrap(
            f"All {sum(op.documented for op in ops)} Portfolio Margin REST operations, and "
            f"the {sum(not op.documented for op in ops)} undocumented one the client uses, "
            "grouped by client namespace.",
            88,
        ),
        "",
        *wrap(
            o.namespace_rule + "  Method names come from the fixed table in "
            "spec/papi/overrides.json, so they never change silently.",
            88,
        ),
        "",
        "```",
        *charges_rule(ops).splitlines(),
        "```",
        "",
        *_INTRO,
        "",
        "## Method index",
        "",
        "| Python method | HTTP | Path | Security | Charges |",
        "|---|---|---|---|---|",
    ]
    by_ns = {
        ns: sorted((op for op in ops if op.namespace == ns), key=lambda op: op.method_name)
        for ns in o.namespaces
    }
    for ns, mine in by_ns.items():
        for op in mine:
            r = op.raw
            anchor = f"client{ns}{op.method_name}"  # GitHub drops the dots, keeps "_"
            out.append(
                f"| [`client.{ns}.{op.method_name}`](#{anchor}) "
                f"| {r['method']} | `{r['path']}` | {r['security']} | {charges_text(op)} |"
            )
    for ns, mine in by_ns.items():
        out += ["", f"## client.{ns}", "", o.namespace_doc(ns)]
        for op in mine:
            out.extend(_operation(ns, op))
    return "\n".join(out) + "\n"


def example_of(o: Overrides, op: Op) -> Any:
    """The doc example of ``op`` without the top-level fields Binance removed since, and
    with the required ones it added since (overrides.json ``example_additions``)."""
    example = op.resp["example"]
    removed = {k for k, v in op.resp["fields"].items() if v.get("removed")}
    if isinstance(example, dict) and removed:
        example = {k: v for k, v in example.items() if k not in removed}
    added = o.by("example_additions", "by_route").get(op.key)
    if added:
        example = {**example, **added}
    missing = [
        path
        for path, spec in op.resp["fields"].items()
        if spec.get("required")
        and "." not in path
        and "[" not in path
        and isinstance(example, dict)
        and path not in example
    ]
    if missing:
        raise SystemExit(f"{op.key}: the example lacks required fields {missing}")
    return example


def gen_examples(ops: list[Op], o: Overrides) -> str:
    out = [
        HEADER,
        "# ruff: noqa: E501, RUF001",
        '"""The doc example response of every papi operation, as compact JSON text.',
        "",
        'Keyed ``"METHOD /path"``; from spec/papi/responses.json (the docs\' JSON typos',
        "fixed there), minus the top-level fields Binance removed since (``cumQuote``,",
        "``cumBase``, ``avgPrice`` on UM/CM new, modify and cancel order responses), plus",
        "the required ones it added since (spec/papi/overrides.json ``example_additions``).",
        "``PapiSimulator(examples=True)`` answers these bodies for the operations it does",
        "not model; tests check that no other answer is one of them.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        '__all__ = ["EXAMPLES"]',
        "",
        "EXAMPLES: dict[str, str] = {",
    ]
    for op in sorted((op for op in ops if op.documented), key=lambda op: op.key):
        if op.resp.get("example") is None:
            continue  # no page documents the answer: the simulator serves it from state
        text = json.dumps(example_of(o, op), separators=(",", ":"), ensure_ascii=False)
        out.append(f"    {op.key!r}: {text!r},")
    out.append("}")
    return "\n".join(out) + "\n"
