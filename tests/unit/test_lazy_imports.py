"""Names load on first use (PEP 562): the same public API and types, less to import.

Each import check runs in a fresh interpreter, since this one has imported everything.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import binance_papi_async
from binance_papi_async import PortfolioMarginClient, api, models_generated

REPO = Path(__file__).resolve().parents[2]
LAZY_PACKAGES = [binance_papi_async, api, models_generated]


def modules_after(statement: str) -> set[str]:
    """The modules a fresh interpreter has loaded after ``statement``."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    return set(json.loads(out))


def test_importing_the_package_loads_none_of_its_modules() -> None:
    loaded = modules_after("import binance_papi_async")
    ours = {m for m in loaded if m.startswith("binance_papi_async")}
    assert ours == {"binance_papi_async", "binance_papi_async._lazy"}
    assert "aiohttp" not in loaded


def test_the_client_loads_without_namespaces_models_or_stream() -> None:
    loaded = modules_after("from binance_papi_async import PortfolioMarginClient")
    assert "binance_papi_async.client" in loaded and "aiohttp" in loaded
    heavy = tuple(f"binance_papi_async.{m}" for m in ("api", "models_generated", "stream"))
    assert not [m for m in loaded if m.startswith(heavy)]


def test_a_model_loads_its_namespace_module_only() -> None:
    loaded = modules_after("from binance_papi_async.models_generated import NewUmOrderResponse")
    generated = {m for m in loaded if m.startswith("binance_papi_async.models_generated.")}
    assert generated == {"binance_papi_async.models_generated.um"}


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda m: m.__name__)
def test_every_public_name_resolves_and_is_listed(package: ModuleType) -> None:
    for name in package.__all__:
        value = getattr(package, name)
        assert value is getattr(package, name)  # stored on first access
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'Misspelt'"):
        _ = package.Misspelt


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda m: m.__name__)
def test_type_checkers_see_the_names_the_package_loads(package: ModuleType) -> None:
    """The ``if TYPE_CHECKING:`` imports, ``_HOMES`` and ``__all__`` name the same things."""
    assert package.__file__ is not None
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    checked: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    for alias in stmt.names:
                        checked[alias.asname or alias.name] = "." * stmt.level + (stmt.module or "")
    homes: dict[str, str] = vars(package)["_HOMES"]
    assert checked == homes
    lazy = set(package.__all__) - set(homes)
    assert lazy <= {"__version__", "RESPONSE_MODELS"}
    for name, home in homes.items():
        module = importlib.import_module(home, package.__name__)
        assert getattr(package, name) is getattr(module, name)


def test_response_models_lists_every_generated_model_module() -> None:
    routes = models_generated.RESPONSE_MODELS
    modules = {cls.__module__ for cls in routes.values()}
    assert modules == {
        f"binance_papi_async.models_generated.{m}" for m in vars(models_generated)["_MODULES"]
    }
    assert routes["POST /papi/v1/um/order"] is models_generated.NewUmOrderResponse


def test_namespaces_are_created_once_and_together() -> None:
    client = PortfolioMarginClient("k", "s")
    try:
        um = client.um
        assert client.um is um and client._api.um is um
        assert (client.account, client.margin, client.cm) == (
            client._api.account,
            client._api.margin,
            client._api.cm,
        )
    finally:
        asyncio.run(client.aclose())
