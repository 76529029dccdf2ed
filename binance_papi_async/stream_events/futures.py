"""User-stream events of the futures products: UM and CM orders, conditional and algo
orders, balances and positions, leverage (see :mod:`binance_papi_async.stream_events`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .._decode import (
    objects,
    to_bool,
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
    "AccountConfigUpdate",
    "AccountUpdate",
    "AlgoUpdate",
    "ConditionalOrderTradeUpdate",
    "FuturesBalance",
    "FuturesPosition",
    "OrderTradeUpdate",
]


def _obj(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = d[key]
    if not isinstance(value, Mapping):
        raise ValueError(f"{key!r} is not an object")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTradeUpdate:
    """``ORDER_TRADE_UPDATE``: a UM or CM futures order was created, changed or filled.

    ``business_line`` is ``fs`` (``"UM"``/``"CM"``); the order fields come from ``o``.
    ``commission_asset``/``commission`` are absent without a commission;
    ``strategy_type``/``strategy_id`` only for orders placed by a triggered
    conditional order; ``modify_id`` only on ``AMENDMENT`` events; ``trade_id`` is 0
    without a trade; ``account_alias`` is ``i`` (empty for UM; not on every payload).
    """

    event_type: str
    business_line: str
    event_time: datetime
    transaction_time: datetime | None
    account_alias: str | None
    symbol: str
    client_order_id: str
    side: str
    order_type: str
    time_in_force: str
    quantity: Decimal
    price: Decimal
    average_price: Decimal
    stop_price: Decimal
    execution_type: str
    status: str
    order_id: int
    last_filled_quantity: Decimal
    cumulative_filled_quantity: Decimal
    last_filled_price: Decimal
    commission_asset: str | None
    commission: Decimal | None
    trade_time: datetime | None
    trade_id: int
    bids_notional: Decimal
    asks_notional: Decimal
    is_maker: bool
    reduce_only: bool
    position_side: str
    realized_profit: Decimal
    strategy_type: str | None
    strategy_id: int | None
    self_trade_prevention: str
    good_till: datetime | None
    modify_id: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OrderTradeUpdate:
        o = _obj(d, "o")
        return cls(
            event_type=d["e"],
            business_line=to_str(d["fs"]),
            event_time=to_time(d["E"]),
            transaction_time=to_time_or_none(d["T"]),
            account_alias=to_str_or_none(d.get("i")),
            symbol=to_str(o["s"]),
            client_order_id=to_str(o["c"]),
            side=to_str(o["S"]),
            order_type=to_str(o["o"]),
            time_in_force=to_str(o["f"]),
            quantity=to_decimal(o["q"]),
            price=to_decimal(o["p"]),
            average_price=to_decimal(o["ap"]),
            stop_price=to_decimal(o["sp"]),
            execution_type=to_str(o["x"]),
            status=to_str(o["X"]),
            order_id=to_int(o["i"]),
            last_filled_quantity=to_decimal(o["l"]),
            cumulative_filled_quantity=to_decimal(o["z"]),
            last_filled_price=to_decimal(o["L"]),
            commission_asset=to_str_or_none(o.get("N")),
            commission=to_decimal_or_none(o.get("n")),
            trade_time=to_time_or_none(o["T"]),
            trade_id=to_int(o["t"]),
            bids_notional=to_decimal(o["b"]),
            asks_notional=to_decimal(o["a"]),
            is_maker=to_bool(o["m"]),
            reduce_only=to_bool(o["R"]),
            position_side=to_str(o["ps"]),
            realized_profit=to_decimal(o["rp"]),
            strategy_type=to_str_or_none(o.get("st")),
            strategy_id=to_int_or_none(o.get("si")),
            self_trade_prevention=to_str(o["V"]),
            good_till=to_time_or_none(o["gtd"]),
            modify_id=to_str_or_none(o.get("M")),
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
    time_in_force: str
    quantity: Decimal
    price: Decimal
    stop_price: Decimal
    strategy_status: str
    order_book_time: datetime | None
    update_time: datetime | None
    reduce_only: bool
    working_type: str
    position_side: str
    close_position: bool
    activation_price: Decimal | None
    callback_rate: Decimal | None
    order_id: int | None
    self_trade_prevention: str
    good_till: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ConditionalOrderTradeUpdate:
        so = _obj(d, "so")
        return cls(
            event_type=d["e"],
            business_line=to_str(d["fs"]),
            event_time=to_time(d["E"]),
            transaction_time=to_time_or_none(d["T"]),
            symbol=to_str(so["s"]),
            client_strategy_id=to_str(so["c"]),
            strategy_id=to_int(so["si"]),
            side=to_str(so["S"]),
            strategy_type=to_str(so["st"]),
            time_in_force=to_str(so["f"]),
            quantity=to_decimal(so["q"]),
            price=to_decimal(so["p"]),
            stop_price=to_decimal(so["sp"]),
            strategy_status=to_str(so["os"]),
            order_book_time=to_time_or_none(so["T"]),
            update_time=to_time_or_none(so["ut"]),
            reduce_only=to_bool(so["R"]),
            working_type=to_str(so["wt"]),
            position_side=to_str(so["ps"]),
            close_position=to_bool(so["cp"]),
            activation_price=to_decimal_or_none(so.get("AP")),
            callback_rate=to_decimal_or_none(so.get("cr")),
            order_id=to_int_or_none(so.get("i")),
            self_trade_prevention=to_str(so["V"]),
            good_till=to_time_or_none(so["gtd"]),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AlgoUpdate:
    """``ALGO_UPDATE``: a UM algo order (``/papi/v1/um/algo/*``), from ``ao`` (fapi shape: ``o``).

    ``actual_order_id`` (``ao.ai``) is a *string*, empty until triggered; it equals the
    ``order_id`` of the resulting :class:`OrderTradeUpdate`.
    """

    event_type: str
    business_line: str
    event_time: datetime
    transaction_time: datetime | None
    client_algo_id: str
    algo_id: int
    algo_type: str
    order_type: str
    symbol: str
    side: str
    position_side: str
    time_in_force: str
    quantity: Decimal
    status: str
    actual_order_id: str | None
    average_price: Decimal | None
    executed_quantity: Decimal | None
    actual_order_type: str | None
    trigger_price: Decimal
    price: Decimal
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
            business_line=to_str(d["fs"]),
            event_time=to_time(d["E"]),
            transaction_time=to_time_or_none(d["T"]),
            client_algo_id=to_str(ao["caid"]),
            algo_id=to_int(ao["aid"]),
            algo_type=to_str(ao["at"]),
            order_type=to_str(ao["o"]),
            symbol=to_str(ao["s"]),
            side=to_str(ao["S"]),
            position_side=to_str(ao["ps"]),
            time_in_force=to_str(ao["f"]),
            quantity=to_decimal(ao["q"]),
            status=to_str(ao["X"]),
            actual_order_id=to_str_or_none(ao.get("ai")),
            average_price=to_decimal_or_none(ao.get("ap")),
            executed_quantity=to_decimal_or_none(ao.get("aq")),
            actual_order_type=to_str_or_none(ao.get("act")),
            trigger_price=to_decimal(ao["tp"]),
            price=to_decimal(ao["p"]),
            self_trade_prevention=to_str_or_none(ao.get("V")),
            working_type=to_str_or_none(ao.get("wt")),
            price_match=to_str_or_none(ao.get("pm")),
            close_position=to_bool_or_none(ao.get("cp")),
            price_protect=to_bool_or_none(ao.get("pP")),
            reduce_only=to_bool_or_none(ao.get("R")),
            trigger_time=to_time_or_none(ao.get("tt")),
            good_till=to_time_or_none(ao.get("gtd")),
            failure_reason=to_str_or_none(ao.get("rm")),
            trailing_activated=to_bool_or_none(ao.get("ia")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FuturesBalance:
    """One entry of ``ACCOUNT_UPDATE.a.B``: ``wallet_balance``/``cross_wallet_balance`` are
    absolute (replace local state); ``balance_change`` (``bc``) is a delta."""

    asset: str
    wallet_balance: Decimal
    cross_wallet_balance: Decimal
    balance_change: Decimal

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FuturesBalance:
        return cls(
            asset=to_str(d["a"]),
            wallet_balance=to_decimal(d["wb"]),
            cross_wallet_balance=to_decimal(d["cw"]),
            balance_change=to_decimal(d["bc"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FuturesPosition:
    """One entry of ``ACCOUNT_UPDATE.a.P`` (absolute values: replace the position)."""

    symbol: str
    position_amount: Decimal
    entry_price: Decimal
    accumulated_realized: Decimal
    unrealized_pnl: Decimal
    position_side: str
    break_even_price: Decimal

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FuturesPosition:
        return cls(
            symbol=to_str(d["s"]),
            position_amount=to_decimal(d["pa"]),
            entry_price=to_decimal(d["ep"]),
            accumulated_realized=to_decimal(d["cr"]),
            unrealized_pnl=to_decimal(d["up"]),
            position_side=to_str(d["ps"]),
            break_even_price=to_decimal(d["bep"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdate:
    """``ACCOUNT_UPDATE``: UM/CM balances and positions that changed (only those).

    ``reason`` is ``a.m`` (``ORDER``, ``FUNDING_FEE``, ... treat as an open enum);
    ``funding_symbol`` is ``a.S`` (funding-fee updates, newer payloads only);
    ``account_alias`` is ``i`` (empty for UM; not on every payload).
    """

    event_type: str
    business_line: str
    event_time: datetime
    transaction_time: datetime | None
    account_alias: str | None
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
            business_line=to_str(d["fs"]),
            event_time=to_time(d["E"]),
            transaction_time=to_time_or_none(d["T"]),
            account_alias=to_str_or_none(d.get("i")),
            reason=to_str(a["m"]),
            funding_symbol=to_str_or_none(a.get("S")),
            balances=objects(FuturesBalance.from_json, a["B"]),
            positions=objects(FuturesPosition.from_json, a["P"]),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountConfigUpdate:
    """``ACCOUNT_CONFIG_UPDATE``: a UM/CM leverage change (``ac.s``, ``ac.l``), the one
    configuration change papi documents."""

    event_type: str
    business_line: str
    event_time: datetime
    transaction_time: datetime | None
    symbol: str
    leverage: int
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AccountConfigUpdate:
        ac = _obj(d, "ac")
        return cls(
            event_type=d["e"],
            business_line=to_str(d["fs"]),
            event_time=to_time(d["E"]),
            transaction_time=to_time_or_none(d["T"]),
            symbol=to_str(ac["s"]),
            leverage=to_int(ac["l"]),
            raw=d,
        )
