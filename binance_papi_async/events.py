"""Observability: typed events for every step of a call, delivered to hooks and the log.

Pass ``on_event=`` to :class:`~binance_papi_async.PortfolioMarginClient` to receive
them (a plain callable; it must be quick and must not raise; exceptions from it are
logged and swallowed).  Every event is also logged on the ``binance_papi_async``
logger with the event's fields in ``extra={"papi_event": event}``: DEBUG for the
routine ones, WARNING for :class:`OutcomeUnknown`.

No event carries a secret: no API secret, no signature, no signed query string and
no API key.  ``params`` are the parameters sent, without ``signature``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ._client_ids import client_id_of

__all__ = [
    "ClockResynced",
    "Event",
    "EventHook",
    "LimiterWait",
    "LimiterWaitStarted",
    "OutcomeUnknown",
    "RequestEnd",
    "RequestStart",
    "RetryScheduled",
]


@dataclass(frozen=True, slots=True)
class RequestStart:
    """A request is about to be sent (after the limiter admitted it)."""

    method: str
    path: str
    attempt: int


@dataclass(frozen=True, slots=True)
class RequestEnd:
    """A request finished: ``status`` is the HTTP status, or ``None`` for a transport failure.

    ``error`` names the exception class raised, if any; ``elapsed`` is seconds on the wire.
    """

    method: str
    path: str
    attempt: int
    status: int | None
    elapsed: float
    error: str | None = None
    used_weight: str | None = None
    order_count: str | None = None


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    """A failed attempt will be retried after ``delay`` seconds."""

    method: str
    path: str
    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class LimiterWaitStarted:
    """A call starts to wait for rate budget, for about ``expected`` seconds.

    ``expected`` is a lower bound: it assumes nobody gives budget back and no
    response reports traffic the limiter has not seen.  ``urgent`` calls (order
    cancels, clock reads, listen-key keep-alives, ``priority="high"``) are
    admitted before normal ones.  :class:`LimiterWait` follows once it is admitted.
    """

    method: str
    path: str
    expected: float
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class LimiterWait:
    """A call waited ``waited`` seconds for rate budget before it was admitted."""

    method: str
    path: str
    waited: float


@dataclass(frozen=True, slots=True)
class OutcomeUnknown:
    """A state-changing call may or may not have executed (never re-sent by the SDK)."""

    method: str
    path: str
    reason: str
    sent_at: float
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def client_order_id(self) -> str | None:
        """The client id of the order the call placed (or named), if any: pass the event to
        ``client.resolve`` to learn what happened."""
        return client_id_of(self.method, self.params)


@dataclass(frozen=True, slots=True)
class ClockResynced:
    """The offset to Binance server time was measured.

    ``offset`` is server time minus host wall-clock time in seconds, ``rtt`` the
    best round trip of the samples, ``source`` the URL path used.
    """

    offset: float
    rtt: float
    samples: int
    source: str


Event = (
    RequestStart
    | RequestEnd
    | RetryScheduled
    | LimiterWaitStarted
    | LimiterWait
    | OutcomeUnknown
    | ClockResynced
)
EventHook = Callable[[Event], None]
