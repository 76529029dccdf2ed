"""Account state of the papi simulator: balances, margin debts and USD prices.

Everything is :class:`~decimal.Decimal` (never ``float``) and kept at 8 decimal
places, the precision papi prints.  A :class:`SimState` holds

* ``prices``: the USD price of each asset (shared by all accounts, like a market);
* ``accounts``: one :class:`Account` per account name, each with per-asset
  :class:`AssetState` (cross-margin ``free`` / ``locked`` amounts and the margin
  debt as ``borrowed`` principal plus accrued ``interest``);
* ``marks``: optional per-symbol mark prices for the trading engine (:mod:`.trading`);
* ``keys``: optional :class:`KeySpec` entries (API key -> secret or public key and
  the account it belongs to), so that a seed file can carry its own key pairs.

A state is seeded from Python (the dataclasses below, or :func:`demo_state`) or
from a small JSON / TOML document (:meth:`SimState.from_dict`,
:meth:`SimState.from_json`, :meth:`SimState.from_file`)::

    {
      "prices": {"BNB": "600", "USDT": "1", "BTC": "60000"},
      "accounts": {
        "main": {"assets": {
          "BNB":  {"free": "0.3", "borrowed": "2", "interest": "0.00125"},
          "USDT": {"free": "5000"}
        }}
      },
      "keys": [{"api_key": "my-key", "secret": "my-secret", "account": "main"}],
      "marks": {"BTCUSDT": "60000"}
    }

Numbers may be written as JSON/TOML numbers or as strings; they are parsed
exactly (``parse_float=Decimal``), never through ``float``.  TOML needs Python
3.11+ (``tomllib``).
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .book import Book

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEMO_API_KEY",
    "DEMO_API_SECRET",
    "Account",
    "AssetState",
    "KeySpec",
    "RepayRecord",
    "SimState",
    "demo_state",
    "fmt8",
    "q8",
]

#: The account a key is attached to when no account name is given.
DEFAULT_ACCOUNT = "main"

#: Obviously fake credentials of the demo account.  They only work against the simulator.
DEMO_API_KEY = "demo-key-papi-simulator-NOT-A-REAL-BINANCE-KEY"
DEMO_API_SECRET = "demo-secret-papi-simulator-NOT-A-REAL-BINANCE-SECRET"

ZERO = Decimal(0)
EIGHT_PLACES = Decimal("0.00000001")


def q8(value: Decimal) -> Decimal:
    """``value`` truncated (towards zero) to 8 decimal places."""
    return value.quantize(EIGHT_PLACES, rounding=ROUND_DOWN)


def fmt8(value: Decimal) -> str:
    """``value`` as papi prints amounts: a plain decimal string with exactly 8 places."""
    return f"{q8(value):.8f}"


def _dec(value: object, what: str) -> Decimal:
    """Parse a seed value (str, int or Decimal) exactly; floats are refused."""
    if isinstance(value, bool | float):
        raise ValueError(f"{what}: use a string or an exact number, not {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{what}: not a decimal number: {value!r}") from None
    else:
        raise ValueError(f"{what}: not a decimal number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"{what}: not a finite number: {value!r}")
    return result


@dataclass(slots=True)
class AssetState:
    """One asset of a cross-margin account.

    ``free`` and ``locked`` are the cross-margin balance; ``borrowed`` (principal)
    plus ``interest`` is the margin debt in that asset.
    """

    free: Decimal = ZERO
    locked: Decimal = ZERO
    borrowed: Decimal = ZERO
    interest: Decimal = ZERO

    @property
    def debt(self) -> Decimal:
        """Outstanding debt: principal plus interest."""
        return self.borrowed + self.interest

    @property
    def total(self) -> Decimal:
        """Cross-margin asset amount: free plus locked."""
        return self.free + self.locked

    def __post_init__(self) -> None:
        for name in ("free", "locked", "borrowed", "interest"):
            value = q8(_dec(getattr(self, name), name))
            if value < 0:
                raise ValueError(f"{name} must not be negative: {value}")
            setattr(self, name, value)

    def to_dict(self) -> dict[str, str]:
        """The four amounts as 8-decimal strings."""
        return {
            "free": fmt8(self.free),
            "locked": fmt8(self.locked),
            "borrowed": fmt8(self.borrowed),
            "interest": fmt8(self.interest),
        }


@dataclass(frozen=True, slots=True)
class RepayRecord:
    """One repay-debt the simulator applied (for assertions such as "applied exactly once").

    ``used`` maps each asset taken from the balance to the amount taken (the debt
    asset itself first, then the ``specifyRepayAssets`` in order).
    """

    update_time: int
    asset: str
    amount: Decimal
    interest_paid: Decimal
    principal_paid: Decimal
    used: Mapping[str, Decimal]
    specify_repay_assets: tuple[str, ...]


@dataclass(slots=True)
class Account:
    """The state of one account: assets by name, last update time, applied repays.

    ``book`` holds its orders, conditional orders, UM / CM positions and margin loan
    and repay records (see :mod:`.book`).  ``unimmr_notification``: uniMMR drop
    notifications are on (Portfolio Margin Pro; off by default, as on Binance; seed key
    ``unimmrNotification``).
    """

    assets: dict[str, AssetState] = field(default_factory=dict)
    update_time: int = 0
    applied_repays: list[RepayRecord] = field(default_factory=list)
    book: Book = field(default_factory=Book)
    unimmr_notification: bool = False

    def asset(self, name: str) -> AssetState:
        """The state of ``name``, created empty if the account never held it."""
        state = self.assets.get(name)
        if state is None:
            state = self.assets[name] = AssetState()
        return state

    def debt(self, name: str) -> Decimal:
        """Outstanding debt (principal + interest) in ``name``; zero if none."""
        state = self.assets.get(name)
        return state.debt if state is not None else ZERO

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (amounts as strings)."""
        return {
            "assets": {name: a.to_dict() for name, a in self.assets.items()},
            "updateTime": self.update_time,
            "appliedRepays": len(self.applied_repays),
            "book": self.book.to_dict(),
            "unimmrNotification": self.unimmr_notification,
        }


@dataclass(frozen=True, slots=True)
class KeySpec:
    """An API key known to the simulator: an HMAC ``secret`` or a PEM ``public_key_pem``."""

    api_key: str
    secret: str | None = None
    public_key_pem: str | None = None
    account: str = DEFAULT_ACCOUNT

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        if (self.secret is None) == (self.public_key_pem is None):
            raise ValueError("give exactly one of secret= or public_key_pem=")

    def __repr__(self) -> str:
        kind = "hmac" if self.secret is not None else "public-key"
        return f"KeySpec(api_key={self.api_key[:4]}..., {kind}, account={self.account!r})"


@dataclass(slots=True)
class SimState:
    """Prices, accounts and (optionally) keys of a simulator.

    ``marks`` are per-symbol mark prices (``"BTCUSDT"``, ``"BTCUSD_PERP"``) the
    trading engine fills at; a symbol without one is priced from ``prices``
    (base price / quote price; a CM symbol ``<BASE>USD_...`` at the base's USD price).
    """

    prices: dict[str, Decimal] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    keys: list[KeySpec] = field(default_factory=list)
    marks: dict[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for what, table in (("price", self.prices), ("mark price", self.marks)):
            for name, price in table.items():
                value = _dec(price, f"{what} of {name}")
                if value <= 0:
                    raise ValueError(f"{what} of {name} must be positive: {value}")
                table[name] = value

    def account(self, name: str = DEFAULT_ACCOUNT) -> Account:
        """The account ``name``, created empty if it does not exist."""
        account = self.accounts.get(name)
        if account is None:
            account = self.accounts[name] = Account()
        return account

    def copy(self) -> SimState:
        """A deep copy (the simulator keeps one to implement reset)."""
        return copy.deepcopy(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: prices and accounts (keys are not included)."""
        return {
            "prices": {asset: str(price) for asset, price in self.prices.items()},
            "marks": {symbol: str(price) for symbol, price in self.marks.items()},
            "accounts": {name: acc.to_dict() for name, acc in self.accounts.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimState:
        """Build a state from a parsed JSON / TOML document (see the module docstring)."""
        unknown = set(data) - {"prices", "accounts", "keys", "marks"}
        if unknown:
            raise ValueError(f"unknown top-level keys: {sorted(unknown)}")
        prices = {
            str(asset): _dec(price, f"price of {asset}")
            for asset, price in _mapping(data.get("prices", {}), "prices").items()
        }
        accounts: dict[str, Account] = {}
        for name, raw in _mapping(data.get("accounts", {}), "accounts").items():
            account_raw = _mapping(raw, f"account {name}")
            assets_raw = _mapping(account_raw.get("assets", {}), "assets")
            switch = account_raw.get("unimmrNotification", False)
            if not isinstance(switch, bool):
                raise ValueError(f"account {name}: unimmrNotification must be true or false")
            assets: dict[str, AssetState] = {}
            for asset, amounts in assets_raw.items():
                fields = _mapping(amounts, f"asset {asset}")
                bad = set(fields) - {"free", "locked", "borrowed", "interest"}
                if bad:
                    raise ValueError(f"asset {asset}: unknown fields {sorted(bad)}")
                assets[str(asset)] = AssetState(
                    **{k: _dec(v, f"{asset}.{k}") for k, v in fields.items()}
                )
            accounts[str(name)] = Account(assets=assets, unimmr_notification=switch)
        keys = [
            KeySpec(**{str(k): v for k, v in _mapping(entry, "key").items()})
            for entry in _sequence(data.get("keys", []), "keys")
        ]
        marks = {
            str(symbol): _dec(price, f"mark price of {symbol}")
            for symbol, price in _mapping(data.get("marks", {}), "marks").items()
        }
        state = cls(prices=prices, accounts=accounts, keys=keys, marks=marks)
        state.check_prices()
        return state

    @classmethod
    def from_json(cls, text: str | bytes) -> SimState:
        """Parse a JSON seed document (numbers are read exactly as Decimal)."""
        return cls.from_dict(json.loads(text, parse_float=Decimal))

    @classmethod
    def from_toml(cls, text: str) -> SimState:
        """Parse a TOML seed document (``tomllib``; on Python 3.10 the ``tomli`` package)."""
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - depends on the interpreter
            try:
                import tomli as tomllib
            except ImportError:
                raise RuntimeError(
                    "TOML seed files need Python 3.11+ or the 'tomli' package"
                ) from None
        return cls.from_dict(tomllib.loads(text, parse_float=Decimal))

    @classmethod
    def from_file(cls, path: str | Path) -> SimState:
        """Load a ``.json`` or ``.toml`` seed file."""
        p = Path(path)
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() == ".toml":
            return cls.from_toml(text)
        return cls.from_json(text)

    def check_prices(self) -> None:
        """Raise ``ValueError`` if an asset held or owed by some account has no USD price."""
        missing = {
            asset
            for account in self.accounts.values()
            for asset in account.assets
            if asset not in self.prices
        }
        if missing:
            raise ValueError(f"no USD price for {sorted(missing)}")


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what}: expected an object/table")
    return value


def _sequence(value: object, what: str) -> Iterable[Any]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{what}: expected an array")
    return value


def demo_state() -> SimState:
    """The demo account ``main``: BNB margin debt with interest, USDT and BTC to repay it.

    * BNB: 0.3 free, 2 borrowed + 0.00125 interest (debt 2.00125 BNB, about 1200 USD);
    * USDT: 5000 free; BTC: 0.05 free; ETH: 1.5 free, 0.4 borrowed + 0.0002 interest.

    Enough for a partial repay (e.g. 0.5 BNB: 0.3 from BNB, the rest from USDT) and a
    repay-all of the remaining BNB debt with ``specifyRepayAssets=USDT,BTC``.
    Prices (USD): BNB 600, USDT 1, BTC 60000, ETH 3000; no explicit marks (symbols
    such as BTCUSDT, ETHUSDT, BNBUSDT, BTCUSD_PERP are priced from these).
    """
    return SimState(
        prices={
            "BNB": Decimal("600"),
            "USDT": Decimal("1"),
            "BTC": Decimal("60000"),
            "ETH": Decimal("3000"),
        },
        accounts={
            DEFAULT_ACCOUNT: Account(
                assets={
                    "BNB": AssetState(
                        free=Decimal("0.3"), borrowed=Decimal("2"), interest=Decimal("0.00125")
                    ),
                    "USDT": AssetState(free=Decimal("5000")),
                    "BTC": AssetState(free=Decimal("0.05")),
                    "ETH": AssetState(
                        free=Decimal("1.5"), borrowed=Decimal("0.4"), interest=Decimal("0.0002")
                    ),
                }
            )
        },
    )
