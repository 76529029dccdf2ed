"""Decide the retry: whether a failed attempt is tried again, and after how long.

The rules are :mod:`binance_papi_async.retry`'s; :func:`retry_delay` applies them to one
error.  The -1021 resend after a clock resync is the transport's (it needs the sync).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..endpoints import Budget
from ..errors import (
    APIConnectionError,
    APIStatusError,
    BinancePapiError,
    IPBannedError,
    RateLimitError,
    ServerError,
)
from ..retry import TRANSIENT_CODES
from .call import Call

if TYPE_CHECKING:  # pragma: no cover
    from ..ratelimit import RateLimiter

__all__ = ["rate_limit_pause", "retry_delay"]


def retry_delay(call: Call, error: BinancePapiError, limiter: RateLimiter | None) -> float | None:
    """Seconds to wait before the next attempt of ``call``, or None when ``error`` must be
    raised.  ``limiter`` (None without one) holds every call after a 429."""
    spec, policy = call.spec, call.policy
    if call.number >= policy.max_attempts:
        return None
    elapsed = time.monotonic() - call.started
    if isinstance(error, APIConnectionError) and not error.sent:
        if spec.is_write and not policy.retry_unsent_writes:
            return None
    elif spec.is_write:
        return None  # it may have been sent: never again
    elif isinstance(error, IPBannedError):
        return None
    elif isinstance(error, RateLimitError):
        # With a limiter, every call is held until the pause ends and the full windows
        # roll; the retry waits in the limiter.  Without one, only a Retry-After says
        # when sending again is safe: a blind retry after a 429 risks a 418 ban.
        if limiter is not None:
            pause = rate_limit_pause(limiter, call)
        elif error.retry_after is not None:
            pause = error.retry_after
        else:
            return None
        if elapsed + pause > policy.max_elapsed:
            return None
        return 0.0 if limiter is not None else pause
    elif not (
        isinstance(error, (APIConnectionError, ServerError))
        or (isinstance(error, APIStatusError) and error.code in TRANSIENT_CODES)
    ):
        return None
    delay = policy.delay(call.number)
    if elapsed + delay > policy.max_elapsed:
        return None
    return delay


def rate_limit_pause(limiter: RateLimiter, call: Call) -> float:
    """Seconds until ``limiter`` admits ``call`` again after a 429 (0 if it already does):
    the pauses and full windows of the budgets it charges (its account's order count)."""
    snap = limiter.snapshot()
    charged = {charge.budget for charge in call.spec.charges if charge.amount}
    until = snap.time
    for budget in snap.budgets:
        if budget.budget not in charged or (
            budget.budget is Budget.ORDERS and budget.account != call.account
        ):
            continue
        if budget.paused_until is not None:
            until = max(until, budget.paused_until)
        if budget.used >= budget.limit:
            until = max(until, budget.window_reset)
    return max(0.0, until - snap.time)
