"""User-stream events of the cross-margin account: margin orders, balances, loans,
open-order loss and the account's risk level (see :mod:`binance_papi_async.stream_events`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .._decode import (
    objects,
    to_bool,
    to_decimal,
    to_decimal_or_none,
    to_int,
    to_int_or_none,
    to_str,
    to_str_or_none,
    to_time,
    to_time_or_none,
)

__all__ = [
    "BalanceUpdate",
    "ExecutionReport",
    "LiabilityChange",
    "MarginBalance",
    "OpenOrderLoss",
    "OpenOrderLossEntry",
    "OutboundAccountPosition",
    "RiskLevelChange",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionReport:
    """``executionReport``: a cross-margin order (``/papi/v1/margin/*``) changed.

    ``trade_id`` is -1 without a trade, ``order_list_id`` -1 outside an order list;
    ``commission_asset`` may be ``null``; ``original_client_order_id`` (``C``) is empty
    except on cancels.  ``update_id`` is ``I``.  Only on some reports: trailing orders
    (``trailing_delta`` ``d``, ``trailing_time`` ``D``), a strategy set on the order
    (``strategy_id`` ``j``, ``strategy_type`` ``J``), self-trade prevention
    (``prevented_match_id`` ``v``, ``trade_group_id`` ``u``, ``counter_order_id`` ``U``,
    ``prevented_quantity`` ``A``, ``last_prevented_quantity`` ``B``, ``counter_symbol``
    ``Cs``, ``prevented_execution_quantity`` ``pl``, ``prevented_execution_price``
    ``pL``, ``prevented_execution_quote_quantity`` ``pY``) and an expiry
    (``expiry_reason`` ``eR``); ``None`` otherwise.
    """

    event_type: str
    event_time: datetime
    symbol: str
    client_order_id: str
    side: str
    order_type: str
    time_in_force: str
    quantity: Decimal
    price: Decimal
    stop_price: Decimal
    iceberg_quantity: Decimal
    order_list_id: int
    original_client_order_id: str
    execution_type: str
    status: str
    reject_reason: str
    order_id: int
    last_executed_quantity: Decimal
    cumulative_filled_quantity: Decimal
    last_executed_price: Decimal
    commission: Decimal
    commission_asset: str | None
    transaction_time: datetime | None
    trade_id: int
    update_id: int
    is_on_book: bool
    is_maker: bool
    creation_time: datetime | None
    cumulative_quote_quantity: Decimal
    last_quote_quantity: Decimal
    quote_order_quantity: Decimal
    working_time: datetime | None
    self_trade_prevention: str
    trailing_delta: int | None = None
    trailing_time: datetime | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    prevented_match_id: int | None = None
    trade_group_id: int | None = None
    counter_order_id: int | None = None
    prevented_quantity: Decimal | None = None
    last_prevented_quantity: Decimal | None = None
    counter_symbol: str | None = None
    prevented_execution_quantity: Decimal | None = None
    prevented_execution_price: Decimal | None = None
    prevented_execution_quote_quantity: Decimal | None = None
    expiry_reason: str | None = None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ExecutionReport:
        return cls(
            event_type=d["e"],
            event_time=to_time(d["E"]),
            symbol=to_str(d["s"]),
            client_order_id=to_str(d["c"]),
            side=to_str(d["S"]),
            order_type=to_str(d["o"]),
            time_in_force=to_str(d["f"]),
            quantity=to_decimal(d["q"]),
            price=to_decimal(d["p"]),
            stop_price=to_decimal(d["P"]),
            iceberg_quantity=to_decimal(d["F"]),
            order_list_id=to_int(d["g"]),
            original_client_order_id=to_str(d["C"]),
            execution_type=to_str(d["x"]),
            status=to_str(d["X"]),
            reject_reason=to_str(d["r"]),
            order_id=to_int(d["i"]),
            last_executed_quantity=to_decimal(d["l"]),
            cumulative_filled_quantity=to_decimal(d["z"]),
            last_executed_price=to_decimal(d["L"]),
            commission=to_decimal(d["n"]),
            commission_asset=to_str_or_none(d["N"]),
            transaction_time=to_time_or_none(d["T"]),
            trade_id=to_int(d["t"]),
            update_id=to_int(d["I"]),
            is_on_book=to_bool(d["w"]),
            is_maker=to_bool(d["m"]),
            creation_time=to_time_or_none(d["O"]),
            cumulative_quote_quantity=to_decimal(d["Z"]),
            last_quote_quantity=to_decimal(d["Y"]),
            quote_order_quantity=to_decimal(d["Q"]),
            working_time=to_time_or_none(d["W"]),
            self_trade_prevention=to_str(d["V"]),
            trailing_delta=to_int_or_none(d.get("d")),
            trailing_time=to_time_or_none(d.get("D")),
            strategy_id=to_int_or_none(d.get("j")),
            strategy_type=to_int_or_none(d.get("J")),
            prevented_match_id=to_int_or_none(d.get("v")),
            trade_group_id=to_int_or_none(d.get("u")),
            counter_order_id=to_int_or_none(d.get("U")),
            prevented_quantity=to_decimal_or_none(d.get("A")),
            last_prevented_quantity=to_decimal_or_none(d.get("B")),
            counter_symbol=to_str_or_none(d.get("Cs")),
            prevented_execution_quantity=to_decimal_or_none(d.get("pl")),
            prevented_execution_price=to_decimal_or_none(d.get("pL")),
            prevented_execution_quote_quantity=to_decimal_or_none(d.get("pY")),
            expiry_reason=to_str_or_none(d.get("eR")),
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
        return cls(asset=to_str(d["a"]), free=to_decimal(d["f"]), locked=to_decimal(d["l"]))


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundAccountPosition:
    """``outboundAccountPosition``: cross-margin balances of the assets that may have changed.

    Absolute values (replace local state).  ``last_update_time`` is ``u``;
    ``update_id`` is ``U`` (a de-duplication key).
    """

    event_type: str
    event_time: datetime
    last_update_time: datetime | None
    update_id: int
    balances: tuple[MarginBalance, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OutboundAccountPosition:
        return cls(
            event_type=d["e"],
            event_time=to_time(d["E"]),
            last_update_time=to_time_or_none(d["u"]),
            update_id=to_int(d["U"]),
            balances=objects(MarginBalance.from_json, d["B"]),
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
    update_id: int
    clear_time: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BalanceUpdate:
        return cls(
            event_type=d["e"],
            event_time=to_time(d["E"]),
            asset=to_str(d["a"]),
            delta=to_decimal(d["d"]),
            update_id=to_int(d["U"]),
            clear_time=to_time_or_none(d["T"]),
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
    transaction_id: int
    principal: Decimal
    interest: Decimal
    total_liability: Decimal
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> LiabilityChange:
        return cls(
            event_type=d["e"],
            event_time=to_time(d["E"]),
            asset=to_str(d["a"]),
            type=to_str(d["t"]),
            transaction_id=to_int(d["T"]),
            principal=to_decimal(d["p"]),
            interest=to_decimal(d["i"]),
            total_liability=to_decimal(d["l"]),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrderLossEntry:
    """One entry of ``openOrderLoss.O``: margin reserved by open orders (negative)."""

    asset: str
    amount: Decimal

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OpenOrderLossEntry:
        return cls(asset=to_str(d["a"]), amount=to_decimal(d["o"]))


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
            event_time=to_time(d["E"]),
            entries=objects(OpenOrderLossEntry.from_json, d["O"]),
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
    uni_mmr: Decimal
    level: str
    account_equity: Decimal
    actual_equity: Decimal
    maintenance_margin: Decimal
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RiskLevelChange:
        return cls(
            event_type=d["e"],
            event_time=to_time(d["E"]),
            uni_mmr=to_decimal(d["u"]),
            level=to_str(d["s"]),
            account_equity=to_decimal(d["eq"]),
            actual_equity=to_decimal(d["ae"]),
            maintenance_margin=to_decimal(d["m"]),
            raw=d,
        )
