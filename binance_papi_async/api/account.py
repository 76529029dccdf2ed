"""``client.account``: balances and account state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from .._decode import reading, reading_many
from .._http.options import Priority
from .._params import check_asset, check_recv_window
from ..endpoints import ACCOUNT_BALANCE, ACCOUNT_INFORMATION, QUERY_USER_RATE_LIMIT
from ..models import AccountInformation, AssetBalance, OrderRateLimit
from ..retry import RetryPolicy
from ..timeouts import Timeouts
from ._generated.account import AccountAPIBase

__all__ = ["AccountAPI"]


# Parsers built once, not per call (a missing or malformed field names itself).
_all_balances = reading_many(AssetBalance)
_balance = reading(AssetBalance)
_information = reading(AccountInformation)
_order_rate_limits = reading_many(OrderRateLimit)


def _one_balance(data: Any) -> AssetBalance:
    """The single-asset answer: an object (or, tolerated, a one-element array)."""
    return _balance(data[0] if isinstance(data, list) and len(data) == 1 else data)


def _recv(params: dict[str, str], recv_window: int | None) -> dict[str, str]:
    if recv_window is not None:
        params["recvWindow"] = str(check_recv_window(recv_window))
    return params


class AccountAPI(AccountAPIBase):
    """Account endpoints."""

    __slots__ = ()

    @overload
    async def balance(
        self,
        asset: None = None,
        *,
        recv_window: int | None = None,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        priority: Priority = "normal",
        retry: RetryPolicy | None = None,
    ) -> tuple[AssetBalance, ...]: ...

    @overload
    async def balance(
        self,
        asset: str,
        *,
        recv_window: int | None = None,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        priority: Priority = "normal",
        retry: RetryPolicy | None = None,
    ) -> AssetBalance: ...

    async def balance(
        self,
        asset: str | None = None,
        *,
        recv_window: int | None = None,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        priority: Priority = "normal",
        retry: RetryPolicy | None = None,
    ) -> tuple[AssetBalance, ...] | AssetBalance:
        """``GET /papi/v1/balance`` (USER_DATA, weight 20).

        Without ``asset``: every asset, as a tuple.  With ``asset``: that asset only.
        """
        params: dict[str, str] = {}
        parse: Callable[[Any], tuple[AssetBalance, ...] | AssetBalance] = _all_balances
        if asset is not None:
            params["asset"] = check_asset(asset)
            parse = _one_balance
        return await self._client._transport.request(
            ACCOUNT_BALANCE,
            _recv(params, recv_window),
            timeout=timeout,
            max_wait=max_wait,
            priority=priority,
            retry=retry,
            parse=parse,
        )

    async def information(
        self,
        *,
        recv_window: int | None = None,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        priority: Priority = "normal",
        retry: RetryPolicy | None = None,
    ) -> AccountInformation:
        """``GET /papi/v1/account`` (USER_DATA, weight 20): the account summary in USD."""
        return await self._client._transport.request(
            ACCOUNT_INFORMATION,
            _recv({}, recv_window),
            timeout=timeout,
            max_wait=max_wait,
            priority=priority,
            retry=retry,
            parse=_information,
        )

    async def order_rate_limits(
        self,
        *,
        recv_window: int | None = None,
        timeout: Timeouts | float | None = None,
        max_wait: float | None = None,
        priority: Priority = "normal",
        retry: RetryPolicy | None = None,
    ) -> tuple[OrderRateLimit, ...]:
        """``GET /papi/v1/rateLimit/order`` (USER_DATA, weight 1): the account's order limits."""
        return await self._client._transport.request(
            QUERY_USER_RATE_LIMIT,
            _recv({}, recv_window),
            timeout=timeout,
            max_wait=max_wait,
            priority=priority,
            retry=retry,
            parse=_order_rate_limits,
        )
