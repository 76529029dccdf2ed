"""tools/spec_drift.py: comparing SDK facts with the spec, on small fixtures (no network)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("spec_drift", REPO / "tools" / "spec_drift.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["spec_drift"] = module
    spec.loader.exec_module(module)
    return module


drift = _load()


def _sdk_op(**over: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "name": "new_um_order",
        "method": "POST",
        "path": "/papi/v1/um/order",
        "signed": True,
        "weight": 1,
        "deprecated": False,
        "params": [
            {"name": "symbol", "py": "symbol", "required": True, "enum": None},
            {"name": "side", "py": "side", "required": True, "enum": ["BUY", "SELL"]},
            {"name": "recvWindow", "py": "recv_window", "required": False, "enum": None},
        ],
        "response": {
            "model": "NewUmOrderResponse",
            "shape": "object",
            "fields": {"orderId": "integer", "price": "string", "fills": "array"},
        },
    }
    op.update(over)
    return op


def _spec_op(**over: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "name": "new_um_order",
        "method": "POST",
        "path": "/papi/v1/um/order",
        "signed": True,
        "weight": 1,
        "params": [
            {"name": "symbol", "type": "STRING", "required": True, "note": ""},
            {"name": "side", "type": "ENUM", "required": True, "note": "", "enum": ["SELL", "BUY"]},
            {"name": "recvWindow", "type": "LONG", "required": False, "note": ""},
            {"name": "timestamp", "type": "LONG", "required": True, "note": ""},
        ],
    }
    op.update(over)
    return op


def _response(fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "shape": "object",
        "fields": fields
        or {
            "orderId": {"type": "long"},
            "price": {"type": "string-decimal"},
            "fills": {"type": "array"},
        },
    }


def _spec(op: dict[str, Any], response: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "endpoints": [op],
        "responses": {"POST /papi/v1/um/order": response or _response()},
        "user_stream": {},
    }


def _keys(sdk_op: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    return [d.key for d in drift.compare({"operations": [sdk_op], "events": {}}, spec)]


def test_identical_facts_give_no_difference() -> None:
    # the signer's timestamp and the enum's order do not count; decimal strings are strings
    assert _keys(_sdk_op(), _spec(_spec_op())) == []


def test_operations_only_on_one_side_are_reported_by_route() -> None:
    other = _sdk_op(name="ping", method="GET", path="/papi/v1/ping", params=[], response=None)
    diffs = drift.compare({"operations": [other]}, _spec(_spec_op()))
    assert [d.key for d in diffs] == [
        "op-only-in-sdk: GET /papi/v1/ping",
        "op-only-in-spec: POST /papi/v1/um/order",
    ]


def test_weight_signing_and_deprecation_differences() -> None:
    keys = _keys(_sdk_op(weight=5, signed=False, deprecated=True), _spec(_spec_op()))
    assert keys == [
        "deprecated: POST /papi/v1/um/order",
        "signed: POST /papi/v1/um/order",
        "weight: POST /papi/v1/um/order",
    ]


def test_parameter_names_required_flags_and_enums() -> None:
    spec_op = _spec_op()
    spec_op["params"] = [
        {"name": "symbol", "type": "STRING", "required": False, "note": ""},
        {"name": "side", "type": "ENUM", "required": True, "note": "", "enum": ["BUY"]},
        {"name": "page", "type": "INT", "required": False, "note": ""},
    ]
    assert _keys(_sdk_op(), _spec(spec_op)) == [
        "param-enum: POST /papi/v1/um/order side",
        "param-only-in-sdk: POST /papi/v1/um/order recvWindow",
        "param-only-in-spec: POST /papi/v1/um/order page",
        "param-required: POST /papi/v1/um/order symbol",
    ]


def test_a_spec_parameter_without_the_sdk_enum_is_a_difference() -> None:
    spec_op = _spec_op()
    del spec_op["params"][1]["enum"]
    assert _keys(_sdk_op(), _spec(spec_op)) == ["param-enum: POST /papi/v1/um/order side"]


def test_response_fields_types_and_shape() -> None:
    fields = {
        "orderId": {"type": "string"},
        "avgPrice": {"type": "string-decimal"},
        "cumQuote": {"type": "string-decimal", "removed": True},
        "fills": {"type": "array"},
    }
    response = {"shape": "array of objects", "fields": fields}
    assert _keys(_sdk_op(), _spec(_spec_op(), response)) == [
        "field-only-in-sdk: POST /papi/v1/um/order price",
        "field-only-in-spec: POST /papi/v1/um/order avgPrice",
        "field-type: POST /papi/v1/um/order orderId",
        "response-shape: POST /papi/v1/um/order",
    ]


def test_events_are_matched_through_their_sdk_model() -> None:
    sdk = {
        "operations": [],
        "events": {
            "BalanceUpdate": {"fields": {"E": "integer", "a": "string", "d": "string"}},
            "NewThing": {"fields": {"E": "integer"}},
        },
    }
    spec = {
        "endpoints": [],
        "responses": {},
        "user_stream": {
            "events": {
                "balanceUpdate": {
                    "sdk_model": "BalanceUpdate",
                    "fields": {"E": {"type": "long-ms-time"}, "a": {"type": "string"}},
                },
                "uniMMRDrop": {"sdk_model": None, "fields": {}},
            }
        },
    }
    assert [d.key for d in drift.compare(sdk, spec)] == [
        "event-only-in-sdk: NewThing",
        "event-only-in-spec: uniMMRDrop",
        "field-only-in-sdk: event balanceUpdate d",
    ]


def test_classify_splits_by_pattern_and_reports_unused_justifications() -> None:
    diffs = [
        drift.Diff("op-only-in-spec: GET /papi/v1/unimmr/notification", "x"),
        drift.Diff("op-only-in-spec: POST /papi/v1/unimmr/notification", "x"),
        drift.Diff("weight: GET /papi/v1/account", "sdk 5, spec 20"),
    ]
    justified = [
        ("op-only-in-spec: * /papi/v1/unimmr/notification", "new endpoint"),
        ("param-enum: GET /papi/v1/gone x", "no longer differs"),
    ]
    open_, ok, stale = drift.classify(diffs, justified)
    assert [d.key for d in open_] == ["weight: GET /papi/v1/account"]
    assert [(d.key.split()[1], reason) for d, reason in ok] == [
        ("GET", "new endpoint"),
        ("POST", "new endpoint"),
    ]
    assert stale == ["param-enum: GET /papi/v1/gone x"]


def test_main_exit_status_follows_the_unjustified_differences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_dir = tmp_path / "papi"
    spec_dir.mkdir()
    spec = _spec(_spec_op(weight=2))
    for name in ("endpoints", "responses", "user_stream"):
        (spec_dir / f"{name}.json").write_text(json.dumps(spec[name]), encoding="utf-8")
    facts = {"package": "pkg", "version": "1.0", "operations": [_sdk_op()], "events": {}}
    monkeypatch.setattr(drift, "introspect", lambda python: facts)
    argv = ["--python", "unused", "--spec", str(spec_dir)]
    assert drift.main(argv) == 1
    assert "weight: POST /papi/v1/um/order  (sdk 1, spec 2)" in capsys.readouterr().out
    justified = {"justified": [{"key": "weight: *", "reason": "page says 2"}]}
    (spec_dir / "drift_justified.json").write_text(json.dumps(justified), encoding="utf-8")
    assert drift.main(argv) == 0
    assert "-- page says 2" in capsys.readouterr().out


def test_the_repository_spec_loads_and_every_justification_names_a_reason() -> None:
    spec = drift.load_spec(REPO / "spec" / "papi")
    assert spec["endpoints"] and spec["responses"] and spec["user_stream"]["events"]
    for key, reason in drift.load_justified(REPO / "spec" / "papi" / "drift_justified.json"):
        assert key and reason
