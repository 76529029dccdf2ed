"""Reference data consistent with the simulated market: commission rates, leverage
brackets, symbol and account configuration.

Serves ``GET /papi/v1/{um,cm}/commissionRate``, ``/papi/v1/{um,cm}/leverageBracket``,
``/papi/v1/um/symbolConfig`` and ``/papi/v1/um/accountConfig``.

* Commission rates are the state's (``SimState.commission``, per product) and are
  what fills charge (:mod:`.ledger`).
* Brackets are :mod:`.rules`' tables, the same for every symbol; the symbols listed
  without ``symbol`` are those the state holds: its filter table, its marks, and the
  symbols the account has a position or a leverage in.  A symbol that cannot be priced
  is -1121.
* ``symbolConfig``: CROSSED (portfolio margin), the account's leverage (20 until
  changed) and the ``maxNotionalValue`` of that leverage.  ``accountConfig``: fee
  tier 0, trading allowed, the account's position mode.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from ..routing import Call, Handler, RouteKey
from ..state import Account
from .market import Market, bind
from .portfolio import DEFAULT_LEVERAGE
from .rules import Bracket, brackets, max_for_leverage

__all__ = ["Reference", "known_symbols"]


def _number(value: int | Decimal) -> orjson.Fragment:
    """An exact JSON number (papi prints these as numbers, not strings)."""
    text = str(value) if isinstance(value, int) else format(value, "f")
    return orjson.Fragment(text.encode())


def known_symbols(market: Market, account: Account, product: str) -> list[str]:
    """The symbols of ``product`` the state holds (see the module documentation)."""
    state = market.state
    cm = product == "CM"
    found = set(state.symbols.get(product, {}))
    found |= {s for s in state.marks if ("_" in s) == cm}
    book = account.book
    found |= {s for (p, s, _), pos in book.positions.items() if p == product}
    found |= {s for (p, s) in book.leverage if p == product}
    return sorted(found)


class Reference:
    """Commission rates, brackets and configuration (see the module documentation)."""

    def __init__(self, market: Market) -> None:
        self._market = market

    def routes(self) -> dict[RouteKey, Handler]:
        """The reference-data routes, by ``(method, path)``."""
        routes: dict[RouteKey, Handler] = {
            ("GET", "/papi/v1/um/symbolConfig"): self.symbol_config,
            ("GET", "/papi/v1/um/accountConfig"): self.account_config,
        }
        for product, prefix in (("UM", "/papi/v1/um"), ("CM", "/papi/v1/cm")):
            routes[("GET", f"{prefix}/commissionRate")] = bind(self.commission_rate, product)
            routes[("GET", f"{prefix}/leverageBracket")] = bind(self.leverage_brackets, product)
        return routes

    def commission_rate(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/commissionRate``."""
        self._market.caller(call, account)
        symbol = params["symbol"]
        self._market.mark(product, symbol)
        rates = self._market.rates(product)
        return {
            "symbol": symbol,
            "makerCommissionRate": format(rates.maker, "f"),
            "takerCommissionRate": format(rates.taker, "f"),
        }

    @staticmethod
    def _bracket(product: str, b: Bracket) -> dict[str, Any]:
        size = "qty" if product == "CM" else "notional"
        return {
            "bracket": b.number,
            "initialLeverage": b.leverage,
            f"{size}Cap": _number(int(b.cap)),
            f"{size}Floor": _number(int(b.floor)),
            "maintMarginRatio": _number(b.mmr),
            "cum": _number(b.cum),
        }

    def _symbols(self, product: str, account: Account, params: dict[str, str]) -> list[str]:
        symbol = params.get("symbol")
        if symbol is not None:
            self._market.mark(product, symbol)
            return [symbol]
        return known_symbols(self._market, account, product)

    def leverage_brackets(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/leverageBracket``."""
        _, acc = self._market.caller(call, account)
        table = [self._bracket(product, b) for b in brackets(product)]
        out = []
        for symbol in self._symbols(product, acc, params):
            entry: dict[str, Any] = {"symbol": symbol}
            if product == "UM":
                entry["notionalCoef"] = "1.0"
            entry["brackets"] = table
            out.append(entry)
        return out

    def symbol_config(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/um/symbolConfig``."""
        _, acc = self._market.caller(call, account)
        out = []
        for symbol in self._symbols("UM", acc, params):
            leverage = acc.book.leverage.get(("UM", symbol), DEFAULT_LEVERAGE)
            out.append(
                {
                    "symbol": symbol,
                    "marginType": "CROSSED",
                    "isAutoAddMargin": "false",
                    "leverage": leverage,
                    "maxNotionalValue": format(max_for_leverage("UM", leverage), "f"),
                }
            )
        return out

    def account_config(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/um/accountConfig``."""
        _, acc = self._market.caller(call, account)
        return {
            "feeTier": 0,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "dualSidePosition": acc.book.dual_side.get("UM", False),
            "updateTime": acc.update_time,
            "multiAssetsMargin": False,
            "tradeGroupId": -1,
        }
