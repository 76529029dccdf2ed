"""The papi operations as the generator sees them.

``endpoints.json`` and ``responses.json`` are the facts about papi (spec/papi/SOURCE.md
documents their keys); ``overrides.json`` (beside them) is the hand-kept part: method
names, hand-written methods, corrections, values Binance refuses, and the undocumented
endpoint the SDK uses.  :func:`load` reads the three into :class:`Op` records the
emitters work from.
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
DEFAULT_SOURCE = REPO / "spec" / "papi"

CHARGES_RULE = """\
Charges.  Every call spends its page's weight on the IP REQUEST_WEIGHT budget.
An operation whose weight no page gives (endpoints.json "weight": null) is charged
the largest IP weight a papi page gives ({unknown}), never 0, so the limiter errs on
the safe side; Binance's X-MBX-USED-WEIGHT-1M header then raises the count if the call
cost more (an overcharge only costs throughput until the window ends).
A call also spends the account's ORDERS budget when
  (a) its page says "Request Weight(Order)": 1 order (``charges_for``), or
  (b) it places or amends orders although its page says plain "Request Weight":
      a POST or PUT to a path ending in /order, /order/oco, /conditional/order,
      /algo/order or /batchOrders: 1 order (GENERAL.md section 4 (b));
  and an OCO (POST .../order/oco) counts 2 orders, as its page states
  ("OCO counts as 2 orders against the order rate limit")."""


def charges_rule(ops: list[Op]) -> str:
    """:data:`CHARGES_RULE` with the weight an operation of unknown weight is charged."""
    return CHARGES_RULE.format(unknown=unknown_weight([op.raw for op in ops]))


ORDER_PATH_SUFFIXES = ("/order", "/order/oco", "/conditional/order", "/algo/order", "/batchOrders")

_SECURITY_SUFFIX = re.compile(r"\s*\((?:TRADE|USER_DATA|USER_STREAM|MARGIN|NONE|MARKET_DATA)\)\s*$")


# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------


def snake(name: str) -> str:
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
    return s + "_" if keyword.iskeyword(s) else s


def pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", snake(name)) if p)


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def summary_of(op: dict[str, Any]) -> str:
    return _SECURITY_SUFFIX.sub("", str(op["summary"])).strip()


# --------------------------------------------------------------------------------------
# overrides.json
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overrides:
    """``overrides.json``, read once (see the file: every section says why it exists)."""

    data: dict[str, Any]

    @classmethod
    def read(cls, source: Path) -> Overrides:
        return cls(json.loads((source / "overrides.json").read_text(encoding="utf-8")))

    def section(self, name: str) -> dict[str, Any]:
        value = self.data[name]
        assert isinstance(value, dict)
        return value

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(self.section("namespaces")["order"])

    @property
    def namespace_rule(self) -> str:
        return str(self.section("namespaces")["about"])

    def namespace_doc(self, ns: str) -> str:
        return str(self.section("namespaces")["docs"][ns])

    def namespace_of(self, path: str) -> str:
        section = self.section("namespaces")
        if path in section["paths"]:
            return str(section["paths"][path])
        for prefix, ns in section["prefixes"].items():
            if path.startswith(prefix):
                return str(ns)
        return str(section["default"])

    def method_names(self) -> dict[str, tuple[str, str]]:
        """Operation -> (namespace, method name), generated and hand-written."""
        out: dict[str, tuple[str, str]] = {}
        for ns, names in self.section("method_names").items():
            if ns != "about":
                out.update({op: (ns, method) for op, method in names.items()})
        return out

    def handwritten(self) -> dict[str, dict[str, Any]]:
        return dict(self.section("handwritten")["operations"])

    def names(self, section: str) -> frozenset[str]:
        return frozenset(self.section(section)["names"])

    def by(self, section: str, key: str) -> dict[str, Any]:
        return dict(self.section(section)[key])

    @property
    def extra_endpoints(self) -> list[dict[str, Any]]:
        return list(self.section("undocumented_endpoints")["endpoints"])


# --------------------------------------------------------------------------------------
# Charges and weights
# --------------------------------------------------------------------------------------


def order_count(op: dict[str, Any]) -> int:
    """Orders counted on the account's ORDERS budget by one call (see CHARGES_RULE)."""
    path, method = str(op["path"]), str(op["method"])
    places = method in ("POST", "PUT") and path.endswith(ORDER_PATH_SUFFIXES)
    if method == "POST" and path.endswith("/order/oco"):
        return 2
    if op["weight_kind"] == "ORDER" or places:
        return 1
    return 0


def weight_rules(op: dict[str, Any]) -> list[tuple[str, bool, int]]:
    """Argument-dependent weights from the page's weight note.

    "20 with symbol, 40 with pair" -> ("pair", True, 40); "1 for a single symbol; 40 when
    the symbol parameter is omitted" / "20 with symbol, 50 without symbol" ->
    ("symbol", False, N), N being the largest weight the note names.  The limiter then
    charges what Binance counts for the arguments actually sent, never less.
    """
    note = str(op.get("weight_note", ""))
    if not note:
        return []
    heaviest = max(int(n) for n in re.findall(r"\d+", note))
    if "with pair" in note:
        return [("pair", True, heaviest)]
    if "omitted" in note or "without symbol" in note:
        return [("symbol", False, heaviest)]
    raise ValueError(f"unrecognised weight note for {op['method']} {op['path']}: {note!r}")


def unknown_weight(raws: list[dict[str, Any]]) -> int:
    """What an operation of unknown weight is charged: the largest IP weight of a page."""
    return max(
        int(r["weight"]) for r in raws if r["weight"] is not None and r["weight_kind"] == "IP"
    )


def charges_of(op: Op) -> list[tuple[str, int]]:
    out = [("REQUEST_WEIGHT", op.weight)]
    n = order_count(op.raw)
    if n:
        out.append(("ORDERS", n))
    return out


def charges_text(op: Op) -> str:
    parts = [f"{op.weight} request weight"]
    if not op.weight_known:
        parts[0] += " (weight on no page: the largest IP weight a papi page gives)"
    n = order_count(op.raw)
    if n:
        parts.append(f"{n} order" + ("s" if n > 1 else ""))
    return " + ".join(parts)


# --------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------

_ANNOTATION = {
    "str": "str",
    "enum": "str",
    "bool": "bool",
    "decimal": "Decimal | str | int",
    "time": "datetime | int",
    "int": "int",
    "recv_window": "int",
}


@dataclass
class PInfo:
    """One request parameter: Binance's name, the Python name, and how it is encoded."""

    name: str
    py: str
    type: str
    required: bool
    note: str
    kind: str  # str | enum | bool | decimal | time | int | recv_window
    values: tuple[str, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)  # value -> why Binance refuses it
    since: str | None = None  # date (UTC) the parameter became effective
    range: tuple[str, str] | None = None  # (min, max), inclusive, as documented

    @property
    def described(self) -> str:
        """The page's note, and what the spec adds: the range, the start date, the values
        refused before sending."""
        bits = [self.note.rstrip(". ")] if self.note else []
        if self.range is not None:
            bits.append(f"Range {self.range[0]} to {self.range[1]}")
        if self.since:
            bits.append(f"Since {self.since}")
        bits.extend(f"{value} is refused: {why}" for value, why in self.refused.items())
        return "".join(f"{bit}. " for bit in bits).strip()

    @property
    def annotation(self) -> str:
        if self.kind == "enum" and self.values:
            return "Literal[" + ", ".join(json.dumps(v) for v in self.values) + "]"
        return _ANNOTATION[self.kind]

    @property
    def encoder(self) -> str:
        return "wire_" + self.kind

    @property
    def doc_type(self) -> str:
        return self.annotation.replace('"', "")


@dataclass
class Variant:
    """One shape of an answer that depends on a request parameter (responses.json
    ``shapes``): the parameter values that give it, its model and the field paths it has.
    ``base`` is the variant whose fields it extends (its model's base class)."""

    values: tuple[str, ...]
    name: str
    paths: frozenset[str]
    base: str | None = None


@dataclass
class Shapes:
    """How the answer's shape follows the request: ``param`` (camelCase) selects the
    variant; without it the variant is ``default``, or is decided by ``by`` (another
    parameter): ``by_values[value]``, else ``otherwise``."""

    param: str
    variants: list[Variant]
    default: str | None = None
    by: str | None = None
    by_values: dict[str, str] = field(default_factory=dict)
    otherwise: str | None = None

    def variant(self, value: str) -> Variant:
        return next(v for v in self.variants if value in v.values)

    @property
    def smallest(self) -> Variant:
        return self.variants[0]


def shapes_of(op: Op) -> Shapes | None:
    """The answer's shapes when they differ by a request parameter, else ``None`` (also
    when every variant lists the same fields: one model serves them all)."""
    spec = op.resp.get("shapes")
    if not spec:
        return None
    groups: dict[frozenset[str], list[str]] = {}
    for value, paths in spec["variants"].items():
        groups.setdefault(frozenset(paths), []).append(str(value))
    if len(groups) == 1:
        return None
    base = pascal(op.name)
    variants = [
        Variant(
            tuple(values), base + "".join(pascal(v.lower()) for v in values) + "Response", paths
        )
        for paths, values in sorted(groups.items(), key=lambda g: len(g[0]))
    ]
    for i, v in enumerate(variants):
        below = [w for w in variants[:i] if w.paths < v.paths]
        v.base = below[-1].name if below else None
    default = spec["default"]
    shapes = Shapes(str(spec["param"]), variants)
    if isinstance(default, str):
        shapes.default = default
    else:
        shapes.by = str(default["param"])
        shapes.by_values = {str(k): str(v) for k, v in default["values"].items()}
        shapes.otherwise = str(default["otherwise"])
    return shapes


@dataclass
class Op:
    """One operation, with everything the emitters need decided."""

    raw: dict[str, Any]
    resp: dict[str, Any]
    params: list[PInfo]
    namespace: str
    method_name: str
    handwritten: bool = False
    returns: str | None = None  # hand-written methods: what the reference page shows
    documented: bool = True  # False: from overrides.json's undocumented_endpoints
    rules: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, a, b) camelCase
    mandatory: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # camelCase
    open_params: str | None = None  # why the method takes extra_params (overrides.json)
    unknown_weight: int = 0  # what a call is charged when no page gives the weight
    shapes: Shapes | None = None  # the answer's shapes, when a request parameter picks one
    urgent: bool = False  # admitted before normal waiters (overrides.json ``urgent``)
    client_ids: dict[str, int] = field(default_factory=dict)  # filled when absent (max length)

    @property
    def weight(self) -> int:
        """The IP weight a call is charged (see CHARGES_RULE for an unknown weight)."""
        w = self.raw["weight"]
        return self.unknown_weight if w is None else int(w)

    @property
    def weight_known(self) -> bool:
        return self.raw["weight"] is not None

    @property
    def is_write(self) -> bool:
        return str(self.raw["method"]) != "GET"

    @property
    def untyped(self) -> bool:
        """No page documents the answer: the method returns the decoded JSON object."""
        return (
            bool(self.resp.get("uncertain"))
            and not self.resp.get("fields")
            and (self.resp.get("example") is None)
        )

    @property
    def account_note(self) -> str | None:
        """Who may call it, when only some accounts may (``account_types``)."""
        types = self.raw.get("account_types")
        if not types:
            return None
        names = ", ".join(str(t) for t in types)
        return (
            f"Portfolio Margin Pro accounts only ({names}): a classic Portfolio Margin "
            "account cannot use it."
        )

    @property
    def name(self) -> str:
        return str(self.raw["name"])

    @property
    def key(self) -> str:
        return f"{self.raw['method']} {self.raw['path']}"

    @property
    def const(self) -> str:
        return self.name.upper()

    @property
    def args(self) -> list[PInfo]:
        """The parameters a method takes (``timestamp`` is the client's)."""
        return [p for p in self.params if p.name != "timestamp"]

    @property
    def is_array(self) -> bool:
        return str(self.resp.get("shape", "")).startswith("array")

    @property
    def model_name(self) -> str | None:
        """The generated model of the response (of one element when the response is an
        array); with shapes, the one with every field (the doc example's)."""
        if self.handwritten or not self.resp.get("fields"):
            return None
        if self.shapes is not None:
            return self.shapes.variants[-1].name
        return pascal(self.name) + ("Item" if self.is_array else "Response")

    @property
    def models(self) -> list[str]:
        """Every model of the response (one per shape)."""
        if self.shapes is not None:
            return [v.name for v in self.shapes.variants]
        return [self.model_name] if self.model_name else []


def param_kind(o: Overrides, op_name: str, p: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """How a parameter is encoded, and its values when it is an enumeration.

    The values are endpoints.json's ``enum`` (every documented enumeration); a
    ``"true"``/``"false"`` enumeration is a ``bool``.  overrides.json ``enum_values``
    fills in only where endpoints.json has none."""
    name, typ = str(p["name"]), str(p["type"])
    values = tuple(str(v) for v in p.get("enum", ()))
    if name == "recvWindow":
        return "recv_window", ()
    if typ == "BOOLEAN" or set(values) == {"true", "false"} or name in o.names("bool_params"):
        return "bool", ()
    if typ == "DECIMAL":
        return "decimal", ()
    if typ == "LONG" and (name in o.names("time_params") or name.endswith("Time")):
        return "time", ()
    if typ in ("LONG", "INT"):
        return "int", ()
    if not values:
        by_op = o.by("enum_values", "by_operation").get(op_name, {})
        values = tuple(by_op.get(name) or o.by("enum_values", "by_param").get(name, ()))
    if typ == "ENUM" or values:
        return "enum", values
    return "str", ()


_TICK = r"`?(\w+)`?"
_RULE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("one_of", re.compile(rf"Either {_TICK} or {_TICK} must be (?:sent|provided)")),
    ("one_of", re.compile(rf"^{_TICK} or {_TICK} must be sent")),
    ("exclusive", re.compile(rf"{_TICK} and {_TICK} cannot be sent together")),
    ("exclusive", re.compile(rf"{_TICK} cannot be sent with {_TICK}")),
    ("exclusive", re.compile(rf"{_TICK} cannot be sent with {_TICK} or {_TICK}")),
]
_TOGETHER = re.compile(rf"{_TICK} and {_TICK} must be sent together")
_PARAM_NOTE_PATTERNS: list[tuple[str, bool, re.Pattern[str]]] = [
    # (kind, the rule is between this parameter and the groups (else between the groups))
    ("one_of", False, re.compile(rf"Either {_TICK} or {_TICK} must be provided")),
    ("exclusive", True, re.compile(rf"If supplied, neither {_TICK} or {_TICK} can be provided")),
    ("exclusive", True, re.compile(rf"Can't be passed together with\s+{_TICK}")),
    ("requires", True, re.compile(rf"If provided, {_TICK} is required")),
    ("exclusive", True, re.compile(rf"Not sent together with {_TICK} or {_TICK}")),
    ("one_of", True, re.compile(rf"required unless {_TICK} is")),
]


def rules_of(op: dict[str, Any], params: list[PInfo]) -> list[tuple[str, str, str]]:
    """The rules between two optional parameters that the page's notes state."""
    names = {p.name: p for p in params}
    found: list[tuple[str, str, str]] = []

    def add(kind: str, a: str, b: str) -> None:
        if a not in names or b not in names or a == b:
            return
        if kind in ("one_of", "exclusive") and (names[a].required or names[b].required):
            return
        if (kind, a, b) not in found:
            found.append((kind, a, b))

    for text in (str(n) for n in op.get("notes", [])):
        for match in _TOGETHER.finditer(text):  # each requires the other
            add("requires", match.group(1), match.group(2))
            add("requires", match.group(2), match.group(1))
        for kind, pat in _RULE_PATTERNS:
            for match in pat.finditer(text):
                groups = match.groups()
                for other in groups[1:]:
                    add(kind, groups[0], other)
    for p in params:
        for kind, with_self, pat in _PARAM_NOTE_PATTERNS:
            noted = pat.search(p.note)
            if noted is None:
                continue
            if with_self:
                for other in noted.groups():
                    add(kind, p.name, other)
            else:
                add(kind, noted.group(1), noted.group(2))
    return found


def rule_text(kind: str, a: str, b: str) -> str:
    if kind == "one_of":
        return f"{a} or {b} must be given"
    if kind == "exclusive":
        return f"{a} and {b} cannot be given together"
    return f"{b} is required with {a}"


def mandatory_of(o: Overrides, op: Op) -> dict[str, dict[str, list[str]]]:
    """``{"type": {"LIMIT": ["timeInForce", ...]}}``: the parameters a value makes mandatory
    (overrides.json ``mandatory_by_value``), limited to the operation's parameters."""
    names = {p.name for p in op.params}
    section = o.section("mandatory_by_value")
    tables = [section["by_route"].get(op.key, {}), section["everywhere"]]
    out: dict[str, dict[str, list[str]]] = {}
    for table in tables:
        for decider, by_value in table.items():
            if decider not in names:
                continue
            for value, needed in by_value.items():
                present = [n for n in needed if n in names]
                if present:
                    out.setdefault(decider, {})[value] = present
    return out


def _param(o: Overrides, op_name: str, p: dict[str, Any]) -> PInfo:
    kind, values = param_kind(o, op_name, p)
    refused = o.by("refused_values", "by_operation").get(op_name, {}).get(p["name"], {})
    if any(v in values for v in refused):
        raise SystemExit(f"{op_name}.{p['name']}: a refused value is in the spec's enum")
    rng = p.get("range")
    return PInfo(
        p["name"],
        snake(p["name"]),
        p["type"],
        bool(p["required"]),
        p["note"],
        kind,
        values,
        refused=dict(refused),
        since=p.get("since"),
        range=(str(rng["min"]), str(rng["max"])) if rng else None,
    )


def _op(o: Overrides, raw: dict[str, Any], resp: dict[str, Any], documented: bool) -> Op:
    params = [_param(o, raw["name"], p) for p in raw["params"]]
    hand = o.handwritten().get(raw["name"])
    names = o.method_names()
    if hand is None and raw["name"] not in names:
        raise SystemExit(f"no method name for {raw['name']} in overrides.json method_names")
    namespace = o.namespace_of(str(raw["path"]))
    if hand is None and names[raw["name"]][0] != namespace:
        raise SystemExit(f"{raw['name']} is listed under {names[raw['name']][0]}, not {namespace}")
    op = Op(
        raw=raw,
        resp=resp,
        params=params,
        namespace=namespace,
        method_name=str(hand["method"]) if hand else names[raw["name"]][1],
        handwritten=hand is not None,
        returns=hand.get("returns") if hand else None,
        documented=documented,
        open_params=o.by("open_parameters", "by_operation").get(raw["name"]),
        urgent=raw["name"] in o.names("urgent"),
        client_ids=dict(o.by("client_ids", "by_operation").get(raw["name"], {})),
    )
    op.rules = rules_of(raw, params)
    op.mandatory = mandatory_of(o, op)
    op.shapes = shapes_of(op)
    return op


def load(source: Path) -> tuple[list[Op], Overrides]:
    """Every operation (the documented ones, then the undocumented), sorted by namespace
    and path, and the overrides."""
    o = Overrides.read(source)
    endpoints = json.loads((source / "endpoints.json").read_text(encoding="utf-8"))
    responses = json.loads((source / "responses.json").read_text(encoding="utf-8"))
    ops = [_op(o, raw, responses[f"{raw['method']} {raw['path']}"], True) for raw in endpoints]
    ops += [_op(o, raw, {}, False) for raw in o.extra_endpoints]
    bound = unknown_weight([op.raw for op in ops])
    for op in ops:
        op.unknown_weight = bound
    order = {ns: i for i, ns in enumerate(o.namespaces)}
    ops.sort(key=lambda op: (op.namespace, op.raw["path"], op.raw["method"]))
    assert all(op.namespace in order for op in ops)
    seen: set[tuple[str, str]] = set()
    for op in ops:
        key = (op.namespace, op.method_name)
        if key in seen:
            raise SystemExit(f"duplicate method {key}")
        seen.add(key)
    known = {op.name for op in ops}
    stale = (
        set(o.method_names())
        | set(o.handwritten())
        | set(o.by("refused_values", "by_operation"))
        | set(o.by("open_parameters", "by_operation"))
        | o.names("urgent")
        | set(o.by("client_ids", "by_operation"))
    ) - known
    if stale:
        raise SystemExit(f"overrides.json names operations that do not exist: {sorted(stale)}")
    return ops, o
