"""``binance_papi_async/endpoints/_table.py``: one ``EndpointSpec`` per operation, and ``TABLE``."""

from __future__ import annotations

from .spec import Op, charges_of, charges_rule, summary_of, weight_rules
from .text import HEADER, wrap

TABLE_FILE = "binance_papi_async/endpoints/_table.py"


def _spec_line(op: Op) -> str:
    r = op.raw
    charges = ", ".join(f"Charge(Budget.{b}, {n})" for b, n in charges_of(op))
    rules = "".join(
        f"WeightRule({param!r}, {present!r}, {weight}),"
        for param, present, weight in weight_rules(r)
    )
    params = "".join(
        f"Param({p.name!r}, {p.py!r}, {p.type!r}, {p.required!r}, {p.note!r})," for p in op.params
    )
    names = {p.name for p in op.params}
    missing = set(op.client_ids) - names
    if missing:
        raise SystemExit(f"{op.name}: client_ids names parameters it does not take: {missing}")
    client_ids = "".join(f"ClientId({n!r}, {m})," for n, m in op.client_ids.items())
    return (
        f"{op.const} = EndpointSpec(name={op.name!r}, method={r['method']!r}, "
        f"path={r['path']!r}, security=Security.{r['security']}, weight={op.weight}, "
        f"weight_kind=WeightKind.{r['weight_kind']}, charges=({charges},), "
        f"summary={summary_of(r)!r}, params=({params}),"
        + (f" weight_rules=({rules})," if rules else "")
        + (" urgent=True," if op.urgent else "")
        + (f" client_ids=({client_ids})," if client_ids else "")
        + ")"
    )


def gen_table(ops: list[Op]) -> str:
    out = [
        HEADER,
        "# ruff: noqa: E501, RUF001",
        '"""The papi endpoint table: every REST operation the SDK knows, as data.',
        "",
        "The operations of spec/papi/endpoints.json, and the undocumented ones papi serves",
        "(spec/papi/overrides.json, ``undocumented_endpoints``).  ``TABLE`` lists them all;",
        "``binance_papi_async.endpoints`` exposes it with lookups by route and name.",
        "",
        *charges_rule(ops).splitlines(),
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from ._spec import (",
        "    Budget,",
        "    Charge,",
        "    ClientId,",
        "    EndpointSpec,",
        "    Param,",
        "    Security,",
        "    WeightKind,",
        "    WeightRule,",
        ")",
        "",
    ]
    for op in ops:
        r = op.raw
        out.append("")
        label = f"{r.get('weight_label', '')} {r['weight']}"
        if not op.weight_known:
            label = f"weight on no page: charged {op.weight} (see the charges rule above)"
        out.append(f"# {summary_of(r)} ({r['security']}): {label}")
        if op.account_note:
            out.extend(wrap(op.account_note, 96, "# ", "#   "))
        if not op.documented:
            out.append(f"# undocumented: {r['source']}")
        if "weight_note" in r:
            out.append(f"# weight: {r['weight_note']}")
        for note in r.get("uncertain_notes", []):
            out.extend(wrap(f"uncertain: {note}", 96, "# ", "#   "))
        out.append(_spec_line(op))
    out.append("")
    out.append("TABLE: tuple[EndpointSpec, ...] = (" + ", ".join(op.const for op in ops) + ",)")
    out.append("")
    out.append(
        "__all__ = [" + ", ".join(repr(n) for n in sorted([o.const for o in ops] + ["TABLE"])) + "]"
    )
    return "\n".join(out) + "\n"
