"""Margin loans: borrow, repay, repay-debt, their records and the borrowing limits.

Serves ``POST /papi/v1/marginLoan``, ``POST /papi/v1/repayLoan``,
``POST /papi/v1/margin/repay-debt``, the loan and repay records
(``GET /papi/v1/margin/marginLoan``, ``GET /papi/v1/margin/repayLoan``),
``maxBorrowable`` and ``maxWithdraw``.  Margin orders borrow and repay through
:meth:`LoanDesk.borrow` and :meth:`LoanDesk.repay` too.

Borrowing is allowed while the account's margin debt stays within
``MAX_DEBT_TO_EQUITY`` times its equity (USD, from ``prices``); repays take
interest first, then principal.  The repay-debt rules are on
:meth:`LoanDesk.repay_debt`.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation
from typing import Any

from .._errors import SimulatedError, invalid
from ..book import LoanRecord, RepayLoanRecord
from ..routing import Call, Handler, RouteKey
from ..state import EIGHT_PLACES, Account, AssetState, RepayRecord, fmt8, q8
from .events import StreamEvents
from .market import Market
from .params import ZERO, in_window, integer, positive

__all__ = ["MAX_DEBT_TO_EQUITY", "MAX_REPAY_USD", "LoanDesk"]

#: Margin debt may reach this many times the account's equity (USD).
MAX_DEBT_TO_EQUITY = Decimal(3)
#: repay-debt refuses more than this USD equivalent in one request.
MAX_REPAY_USD = Decimal(50_000)


def _invalid_asset() -> SimulatedError:
    return SimulatedError(400, -1108, "Invalid asset.")


def _exceeds_debt() -> SimulatedError:
    return SimulatedError(400, -3015, "Repay amount exceeds borrow amount.")


def _too_precise() -> SimulatedError:
    return SimulatedError(400, -1111, "Precision is over the maximum defined for this asset.")


class LoanDesk:
    """Borrows, repays and their records (see the module documentation)."""

    def __init__(self, market: Market, events: StreamEvents) -> None:
        self._market = market
        self._events = events

    def routes(self) -> dict[RouteKey, Handler]:
        """The loan routes, by ``(method, path)``."""
        return {
            ("POST", "/papi/v1/marginLoan"): self.borrow_handler,
            ("POST", "/papi/v1/repayLoan"): self.repay_loan,
            ("POST", "/papi/v1/margin/repay-debt"): self.repay_debt_handler,
            ("GET", "/papi/v1/margin/marginLoan"): self.loan_records,
            ("GET", "/papi/v1/margin/repayLoan"): self.repay_records,
            ("GET", "/papi/v1/margin/maxBorrowable"): self.max_borrowable,
            ("GET", "/papi/v1/margin/maxWithdraw"): self.max_withdraw,
        }

    def _price(self, asset: str) -> Decimal:
        price = self._market.state.prices.get(asset)
        if price is None:
            raise _invalid_asset()
        return price

    # -- the ledger --------------------------------------------------------------------------

    def margin_equity(self, account: Account) -> tuple[Decimal, Decimal]:
        """(equity, debt) of the cross-margin balances in USD."""
        prices = self._market.state.prices
        assets = sum((st.total * prices.get(n, ZERO) for n, st in account.assets.items()), ZERO)
        debt = sum((st.debt * prices.get(n, ZERO) for n, st in account.assets.items()), ZERO)
        return assets - debt, debt

    def borrow(self, account: Account, asset: str, amount: Decimal, now: int) -> LoanRecord:
        """Borrow ``amount`` of ``asset`` (51006 beyond ``MAX_DEBT_TO_EQUITY``)."""
        price = self._price(asset)
        equity, debt = self.margin_equity(account)
        if debt + amount * price > MAX_DEBT_TO_EQUITY * equity:
            raise SimulatedError(400, 51006, "Exceeds the maximum borrowable limit.")
        st = account.asset(asset)
        st.free += amount
        st.borrowed += amount
        record = LoanRecord(self._market.tx_id(), asset, amount, now)
        account.book.loans.append(record)
        account.update_time = now
        return record

    def repay(self, account: Account, asset: str, amount: Decimal, now: int) -> RepayLoanRecord:
        """Repay ``amount`` of ``asset`` from its free balance, interest first."""
        st = account.asset(asset)
        interest = min(st.interest, amount)
        principal = amount - interest
        st.free -= amount
        st.interest -= interest
        st.borrowed -= principal
        record = RepayLoanRecord(self._market.tx_id(), asset, amount, principal, interest, now)
        account.book.repays.append(record)
        account.update_time = now
        return record

    # -- borrow and repayLoan ----------------------------------------------------------------

    @staticmethod
    def _amount(params: dict[str, str]) -> Decimal:
        amount = positive(params, "amount")
        if amount != q8(amount):
            raise _too_precise()
        return amount

    def borrow_handler(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/marginLoan``: ``{"tranId": ...}``."""
        name, acc = self._market.caller(call, account)
        asset = params["asset"]
        amount = self._amount(params)
        record = self.borrow(acc, asset, amount, call.now)
        call.applied = True
        events = self._events
        self._market.push(
            name,
            (
                events.liability(
                    asset, "BORROW", record.tx_id, amount, ZERO, acc.asset(asset).debt, call.now
                ),
                events.balances(acc, [asset], call.now),
            ),
        )
        return {"tranId": record.tx_id}

    def repay_loan(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``POST /papi/v1/repayLoan``: ``{"tranId": ...}`` (interest first)."""
        name, acc = self._market.caller(call, account)
        asset = params["asset"]
        self._price(asset)
        amount = self._amount(params)
        st = acc.asset(asset)
        if st.debt <= 0 or amount > st.debt:
            raise _exceeds_debt()
        if amount > st.free:
            raise SimulatedError(400, -2018, "Balance is insufficient.")
        record = self.repay(acc, asset, amount, call.now)
        call.applied = True
        events = self._events
        self._market.push(
            name,
            (
                events.liability(
                    asset,
                    "REPAY",
                    record.tx_id,
                    record.principal,
                    record.interest,
                    st.debt,
                    call.now,
                ),
                events.balances(acc, [asset], call.now),
            ),
        )
        return {"tranId": record.tx_id}

    # -- repay-debt --------------------------------------------------------------------------

    def repay_debt_handler(
        self, call: Call, account: Account | None, params: dict[str, str]
    ) -> Any:
        """``POST /papi/v1/margin/repay-debt`` (see :meth:`repay_debt`)."""
        assert account is not None
        record = self.repay_debt(
            account,
            asset=params["asset"],
            amount=params.get("amount"),
            specify_repay_assets=params.get("specifyRepayAssets"),
            now=call.now,
        )
        call.applied = True
        return {
            "amount": fmt8(record.amount),
            "asset": record.asset,
            "specifyRepayAssets": list(record.specify_repay_assets),
            "updateTime": record.update_time,
            "success": True,
        }

    def repay_debt(
        self,
        account: Account,
        *,
        asset: str,
        amount: str | None,
        specify_repay_assets: str | None,
        now: int,
    ) -> RepayRecord:
        """Apply a repay-debt to ``account`` (all or nothing) and return its record.

        Rules (the doc's, plus the simulator's choices where the doc is silent):

        * the debt is principal + interest; **interest is repaid first**, then principal;
        * the repay amount (in ``asset``) is ``amount`` or, if omitted, the whole debt;
        * funds come from the free balance of ``asset`` itself first (whether or not it
          is listed), then from each ``specifyRepayAssets`` entry in the order given,
          converted at the USD prices (the amount taken is rounded up to 8 places);
          **without** ``specifyRepayAssets`` only ``asset`` itself is used;
        * not enough funds -> 400 -2018 "Balance is insufficient." (nothing changes; for
          an omitted ``amount`` this is "repay everything only if the assets suffice");
        * ``amount`` above the debt, or no debt at all -> 400 -3015 "Repay amount exceeds
          borrow amount." (the margin API's REPAY_EXCEED_LIABILITY);
        * more than 50,000 USD equivalent (repaid amount x price) -> 400 -1130 "The repay
          asset amount cannot exceed 50000 USD equivalent value for a single request.";
        * unknown asset (no price) -> 400 -1108 "Invalid asset."; a malformed, zero or
          negative ``amount`` -> 400 -1130; more than 8 decimals -> 400 -1111.

        The response echoes ``specifyRepayAssets`` as a list (``[]`` when not sent).
        """
        price = self._price(asset)
        specify: tuple[str, ...] = ()
        if specify_repay_assets:
            specify = tuple(a.strip() for a in specify_repay_assets.split(",") if a.strip())
            for other in specify:
                self._price(other)
        debt_state = account.assets.get(asset)
        debt = debt_state.debt if debt_state is not None else ZERO
        wanted = debt if amount is None else _repay_amount(amount)
        if debt_state is None or debt <= 0 or wanted > debt:
            raise _exceeds_debt()
        if wanted * price > MAX_REPAY_USD:
            raise SimulatedError(
                400,
                -1130,
                "The repay asset amount cannot exceed 50000 USD equivalent value for a single "
                "request.",
            )
        used = self._repay_funds(account, asset, debt_state, wanted, specify)
        for name, taken in used.items():
            account.assets[name].free -= taken
        interest_paid = min(debt_state.interest, wanted)
        principal_paid = wanted - interest_paid
        debt_state.interest -= interest_paid
        debt_state.borrowed -= principal_paid
        account.update_time = now
        record = RepayRecord(
            update_time=now,
            asset=asset,
            amount=wanted,
            interest_paid=interest_paid,
            principal_paid=principal_paid,
            used=dict(used),
            specify_repay_assets=specify,
        )
        account.applied_repays.append(record)
        self._market.stream.on_repay(account, record)
        return record

    def _repay_funds(
        self,
        account: Account,
        asset: str,
        debt_state: AssetState,
        wanted: Decimal,
        specify: tuple[str, ...],
    ) -> dict[str, Decimal]:
        """What each asset pays towards ``wanted`` of ``asset`` (-2018 when short)."""
        prices = self._market.state.prices
        price = prices[asset]
        remaining = wanted
        used: dict[str, Decimal] = {}
        take = min(debt_state.free, remaining)
        if take > 0:
            used[asset] = take
            remaining -= take
        for other in specify:
            if remaining <= 0:
                break
            if other in used or other == asset:
                continue
            st = account.assets.get(other)
            if st is None or st.free <= 0:
                continue
            other_price = prices[other]
            cost = (remaining * price / other_price).quantize(EIGHT_PLACES, rounding=ROUND_UP)
            if cost <= st.free:
                used[other] = cost
                remaining = ZERO
            else:
                covered = (st.free * other_price / price).quantize(
                    EIGHT_PLACES, rounding=ROUND_DOWN
                )
                if covered <= 0:
                    continue
                used[other] = st.free
                remaining -= covered
        if remaining > 0:
            raise SimulatedError(400, -2018, "Balance is insufficient.")
        return used

    # -- records and limits ------------------------------------------------------------------

    @staticmethod
    def _page(rows: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        current = integer(params, "current") or 1
        size = integer(params, "size") or 10
        if current < 1:
            raise invalid("current")
        if not 0 < size <= 100:
            raise invalid("size")
        start = (current - 1) * size
        return {"rows": rows[start : start + size], "total": len(rows)}

    def loan_records(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/marginLoan``: newest first, paged (``current``, ``size``)."""
        _, acc = self._market.caller(call, account)
        tx = integer(params, "txId")
        rows = [
            {
                "txId": r.tx_id,
                "asset": r.asset,
                "principal": fmt8(r.principal),
                "timestamp": r.timestamp,
                "status": "CONFIRMED",
            }
            for r in reversed(acc.book.loans)
            if r.asset == params["asset"]
            and (tx is None or r.tx_id == tx)
            and in_window(r.timestamp, params)
        ]
        return self._page(rows, params)

    def repay_records(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/repayLoan``: newest first, paged (``current``, ``size``)."""
        _, acc = self._market.caller(call, account)
        tx = integer(params, "txId")
        rows = [
            {
                "amount": fmt8(r.amount),
                "asset": r.asset,
                "interest": fmt8(r.interest),
                "principal": fmt8(r.principal),
                "status": "CONFIRMED",
                "timestamp": r.timestamp,
                "txId": r.tx_id,
            }
            for r in reversed(acc.book.repays)
            if r.asset == params["asset"]
            and (tx is None or r.tx_id == tx)
            and in_window(r.timestamp, params)
        ]
        return self._page(rows, params)

    def max_borrowable(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/maxBorrowable``: from the ``MAX_DEBT_TO_EQUITY`` rule."""
        _, acc = self._market.caller(call, account)
        price = self._price(params["asset"])
        equity, debt = self.margin_equity(acc)
        most = max(ZERO, MAX_DEBT_TO_EQUITY * equity)
        return {"amount": fmt8(max(ZERO, most - debt) / price), "borrowLimit": fmt8(most / price)}

    def max_withdraw(self, call: Call, account: Account | None, params: dict[str, str]) -> Any:
        """``GET /papi/v1/margin/maxWithdraw``: the free balance of the asset."""
        _, acc = self._market.caller(call, account)
        self._price(params["asset"])
        st = acc.assets.get(params["asset"])
        return {"amount": fmt8(st.free if st is not None else ZERO)}


def _repay_amount(amount: str) -> Decimal:
    """A repay-debt ``amount``: positive, finite, at most 8 decimals (-1130 / -1111)."""
    try:
        wanted = Decimal(amount)
    except InvalidOperation:
        raise invalid("amount") from None
    if not wanted.is_finite() or wanted <= 0:
        raise invalid("amount")
    exponent = wanted.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8 and wanted != q8(wanted):
        raise _too_precise()
    return wanted
