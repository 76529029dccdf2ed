"""When a failed call is tried again, and when it never is.

The rules, in order:

1. A request proven not to have left the machine (connection refused, DNS
   failure, connect timeout) may be retried, reads and writes alike.
2. A -1021 (timestamp outside recvWindow) was rejected by Binance before
   execution: the client resyncs its clock and retries it once, reads and
   writes alike.
3. A state-changing request (anything but GET: TRADE calls such as repay-debt)
   whose bytes may have left the machine is **never** sent again.  A timeout
   after send, a disconnect, an HTTP 5xx, a -1006/-1007 or a 503 "Unknown
   error" raises :class:`~binance_papi_async.ExecutionStatusUnknown`.
4. A read (GET) is retried with jittered exponential backoff on connection
   errors, timeouts, HTTP 5xx and Binance's transient codes
   (:data:`TRANSIENT_CODES`), bounded by ``max_attempts`` and ``max_elapsed``.
5. A 429 is retried (reads only) after its ``Retry-After``, through the rate
   limiter, which pauses every call of the client until then.  A 418 (IP ban)
   is never retried.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import ConfigurationError

__all__ = ["TRANSIENT_CODES", "RetryPolicy"]

# -1000 UNKNOWN, -1001 DISCONNECTED ("Internal error; please try again"), -1006 UNEXPECTED_RESP,
# -1007 TIMEOUT, -1008 throttled by system-level protection, -5041 too many requests queueing.
TRANSIENT_CODES = frozenset({-1000, -1001, -1006, -1007, -1008, -5041})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds on retries of one call.

    ``max_attempts`` counts every attempt (1 disables retries of reads);
    ``max_elapsed`` (seconds) bounds the time from the first send to the start
    of the last attempt; delays grow as ``base_delay * 2**n`` up to ``max_delay``
    with "equal jitter" (a uniform draw between half of it and all of it, so many
    clients do not retry in lockstep).  ``retry_unsent_writes`` allows re-sending a write that
    provably never left the machine.
    """

    max_attempts: int = 3
    max_elapsed: float = 10.0
    base_delay: float = 0.1
    max_delay: float = 2.0
    retry_unsent_writes: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError("max_attempts must be >= 1")
        if self.max_elapsed < 0 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ConfigurationError(f"inconsistent retry bounds: {self}")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return (rng or random).uniform(cap / 2, cap)


NO_RETRY = RetryPolicy(max_attempts=1, retry_unsent_writes=False)
