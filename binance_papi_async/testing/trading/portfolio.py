"""The read side of an account: balances, account information, positions and leverage.

Serves ``GET /papi/v1/balance``, ``GET /papi/v1/account``, ``positionRisk``,
``um/account`` (v1 and v2), ``cm/account`` and ``POST .../leverage``, all computed
from the state at the current marks (no collateral haircuts, no liquidation model).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import SimulatedError, invalid, mandatory
from ..book import Position
from ..routing import Call, Handler, RouteKey
from ..state import ZERO, Account, fmt8
from .market import Market, bind
from .params import integer, plain
from .rules import MAX_LEVERAGE, bracket_for, max_for_leverage

__all__ = ["DEFAULT_LEVERAGE", "Portfolio"]

#: UM / CM leverage of a symbol until ``POST .../leverage`` changes it.
DEFAULT_LEVERAGE = 20


class Portfolio:
    """Balances, account information, positions and leverage (see the module documentation)."""

    def __init__(self, market: Market) -> None:
        self._market = market

    def routes(self) -> dict[RouteKey, Handler]:
        """The account and position routes, by ``(method, path)``."""
        routes: dict[RouteKey, Handler] = {
            ("GET", "/papi/v1/balance"): self.balance,
            ("GET", "/papi/v1/account"): self.account_information,
            ("GET", "/papi/v2/um/account"): bind(self.futures_account, "UM2"),
        }
        for product, prefix in (("UM", "/papi/v1/um"), ("CM", "/papi/v1/cm")):
            routes.update(
                {
                    ("GET", f"{prefix}/positionRisk"): bind(self.position_risk, product),
                    ("GET", f"{prefix}/account"): bind(self.futures_account, product),
                    ("POST", f"{prefix}/leverage"): bind(self.change_leverage, product),
                }
            )
        return routes

    # -- totals ------------------------------------------------------------------------------

    def futures_totals(self, account: Account) -> tuple[Decimal, Decimal]:
        """(USD value of the UM / CM wallets plus unrealized PnL, USD initial margin)."""
        market = self._market
        prices = market.state.prices
        value = ZERO
        initial = ZERO
        for (_, asset), wallet in account.book.wallets.items():
            value += wallet * prices.get(asset, ZERO)
        for (product, symbol, _), pos in account.book.positions.items():
            if not pos.amount:
                continue
            mark = market.mark(product, symbol)
            asset = market.margin_asset(product, symbol)
            price = prices.get(asset, ZERO)
            value += market.unrealized(product, symbol, pos, mark) * price
            leverage = account.book.leverage.get((product, symbol), DEFAULT_LEVERAGE)
            if product == "CM":
                initial += abs(pos.amount) * market.contract_size(symbol) / leverage
            else:
                initial += abs(pos.amount) * mark * price / leverage
        return value, initial

    def futures_wallet(
        self, account: Account, asset: str
    ) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(UM wallet, UM unrealized PnL, CM wallet, CM unrealized PnL) of ``asset``."""
        market = self._market
        book = account.book
        pnl = {"UM": ZERO, "CM": ZERO}
        for (product, symbol, _), pos in book.positions.items():
            if pos.amount and market.margin_asset(product, symbol) == asset:
                mark = market.mark(product, symbol)
                pnl[product] += market.unrealized(product, symbol, pos, mark)
        return (
            book.wallets.get(("UM", asset), ZERO),
            pnl["UM"],
            book.wallets.get(("CM", asset), ZERO),
            pnl["CM"],
        )

    # -- balance and account information -----------------------------------------------------

    def balance(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/balance``: one asset (``asset``), or every asset the account holds."""
        assert account is not None
        asset = params.get("asset")
        if asset is not None:
            if not asset:
                raise mandatory("asset")
            return self._balance_entry(account, asset)
        return [self._balance_entry(account, name) for name in account.assets]

    def _balance_entry(self, account: Account, asset: str) -> dict[str, Any]:
        state = account.assets.get(asset)
        free = state.free if state is not None else ZERO
        locked = state.locked if state is not None else ZERO
        borrowed = state.borrowed if state is not None else ZERO
        interest = state.interest if state is not None else ZERO
        um, um_pnl, cm, cm_pnl = self.futures_wallet(account, asset)
        return {
            "asset": asset,
            "totalWalletBalance": fmt8(free + locked + um + cm),
            "crossMarginAsset": fmt8(free + locked),
            "crossMarginBorrowed": fmt8(borrowed),
            "crossMarginFree": fmt8(free),
            "crossMarginInterest": fmt8(interest),
            "crossMarginLocked": fmt8(locked),
            "umWalletBalance": fmt8(um),
            "umUnrealizedPNL": fmt8(um_pnl),
            "cmWalletBalance": fmt8(cm),
            "cmUnrealizedPNL": fmt8(cm_pnl),
            "updateTime": account.update_time,
            "negativeBalance": "0.00000000",
        }

    def account_information(
        self, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/account``, computed from USD prices (no collateral haircuts).

        equity = sum((free + locked) * price) - sum((borrowed + interest) * price), plus
        the UM / CM wallets and unrealized PnL; ``accountEquity`` = ``actualEquity`` =
        equity; maintenance margin = 5 % and initial margin = 10 % of the debt value,
        plus the UM / CM positions' initial margin (|notional| / leverage) in both;
        ``uniMMR`` = equity / maintenance margin ("999.00000000" without debt);
        ``virtualMaxWithdrawAmount`` and ``totalAvailableBalance`` = max(0, equity -
        initial margin); ``totalMarginOpenLoss`` = 0; ``accountStatus`` is always
        "NORMAL".
        """
        assert account is not None
        prices = self._market.state.prices
        assets_value = ZERO
        debt_value = ZERO
        for name, st in account.assets.items():
            price = prices[name]
            assets_value += st.total * price
            debt_value += st.debt * price
        futures_value, futures_initial = self.futures_totals(account)
        equity = assets_value - debt_value + futures_value
        maint = debt_value * Decimal("0.05") + futures_initial
        initial = debt_value * Decimal("0.10") + futures_initial
        uni_mmr = fmt8(equity / maint) if maint > 0 else "999.00000000"
        available = fmt8(max(ZERO, equity - initial))
        return {
            "uniMMR": uni_mmr,
            "accountEquity": fmt8(equity),
            "actualEquity": fmt8(equity),
            "accountInitialMargin": fmt8(initial),
            "accountMaintMargin": fmt8(maint),
            "accountStatus": "NORMAL",
            "virtualMaxWithdrawAmount": available,
            "totalAvailableBalance": available,
            "totalMarginOpenLoss": "0.00000000",
            "updateTime": account.update_time,
        }

    # -- positions ---------------------------------------------------------------------------

    def position_risk(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/positionRisk``: the account's positions at the marks.

        Without ``symbol``: every symbol the account ever held a position in; with it,
        that symbol (a zero ``BOTH`` entry if none).  ``liquidationPrice`` is "0" (no
        liquidation model).
        """
        market = self._market
        _, acc = market.caller(call, account)
        symbol = params.get("symbol")
        pair = params.get("pair")
        margin_asset = params.get("marginAsset")
        keys = [
            k
            for k in acc.book.positions
            if k[0] == product
            and (symbol is None or k[1] == symbol)
            and (pair is None or k[1].split("_", 1)[0] == pair)
            and (margin_asset is None or market.margin_asset(product, k[1]) == margin_asset)
        ]
        if symbol is not None and not keys:
            market.mark(product, symbol)
            keys = [(product, symbol, "BOTH")]
        return [self._position_view(acc, k) for k in keys]

    def _position_view(self, account: Account, key: tuple[str, str, str]) -> dict[str, Any]:
        market = self._market
        product, symbol, side = key
        pos = account.book.positions.get(key) or Position()
        mark = market.mark(product, symbol)
        leverage = account.book.leverage.get((product, symbol), DEFAULT_LEVERAGE)
        up = market.unrealized(product, symbol, pos, mark)
        d: dict[str, Any] = {
            "symbol": symbol,
            "positionAmt": plain(pos.amount),
            "entryPrice": plain(pos.entry_price),
            "markPrice": fmt8(mark),
            "unRealizedProfit": fmt8(up),
            "liquidationPrice": "0",
            "leverage": str(leverage),
            "positionSide": side,
            "updateTime": pos.update_time,
        }
        most = format(max_for_leverage(product, leverage), "f")
        if product == "CM":
            size = market.contract_size(symbol)
            d["maxQty"] = most
            d["notionalValue"] = fmt8(pos.amount * size / mark)
        else:
            d["maxNotionalValue"] = most
            d["notional"] = fmt8(pos.amount * mark)
        return d

    def futures_account(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/um/account``, ``/papi/v2/um/account``, ``/papi/v1/cm/account``.

        Wallet: transfers, realized PnL, commission and funding; initial margin =
        |notional| / leverage; maintenance margin from the leverage brackets
        (:mod:`.rules`: notional x rate - cum; CM in the base asset); no open-order
        margin.  ``product`` ``UM2`` is the v2 UM shape.
        """
        _, acc = self._market.caller(call, account)
        v2 = product == "UM2"
        product = "UM" if v2 else product
        book = acc.book
        positions = []
        totals: dict[str, list[Decimal]] = {}
        for key, pos in book.positions.items():
            if key[0] == product:
                positions.append(self._account_position(acc, key, pos, v2, totals))
        assets_seen = {a for (p, a) in book.wallets if p == product} | set(totals)
        if not assets_seen:
            assets_seen = {"USDT"} if product == "UM" else set()
        assets = []
        for asset in sorted(assets_seen):
            up, initial, maint = totals.get(asset, [ZERO, ZERO, ZERO])
            assets.append(
                {
                    "asset": asset,
                    "crossWalletBalance": fmt8(book.wallets.get((product, asset), ZERO)),
                    "crossUnPnl": fmt8(up),
                    "maintMargin": fmt8(maint),
                    "initialMargin": fmt8(initial),
                    "positionInitialMargin": fmt8(initial),
                    "openOrderInitialMargin": "0.00000000",
                    "updateTime": acc.update_time,
                }
            )
        return {"assets": assets, "positions": positions}

    def _account_position(
        self,
        account: Account,
        key: tuple[str, str, str],
        pos: Position,
        v2: bool,
        totals: dict[str, list[Decimal]],
    ) -> dict[str, Any]:
        """One position of a futures account answer; adds its PnL and margins to ``totals``."""
        market = self._market
        product, symbol, side = key
        mark = market.mark(product, symbol)
        asset = market.margin_asset(product, symbol)
        leverage = account.book.leverage.get((product, symbol), DEFAULT_LEVERAGE)
        if product == "CM":
            notional = abs(pos.amount) * market.contract_size(symbol) / mark
        else:
            notional = abs(pos.amount) * mark
        initial = notional / leverage
        bracket = bracket_for(product, notional)
        maint = notional * bracket.mmr - bracket.cum
        up = market.unrealized(product, symbol, pos, mark)
        total = totals.setdefault(asset, [ZERO, ZERO, ZERO])
        total[0] += up
        total[1] += initial
        total[2] += maint
        entry: dict[str, Any] = {
            "symbol": symbol,
            "initialMargin": fmt8(initial),
            "maintMargin": fmt8(maint),
            "unrealizedProfit": fmt8(up),
            "positionSide": side,
            "positionAmt": plain(pos.amount),
            "updateTime": pos.update_time,
        }
        if v2:
            entry["notional"] = fmt8(pos.amount * mark)
            return entry
        entry.update(
            {
                "positionInitialMargin": fmt8(initial),
                "openOrderInitialMargin": "0",
                "leverage": str(leverage),
                "entryPrice": plain(pos.entry_price),
            }
        )
        most = format(max_for_leverage(product, leverage), "f")
        if product == "CM":
            entry["maxQty"] = most
        else:
            entry.update({"maxNotional": most, "bidNotional": "0", "askNotional": "0"})
        return entry

    def change_leverage(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/{um,cm}/leverage`` (1..125: -4028 otherwise; -2027 when the
        position is above what the new leverage allows, per the brackets)."""
        market = self._market
        _, acc = market.caller(call, account)
        symbol = params["symbol"]
        mark = market.mark(product, symbol)
        leverage = integer(params, "leverage")
        if leverage is None:
            raise invalid("leverage")
        if not 1 <= leverage <= MAX_LEVERAGE:
            raise SimulatedError(400, -4028, f"Leverage {leverage} is not valid")
        most = max_for_leverage(product, leverage)
        for (p, s, _), pos in acc.book.positions.items():
            size = abs(pos.amount) * (market.contract_size(s) / mark if p == "CM" else mark)
            if p == product and s == symbol and size > most:
                raise SimulatedError(
                    400, -2027, "Exceeded the maximum allowable position at current leverage."
                )
        acc.book.leverage[(product, symbol)] = leverage
        call.applied = True
        if product == "CM":
            return {"leverage": leverage, "maxQty": format(most, "f"), "symbol": symbol}
        return {"leverage": leverage, "maxNotionalValue": format(most, "f"), "symbol": symbol}
