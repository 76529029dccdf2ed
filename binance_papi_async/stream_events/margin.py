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
    to_bool_or_none,
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
            event_time=to_time(d["E"]),
            symbol=to_str(d["s"]),
            client_order_id=to_str(d.get("c", "")),
            side=to_str(d["S"]),
            order_type=to_str(d["o"]),
            time_in_force=to_str_or_none(d.get("f")),
            quantity=to_decimal(d["q"]),
            price=to_decimal(d["p"]),
            stop_price=to_decimal_or_none(d.get("P")),
            iceberg_quantity=to_decimal_or_none(d.get("F")),
            order_list_id=to_int_or_none(d.get("g")),
            original_client_order_id=to_str_or_none(d.get("C")),
            execution_type=to_str(d["x"]),
            status=to_str(d["X"]),
            reject_reason=to_str_or_none(d.get("r")),
            order_id=to_int(d["i"]),
            last_executed_quantity=to_decimal(d["l"]),
            cumulative_filled_quantity=to_decimal(d["z"]),
            last_executed_price=to_decimal(d["L"]),
            commission=to_decimal_or_none(d.get("n")),
            commission_asset=to_str_or_none(d.get("N")),
            transaction_time=to_time_or_none(d.get("T")),
            trade_id=to_int_or_none(d.get("t")),
            update_id=to_int_or_none(d.get("I")),
            is_on_book=to_bool_or_none(d.get("w")),
            is_maker=to_bool_or_none(d.get("m")),
            creation_time=to_time_or_none(d.get("O")),
            cumulative_quote_quantity=to_decimal_or_none(d.get("Z")),
            last_quote_quantity=to_decimal_or_none(d.get("Y")),
            quote_order_quantity=to_decimal_or_none(d.get("Q")),
            working_time=to_time_or_none(d.get("W")),
            self_trade_prevention=to_str_or_none(d.get("V")),
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
    update_id: int | None
    balances: tuple[MarginBalance, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OutboundAccountPosition:
        return cls(
            event_type=d["e"],
            event_time=to_time(d["E"]),
            last_update_time=to_time_or_none(d.get("u")),
            update_id=to_int_or_none(d.get("U")),
            balances=objects(MarginBalance.from_json, d.get("B")),
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
            event_time=to_time(d["E"]),
            asset=to_str(d["a"]),
            delta=to_decimal(d["d"]),
            update_id=to_int_or_none(d.get("U")),
            clear_time=to_time_or_none(d.get("T")),
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
            event_time=to_time(d["E"]),
            asset=to_str(d["a"]),
            type=to_str(d["t"]),
            transaction_id=to_int_or_none(d.get("T")),
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
            entries=objects(OpenOrderLossEntry.from_json, d.get("O")),
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
            event_time=to_time(d["E"]),
            uni_mmr=to_decimal_or_none(d.get("u")),
            level=to_str(d["s"]),
            account_equity=to_decimal_or_none(d.get("eq")),
            actual_equity=to_decimal_or_none(d.get("ae")),
            maintenance_margin=to_decimal_or_none(d.get("m")),
            raw=d,
        )
