"""Account endpoints (the generated table's specs, under their historical names)."""

from __future__ import annotations

from ._table import ACCOUNT_BALANCE, ACCOUNT_INFORMATION, QUERY_USER_RATE_LIMIT

__all__ = ["ACCOUNT_BALANCE", "ACCOUNT_INFORMATION", "QUERY_USER_RATE_LIMIT"]
