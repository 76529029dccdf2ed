"""Typed events of the Portfolio Margin user data stream, and the stream's own markers.

:func:`parse_event` turns one decoded JSON frame into one of the twelve event classes
papi sends (dispatched on ``e``, case-sensitively), or into :class:`UnknownEvent` for an
``e`` it does not know or a known event it cannot decode.  It never raises for the
payload's shape: Binance adds events and fields without notice.

Every event is a frozen, slotted dataclass with

* Decimal amounts (Binance sends decimal strings; never ``float``),
* aware UTC datetimes for times (``event_time`` from ``E``; ``None`` when absent),
* ids as ``int`` (except ``AlgoUpdate.actual_order_id``, a string on the wire),
* ``raw``: the frame as received (not in ``repr``), so fields added later survive.

Fields that papi documents as "only pushed when ..." or that appeared in later SDK
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
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .errors import BinancePapiError
from .models import ms_to_datetime

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
    "UnknownEvent",
    "UserStreamError",
    "UserStreamEvent",
    "parse_event",
]

log = logging.getLogger("binance_papi_async.stream")

_T = TypeVar("_T")


# -- field decoders: lenient about int-or-string, strict about money ------------------------


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        # A float never carries an exact amount; a missing one is an error in the caller.
        raise ValueError(f"not a decimal string: {value!r}")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a decimal: {value!r}") from None


def _odec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else _dec(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def _oint(value: Any) -> int | None:
    return None if value is None or value == "" else _int(value)


def _time(value: Any) -> datetime:
    return ms_to_datetime(_int(value))


def _otime(value: Any) -> datetime | None:
    return None if value is None or value == "" else _time(value)


def _gtd(value: Any) -> datetime | None:
    """GTD auto-cancel time: ``0`` means "not GTD"."""
    ms = _oint(value)
    return None if not ms else ms_to_datetime(ms)


def _str(value: Any) -> str:
    if value is None:
        raise ValueError("missing string")
    return str(value)


def _ostr(value: Any) -> str | None:
    return None if value is None else str(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"not a boolean: {value!r}")
    return value


def _obool(value: Any) -> bool | None:
    return None if value is None else _bool(value)


def _obj(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = d[key]
    if not isinstance(value, Mapping):
        raise ValueError(f"{key!r} is not an object")
    return value


def _items(
    d: Mapping[str, Any], key: str, parse: Callable[[Mapping[str, Any]], _T]
) -> tuple[_T, ...]:
    value = d.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{key!r} is not an array")
    return tuple(parse(item) for item in value)


# -- the twelve events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTradeUpdate:
    """``ORDER_TRADE_UPDATE``: a UM or CM futures order was created, changed or filled.

    ``business_line`` is ``fs`` (``"UM"``/``"CM"``); the order fields come from ``o``.
    ``commission_asset``/``commission`` are absent without a commission;
    ``strategy_type``/``strategy_id`` only for orders placed by a triggered
    conditional order; ``modify_id`` only on ``AMENDMENT`` events.
    """

    event_type: str
    business_line: str
    event_time: datetime
    transaction_time: datetime | None
    symbol: str
    client_order_id: str
    side: str
    order_type: str
    time_in_force: str | None
    quantity: Decimal
    price: Decimal
    average_price: Decimal | None
    stop_price: Decimal | None
    execution_type: str
    status: str
    order_id: int
    last_filled_quantity: Decimal
    cumulative_filled_quantity: Decimal
    last_filled_price: Decimal
    commission_asset: str | None
    commission: Decimal | None
    trade_time: datetime | None
    trade_id: int | None
    bids_notional: Decimal | None
    asks_notional: Decimal | None
    is_maker: bool | None
    reduce_only: bool | None
    position_side: str | None
    realized_profit: Decimal | None
    strategy_type: str | None
    strategy_id: int | None
    self_trade_prevention: str | None
    good_till: datetime | None
    modify_id: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OrderTradeUpdate:
        o = _obj(d, "o")
        return cls(
            event_type=d["e"],
            business_line=_str(d.get("fs")),
            event_time=_time(d["E"]),
            transaction_time=_otime(d.get("T")),
            symbol=_str(o["s"]),
            client_order_id=_str(o.get("c", "")),
            side=_str(o["S"]),
            order_type=_str(o["o"]),
            time_in_force=_ostr(o.get("f")),
            quantity=_dec(o["q"]),
            price=_dec(o["p"]),
            average_price=_odec(o.get("ap")),
            stop_price=_odec(o.get("sp")),
            execution_type=_str(o["x"]),
            status=_str(o["X"]),
            order_id=_int(o["i"]),
            last_filled_quantity=_dec(o["l"]),
            cumulative_filled_quantity=_dec(o["z"]),
            last_filled_price=_dec(o["L"]),
            commission_asset=_ostr(o.get("N")),
            commission=_odec(o.get("n")),
            trade_time=_otime(o.get("T")),
            trade_id=_oint(o.get("t")),
            bids_notional=_odec(o.get("b")),
            asks_notional=_odec(o.get("a")),
            is_maker=_obool(o.get("m")),
            reduce_only=_obool(o.get("R")),
            position_side=_ostr(o.get("ps")),
            realized_profit=_odec(o.get("rp")),
            strategy_type=_ostr(o.get("st")),
            strategy_id=_oint(o.get("si")),
            self_trade_prevention=_ostr(o.get("V")),
            good_till=_gtd(o.get("gtd")),
            modify_id=_ostr(o.get("M")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionalOrderTradeUpdate:
    """``CONDITIONAL_ORDER_TRADE_UPDATE``: a UM/CM conditional (strategy) order, from ``so``.

    ``strategy_status`` is ``so.os`` (``NEW``, ``CANCELED``, ``EXPIRED``, ``TRIGGERED``,
    ``FINISHED``); ``order_id`` (``so.i``) is the order placed when triggered.
    """

    event_type: str
    business_line: str
    event_time: datetime
    transaction_time: datetime | None
    symbol: str
    client_strategy_id: str
    strategy_id: int
    side: str
    strategy_type: str
    time_in_force: str | None
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    strategy_status: str
    order_book_time: datetime | None
    update_time: datetime | None
    reduce_only: bool | None
    working_type: str | None
    position_side: str | None
    close_position: bool | None
    activation_price: Decimal | None
    callback_rate: Decimal | None
    order_id: int | None
    self_trade_prevention: str | None
    good_till: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ConditionalOrderTradeUpdate:
        so = _obj(d, "so")
        return cls(
            event_type=d["e"],
            business_line=_str(d.get("fs")),
            event_time=_time(d["E"]),
            transaction_time=_otime(d.get("T")),
            symbol=_str(so["s"]),
            client_strategy_id=_str(so.get("c", "")),
            strategy_id=_int(so["si"]),
            side=_str(so["S"]),
            strategy_type=_str(so["st"]),
            time_in_force=_ostr(so.get("f")),
            quantity=_dec(so["q"]),
            price=_odec(so.get("p")),
            stop_price=_odec(so.get("sp")),
            strategy_status=_str(so["os"]),
            order_book_time=_otime(so.get("T")),
            update_time=_otime(so.get("ut")),
            reduce_only=_obool(so.get("R")),
            working_type=_ostr(so.get("wt")),
            position_side=_ostr(so.get("ps")),
            close_position=_obool(so.get("cp")),
            activation_price=_odec(so.get("AP")),
            callback_rate=_odec(so.get("cr")),
            order_id=_oint(so.get("i")),
            self_trade_prevention=_ostr(so.get("V")),
            good_till=_gtd(so.get("gtd")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AlgoUpdate:
    """``ALGO_UPDATE``: a UM algo order (``/papi/v1/um/algo/*``), from ``ao`` (fapi shape: ``o``).

    ``actual_order_id`` (``ao.ai``) is a *string*, empty until triggered; it equals the
    ``order_id`` of the resulting :class:`OrderTradeUpdate`.
    """

    event_type: str
    business_line: str | None
    event_time: datetime
    transaction_time: datetime | None
    client_algo_id: str
    algo_id: int
    algo_type: str | None
    order_type: str
    symbol: str
    side: str
    position_side: str | None
    time_in_force: str | None
    quantity: Decimal
    status: str
    actual_order_id: str | None
    average_price: Decimal | None
    executed_quantity: Decimal | None
    actual_order_type: str | None
    trigger_price: Decimal | None
    price: Decimal | None
    self_trade_prevention: str | None
    working_type: str | None
    price_match: str | None
    close_position: bool | None
    price_protect: bool | None
    reduce_only: bool | None
    trigger_time: datetime | None
    good_till: datetime | None
    failure_reason: str | None
    trailing_activated: bool | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AlgoUpdate:
        ao = _obj(d, "ao" if "ao" in d else "o")
        return cls(
            event_type=d["e"],
            business_line=_ostr(d.get("fs")),
            event_time=_time(d["E"]),
            transaction_time=_otime(d.get("T")),
            client_algo_id=_str(ao.get("caid", "")),
            algo_id=_int(ao["aid"]),
            algo_type=_ostr(ao.get("at")),
            order_type=_str(ao["o"]),
            symbol=_str(ao["s"]),
            side=_str(ao["S"]),
            position_side=_ostr(ao.get("ps")),
            time_in_force=_ostr(ao.get("f")),
            quantity=_dec(ao["q"]),
            status=_str(ao["X"]),
            actual_order_id=_ostr(ao.get("ai")),
            average_price=_odec(ao.get("ap")),
            executed_quantity=_odec(ao.get("aq")),
            actual_order_type=_ostr(ao.get("act")),
            trigger_price=_odec(ao.get("tp")),
            price=_odec(ao.get("p")),
            self_trade_prevention=_ostr(ao.get("V")),
            working_type=_ostr(ao.get("wt")),
            price_match=_ostr(ao.get("pm")),
            close_position=_obool(ao.get("cp")),
            price_protect=_obool(ao.get("pP")),
            reduce_only=_obool(ao.get("R")),
            trigger_time=_gtd(ao.get("tt")),
            good_till=_gtd(ao.get("gtd")),
            failure_reason=_ostr(ao.get("rm")),
            trailing_activated=_obool(ao.get("ia")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FuturesBalance:
    """One entry of ``ACCOUNT_UPDATE.a.B``: ``wallet_balance``/``cross_wallet_balance`` are
    absolute (replace local state); ``balance_change`` (``bc``) is a delta."""

    asset: str
    wallet_balance: Decimal
    cross_wallet_balance: Decimal | None
    balance_change: Decimal | None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FuturesBalance:
        return cls(
            asset=_str(d["a"]),
            wallet_balance=_dec(d["wb"]),
            cross_wallet_balance=_odec(d.get("cw")),
            balance_change=_odec(d.get("bc")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FuturesPosition:
    """One entry of ``ACCOUNT_UPDATE.a.P`` (absolute values: replace the position)."""

    symbol: str
    position_amount: Decimal
    entry_price: Decimal | None
    accumulated_realized: Decimal | None
    unrealized_pnl: Decimal | None
    position_side: str | None
    break_even_price: Decimal | None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FuturesPosition:
        return cls(
            symbol=_str(d["s"]),
            position_amount=_dec(d["pa"]),
            entry_price=_odec(d.get("ep")),
            accumulated_realized=_odec(d.get("cr")),
            unrealized_pnl=_odec(d.get("up")),
            position_side=_ostr(d.get("ps")),
            break_even_price=_odec(d.get("bep")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdate:
    """``ACCOUNT_UPDATE``: UM/CM balances and positions that changed (only those).

    ``reason`` is ``a.m`` (``ORDER``, ``FUNDING_FEE``, ... treat as an open enum);
    ``funding_symbol`` is ``a.S`` (funding-fee updates, newer payloads only).
    """

    event_type: str
    business_line: str
    event_time: datetime
    transaction_time: datetime | None
    reason: str
    funding_symbol: str | None
    balances: tuple[FuturesBalance, ...]
    positions: tuple[FuturesPosition, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AccountUpdate:
        a = _obj(d, "a")
        return cls(
            event_type=d["e"],
            business_line=_str(d.get("fs")),
            event_time=_time(d["E"]),
            transaction_time=_otime(d.get("T")),
            reason=_str(a.get("m")),
            funding_symbol=_ostr(a.get("S")),
            balances=_items(a, "B", FuturesBalance.from_json),
            positions=_items(a, "P", FuturesPosition.from_json),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountConfigUpdate:
    """``ACCOUNT_CONFIG_UPDATE``: a UM/CM leverage change (``ac.s``, ``ac.l``).

    ``symbol``/``leverage`` are ``None`` for other configuration changes.
    """

    event_type: str
    business_line: str
    event_time: datetime
    transaction_time: datetime | None
    symbol: str | None
    leverage: int | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AccountConfigUpdate:
        ac = d.get("ac")
        ac = ac if isinstance(ac, Mapping) else {}
        return cls(
            event_type=d["e"],
            business_line=_str(d.get("fs")),
            event_time=_time(d["E"]),
            transaction_time=_otime(d.get("T")),
            symbol=_ostr(ac.get("s")),
            leverage=_oint(ac.get("l")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionReport:
    """``executionReport``: a cross-margin order (``/papi/v1/margin/*``) changed.

    ``trade_id`` is -1 without a trade, ``order_list_id`` -1 outside an order list;
    ``commission_asset`` may be ``null``.  ``update_id`` is ``I``.
    """

    event_type: str
    event_time: datetime
    symbol: str
    client_order_id: str
    side: str
    order_type: str
    time_in_force: str | None
    quantity: Decimal
    price: Decimal
    stop_price: Decimal | None
    iceberg_quantity: Decimal | None
    order_list_id: int | None
    original_client_order_id: str | None
    execution_type: str
    status: str
    reject_reason: str | None
    order_id: int
    last_executed_quantity: Decimal
    cumulative_filled_quantity: Decimal
    last_executed_price: Decimal
    commission: Decimal | None
    commission_asset: str | None
    transaction_time: datetime | None
    trade_id: int | None
    update_id: int | None
    is_on_book: bool | None
    is_maker: bool | None
    creation_time: datetime | None
    cumulative_quote_quantity: Decimal | None
    last_quote_quantity: Decimal | None
    quote_order_quantity: Decimal | None
    working_time: datetime | None
    self_trade_prevention: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ExecutionReport:
        return cls(
            event_type=d["e"],
            event_time=_time(d["E"]),
            symbol=_str(d["s"]),
            client_order_id=_str(d.get("c", "")),
            side=_str(d["S"]),
            order_type=_str(d["o"]),
            time_in_force=_ostr(d.get("f")),
            quantity=_dec(d["q"]),
            price=_dec(d["p"]),
            stop_price=_odec(d.get("P")),
            iceberg_quantity=_odec(d.get("F")),
            order_list_id=_oint(d.get("g")),
            original_client_order_id=_ostr(d.get("C")),
            execution_type=_str(d["x"]),
            status=_str(d["X"]),
            reject_reason=_ostr(d.get("r")),
            order_id=_int(d["i"]),
            last_executed_quantity=_dec(d["l"]),
            cumulative_filled_quantity=_dec(d["z"]),
            last_executed_price=_dec(d["L"]),
            commission=_odec(d.get("n")),
            commission_asset=_ostr(d.get("N")),
            transaction_time=_otime(d.get("T")),
            trade_id=_oint(d.get("t")),
            update_id=_oint(d.get("I")),
            is_on_book=_obool(d.get("w")),
            is_maker=_obool(d.get("m")),
            creation_time=_otime(d.get("O")),
            cumulative_quote_quantity=_odec(d.get("Z")),
            last_quote_quantity=_odec(d.get("Y")),
            quote_order_quantity=_odec(d.get("Q")),
            working_time=_otime(d.get("W")),
            self_trade_prevention=_ostr(d.get("V")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginBalance:
    """One entry of ``outboundAccountPosition.B``: absolute ``free`` and ``locked``."""

    asset: str
    free: Decimal
    locked: Decimal

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> MarginBalance:
        return cls(asset=_str(d["a"]), free=_dec(d["f"]), locked=_dec(d["l"]))


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundAccountPosition:
    """``outboundAccountPosition``: cross-margin balances of the assets that may have changed.

    Absolute values (replace local state).  ``last_update_time`` is ``u``;
    ``update_id`` is ``U`` (a de-duplication key).
    """

    event_type: str
    event_time: datetime
    last_update_time: datetime | None
    update_id: int | None
    balances: tuple[MarginBalance, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OutboundAccountPosition:
        return cls(
            event_type=d["e"],
            event_time=_time(d["E"]),
            last_update_time=_otime(d.get("u")),
            update_id=_oint(d.get("U")),
            balances=_items(d, "B", MarginBalance.from_json),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceUpdate:
    """``balanceUpdate``: a signed cross-margin balance ``delta`` (``d``) of ``asset``.

    A delta: never apply it twice (de-duplicate on ``update_id``, ``U``).
    """

    event_type: str
    event_time: datetime
    asset: str
    delta: Decimal
    update_id: int | None
    clear_time: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BalanceUpdate:
        return cls(
            event_type=d["e"],
            event_time=_time(d["E"]),
            asset=_str(d["a"]),
            delta=_dec(d["d"]),
            update_id=_oint(d.get("U")),
            clear_time=_otime(d.get("T")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LiabilityChange:
    """``liabilityChange``: a cross-margin loan changed.

    ``type`` is ``t`` (``BORROW`` documented; other values undocumented);
    ``transaction_id`` is ``T`` (a 19-digit integer id, not a time);
    ``principal`` (``p``), ``interest`` (``i``) and ``total_liability`` (``l``).
    """

    event_type: str
    event_time: datetime
    asset: str
    type: str
    transaction_id: int | None
    principal: Decimal
    interest: Decimal
    total_liability: Decimal
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> LiabilityChange:
        return cls(
            event_type=d["e"],
            event_time=_time(d["E"]),
            asset=_str(d["a"]),
            type=_str(d["t"]),
            transaction_id=_oint(d.get("T")),
            principal=_dec(d["p"]),
            interest=_dec(d["i"]),
            total_liability=_dec(d["l"]),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrderLossEntry:
    """One entry of ``openOrderLoss.O``: margin reserved by open orders (negative)."""

    asset: str
    amount: Decimal

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OpenOrderLossEntry:
        return cls(asset=_str(d["a"]), amount=_dec(d["o"]))


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrderLoss:
    """``openOrderLoss``: cross-margin open-order margin per asset (treat as current values)."""

    event_type: str
    event_time: datetime
    entries: tuple[OpenOrderLossEntry, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OpenOrderLoss:
        return cls(
            event_type=d["e"],
            event_time=_time(d["E"]),
            entries=_items(d, "O", OpenOrderLossEntry.from_json),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLevelChange:
    """``riskLevelChange`` (also accepted as ``RISK_LEVEL_CHANGE``): the account's risk level.

    ``level`` (``s``): ``MARGIN_CALL``, ``REDUCE_ONLY``, ``FORCE_LIQUIDATION``;
    ``uni_mmr`` (``u``), ``account_equity`` (``eq``), ``actual_equity`` (``ae``),
    ``maintenance_margin`` (``m``), USD values.
    """

    event_type: str
    event_time: datetime
    uni_mmr: Decimal | None
    level: str
    account_equity: Decimal | None
    actual_equity: Decimal | None
    maintenance_margin: Decimal | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RiskLevelChange:
        return cls(
            event_type=d["e"],
            event_time=_time(d["E"]),
            uni_mmr=_odec(d.get("u")),
            level=_str(d["s"]),
            account_equity=_odec(d.get("eq")),
            actual_equity=_odec(d.get("ae")),
            maintenance_margin=_odec(d.get("m")),
            raw=d,
        )


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
            event_time=_time(d["E"]),
            listen_key=_ostr(d.get("listenKey")),
            raw=d,
        )


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
        return _otime(data.get("E"))
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
