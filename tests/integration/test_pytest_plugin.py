"""The pytest plugin in a user's project: a temporary folder outside this repository.

Each test writes a small test suite that uses ``papi_simulator`` and ``papi_client``
and runs pytest on it in a subprocess with this interpreter (the package, pytest,
pytest-asyncio and anyio are installed in it): with no configuration file
(pytest-asyncio's strict mode, marked tests), with ``asyncio_mode = auto``, and with
anyio's plugin.  This repository's own pytest settings never reach those runs
(``-c`` names the user's configuration or ``os.devnull``, ``--rootdir`` the folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# The user's tests; {mark} marks them for the async plugin of the run.
USER_TESTS = """\
import asyncio
from decimal import Decimal

import pytest

from binance_papi_async import ExecutionStatusUnknown, PortfolioMarginClient
from binance_papi_async.testing import PapiSimulator

{header}

SEED = {{
    "prices": {{"BNB": "600", "USDT": "1"}},
    "accounts": {{"main": {{"assets": {{
        "BNB": {{"borrowed": "2", "interest": "0.001"}},
        "USDT": {{"free": "5000"}},
    }}}}}},
}}


{mark}
@pytest.mark.papi_state(SEED)
async def test_repay_with_the_marker_seed(papi_simulator, papi_client):
    assert isinstance(papi_simulator, PapiSimulator)
    assert isinstance(papi_client, PortfolioMarginClient)
    assert papi_client.base_url == papi_simulator.url
    # The simulator answers in the test's own loop (a simulator in another loop would not).
    result = await asyncio.wait_for(
        papi_client.margin.repay_debt("BNB", Decimal("1"), specify_repay_assets=["USDT"]), 10
    )
    assert result.success
    assert (await papi_client.account.balance("BNB")).cross_margin_debt == Decimal("1.001")
    assert len(papi_simulator.account().applied_repays) == 1


{mark}
@pytest.mark.papi_state("seed.json")
async def test_seed_file_next_to_the_test(papi_client):
    assert (await papi_client.account.balance("BTC")).cross_margin_free == Decimal("0.5")


{mark}
async def test_demo_state_by_default_and_faults_from_the_test(papi_simulator, papi_client):
    assert (await papi_client.account.balance("BNB")).cross_margin_debt == Decimal("2.00125")
    papi_simulator.faults.drop(path="/papi/v1/margin/repay-debt")  # applied, then no answer
    with pytest.raises(ExecutionStatusUnknown):
        await papi_client.margin.repay_debt("BNB", Decimal("1"), specify_repay_assets=["USDT"])
    assert len(papi_simulator.account().applied_repays) == 1
"""

SEED_FILE = (
    '{"prices": {"BTC": "60000"}, "accounts": {"main": {"assets": {"BTC": {"free": "0.5"}}}}}'
)

OVERRIDE_CONFTEST = """\
import pytest
from binance_papi_async.testing import Account, AssetState, SimState


@pytest.fixture
def papi_state():
    account = Account(assets={"ETH": AssetState(free=2)})
    return SimState(prices={"ETH": 3000}, accounts={"main": account})


@pytest.fixture
def papi_simulator_options():
    return {"api_key": "my-test-key", "api_secret": "my-test-secret"}
"""

OVERRIDE_TEST = """\
import pytest


@pytest.mark.asyncio
async def test_override(papi_client):
    # Signed with the key pair of papi_simulator_options (another key would get -2015).
    assert (await papi_client.account.balance("ETH")).cross_margin_free == 2
"""

ANYIO_HEADER = """\
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"
"""


def user_project(tmp_path: Path, *, mark: str, header: str = "", name: str = "engine") -> Path:
    tmp_path.joinpath("seed.json").write_text(SEED_FILE)
    tmp_path.joinpath(f"test_{name}.py").write_text(USER_TESTS.format(mark=mark, header=header))
    return tmp_path


def run_pytest(
    folder: Path, *args: str, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "BINANCE_")) and k != "PYTHONWARNINGS"
    }
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-c", str(config) if config is not None else os.devnull, "--rootdir", str(folder),
            "-W", "error::ResourceWarning",
            "-W", "error::pytest.PytestUnraisableExceptionWarning",
            *args,
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip


def assert_passed(result: subprocess.CompletedProcess[str], count: int) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{count} passed" in result.stdout, output
    # No warning from the plugin's fixtures (pytest-asyncio's own configuration notice
    # about asyncio_default_fixture_loop_scope may appear: it is not ours).
    assert "requested async @pytest.fixture" not in output
    assert "binance_papi_async/pytest_plugin.py" not in output


def test_strict_mode_with_marked_tests_and_no_configuration(tmp_path: Path) -> None:
    project = user_project(tmp_path, mark="@pytest.mark.asyncio")
    # A wider loop scope: the fixtures run in that loop (a simulator in the function
    # loop would never answer a test running in the module loop).
    user_project(tmp_path, mark='@pytest.mark.asyncio(loop_scope="module")', name="module_loop")
    # A folder whose conftest.py overrides the seed and the simulator's keys.
    override = tmp_path / "override"
    override.mkdir()
    override.joinpath("conftest.py").write_text(OVERRIDE_CONFTEST)
    override.joinpath("test_override.py").write_text(OVERRIDE_TEST)
    assert_passed(run_pytest(project), 3 + 3 + 1)


def test_auto_mode_with_unmarked_tests(tmp_path: Path) -> None:
    project = user_project(tmp_path, mark="")
    config = tmp_path / "pytest.ini"
    config.write_text("[pytest]\nasyncio_mode = auto\n")
    assert_passed(run_pytest(project, config=config), 3)


def test_anyio_plugin_beside_pytest_asyncio_in_strict_mode(tmp_path: Path) -> None:
    project = user_project(tmp_path, mark="", header=ANYIO_HEADER)
    assert_passed(run_pytest(project), 3)


def test_anyio_plugin_alone(tmp_path: Path) -> None:
    project = user_project(tmp_path, mark="", header=ANYIO_HEADER)
    assert_passed(run_pytest(project, "-p", "no:asyncio"), 3)


def test_the_plugin_imports_nothing_heavy_until_a_fixture_is_used(tmp_path: Path) -> None:
    tmp_path.joinpath("test_light.py").write_text(
        textwrap.dedent(
            """\
            import sys


            def test_nothing_heavy_loaded(pytestconfig):
                assert pytestconfig.pluginmanager.has_plugin("papi")
                assert "aiohttp" not in sys.modules
                ours = {m for m in sys.modules if m.startswith("binance_papi_async")}
                light = {"binance_papi_async", "binance_papi_async._lazy"}
                assert ours == light | {"binance_papi_async.pytest_plugin"}


            def test_a_sync_test_is_told_what_the_fixture_needs(papi_simulator):
                pass
            """
        )
    )
    result = run_pytest(tmp_path, "-p", "no:anyio", "-p", "no:asyncio")
    assert "1 passed, 1 error" in result.stdout, result.stdout + result.stderr
    assert "papi_simulator needs an async test run by pytest-asyncio" in result.stdout


def test_importing_the_plugin_module_imports_only_the_lazy_package() -> None:
    code = (
        "import sys, binance_papi_async.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith(('aiohttp', 'binance_papi_async'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == str(
        ["binance_papi_async", "binance_papi_async._lazy", "binance_papi_async.pytest_plugin"]
    )


def test_importing_the_package_does_not_import_the_command() -> None:
    code = "import sys, binance_papi_async\nprint('binance_papi_async.cli' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
