"""The endpoint table: every operation the SDK knows, declared as data."""

from __future__ import annotations

from ._spec import Budget, Charge, EndpointSpec, HttpMethod, Security, WeightKind, charges_for
from .account import ACCOUNT_BALANCE, ACCOUNT_INFORMATION, QUERY_USER_RATE_LIMIT
from .margin import REPAY_DEBT
from .market import PING, SERVER_TIME
from .user_stream import (
    CLOSE_USER_DATA_STREAM,
    KEEPALIVE_USER_DATA_STREAM,
    START_USER_DATA_STREAM,
)

ALL_ENDPOINTS: tuple[EndpointSpec, ...] = (
    REPAY_DEBT,
    ACCOUNT_BALANCE,
    ACCOUNT_INFORMATION,
    QUERY_USER_RATE_LIMIT,
    PING,
    SERVER_TIME,
    START_USER_DATA_STREAM,
    KEEPALIVE_USER_DATA_STREAM,
    CLOSE_USER_DATA_STREAM,
)

BY_ROUTE: dict[tuple[str, str], EndpointSpec] = {(e.method, e.path): e for e in ALL_ENDPOINTS}

__all__ = [
    "ACCOUNT_BALANCE",
    "ACCOUNT_INFORMATION",
    "ALL_ENDPOINTS",
    "BY_ROUTE",
    "CLOSE_USER_DATA_STREAM",
    "KEEPALIVE_USER_DATA_STREAM",
    "PING",
    "QUERY_USER_RATE_LIMIT",
    "REPAY_DEBT",
    "SERVER_TIME",
    "START_USER_DATA_STREAM",
    "Budget",
    "Charge",
    "EndpointSpec",
    "HttpMethod",
    "Security",
    "WeightKind",
    "charges_for",
]
