"""How long a 418 ban and a 429 pause last: what the server says, within bounds."""

from __future__ import annotations

import logging
from typing import Final

log = logging.getLogger("binance_papi_async.ratelimit")

#: Binance's shortest IP ban: a 418 that says nothing usable about its end lasts this long.
MIN_BAN_S: Final = 120.0
#: Binance's longest IP ban ("from 2 minutes to 3 days"): no ban is kept longer.
MAX_BAN_S: Final = 3 * 86400.0


def _usable(seconds: float) -> bool:
    return seconds > 0  # NaN compares False; an infinite one is clamped


def ban_end(now: float, retry_after: float | None, banned_until: float | None) -> float:
    """The end of a 418 ban (epoch seconds), between ``now`` and ``now + 3 days``.

    Binance sends the time left in ``Retry-After`` and the end in the message
    ("IP banned until ..."); the later usable one wins.  When neither is usable
    (missing, 0, negative, not a number, already past) the ban lasts
    :data:`MIN_BAN_S`.  An end beyond :data:`MAX_BAN_S` (infinity included) is
    clamped and logged.
    """
    ends = []
    if retry_after is not None and _usable(retry_after):
        ends.append(now + retry_after)
    if banned_until is not None and banned_until > now:
        ends.append(banned_until)
    until = max(ends) if ends else now + MIN_BAN_S
    if until - now > MAX_BAN_S:
        log.warning(
            "HTTP 418: a ban of %.0f s (Retry-After %r, banned until %r) is beyond Binance's "
            "longest (3 days); kept for 3 days",
            until - now,
            retry_after,
            banned_until,
        )
        until = now + MAX_BAN_S
    return until


def pause_end(now: float, retry_after: float | None, bound: float) -> float:
    """The end of a 429 pause (epoch seconds): ``now + retry_after``, at most ``bound``.

    ``bound`` is the end of the window of the limit the 429 names (plus the
    clock's uncertainty): no pause outlasts it.  Without a usable
    ``Retry-After`` (missing, 0, negative, not a number) the pause lasts until
    ``bound``; a longer one is clamped and logged.
    """
    bound = max(now, bound)
    if retry_after is None or not _usable(retry_after):
        return bound
    until = now + retry_after
    if until > bound:
        log.warning(
            "HTTP 429 with Retry-After %r s: longer than the rest of the limit's window "
            "(%.3f s); pausing until the window ends",
            retry_after,
            bound - now,
        )
        return bound
    return until
