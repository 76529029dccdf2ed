"""Margin endpoints."""

from __future__ import annotations

from ._spec import EndpointSpec, Security, WeightKind

# "Margin Account Repay Debt (TRADE)", Request Weight(Order) 3000.
# Charged 3000 IP request weight + 1 order: see binance_papi_async.ratelimit for why.
REPAY_DEBT = EndpointSpec(
    name="margin_account_repay_debt",
    method="POST",
    path="/papi/v1/margin/repay-debt",
    security=Security.TRADE,
    weight=3000,
    weight_kind=WeightKind.ORDER,
    summary="Margin Account Repay Debt",
)
