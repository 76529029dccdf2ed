"""The options of a call (``timeout=``, ``max_wait=``, ``retry=``, ``priority=``) and of the
client (``timeouts=``, ``max_wait=``), checked before any rate budget is reserved.

A wrong type or value raises :class:`~binance_papi_async.ValidationError` (per call) or
:class:`~binance_papi_async.ConfigurationError` (the client's), naming the option.
"""

from __future__ import annotations

import math
from typing import Literal

from ..errors import ConfigurationError, ValidationError
from ..retry import RetryPolicy
from ..timeouts import Timeouts

__all__ = [
    "PRIORITIES",
    "Priority",
    "check_client_max_wait",
    "check_client_timeouts",
    "check_max_wait",
    "check_priority",
    "check_retry",
    "check_timeout",
]

#: ``priority=`` of a call: ``"high"`` is admitted before normal waiters (see ratelimit).
Priority = Literal["normal", "high"]
PRIORITIES: tuple[str, ...] = ("normal", "high")


def _seconds(value: object) -> float | None:
    """``value`` as seconds if it is a real number (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def check_timeout(timeout: object, default: Timeouts) -> Timeouts:
    """``timeout=`` of a call: a :class:`Timeouts`, or seconds (``float``) bounding the whole
    attempt (the connect bound is then the smaller of it and ``default.connect``), as
    aiohttp's and httpx's ``timeout=5.0``."""
    if isinstance(timeout, Timeouts):
        return timeout
    seconds = _seconds(timeout)
    if seconds is None or not (0 < seconds < math.inf):
        raise ValidationError(
            f"timeout must be a number of seconds > 0 or a Timeouts, not {timeout!r}",
            param="timeout",
        )
    return Timeouts(total=seconds, connect=min(seconds, default.connect))


def check_max_wait(max_wait: object) -> float | None:
    """``max_wait=`` of a call: seconds >= 0 (``math.inf``: no bound), or None."""
    if max_wait is None:
        return None
    seconds = _seconds(max_wait)
    if seconds is None or not seconds >= 0:  # NaN too
        raise ValidationError(
            f"max_wait must be a number of seconds >= 0 or None, not {max_wait!r}",
            param="max_wait",
        )
    return seconds


def check_retry(retry: object) -> RetryPolicy | None:
    """``retry=`` of a call: a :class:`RetryPolicy` or None."""
    if retry is None or isinstance(retry, RetryPolicy):
        return retry
    raise ValidationError(
        f"retry must be a RetryPolicy (e.g. RetryPolicy(max_attempts=3)) or None, not {retry!r}",
        param="retry",
    )


def check_priority(priority: object) -> bool:
    """``priority=`` of a call: True when it is ``"high"`` (urgent), False for ``"normal"``."""
    if priority == "normal":
        return False
    if priority == "high":
        return True
    raise ValidationError(
        f"priority must be 'normal' or 'high', not {priority!r}", param="priority"
    )


def check_client_timeouts(timeouts: object) -> Timeouts:
    """``timeouts=`` of the client: a :class:`Timeouts`, seconds (as :func:`check_timeout`),
    or None (the defaults)."""
    if timeouts is None:
        return Timeouts()
    try:
        return check_timeout(timeouts, Timeouts())
    except ValidationError:
        raise ConfigurationError(
            f"timeouts must be a Timeouts or a number of seconds > 0, not {timeouts!r}"
        ) from None


def check_client_max_wait(max_wait: object) -> float | None:
    """``max_wait=`` of the client: seconds >= 0, or None."""
    try:
        return check_max_wait(max_wait)
    except ValidationError:
        raise ConfigurationError(
            f"max_wait must be a number of seconds >= 0 or None, not {max_wait!r}"
        ) from None
