"""Account state of the papi simulator: balances, margin debts and USD prices.

Everything is :class:`~decimal.Decimal` (never ``float``) and kept at 8 decimal
places, the precision papi prints.  A :class:`SimState` holds

* ``prices``: the USD price of each asset (shared by all accounts, like a market);
* ``accounts``: one :class:`Account` per account name, each with per-asset
  :class:`AssetState` (cross-margin ``free`` / ``locked`` amounts and the margin
  debt as ``borrowed`` principal plus accrued ``interest``);
* ``marks``: optional per-symbol mark prices for the trading engine (:mod:`.trading`);
* ``keys``: optional :class:`KeySpec` entries (API key -> secret or public key and
  the account it belongs to), so that a seed file can carry its own key pairs;
* ``symbols``: optional filters per product (``UM``, ``CM``, ``MARGIN``) and symbol
  (:class:`SymbolRules`: ``tickSize``, ``stepSize``, ``minNotional``); a symbol not
  listed is still traded (priced from ``prices``) with the 8-decimal precision of
  :data:`UNLISTED_RULES` and no minimum notional (CM: whole contracts);
* ``commission``: optional maker / taker rates per product (:class:`Commission`;
  defaults :data:`DEFAULT_COMMISSION`: UM and CM 0.02 % / 0.05 %, margin 0.1 %).

An account may also seed its UM / CM wallets (``wallets``: per product, per asset;
the futures wallets otherwise start at 0).

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
      "marks": {"BTCUSDT": "60000"},
      "symbols": {"UM": {"BTCUSDT": {"tickSize": "0.1", "stepSize": "0.001",
                                     "minNotional": "100"}}},
      "commission": {"UM": {"maker": "0.0002", "taker": "0.0005"}}
    }

with ``"wallets": {"UM": {"USDT": "1000"}}`` beside ``"assets"`` in an account.

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
    "DEFAULT_COMMISSION",
    "DEMO_API_KEY",
    "DEMO_API_SECRET",
    "PRODUCTS",
    "UNLISTED_RULES",
    "Account",
    "AssetState",
    "Commission",
    "KeySpec",
    "RepayRecord",
    "SimState",
    "SymbolRules",
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
#: The products that trade: UM and CM futures, cross margin.
PRODUCTS = ("UM", "CM", "MARGIN")


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
class SymbolRules:
    """The filters of one symbol: price ``tick_size``, quantity ``step_size`` (also the
    minimum quantity) and ``min_notional`` (price x quantity; for CM, unused).  The
    decimals they are written with are the precision (``Decimal("0.10")``: two)."""

    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in ("tick_size", "step_size", "min_notional"):
            value = _dec(getattr(self, name), name)
            if value < 0 or (value == 0 and name != "min_notional"):
                raise ValueError(f"{name} must be positive: {value}")
            object.__setattr__(self, name, value)

    @classmethod
    def parse(cls, data: Mapping[str, Any], what: str) -> SymbolRules:
        """From a seed's ``{"tickSize": ..., "stepSize": ..., "minNotional": ...}``."""
        bad = set(data) - {"tickSize", "stepSize", "minNotional"}
        if bad:
            raise ValueError(f"{what}: unknown fields {sorted(bad)}")
        return cls(
            tick_size=_dec(data.get("tickSize", "0.00000001"), f"{what}.tickSize"),
            step_size=_dec(data.get("stepSize", "0.00000001"), f"{what}.stepSize"),
            min_notional=_dec(data.get("minNotional", 0), f"{what}.minNotional"),
        )

    def to_dict(self) -> dict[str, str]:
        """The seed form."""
        return {
            "tickSize": format(self.tick_size, "f"),
            "stepSize": format(self.step_size, "f"),
            "minNotional": format(self.min_notional, "f"),
        }


#: The filters of a symbol the state does not list (CM: whole contracts).
UNLISTED_RULES = {
    "UM": SymbolRules(EIGHT_PLACES, EIGHT_PLACES),
    "CM": SymbolRules(EIGHT_PLACES, Decimal(1)),
    "MARGIN": SymbolRules(EIGHT_PLACES, EIGHT_PLACES),
}


@dataclass(frozen=True, slots=True)
class Commission:
    """Maker and taker commission rates (fractions: 0.0002 is 0.02 %)."""

    maker: Decimal
    taker: Decimal

    def __post_init__(self) -> None:
        for name in ("maker", "taker"):
            value = _dec(getattr(self, name), f"commission {name}")
            if not 0 <= value < 1:
                raise ValueError(f"commission {name} must be in [0, 1): {value}")
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, str]:
        """The seed form."""
        return {"maker": format(self.maker, "f"), "taker": format(self.taker, "f")}


#: Commission rates per product when the state gives none (Binance's base tier).
DEFAULT_COMMISSION = {
    "UM": Commission(Decimal("0.0002"), Decimal("0.0005")),
    "CM": Commission(Decimal("0.0002"), Decimal("0.0005")),
    "MARGIN": Commission(Decimal("0.001"), Decimal("0.001")),
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

    ``book`` holds its orders, conditional orders, UM / CM positions and wallets, and
    its histories (see :mod:`.book`).  ``unimmr_notification``: uniMMR drop
    notifications are on (Portfolio Margin Pro; off by default, as on Binance; seed key
    ``unimmrNotification``).  ``fee_burn`` (BNB fee discount on UM; recorded only),
    ``auto_repay_futures`` (auto-repay of futures negative balances; on by default;
    recorded only: the simulator repays only on ``repay-futures-negative-balance``) and
    ``tradfi_perps`` (the TradFi perps agreement was signed) are switches of the API.
    """

    assets: dict[str, AssetState] = field(default_factory=dict)
    update_time: int = 0
    applied_repays: list[RepayRecord] = field(default_factory=list)
    book: Book = field(default_factory=Book)
    unimmr_notification: bool = False
    fee_burn: bool = False
    auto_repay_futures: bool = True
    tradfi_perps: bool = False

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
    ``symbols`` holds the filters per product and symbol, ``commission`` the rates per
    product (see the module documentation).
    """

    prices: dict[str, Decimal] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    keys: list[KeySpec] = field(default_factory=list)
    marks: dict[str, Decimal] = field(default_factory=dict)
    symbols: dict[str, dict[str, SymbolRules]] = field(default_factory=dict)
    commission: dict[str, Commission] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for what, table in (("price", self.prices), ("mark price", self.marks)):
            for name, price in table.items():
                value = _dec(price, f"{what} of {name}")
                if value <= 0:
                    raise ValueError(f"{what} of {name} must be positive: {value}")
                table[name] = value
        unknown = (set(self.symbols) | set(self.commission)) - set(PRODUCTS)
        if unknown:
            raise ValueError(f"unknown products {sorted(unknown)} (use {', '.join(PRODUCTS)})")

    def rules(self, product: str, symbol: str) -> SymbolRules:
        """The filters of ``symbol`` (:data:`UNLISTED_RULES` when not listed)."""
        listed = self.symbols.get(product)
        rules = listed.get(symbol) if listed is not None else None
        return rules if rules is not None else UNLISTED_RULES[product]

    def rates(self, product: str) -> Commission:
        """The commission rates of ``product``."""
        return self.commission.get(product) or DEFAULT_COMMISSION[product]

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
            "symbols": {
                product: {symbol: rules.to_dict() for symbol, rules in table.items()}
                for product, table in self.symbols.items()
            },
            "commission": {product: c.to_dict() for product, c in self.commission.items()},
            "accounts": {name: acc.to_dict() for name, acc in self.accounts.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimState:
        """Build a state from a parsed JSON / TOML document (see the module docstring)."""
        unknown = set(data) - {"prices", "accounts", "keys", "marks", "symbols", "commission"}
        if unknown:
            raise ValueError(f"unknown top-level keys: {sorted(unknown)}")
        prices = {
            str(asset): _dec(price, f"price of {asset}")
            for asset, price in _mapping(data.get("prices", {}), "prices").items()
        }
        accounts = {
            str(name): _account_from(raw, str(name))
            for name, raw in _mapping(data.get("accounts", {}), "accounts").items()
        }
        keys = [
            KeySpec(**{str(k): v for k, v in _mapping(entry, "key").items()})
            for entry in _sequence(data.get("keys", []), "keys")
        ]
        marks = {
            str(symbol): _dec(price, f"mark price of {symbol}")
            for symbol, price in _mapping(data.get("marks", {}), "marks").items()
        }
        symbols = {
            str(product): {
                str(symbol): SymbolRules.parse(_mapping(rules, symbol), f"{product} {symbol}")
                for symbol, rules in _mapping(table, f"symbols.{product}").items()
            }
            for product, table in _mapping(data.get("symbols", {}), "symbols").items()
        }
        commission = {
            str(product): _commission_from(_mapping(rates, f"commission.{product}"), product)
            for product, rates in _mapping(data.get("commission", {}), "commission").items()
        }
        state = cls(prices, accounts, keys, marks, symbols, commission)
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
            for asset in (*account.assets, *(a for _, a in account.book.wallets))
            if asset not in self.prices
        }
        if missing:
            raise ValueError(f"no USD price for {sorted(missing)}")


def _account_from(raw: object, name: str) -> Account:
    """One account of a seed: ``assets``, ``wallets`` and ``unimmrNotification``."""
    account_raw = _mapping(raw, f"account {name}")
    bad = set(account_raw) - {"assets", "wallets", "unimmrNotification"}
    if bad:
        raise ValueError(f"account {name}: unknown fields {sorted(bad)}")
    switch = account_raw.get("unimmrNotification", False)
    if not isinstance(switch, bool):
        raise ValueError(f"account {name}: unimmrNotification must be true or false")
    assets: dict[str, AssetState] = {}
    for asset, amounts in _mapping(account_raw.get("assets", {}), "assets").items():
        fields = _mapping(amounts, f"asset {asset}")
        unknown = set(fields) - {"free", "locked", "borrowed", "interest"}
        if unknown:
            raise ValueError(f"asset {asset}: unknown fields {sorted(unknown)}")
        assets[str(asset)] = AssetState(**{k: _dec(v, f"{asset}.{k}") for k, v in fields.items()})
    account = Account(assets=assets, unimmr_notification=switch)
    for product, wallets in _mapping(account_raw.get("wallets", {}), "wallets").items():
        if product not in ("UM", "CM"):
            raise ValueError(f"account {name}: wallets are UM or CM, not {product!r}")
        for asset, amount in _mapping(wallets, f"wallets.{product}").items():
            value = q8(_dec(amount, f"wallets.{product}.{asset}"))
            account.book.wallets[(product, str(asset))] = value
    return account


def _commission_from(rates: Mapping[str, Any], product: str) -> Commission:
    bad = set(rates) - {"maker", "taker"}
    if bad or len(rates) != 2:
        raise ValueError(f"commission.{product}: give exactly 'maker' and 'taker'")
    return Commission(
        _dec(rates["maker"], f"commission.{product}.maker"),
        _dec(rates["taker"], f"commission.{product}.taker"),
    )


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
    such as BTCUSDT, ETHUSDT, BNBUSDT, BTCUSD_PERP are priced from these).  Filters
    like Binance's: UM BTCUSDT (tick 0.10, step 0.001, min notional 100), ETHUSDT
    (0.01, 0.001, 20), BNBUSDT (0.01, 0.01, 5); CM BTCUSD_PERP (tick 0.1), ETHUSD_PERP
    (0.01), whole contracts; margin BTCUSDT (0.01, 0.00001, 5), ETHUSDT (0.01, 0.0001,
    5), BNBUSDT (0.01, 0.001, 5), ETHBTC (0.00001, 0.0001, 0.0001).  Default commission.
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
        symbols={
            "UM": {
                "BTCUSDT": _rules("0.10", "0.001", "100"),
                "ETHUSDT": _rules("0.01", "0.001", "20"),
                "BNBUSDT": _rules("0.01", "0.01", "5"),
            },
            "CM": {"BTCUSD_PERP": _rules("0.1", "1"), "ETHUSD_PERP": _rules("0.01", "1")},
            "MARGIN": {
                "BTCUSDT": _rules("0.01", "0.00001", "5"),
                "ETHUSDT": _rules("0.01", "0.0001", "5"),
                "BNBUSDT": _rules("0.01", "0.001", "5"),
                "ETHBTC": _rules("0.00001", "0.0001", "0.0001"),
            },
        },
    )


def _rules(tick: str, step: str, min_notional: str = "0") -> SymbolRules:
    return SymbolRules(Decimal(tick), Decimal(step), Decimal(min_notional))
