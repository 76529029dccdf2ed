"""Deciding what happened to a repay whose outcome was unknown.

papi has no idempotency key and no query for a single repay-debt request, so
the evidence is the debt itself: the SDK compares the asset's cross-margin debt
(principal + interest) before the request with the debt after the request can
no longer execute.  A signed request is refused by Binance once its
``timestamp`` is older than ``recvWindow`` when it arrives, so after
``timestamp + recvWindow`` (plus a margin for clock error) a request that has
not executed never will; :meth:`~binance_papi_async.api.MarginAPI.repay_debt_outcome`
waits for that moment before it reads the debt.

Residual risk, stated plainly: Binance documents the recvWindow check at the
gateway; a request that passed it and then stalled inside Binance (the -1007
"send status unknown" case) is not documented to be dropped.  A debt that did
not move is therefore strong but not absolute evidence of "not applied".
Interest that accrues between the two readings moves the debt up a little;
``rel_tolerance`` absorbs it.
"""

from __future__ import annotations

import enum
from decimal import Decimal

__all__ = ["RepayOutcome", "judge_repay"]


class RepayOutcome(str, enum.Enum):
    """What the debt says about a repay whose outcome was unknown."""

    APPLIED = "applied"
    NOT_APPLIED = "not applied"
    UNKNOWN = "still unknown"


def judge_repay(
    *,
    amount: Decimal | None,
    debt_before: Decimal,
    debt_after: Decimal,
    rel_tolerance: Decimal = Decimal("0.001"),
) -> RepayOutcome:
    """Classify a repay of ``amount`` (``None``: repay-all) from the debt before and after.

    * repay-all: applied if the debt is (within tolerance) gone; not applied if it
      did not go down; otherwise unknown (something else moved it);
    * an amount: applied if the debt went down by at least ``amount`` (within
      tolerance); not applied if it did not go down; otherwise unknown.

    The tolerance is ``rel_tolerance`` of the expected repayment (the amount, or
    the whole debt for repay-all).
    """
    if debt_before < 0 or debt_after < 0:
        raise ValueError("debts are never negative")
    # A repay can never take more than the debt there was.
    expected = debt_before if amount is None else min(amount, debt_before)
    tolerance = abs(expected) * rel_tolerance
    repaid = debt_before - debt_after
    if repaid <= tolerance:
        return RepayOutcome.NOT_APPLIED
    if amount is None:
        return RepayOutcome.APPLIED if debt_after <= tolerance else RepayOutcome.UNKNOWN
    return RepayOutcome.APPLIED if repaid >= expected - tolerance else RepayOutcome.UNKNOWN
