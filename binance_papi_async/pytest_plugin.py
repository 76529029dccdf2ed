"""The pytest plugin of binance_papi_async: ``papi_simulator`` and ``papi_client`` fixtures.

Installed with the package (entry point ``pytest11``, name ``papi``; disable it
with ``-p no:papi``).  It loads in every pytest run of every project that has the
package installed, so this module imports nothing but pytest: the simulator,
the client and aiohttp are imported when a test first uses a fixture.  (It is a
top-level module because importing ``binance_papi_async.anything`` runs the
package's ``__init__``, which imports aiohttp.)

Fixtures (function-scoped):

* ``papi_simulator``: a running :class:`~binance_papi_async.testing.PapiSimulator`
  on 127.0.0.1 (a free port), seeded from ``@pytest.mark.papi_state(...)`` on the
  test (or its class / module), else from the ``papi_state`` fixture, else
  :func:`~binance_papi_async.testing.demo_state`.  A seed is a ``SimState``, a
  mapping in the seed format (``SimState.from_dict``) or the path of a JSON / TOML
  seed file (relative paths are relative to the test file's folder).
* ``papi_client``: a :class:`~binance_papi_async.PortfolioMarginClient` bound to
  the simulator, created in the test's event loop and closed after the test.  It
  uses the ``api_key`` / ``api_secret`` of ``papi_simulator_options``, else the
  first HMAC key of the seed's ``keys``, else the demo key pair.
* ``papi_state`` (default ``None``), ``papi_simulator_options`` and
  ``papi_client_options`` (default ``{}``: keyword arguments of ``PapiSimulator``
  and ``PortfolioMarginClient``): override them in a ``conftest.py`` or a module.

Async tests only, on asyncio: the simulator and the client live in the test's own
event loop, so the test can await them and change the simulator (``set_mark``,
``faults``, ``stream.push``) without crossing threads.  The fixtures run in the
loop of whichever plugin runs the test:

* pytest-asyncio, strict mode (``@pytest.mark.asyncio``) or auto mode, with the
  test's loop scope (``loop_scope=`` of the marker, else
  ``asyncio_default_test_loop_scope``, else ``function``);
* anyio's pytest plugin (``@pytest.mark.anyio``) on its asyncio backend (a trio
  run of the test is skipped: aiohttp needs asyncio).

To do that, the public fixtures are synchronous dispatchers: at setup they request
the async fixture that the test's plugin runs in the test's loop (one declared
with ``pytest_asyncio.fixture(loop_scope=...)`` per loop scope, registered only
when pytest-asyncio is active, or a plain async fixture that anyio runs).
"""

from __future__ import annotations

import os
import types
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from binance_papi_async import PortfolioMarginClient
    from binance_papi_async.testing import PapiSimulator, SimState

__all__ = [
    "papi_client",
    "papi_client_options",
    "papi_simulator",
    "papi_simulator_options",
    "papi_state",
    "pytest_configure",
]

_LoopScope = Literal["function", "class", "module", "package", "session"]
_LOOP_SCOPES: tuple[_LoopScope, ...] = ("function", "class", "module", "package", "session")
_ANYIO = "anyio"
_MARKER = "papi_state"
_CREDENTIAL_OPTIONS = frozenset({"api_key", "api_secret", "private_key", "signer"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(seed): seed the papi_simulator fixture: a binance_papi_async.testing."
        "SimState, a mapping in its seed format, or the path of a JSON / TOML seed file",
    )
    if config.pluginmanager.has_plugin("asyncio"):
        config.pluginmanager.register(_asyncio_fixtures(), "binance-papi-async-asyncio")


# -- what users override -------------------------------------------------------------------


@pytest.fixture
def papi_state() -> Any:
    """The simulator's seed when the test has no ``papi_state`` marker (``None``: the
    demo state).  Override it to return a ``SimState``, a mapping or a file path."""
    return None


@pytest.fixture
def papi_simulator_options() -> dict[str, Any]:
    """Keyword arguments for ``PapiSimulator`` (e.g. ``ip_weight_limit``, ``clock``)."""
    return {}


@pytest.fixture
def papi_client_options() -> dict[str, Any]:
    """Keyword arguments for ``PortfolioMarginClient`` (e.g. ``limiter``, ``clock``)."""
    return {}


# -- the public fixtures: dispatch to the variant the test's async plugin runs -------------


@pytest.fixture
def papi_simulator(request: pytest.FixtureRequest) -> PapiSimulator:
    """A running papi simulator in the test's event loop (see the module docstring)."""
    value: PapiSimulator = request.getfixturevalue(f"_papi_simulator_{_runner(request)}")
    return value


@pytest.fixture
def papi_client(
    request: pytest.FixtureRequest, papi_simulator: PapiSimulator
) -> PortfolioMarginClient:
    """A client bound to ``papi_simulator``, closed after the test."""
    value: PortfolioMarginClient = request.getfixturevalue(f"_papi_client_{_runner(request)}")
    return value


def _runner(request: pytest.FixtureRequest) -> str:
    """Which plugin runs the test: ``anyio`` or ``asyncio_<loop scope>``."""
    if "anyio_backend" in request.fixturenames:
        backend = request.getfixturevalue("anyio_backend")
        name = backend if isinstance(backend, str) else backend[0]
        if name != "asyncio":
            pytest.skip(f"binance_papi_async runs on asyncio, not on anyio's {name} backend")
        return _ANYIO
    marker = request.node.get_closest_marker("asyncio")
    if marker is not None and request.config.pluginmanager.has_plugin("asyncio"):
        return f"asyncio_{_loop_scope(request.config, marker)}"
    pytest.fail(
        f"{request.fixturename} needs an async test run by pytest-asyncio "
        "(@pytest.mark.asyncio, or asyncio_mode = auto) or by anyio (@pytest.mark.anyio)",
        pytrace=False,
    )


def _loop_scope(config: pytest.Config, marker: pytest.Mark) -> str:
    scope = marker.kwargs.get("loop_scope") or marker.kwargs.get("scope")
    if scope is None:
        try:
            scope = config.getini("asyncio_default_test_loop_scope") or None
        except ValueError:  # pytest-asyncio < 0.26 has no such setting
            scope = None
    scope = scope or "function"
    if scope not in _LOOP_SCOPES:
        pytest.fail(f"unknown asyncio loop scope {scope!r}", pytrace=False)
    return str(scope)


# -- the async fixtures, one function object per variant -----------------------------------


def _seed(request: pytest.FixtureRequest, fallback: Any) -> SimState:
    from binance_papi_async.testing import SimState, demo_state

    marker = request.node.get_closest_marker(_MARKER)
    if marker is not None:
        if len(marker.args) != 1 or marker.kwargs:
            pytest.fail(f"@pytest.mark.{_MARKER} takes one seed argument", pytrace=False)
        source = marker.args[0]
    else:
        source = fallback
    if source is None:
        return demo_state()
    if isinstance(source, SimState):
        return source
    if isinstance(source, Mapping):
        return SimState.from_dict(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_absolute():
            path = Path(request.path).parent / path
        return SimState.from_file(path)
    pytest.fail(
        f"a papi seed is a SimState, a mapping or a file path, not {type(source).__name__}",
        pytrace=False,
    )


def _credentials(sim: PapiSimulator, sim_options: Mapping[str, Any]) -> dict[str, str]:
    from binance_papi_async.testing import DEMO_API_KEY, DEMO_API_SECRET

    if sim_options.get("api_key") is not None:
        return {"api_key": sim_options["api_key"], "api_secret": sim_options["api_secret"]}
    for spec in sim.state.keys:
        if spec.secret is not None:
            return {"api_key": spec.api_key, "api_secret": spec.secret}
    if sim.state.keys:
        pytest.fail(
            "the seed has only public-key API keys: give papi_client_options a private_key "
            "or signer",
            pytrace=False,
        )
    return {"api_key": DEMO_API_KEY, "api_secret": DEMO_API_SECRET}


def _simulator_fixture() -> Callable[..., AsyncIterator[PapiSimulator]]:
    async def fixture(
        request: pytest.FixtureRequest, papi_state: Any, papi_simulator_options: dict[str, Any]
    ) -> AsyncIterator[PapiSimulator]:
        from binance_papi_async.testing import PapiSimulator

        state = _seed(request, papi_state)
        async with PapiSimulator(state=state, **papi_simulator_options) as sim:
            yield sim

    return fixture


def _client_fixture() -> Callable[..., AsyncIterator[PortfolioMarginClient]]:
    async def fixture(
        papi_simulator: PapiSimulator,
        papi_simulator_options: dict[str, Any],
        papi_client_options: dict[str, Any],
    ) -> AsyncIterator[PortfolioMarginClient]:
        from binance_papi_async import PortfolioMarginClient

        options = dict(papi_client_options)
        if not _CREDENTIAL_OPTIONS & options.keys():
            options.update(_credentials(papi_simulator, papi_simulator_options))
        options.setdefault("base_url", papi_simulator.url)
        async with PortfolioMarginClient(**options) as client:
            yield client

    return fixture


# anyio runs any async fixture of a test that uses its anyio_backend fixture.
_papi_simulator_anyio = pytest.fixture(name="_papi_simulator_anyio")(_simulator_fixture())
_papi_client_anyio = pytest.fixture(name="_papi_client_anyio")(_client_fixture())


def _asyncio_fixtures() -> object:
    """The pytest-asyncio variants, one per loop scope, in a module registered as a plugin."""
    import pytest_asyncio

    holder = types.ModuleType(f"{__name__}.asyncio_fixtures")
    for scope in _LOOP_SCOPES:
        for kind, make in (("simulator", _simulator_fixture), ("client", _client_fixture)):
            name = f"_papi_{kind}_asyncio_{scope}"
            setattr(holder, name, pytest_asyncio.fixture(loop_scope=scope, name=name)(make()))
    return holder
