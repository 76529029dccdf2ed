"""The README's "pytest plugin", "Command line" and "Logging" sections match the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from binance_papi_async.cli import ExitCode
from binance_papi_async.cli._exit import EXIT_CODES_HELP
from binance_papi_async.cli._parser import SEED_FORMAT_HELP
from binance_papi_async.testing import SimState
from binance_papi_async.testing import state as state_module

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def section(heading: str) -> str:
    return README.read_text().split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def test_pytest_plugin_example_passes_with_no_configuration(tmp_path: Path) -> None:
    (example,) = blocks(section("pytest plugin"), "python")
    (tmp_path / "test_readme_plugin_example.py").write_text(example)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BINANCE_"))}
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-c", os.devnull, "--rootdir", str(tmp_path), "test_readme_plugin_example.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_exit_status_table_lists_every_exit_code() -> None:
    table = section("Command line").split("| exit status | meaning |", 1)[1]
    rows = re.findall(r"^\| ([0-9, ]+) \|", table, re.M)
    documented = {int(n) for row in rows for n in row.split(",")}
    assert documented == {int(code) for code in ExitCode}
    help_codes = {int(n) for n in re.findall(r"^  ([0-9]+) ", EXIT_CODES_HELP, re.M)}
    assert help_codes | {143} == {int(code) for code in ExitCode}
    assert "143 by SIGTERM" in EXIT_CODES_HELP


def test_seed_examples_load_and_agree() -> None:
    text = section("Command line")
    (json_seed,) = blocks(text, "json")
    (toml_seed,) = blocks(text, "toml")
    from_json = SimState.from_json(json_seed)
    from_toml = SimState.from_toml(toml_seed)
    assert from_json.account("main").debt("BNB") == from_toml.account("main").debt("BNB")
    assert from_json.prices["BNB"] == from_toml.prices["BNB"]
    assert [k.api_key for k in from_json.keys] == [k.api_key for k in from_toml.keys]
    assert from_json.symbols == from_toml.symbols and from_json.symbols["UM"]
    assert from_json.commission == from_toml.commission and from_json.commission["UM"]
    wallets = from_json.account("main").book.wallets
    assert wallets == from_toml.account("main").book.wallets and wallets


def test_every_seed_key_is_documented_where_users_read_it() -> None:
    keys = {"prices", "accounts", "keys", "marks", "symbols", "commission", "wallets"}
    places = {
        "README": section("Command line"),
        "papi sim --help": SEED_FORMAT_HELP,
        "SimState": state_module.__doc__ or "",
    }
    for where, text in places.items():
        missing = {k for k in keys if f'"{k}"' not in text and f"``{k}``" not in text}
        assert not missing, (where, missing)


def test_logging_table_names_every_logger_of_the_package() -> None:
    in_code = set()
    for path in (ROOT / "binance_papi_async").rglob("*.py"):
        in_code |= set(re.findall(r'getLogger\("([^"]+)"\)', path.read_text()))
    in_readme = set(re.findall(r"^\| `([a-z_.]+)` \|", section("Logging"), re.M))
    assert in_code and in_readme == in_code
