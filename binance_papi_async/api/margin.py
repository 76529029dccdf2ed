"""``client.margin``: cross-margin operations of the Portfolio Margin account."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

from .._constants import DEFAULT_RECV_WINDOW_MS
from .._decode import writing
from .._http.options import Priority
from .._params import check_asset, check_assets, positive_decimal_wire, wire_recv_window
from ..endpoints import REPAY_DEBT
from ..errors import ExecutionStatusUnknown, ValidationError
from ..events import OutcomeUnknown
from ..models import RepayDebtResult
from ..outcome import RepayOutcome, judge_repay
from ..timeouts import Timeouts
from ._generated.margin import MarginAPIBase

__all__ = ["MarginAPI"]

# A 2xx answer means the repay was applied: a field that cannot be decoded is reported
# (UndecodedFieldsWarning, RepayDebtResult.undecoded), never turned into an error.
_repay_debt_result = writing(RepayDebtResult, f"{REPAY_DEBT.method} {REPAY_DEBT.path}")


class MarginAPI(MarginAPIBase):
    """Margin endpoints (``/papi/v1/margin/...``)."""

    __slots__ = ()

    async def repay_debt(
        self,
        asset: str,
        amount: Decimal | str | int | None = None,
        *,
        specify_repay_assets: Sequence[str] | None = None,
        repay_all: bool = False,
        recv_window: int | None = None,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        priority: Priority = "normal",
    ) -> RepayDebtResult:
        """Repay cross-margin debt of ``asset`` (``POST /papi/v1/margin/repay-debt``, TRADE).

        Give either ``amount`` (a ``Decimal``, ``str`` or ``int`` > 0; floats are
        refused) or ``repay_all=True`` to repay the whole debt; never both, never
        neither, so a missing argument can never repay everything by accident.

        Binance's rules (from the endpoint's documentation):

        * at most 50,000 USD equivalent can be repaid in a single request;
        * the same asset is used to repay first, if the account holds it, whatever
          ``specify_repay_assets`` says; then the ``specify_repay_assets`` (sent as
          a comma-separated list);
        * with ``repay_all=True`` (no ``amount`` sent) the whole debt is repaid only
          if the repay assets are enough; otherwise Binance refuses it;
        * the weight is "Request Weight(Order) 3000": the SDK charges 3000 IP request
          weight and 1 order (half an IP's per-minute weight: at most two per minute).

        This is a TRADE call: it is sent at most once.  If its outcome cannot be
        known (timeout or disconnect after sending, HTTP 5xx, -1007), it raises
        :class:`~binance_papi_async.ExecutionStatusUnknown` instead of retrying.

        Raises :class:`~binance_papi_async.ValidationError` for bad arguments before
        any I/O.  ``recv_window`` is 1..60000 ms; ``timeout`` (seconds or
        :class:`~binance_papi_async.Timeouts`) and ``max_wait`` (seconds to wait for
        rate budget) override the client defaults; ``priority="high"`` is admitted
        before normal waiters.
        """
        # The query is built beside the params, from values checked to need no percent-
        # encoding (asset codes are [A-Z0-9], amounts digits and a point) but the commas of
        # the asset list (tests/unit/test_equivalent_paths.py compares the queries).
        # 2,500 instr/call, 0.5 % of the floor's: bench_icount.py --stub sdk sdk-unencoded
        checked = check_asset(asset)
        params: dict[str, str] = {"asset": checked}
        query = f"asset={checked}"
        if not isinstance(repay_all, bool):
            raise ValidationError("repay_all must be a bool", param="repay_all")
        if amount is None:
            if not repay_all:
                raise ValidationError(
                    "amount is required; to repay the whole debt pass repay_all=True "
                    "(omitting amount repays everything on Binance)",
                    param="amount",
                )
        elif repay_all:
            raise ValidationError(
                "give either amount or repay_all=True, not both", param="repay_all"
            )
        else:
            wire = params["amount"] = positive_decimal_wire(amount, "amount")
            query = f"{query}&amount={wire}"
        if specify_repay_assets is not None:
            assets = check_assets(specify_repay_assets, "specify_repay_assets")
            params["specifyRepayAssets"] = assets
            query = f"{query}&specifyRepayAssets={assets.replace(',', '%2C')}"
        if recv_window is not None:
            wire = params["recvWindow"] = wire_recv_window(recv_window)
            query = f"{query}&recvWindow={wire}"
        return await self._client._transport.request(
            REPAY_DEBT,
            params,
            timeout=timeout,
            max_wait=max_wait,
            priority=priority,
            parse=_repay_debt_result,
            encoded=query,
        )

    async def repay_debt_outcome(
        self,
        error: ExecutionStatusUnknown | OutcomeUnknown,
        *,
        debt_before: Decimal,
        settle_margin: float = 1.0,
        rel_tolerance: Decimal = Decimal("0.001"),
    ) -> RepayOutcome:
        """Find out whether a repay-debt that raised ``ExecutionStatusUnknown`` was applied.

        ``error`` may also be the :class:`~binance_papi_async.OutcomeUnknown` event of a
        repay cancelled after it may have been sent (it carries the same parameters).

        ``debt_before`` is the asset's cross-margin debt (principal + interest) read
        before the repay, e.g. ``(await client.account.balance("BNB")).cross_margin_debt``.
        The coroutine first waits until the request's ``timestamp + recvWindow`` plus
        ``settle_margin`` seconds has passed on the server clock (after that Binance
        refuses the request if it has not executed), then reads the debt and returns
        :class:`~binance_papi_async.RepayOutcome` ``APPLIED``, ``NOT_APPLIED`` or
        ``UNKNOWN`` (the debt moved, but not as this repay would have moved it).
        See :mod:`binance_papi_async.outcome` for the reasoning and its limits.

        Errors of the balance read propagate (nothing is concluded then).
        """
        if (
            not isinstance(error, (ExecutionStatusUnknown, OutcomeUnknown))
            or error.path != REPAY_DEBT.path
        ):
            raise ValidationError(
                "error must be an ExecutionStatusUnknown or OutcomeUnknown from repay_debt"
            )
        if not isinstance(debt_before, Decimal) or not debt_before.is_finite() or debt_before < 0:
            raise ValidationError("debt_before must be a finite Decimal >= 0", param="debt_before")
        params = error.params
        asset = params["asset"]
        amount = Decimal(params["amount"]) if "amount" in params else None
        clock = self._client.clock
        if "timestamp" in params:
            recv_window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW_MS))
            settled_at = (int(params["timestamp"]) + recv_window) / 1000 + settle_margin
            delay = settled_at - clock.time()
            if delay > 0:
                await asyncio.sleep(delay)
        after = await self._client.account.balance(asset)
        return judge_repay(
            amount=amount,
            debt_before=debt_before,
            debt_after=after.cross_margin_debt,
            rel_tolerance=rel_tolerance,
        )
