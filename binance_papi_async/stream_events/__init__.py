"""Typed events of the Portfolio Margin user data stream, and the stream's own markers.

:func:`parse_event` turns one decoded JSON frame into one of the thirteen event classes
papi sends (dispatched on ``e``, case-sensitively), or into :class:`UnknownEvent` for an
``e`` it does not know or a known event it cannot decode.  It never raises for the
payload's shape: Binance adds events and fields without notice.

Every event is a frozen, slotted dataclass with

* Decimal amounts (Binance sends decimal strings; never ``float``),
* aware UTC datetimes for times (``event_time`` from ``E``; ``None`` when absent or
  Binance's "no time", ``0``, as in ``gtd``),
* ids as ``int`` (except ``AlgoUpdate.actual_order_id``, a string on the wire),
* ``raw``: the frame as received (not in ``repr``), so fields added later survive.

Values are read by the same rules as REST results (:mod:`binance_papi_async._decode`).
The futures events are defined in :mod:`.futures`, the cross-margin ones in
:mod:`.margin`; all are importable from here.

The classes follow spec/papi/user_stream.json: a field Binance always sends is typed
without ``None`` (a time may still be ``None``: ``0`` is Binance's "no time"), and an
event that lacks one is an :class:`UnknownEvent` (with the reason and the frame);
fields that papi documents as "only pushed when ..." or that appeared in later SDK
versions are optional (``None`` when absent).  Field names follow the doc's meanings;
the wire key is noted in each class.

The stream also yields two markers that are not Binance events:

* :class:`StreamReconnected` after every (re)connect, before any event of the new
  connection: resynchronise from REST, since events sent while disconnected are lost;
* :class:`StreamOverflow` when the consumer fell behind and buffered events were
  dropped (policy ``overflow="resync"``): resynchronise from REST as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._decode import to_str_or_none, to_time, to_time_or_none
from ..errors import BinancePapiError
from .futures import (
    AccountConfigUpdate,
    AccountUpdate,
    AlgoUpdate,
    ConditionalOrderTradeUpdate,
    FuturesBalance,
    FuturesPosition,
    OrderTradeUpdate,
)
from .margin import (
    BalanceUpdate,
    ExecutionReport,
    LiabilityChange,
    MarginBalance,
    OpenOrderLoss,
    OpenOrderLossEntry,
    OutboundAccountPosition,
    RiskLevelChange,
)

__all__ = [
    "AccountConfigUpdate",
    "AccountUpdate",
    "AlgoUpdate",
    "BalanceUpdate",
    "ConditionalOrderTradeUpdate",
    "ExecutionReport",
    "FuturesBalance",
    "FuturesPosition",
    "LiabilityChange",
    "ListenKeyExpired",
    "MarginBalance",
    "OpenOrderLoss",
    "OpenOrderLossEntry",
    "OrderTradeUpdate",
    "OutboundAccountPosition",
    "RiskLevelChange",
    "StreamItem",
    "StreamMarker",
    "StreamOverflow",
    "StreamOverflowError",
    "StreamReconnected",
    "UniMMRDrop",
    "UnknownEvent",
    "UserStreamError",
    "UserStreamEvent",
    "parse_event",
]

log = logging.getLogger("binance_papi_async.stream")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenKeyExpired:
    """``listenKeyExpired``: the listen key of the connection expired; no further events
    arrive on it.  :class:`~binance_papi_async.stream.UserStream` reacts by creating a
    new key and reconnecting (a :class:`StreamReconnected` follows).

    ``listen_key`` is present on some products' payloads only; it is kept out of ``repr``.
    """

    event_type: str
    event_time: datetime
    listen_key: str | None = field(default=None, repr=False)
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ListenKeyExpired:
        return cls(
            event_type=d["e"],
            event_time=to_time(d["E"]),
            listen_key=to_str_or_none(d.get("listenKey")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class UniMMRDrop:
    """``uniMMRDrop`` (Portfolio Margin Pro only): the account's uniMMR fell more than 5%
    below its reference value.

    Binance sends it on the Portfolio Margin Pro user data stream
    (``wss://fstream.binance.com/pm-classic/ws/<listenKey>``, spec/papi/USER_STREAM.md
    section 2.1; not on the classic ``/pm`` stream), and only while uniMMR drop
    notifications are on (``client.account.set_unimmr_drop_notification_status``; off
    by default).  Binance's change log (2026-10-22) documents the event but not its
    payload beyond ``e`` and ``E``: the other fields are in ``raw``, never guessed.
    """

    event_type: str
    event_time: datetime
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> UniMMRDrop:
        return cls(event_type=d["e"], event_time=to_time(d["E"]), raw=d)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent:
    """A frame with an ``e`` this SDK does not know, or a known event it could not decode.

    ``event_type`` is ``e`` (``""`` when missing), ``event_time`` ``E`` when readable;
    ``error`` says why a known event failed to decode (``None`` for an unknown type).
    The frame is in ``raw``.
    """

    event_type: str
    event_time: datetime | None
    error: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)


UserStreamEvent = (
    OrderTradeUpdate
    | ConditionalOrderTradeUpdate
    | AlgoUpdate
    | AccountUpdate
    | AccountConfigUpdate
    | ExecutionReport
    | OutboundAccountPosition
    | BalanceUpdate
    | LiabilityChange
    | OpenOrderLoss
    | RiskLevelChange
    | ListenKeyExpired
    | UniMMRDrop
    | UnknownEvent
)
"""Anything :func:`parse_event` returns."""

_PARSERS: dict[str, Callable[[Mapping[str, Any]], UserStreamEvent]] = {
    "ORDER_TRADE_UPDATE": OrderTradeUpdate.from_json,
    "CONDITIONAL_ORDER_TRADE_UPDATE": ConditionalOrderTradeUpdate.from_json,
    "ALGO_UPDATE": AlgoUpdate.from_json,
    "ACCOUNT_UPDATE": AccountUpdate.from_json,
    "ACCOUNT_CONFIG_UPDATE": AccountConfigUpdate.from_json,
    "executionReport": ExecutionReport.from_json,
    "outboundAccountPosition": OutboundAccountPosition.from_json,
    "balanceUpdate": BalanceUpdate.from_json,
    "liabilityChange": LiabilityChange.from_json,
    "openOrderLoss": OpenOrderLoss.from_json,
    "riskLevelChange": RiskLevelChange.from_json,
    "RISK_LEVEL_CHANGE": RiskLevelChange.from_json,
    "listenKeyExpired": ListenKeyExpired.from_json,
    "uniMMRDrop": UniMMRDrop.from_json,
}

#: The ``e`` values :func:`parse_event` decodes into typed events.
KNOWN_EVENT_TYPES = frozenset(_PARSERS)


def parse_event(data: Mapping[str, Any]) -> UserStreamEvent:
    """Decode one stream frame (already JSON-decoded) into a typed event.

    Dispatch is on ``e``, case-sensitively.  An unknown ``e`` gives an
    :class:`UnknownEvent`; so does a known one whose payload cannot be decoded
    (``error`` says why, and a warning is logged).  Never raises for the payload.
    """
    kind = data.get("e")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is not None:
        try:
            return parser(data)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("could not decode a %s event (%s); passed on as UnknownEvent", kind, error)
            return UnknownEvent(
                event_type=str(kind), event_time=_safe_time(data), error=error, raw=data
            )
    return UnknownEvent(
        event_type=kind if isinstance(kind, str) else "",
        event_time=_safe_time(data),
        error=None,
        raw=data,
    )


def _safe_time(data: Mapping[str, Any]) -> datetime | None:
    try:
        return to_time_or_none(data.get("E"))
    except (TypeError, ValueError, OverflowError):
        return None


# -- markers and errors of the stream itself ------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamReconnected:
    """The stream is (re)connected: events sent while it was not may be lost.

    Yielded after every successful connection, before any event that arrived on it,
    including the first one (then ``lost_at`` is ``None`` and ``reason`` is
    ``"connect"``).  Resynchronise state from REST when you see it (or let the
    stream's ``on_reconnect`` hook do it: it has run when this marker is yielded).

    * ``lost_at``: when the previous connection was lost (stream clock), or ``None``;
    * ``connected_at``: when this connection was opened;
    * ``reason``: why the previous connection ended: ``"connect"`` (first connection),
      ``"closed"`` (the server closed or the connection broke), ``"heartbeat"`` (no
      pong: a silent connection), ``"listen_key_expired"`` (a ``listenKeyExpired``
      event), ``"listen_key_invalid"`` (-1125 on keepalive), ``"planned"`` (before
      the 24-hour limit);
    * ``reconnects``: how many reconnects this stream has made (0 for the first);
    * ``hook_error``: the ``on_reconnect`` hook's exception, as text, if it failed.
    """

    lost_at: datetime | None
    connected_at: datetime
    reason: str
    reconnects: int
    hook_error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamOverflow:
    """The consumer fell behind: ``dropped`` buffered events were discarded.

    Policy ``overflow="resync"`` (the default): when the buffer is full, the events
    still in it are dropped and this marker takes their place, followed by the
    newer events.  Resynchronise from REST as after a reconnect.  ``lost_at`` is
    when the first drop happened (stream clock).
    """

    dropped: int
    lost_at: datetime


StreamMarker = StreamReconnected | StreamOverflow
"""Items that tell the consumer to resynchronise from REST."""

StreamItem = UserStreamEvent | StreamReconnected | StreamOverflow
"""Everything ``async for event in stream`` yields."""


class UserStreamError(BinancePapiError):
    """The user data stream failed for good (reconnect attempts exhausted, fatal error).

    Messages never contain the listen key.
    """


class StreamOverflowError(UserStreamError):
    """Policy ``overflow="raise"``: the consumer fell behind and ``dropped`` events were lost."""

    def __init__(self, dropped: int) -> None:
        super().__init__(
            f"the user data stream's buffer overflowed: {dropped} event(s) dropped; "
            "resync from REST and open a new stream"
        )
        self.dropped = dropped
