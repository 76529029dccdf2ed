"""Money between the margin account and the futures wallets, and the account's switches.

Serves ``POST /papi/v1/bnb-transfer``, ``/papi/v1/asset-collection``,
``/papi/v1/auto-collection``, ``/papi/v1/repay-futures-negative-balance``,
``GET|POST /papi/v1/repay-futures-switch``, ``GET|POST /papi/v1/um/feeBurn``,
``GET|POST /papi/v1/{um,cm}/positionSide/dual`` and ``POST /papi/v1/um/stock/contract``.

* **BNB transfer**: ``TO_UM`` moves ``amount`` BNB from the cross-margin free balance to
  the UM wallet, ``FROM_UM`` back (-2018 "Balance is insufficient." when the source
  lacks it); recorded as UM income ``TRANSFER``.
* **Fund collection**: the positive UM and CM wallet balances of ``asset`` (every asset
  but BNB for auto-collection) move to the cross-margin free balance; with ``amount``
  and ``futureType`` (together, or -1102 names the missing one) only that amount from
  that wallet (-2018 beyond it; ``OPTION`` wallets do not exist here: -1130).  BNB is
  refused (-1130), as the page says.  Recorded as income ``TRANSFER``.
* **Futures negative balances** (a wallet below zero after losses, fees or funding):
  ``repay-futures-negative-balance`` repays each from the cross-margin free balance of
  its asset, as far as it goes.  The auto-repay switch is recorded (on by default) but
  the simulator repays only on that request.
* **Position mode** per product: a change needs no open order (-4067) and no position
  (-4068) of the product, and must change something (-4059).
* ``feeBurn`` and the TradFi perps agreement are recorded switches (the BNB discount
  is not applied to fills).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._errors import SimulatedError, invalid, mandatory
from ..book import Income
from ..routing import Call, Handler, RouteKey
from ..state import Account, q8
from .ledger import Ledger
from .market import Market, bind
from .params import ZERO, choice, positive

__all__ = ["Transfers"]

_SUCCESS = {"code": 200, "msg": "success"}


def _insufficient() -> SimulatedError:
    return SimulatedError(400, -2018, "Balance is insufficient.")


def _switch(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "")
    if not value:
        raise mandatory(name)
    if value.lower() not in ("true", "false"):
        raise invalid(name)
    return value.lower() == "true"


class Transfers:
    """Transfers, collections and switches (see the module documentation)."""

    def __init__(self, market: Market, ledger: Ledger) -> None:
        self._market = market
        self._ledger = ledger

    def routes(self) -> dict[RouteKey, Handler]:
        """The transfer and switch routes, by ``(method, path)``."""
        routes: dict[RouteKey, Handler] = {
            ("POST", "/papi/v1/bnb-transfer"): self.bnb_transfer,
            ("POST", "/papi/v1/asset-collection"): self.asset_collection,
            ("POST", "/papi/v1/auto-collection"): self.auto_collection,
            ("POST", "/papi/v1/repay-futures-negative-balance"): self.repay_negative,
            ("GET", "/papi/v1/repay-futures-switch"): self.auto_repay_status,
            ("POST", "/papi/v1/repay-futures-switch"): self.set_auto_repay,
            ("GET", "/papi/v1/um/feeBurn"): self.fee_burn_status,
            ("POST", "/papi/v1/um/feeBurn"): self.set_fee_burn,
            ("POST", "/papi/v1/um/stock/contract"): self.tradfi_contract,
        }
        for product, prefix in (("UM", "/papi/v1/um"), ("CM", "/papi/v1/cm")):
            routes[("GET", f"{prefix}/positionSide/dual")] = bind(self.position_mode, product)
            routes[("POST", f"{prefix}/positionSide/dual")] = bind(self.set_position_mode, product)
        return routes

    # -- moving money ------------------------------------------------------------------------

    def _to_margin(
        self, account: Account, product: str, asset: str, amount: Decimal, now: int
    ) -> Income:
        """Move ``amount`` of ``asset`` from the ``product`` wallet to cross margin."""
        account.asset(asset).free += amount
        return self._ledger.income(account, product, "", "TRANSFER", -amount, asset, now)

    def bnb_transfer(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/bnb-transfer``: ``{"tranId": ...}``."""
        _, acc = self._market.caller(call, account)
        amount = positive(params, "amount")
        if amount != q8(amount):
            raise SimulatedError(
                400, -1111, "Precision is over the maximum defined for this asset."
            )
        direction = choice(params, "transferSide", ("TO_UM", "FROM_UM"), "")
        if direction == "TO_UM":
            if acc.asset("BNB").free < amount:
                raise _insufficient()
            acc.asset("BNB").free -= amount
            record = self._ledger.income(acc, "UM", "", "TRANSFER", amount, "BNB", call.now)
        else:
            if acc.book.wallets.get(("UM", "BNB"), ZERO) < amount:
                raise _insufficient()
            record = self._to_margin(acc, "UM", "BNB", amount, call.now)
        call.applied = True
        return {"tranId": record.tran_id}

    def asset_collection(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/asset-collection``."""
        _, acc = self._market.caller(call, account)
        asset = params["asset"]
        if asset == "BNB" or asset not in self._market.state.prices:
            raise invalid("asset")
        amount_sent, wallet_sent = "amount" in params, "futureType" in params
        if amount_sent != wallet_sent:
            raise mandatory("futureType" if amount_sent else "amount")
        if amount_sent:
            amount = positive(params, "amount")
            product = choice(params, "futureType", ("UM", "CM", "OPTION"), "")
            if product == "OPTION":
                raise invalid("futureType")
            if acc.book.wallets.get((product, asset), ZERO) < amount:
                raise _insufficient()
            self._to_margin(acc, product, asset, amount, call.now)
        else:
            self._collect(acc, asset, call.now)
        call.applied = True
        return {"msg": "success"}

    def _collect(self, account: Account, asset: str, now: int) -> None:
        for product in ("UM", "CM"):
            balance = account.book.wallets.get((product, asset), ZERO)
            if balance > 0:
                self._to_margin(account, product, asset, balance, now)

    def auto_collection(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/auto-collection``: every asset but BNB."""
        _, acc = self._market.caller(call, account)
        for asset in sorted({a for (_, a) in acc.book.wallets if a != "BNB"}):
            self._collect(acc, asset, call.now)
        call.applied = True
        return {"msg": "success"}

    def repay_negative(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/repay-futures-negative-balance``."""
        _, acc = self._market.caller(call, account)
        for (product, asset), balance in list(acc.book.wallets.items()):
            free = acc.assets[asset].free if asset in acc.assets else ZERO
            repay = min(-balance, free)
            if balance < 0 and repay > 0:
                acc.asset(asset).free -= repay
                self._ledger.income(acc, product, "", "TRANSFER", repay, asset, call.now)
        call.applied = True
        return {"msg": "success"}

    # -- switches ----------------------------------------------------------------------------

    def auto_repay_status(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/repay-futures-switch``."""
        _, acc = self._market.caller(call, account)
        return {"autoRepay": acc.auto_repay_futures}

    def set_auto_repay(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/repay-futures-switch``."""
        _, acc = self._market.caller(call, account)
        acc.auto_repay_futures = _switch(params, "autoRepay")
        call.applied = True
        return {"msg": "success"}

    def fee_burn_status(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/um/feeBurn``."""
        _, acc = self._market.caller(call, account)
        return {"feeBurn": acc.fee_burn}

    def set_fee_burn(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/um/feeBurn``."""
        _, acc = self._market.caller(call, account)
        acc.fee_burn = _switch(params, "feeBurn")
        call.applied = True
        return dict(_SUCCESS)

    def tradfi_contract(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/um/stock/contract``: the TradFi perps agreement is signed."""
        _, acc = self._market.caller(call, account)
        acc.tradfi_perps = True
        call.applied = True
        return dict(_SUCCESS)

    def position_mode(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``GET /papi/v1/{um,cm}/positionSide/dual``."""
        _, acc = self._market.caller(call, account)
        return {"dualSidePosition": acc.book.dual_side.get(product, False)}

    def set_position_mode(
        self, product: str, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/{um,cm}/positionSide/dual``."""
        _, acc = self._market.caller(call, account)
        hedge = _switch(params, "dualSidePosition")
        book = acc.book
        if book.dual_side.get(product, False) == hedge:
            raise SimulatedError(400, -4059, "No need to change position side.")
        waiting = book.algos.values() if product == "UM" else book.strategies.values()
        if book.open_orders(product) or any(w.is_open for w in waiting):
            raise SimulatedError(
                400, -4067, "Position side cannot be changed if there exists open orders."
            )
        if any(p == product and pos.amount for (p, _, _), pos in book.positions.items()):
            raise SimulatedError(
                400, -4068, "Position side cannot be changed if there exists position."
            )
        book.dual_side[product] = hedge
        call.applied = True
        return dict(_SUCCESS)
