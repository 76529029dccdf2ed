"""The papi operations as the generator sees them.

``endpoints.json`` and ``responses.json`` are the facts about papi; ``overrides.json``
(beside them) is the hand-kept part: method names, hand-written methods, parameter kinds
and values the pages leave out, corrections, and the undocumented endpoint the SDK uses.
:func:`load` reads the three into :class:`Op` records the emitters work from.
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
A call also spends the account's ORDERS budget when
  (a) its page says "Request Weight(Order)": 1 order (``charges_for``), or
  (b) it places or amends orders although its page says plain "Request Weight":
      a POST or PUT to a path ending in /order, /order/oco, /conditional/order,
      /algo/order or /batchOrders: 1 order (GENERAL.md section 4 (b));
  and an OCO (POST .../order/oco) counts 2 orders, as its page states
  ("OCO counts as 2 orders against the order rate limit")."""

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


def charges_of(op: dict[str, Any]) -> list[tuple[str, int]]:
    out = [("REQUEST_WEIGHT", int(op["weight"]))]
    n = order_count(op)
    if n:
        out.append(("ORDERS", n))
    return out


def charges_text(op: dict[str, Any]) -> str:
    parts = [f"{op['weight']} request weight"]
    n = order_count(op)
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
        """The generated model of the response (of one element of an array)."""
        if self.handwritten or not self.resp.get("fields"):
            return None
        return pascal(self.name) + ("Item" if self.is_array else "Response")


def param_kind(o: Overrides, op_name: str, p: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    name, typ = str(p["name"]), str(p["type"])
    if name == "recvWindow":
        return "recv_window", ()
    if typ == "BOOLEAN" or name in o.names("bool_params"):
        return "bool", ()
    if typ == "DECIMAL":
        return "decimal", ()
    if typ == "LONG" and (name in o.names("time_params") or name.endswith("Time")):
        return "time", ()
    if typ in ("LONG", "INT"):
        return "int", ()
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
_PARAM_NOTE_PATTERNS: list[tuple[str, bool, re.Pattern[str]]] = [
    # (kind, the rule is between this parameter and the groups (else between the groups))
    ("one_of", False, re.compile(rf"Either {_TICK} or {_TICK} must be provided")),
    ("exclusive", True, re.compile(rf"If supplied, neither {_TICK} or {_TICK} can be provided")),
    ("exclusive", True, re.compile(rf"Can't be passed together with\s+{_TICK}")),
    ("requires", True, re.compile(rf"If provided, {_TICK} is required")),
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


def _op(o: Overrides, raw: dict[str, Any], resp: dict[str, Any], documented: bool) -> Op:
    required_overrides = o.by("required_overrides", "by_operation").get(raw["name"], {})
    params = []
    for p in raw["params"]:
        kind, values = param_kind(o, raw["name"], p)
        required = bool(required_overrides.get(p["name"], p["required"]))
        params.append(
            PInfo(p["name"], snake(p["name"]), p["type"], required, p["note"], kind, values)
        )
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
    )
    op.rules = rules_of(raw, params)
    op.mandatory = mandatory_of(o, op)
    return op


def load(source: Path) -> tuple[list[Op], Overrides]:
    """Every operation (the documented ones, then the undocumented), sorted by namespace
    and path, and the overrides."""
    o = Overrides.read(source)
    endpoints = json.loads((source / "endpoints.json").read_text(encoding="utf-8"))
    responses = json.loads((source / "responses.json").read_text(encoding="utf-8"))
    ops = [_op(o, raw, responses[f"{raw['method']} {raw['path']}"], True) for raw in endpoints]
    ops += [_op(o, raw, {}, False) for raw in o.extra_endpoints]
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
    stale = (set(o.method_names()) | set(o.handwritten())) - known
    if stale:
        raise SystemExit(f"overrides.json names operations that do not exist: {sorted(stale)}")
    return ops, o
