"""Account endpoints."""

from __future__ import annotations

from ._spec import EndpointSpec, Security

ACCOUNT_BALANCE = EndpointSpec(
    name="account_balance",
    method="GET",
    path="/papi/v1/balance",
    security=Security.USER_DATA,
    weight=20,
    summary="Account Balance",
)

ACCOUNT_INFORMATION = EndpointSpec(
    name="account_information",
    method="GET",
    path="/papi/v1/account",
    security=Security.USER_DATA,
    weight=20,
    summary="Account Information",
)

QUERY_USER_RATE_LIMIT = EndpointSpec(
    name="query_user_rate_limit",
    method="GET",
    path="/papi/v1/rateLimit/order",
    security=Security.USER_DATA,
    weight=1,
    summary="Query User Rate Limit",
)
