"""Compare spec/papi with the latest official Portfolio Margin SDK release.

Run by hand (it installs from PyPI, so it is not part of CI)::

    python tools/spec_drift.py                 # throwaway virtualenv, latest release
    python tools/spec_drift.py --version 16.1.0
    python tools/spec_drift.py --python /path/to/venv/bin/python   # an env that has the SDK

It creates a throwaway virtualenv, installs
``binance-sdk-derivatives-trading-portfolio-margin`` there, and runs a small introspection
program inside it that lists the SDK's REST operations (HTTP method, path, signing, weight,
parameters with their wire names, required flags and enum values, response models and
their fields) and its user-data-stream event models.  No SDK code is imported into this
process or copied into the repository: only those facts, as JSON.

The facts are compared with ``spec/papi/endpoints.json``, ``responses.json`` and
``user_stream.json``.  Every difference has a stable key (e.g. ``param-enum: POST
/papi/v1/um/order selfTradePreventionMode``); the differences that
``spec/papi/drift_justified.json`` lists (each with its reason, see ``SOURCE.md``) are
printed as justified.  Exit status: 0 when every difference is justified, 1 when some are
not, 2 when the SDK could not be installed or introspected.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "spec" / "papi"
PACKAGE = "binance-sdk-derivatives-trading-portfolio-margin"
MODULE = "binance_sdk_derivatives_trading_portfolio_margin"

# Parameters the signer adds: the SDK methods do not take them, the spec lists them.
SIGNER_PARAMS = frozenset({"timestamp", "signature"})

# responses.json / user_stream.json field types -> the JSON type on the wire.
WIRE_TYPE = {
    "string": "string",
    "string-decimal": "string",
    "string-int": "string",
    "string-bool": "string",
    "long": "integer",
    "int": "integer",
    "long-ms-time": "integer",
    "bool": "boolean",
    "number": "number",
    "array": "array",
    "object": "object",
}

# Runs inside the SDK's virtualenv; prints the SDK's facts as one JSON document.
INTROSPECT = r'''
import ast, enum, importlib, inspect, json, pkgutil, re, sys, typing
from importlib import metadata
from pydantic import BaseModel
from binance_common.utils import snake_to_camel

PKG = sys.argv[1]
DIST = sys.argv[2]

def jtype(ann, path, out):
    """Record the JSON type of ``ann`` at ``path`` (recursing into models)."""
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        return jtype(args[0], path, out)
    if origin is typing.Union or type(ann).__name__ == "UnionType":
        inner = [a for a in args if a is not type(None)]
        kinds = set()
        for a in inner:
            kinds.add(jtype(a, path, out))
        kinds.discard(None)
        if kinds == {"integer", "number"}:
            kinds = {"number"}
        kind = kinds.pop() if len(kinds) == 1 else "|".join(sorted(kinds))
        out[path] = kind
        return kind
    if origin in (list, typing.List, tuple):
        out[path] = "array"
        if args and inspect.isclass(args[0]) and issubclass(args[0], BaseModel):
            model_fields(args[0], path + "[].", out)
        return "array"
    if origin in (dict, typing.Dict):
        out[path] = "object"
        return "object"
    if inspect.isclass(ann) and issubclass(ann, BaseModel):
        out[path] = "object"
        model_fields(ann, path + ".", out)
        return "object"
    kind = {str: "string", int: "integer", bool: "boolean", float: "number"}.get(ann)
    if kind is None:
        kind = "any"
    out[path] = kind
    return kind

def model_fields(cls, prefix, out):
    for name, info in cls.model_fields.items():
        if name == "additional_properties":
            continue
        jtype(info.annotation, prefix + (info.alias or name), out)

def response_of(cls):
    if cls is None:
        return None
    fields = {}
    if "one_of_schemas" in cls.model_fields:
        mod = importlib.import_module(cls.__module__)
        names = sorted(cls.model_fields["one_of_schemas"].default)
        models = importlib.import_module(PKG + ".rest_api.models")
        for n in names:
            model_fields(getattr(mod, n, None) or getattr(models, n), "", fields)
        return {"model": cls.__name__, "shape": "oneOf", "variants": names, "fields": fields}
    model_fields(cls, "", fields)
    is_array = getattr(cls, "is_array", None)
    shape = "array" if callable(is_array) and is_array() else "object"
    return {"model": cls.__name__, "shape": shape, "fields": fields}

def enum_values(ann):
    if inspect.isclass(ann) and issubclass(ann, enum.Enum):
        return [m.value for m in ann]
    for a in typing.get_args(ann):
        found = enum_values(a)
        if found is not None:
            return found
    return None

def operation(name, fn):
    src = inspect.getsource(fn)
    call = re.search(r'send_request\(.*?method="(\w+)",\s*path="([^"]+)"', src, re.S)
    if not call:
        return None
    doc = inspect.getdoc(fn) or ""
    weight = re.search(r"Weight(?:\((?:IP|UID|Order)\))?:\s*(\d+)", doc)
    tree = ast.parse(inspect.cleandoc("\n" + src) if src.startswith(" ") else src)
    payload_keys = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "payload" for t in node.targets
        ) and isinstance(node.value, ast.Dict):
            payload_keys = [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
    sig = inspect.signature(fn)
    params = []
    for p in list(sig.parameters.values())[1:]:
        if p.name not in payload_keys:
            continue
        params.append({
            "name": snake_to_camel(p.name),
            "py": p.name,
            "required": p.default is inspect.Parameter.empty,
            "enum": enum_values(p.annotation),
        })
    model = re.search(r"response_model=(\w+)", src)
    resp_cls = None
    if model and model.group(1) != "None":
        resp_cls = getattr(importlib.import_module(PKG + ".rest_api.models"), model.group(1), None)
    return {
        "name": name,
        "method": call.group(1),
        "path": call.group(2),
        "signed": bool(re.search(r"is_signed=True", src)),
        "weight": int(weight.group(1)) if weight else None,
        "deprecated": bool(re.search(r"\bdeprecated\b", doc, re.I)),
        "params": params,
        "response": response_of(resp_cls),
    }

def operations():
    api = importlib.import_module(PKG + ".rest_api.api")
    out = []
    for info in pkgutil.iter_modules(api.__path__):
        mod = importlib.import_module(api.__name__ + "." + info.name)
        for cname, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ != mod.__name__:
                continue
            for name, fn in inspect.getmembers(cls, inspect.isfunction):
                if name.startswith("_"):
                    continue
                op = operation(name, fn)
                if op:
                    out.append(op)
    return sorted(out, key=lambda o: (o["path"], o["method"]))

def events():
    models = importlib.import_module(PKG + ".websocket_streams.models")
    union = getattr(models, "UserDataStreamEventsResponse", None)
    if union is None:
        return {}
    out = {}
    for name in sorted(union.model_fields["one_of_schemas"].default):
        fields = {}
        model_fields(getattr(models, name), "", fields)
        out[name] = {"fields": fields}
    return out

print(json.dumps({
    "package": DIST,
    "version": metadata.version(DIST),
    "operations": operations(),
    "events": events(),
}, sort_keys=True))
'''


@dataclass(frozen=True, order=True)
class Diff:
    """One difference between the SDK and the spec; ``key`` is stable across runs."""

    key: str
    detail: str


# --------------------------------------------------------------------------------------
# Loading the spec
# --------------------------------------------------------------------------------------


def load_spec(folder: Path) -> dict[str, Any]:
    """The three machine-readable spec files, as loaded JSON."""
    out: dict[str, Any] = {}
    for name in ("endpoints", "responses", "user_stream"):
        path = folder / f"{name}.json"
        out[name] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return out


def load_justified(path: Path) -> list[tuple[str, str]]:
    """``(key pattern, reason)`` pairs from drift_justified.json (fnmatch patterns)."""
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(str(e["key"]), str(e["reason"])) for e in data["justified"]]


# --------------------------------------------------------------------------------------
# Comparison (pure: SDK facts + spec -> differences)
# --------------------------------------------------------------------------------------


def _route(op: Mapping[str, Any]) -> str:
    return f"{op['method']} {op['path']}"


def compare(sdk: Mapping[str, Any], spec: Mapping[str, Any]) -> list[Diff]:
    """Every difference between the SDK facts and the spec, sorted by key."""
    sdk_ops = {_route(o): o for o in sdk.get("operations", [])}
    spec_ops = {_route(o): o for o in spec.get("endpoints", [])}
    diffs: list[Diff] = []
    for route in sorted(sdk_ops.keys() - spec_ops.keys()):
        diffs.append(Diff(f"op-only-in-sdk: {route}", sdk_ops[route]["name"]))
    for route in sorted(spec_ops.keys() - sdk_ops.keys()):
        diffs.append(Diff(f"op-only-in-spec: {route}", spec_ops[route]["name"]))
    responses = spec.get("responses", {})
    for route in sorted(sdk_ops.keys() & spec_ops.keys()):
        diffs += compare_operation(route, sdk_ops[route], spec_ops[route])
        diffs += compare_response(route, sdk_ops[route].get("response"), responses.get(route))
    diffs += compare_events(sdk.get("events", {}), spec.get("user_stream", {}))
    return sorted(diffs)


def compare_operation(route: str, sdk: Mapping[str, Any], spec: Mapping[str, Any]) -> list[Diff]:
    """Signing, weight, deprecation and parameters of one operation."""
    diffs: list[Diff] = []
    if bool(sdk["signed"]) != bool(spec["signed"]):
        diffs.append(Diff(f"signed: {route}", f"sdk {sdk['signed']}, spec {spec['signed']}"))
    if sdk.get("weight") is not None and sdk["weight"] != spec["weight"]:
        diffs.append(Diff(f"weight: {route}", f"sdk {sdk['weight']}, spec {spec['weight']}"))
    if bool(sdk.get("deprecated")) != bool(spec.get("deprecated")):
        detail = f"sdk {bool(sdk.get('deprecated'))}, spec {bool(spec.get('deprecated'))}"
        diffs.append(Diff(f"deprecated: {route}", detail))
    sdk_params = {p["name"]: p for p in sdk["params"]}
    spec_params = {p["name"]: p for p in spec["params"] if p["name"] not in SIGNER_PARAMS}
    for name in sorted(sdk_params.keys() - spec_params.keys()):
        diffs.append(Diff(f"param-only-in-sdk: {route} {name}", sdk_params[name]["py"]))
    for name in sorted(spec_params.keys() - sdk_params.keys()):
        diffs.append(Diff(f"param-only-in-spec: {route} {name}", spec_params[name]["type"]))
    for name in sorted(sdk_params.keys() & spec_params.keys()):
        diffs += compare_param(f"{route} {name}", sdk_params[name], spec_params[name])
    return diffs


def compare_param(where: str, sdk: Mapping[str, Any], spec: Mapping[str, Any]) -> list[Diff]:
    """Required flag and enum values of one parameter (only where the SDK has an enum)."""
    diffs: list[Diff] = []
    if bool(sdk["required"]) != bool(spec["required"]):
        detail = f"sdk required={sdk['required']}, spec required={spec['required']}"
        diffs.append(Diff(f"param-required: {where}", detail))
    sdk_enum = sdk.get("enum")
    if sdk_enum is not None:
        spec_enum = spec.get("enum")
        if spec_enum is None or set(spec_enum) != set(sdk_enum):
            detail = f"sdk {sorted(sdk_enum)}, spec {sorted(spec_enum or [])}"
            diffs.append(Diff(f"param-enum: {where}", detail))
    return diffs


def _wire_types(fields: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for path, f in fields.items():
        if f.get("removed"):
            continue
        out[path] = WIRE_TYPE.get(str(f["type"]), str(f["type"]))
    return out


def compare_fields(where: str, sdk: Mapping[str, str], spec: Mapping[str, str]) -> list[Diff]:
    """Field paths and wire types (``a.b``, ``a[].b``) of one model."""
    diffs: list[Diff] = []
    for path in sorted(sdk.keys() - spec.keys()):
        diffs.append(Diff(f"field-only-in-sdk: {where} {path}", sdk[path]))
    for path in sorted(spec.keys() - sdk.keys()):
        diffs.append(Diff(f"field-only-in-spec: {where} {path}", spec[path]))
    for path in sorted(sdk.keys() & spec.keys()):
        if sdk[path] not in ("any", spec[path]):
            detail = f"sdk {sdk[path]}, spec {spec[path]}"
            diffs.append(Diff(f"field-type: {where} {path}", detail))
    return diffs


def compare_response(
    route: str, sdk: Mapping[str, Any] | None, spec: Mapping[str, Any] | None
) -> list[Diff]:
    """Shape (object / array) and fields of one operation's response."""
    if sdk is None or spec is None:
        if (sdk is None) != (spec is None):
            return [Diff(f"response-missing: {route}", "sdk" if sdk is None else "spec")]
        return []
    diffs: list[Diff] = []
    spec_shape = "array" if str(spec["shape"]).startswith("array") else "object"
    if sdk["shape"] != spec_shape:
        diffs.append(Diff(f"response-shape: {route}", f"sdk {sdk['shape']}, spec {spec_shape}"))
    diffs += compare_fields(route, sdk["fields"], _wire_types(spec["fields"]))
    return diffs


def compare_events(sdk: Mapping[str, Any], spec: Mapping[str, Any]) -> list[Diff]:
    """User-data-stream event models: SDK class -> user_stream.json event (``sdk_model``)."""
    events = spec.get("events", {})
    by_model = {str(e["sdk_model"]): name for name, e in events.items() if e.get("sdk_model")}
    diffs: list[Diff] = []
    for model in sorted(sdk.keys() - by_model.keys()):
        diffs.append(Diff(f"event-only-in-sdk: {model}", "no user_stream.json event names it"))
    for model in sorted(by_model.keys() - sdk.keys()):
        diffs.append(Diff(f"event-model-gone: {by_model[model]}", model))
    for name, event in sorted(events.items()):
        if not event.get("sdk_model"):
            diffs.append(Diff(f"event-only-in-spec: {name}", "no SDK model"))
    for model in sorted(sdk.keys() & by_model.keys()):
        name = by_model[model]
        fields = _wire_types(events[name]["fields"])
        diffs += compare_fields(f"event {name}", sdk[model]["fields"], fields)
    return diffs


def classify(
    diffs: Iterable[Diff], justified: Sequence[tuple[str, str]]
) -> tuple[list[Diff], list[tuple[Diff, str]], list[str]]:
    """Split into (unjustified, justified with reason, justification keys matching nothing)."""
    open_: list[Diff] = []
    ok: list[tuple[Diff, str]] = []
    used: set[str] = set()
    for d in diffs:
        reason = next((r for k, r in justified if fnmatch.fnmatchcase(d.key, k)), None)
        if reason is None:
            open_.append(d)
            continue
        ok.append((d, reason))
        used.update(k for k, _ in justified if fnmatch.fnmatchcase(d.key, k))
    stale = [k for k, _ in justified if k not in used]
    return open_, ok, stale


# --------------------------------------------------------------------------------------
# Installing and introspecting the SDK
# --------------------------------------------------------------------------------------


def install_sdk(workdir: Path, version: str | None) -> Path:
    """A fresh virtualenv under ``workdir`` with the SDK; returns its python."""
    env = workdir / "venv"
    venv.create(env, with_pip=True, clear=True)
    python = env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    spec = PACKAGE if version is None else f"{PACKAGE}=={version}"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec]
    subprocess.run(pip, check=True, capture_output=True, text=True, timeout=900)
    return python


def introspect(python: Path) -> dict[str, Any]:
    """Run INTROSPECT with ``python`` and return its JSON document."""
    proc = subprocess.run(
        [str(python), "-c", INTROSPECT, MODULE, PACKAGE],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def report(
    sdk: Mapping[str, Any],
    open_: Sequence[Diff],
    ok: Sequence[tuple[Diff, str]],
    stale: Sequence[str],
) -> list[str]:
    """The printed report, one line per difference."""
    ops = len(sdk.get("operations", []))
    lines = [f"{sdk.get('package', PACKAGE)} {sdk.get('version', '?')}: {ops} operations"]
    lines.append(f"unjustified differences: {len(open_)}")
    lines += [f"  {d.key}  ({d.detail})" for d in open_]
    lines.append(f"justified differences: {len(ok)}")
    lines += [f"  {d.key}  ({d.detail}) -- {reason}" for d, reason in ok]
    if stale:
        lines.append(f"justifications that match no difference (remove them): {len(stale)}")
        lines += [f"  {k}" for k in stale]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", help="SDK release to install (default: the latest)")
    ap.add_argument("--python", type=Path, help="use this interpreter (SDK installed) instead")
    ap.add_argument("--spec", type=Path, default=SPEC, help="spec folder (default spec/papi)")
    ap.add_argument("--dump", type=Path, help="also write the SDK facts to this JSON file")
    args = ap.parse_args(argv)
    try:
        if args.python is not None:
            sdk = introspect(args.python)
        else:
            with tempfile.TemporaryDirectory(prefix="papi-sdk-") as tmp:
                sdk = introspect(install_sdk(Path(tmp), args.version))
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        what = type(exc).__name__
        print(f"could not install or introspect {PACKAGE} ({what})\n{detail}", file=sys.stderr)
        return 2
    if args.dump is not None:
        args.dump.write_text(json.dumps(sdk, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    diffs = compare(sdk, load_spec(args.spec))
    open_, ok, stale = classify(diffs, load_justified(args.spec / "drift_justified.json"))
    print("\n".join(report(sdk, open_, ok, stale)))
    return 1 if open_ or stale else 0


if __name__ == "__main__":
    sys.exit(main())
