"""Margin endpoints (the generated table's specs, under their historical names)."""

from __future__ import annotations

# "Margin Account Repay Debt (TRADE)", Request Weight(Order) 3000.
# Charged 3000 IP request weight + 1 order: see binance_papi_async.ratelimit for why.
from ._table import MARGIN_ACCOUNT_REPAY_DEBT as REPAY_DEBT

__all__ = ["REPAY_DEBT"]
