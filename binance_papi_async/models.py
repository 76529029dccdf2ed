"""Typed results: frozen, slotted dataclasses with Decimal money and aware UTC datetimes.

Every model keeps the parsed body in ``raw``, so fields Binance adds later are
never lost; its optional fields tolerate Binance removing them (they become ``None``).
Values are read by the rules of :mod:`binance_papi_async._decode` (exact decimals,
exact times, no float), and ``FIELDS`` lists each field's wire key, reader and whether
Binance always sends it: a read whose answer lacks one, or has a value of the wrong
shape, is an error naming the field; a write (repay-debt) returns its result anyway,
with the fields it could not decode ``None`` and listed in ``undecoded``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from ._decode import (
    Field,
    to_bool_or_none,
    to_decimal,
    to_decimal_or_none,
    to_int,
    to_str,
    to_strs,
    to_time,
    to_time_or_none,
)

__all__ = ["AccountInformation", "AssetBalance", "OrderRateLimit", "RepayDebtResult"]


def _success(value: Any) -> bool:
    """``success``: ``True`` only when Binance says ``true``."""
    return to_bool_or_none(value) is True


@dataclass(frozen=True, slots=True, kw_only=True)
class RepayDebtResult:
    """Result of ``POST /papi/v1/margin/repay-debt``.

    ``amount`` is the amount of ``asset`` debt repaid, exact as Binance sent it
    (``"0.10000000"`` keeps its eight digits); ``specify_repay_assets`` are the
    assets used to repay it.  ``success`` is ``False`` when Binance does not say
    ``true``.
    """

    asset: str
    amount: Decimal
    specify_repay_assets: tuple[str, ...]
    update_time: datetime
    success: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    undecoded: tuple[str, ...] = field(default=(), repr=False, compare=False)

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("asset", "asset", to_str, True),
        Field("amount", "amount", to_decimal, True),
        Field("specify_repay_assets", "specifyRepayAssets", to_strs),
        Field("update_time", "updateTime", to_time, True),
        Field("success", "success", _success),
    )

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RepayDebtResult:
        asset = to_str(d["asset"])
        amount = to_decimal(d["amount"])
        assets = to_strs(d.get("specifyRepayAssets"))
        update_time = to_time(d["updateTime"])
        success = _success(d.get("success"))
        if cls is not RepayDebtResult:  # a subclass: its own __init__
            return cls(
                asset=asset,
                amount=amount,
                specify_repay_assets=assets,
                update_time=update_time,
                success=success,
                raw=d,
            )
        # The slots filled directly, as the frozen dataclass's __init__ does through
        # object.__setattr__ (tests/unit/test_equivalent_paths.py compares the two).
        # 7,600 instr/call, 1.5 % of the floor's: bench_icount.py --stub sdk sdk-init-result
        self = _new(cls)
        _set_asset(self, asset)
        _set_amount(self, amount)
        _set_assets(self, assets)
        _set_time(self, update_time)
        _set_success(self, success)
        _set_raw(self, d)
        _set_undecoded(self, ())
        return self


def _slot_setters(cls: type) -> tuple[Callable[[object, object], None], ...]:
    """The ``__set__`` of each field's slot of the slotted dataclass ``cls``, in field order
    (unpacked into one name per field: a field added or removed fails at import)."""
    return tuple(getattr(cls, f.name).__set__ for f in fields(cls))


_new = object.__new__
_set_asset, _set_amount, _set_assets, _set_time, _set_success, _set_raw, _set_undecoded = (
    _slot_setters(RepayDebtResult)
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetBalance:
    """One asset of ``GET /papi/v1/balance``.

    ``cross_margin_asset`` is free + locked; it is absent (``None``) in the
    single-asset variant of the doc example.  ``cm_unrealized_pnl`` may be
    empty on Binance's side, which gives ``None``; ``update_time`` is ``None`` for
    Binance's "never" (``0``).
    """

    asset: str
    total_wallet_balance: Decimal
    cross_margin_asset: Decimal | None
    cross_margin_borrowed: Decimal
    cross_margin_free: Decimal
    cross_margin_interest: Decimal
    cross_margin_locked: Decimal
    um_wallet_balance: Decimal
    um_unrealized_pnl: Decimal | None
    cm_wallet_balance: Decimal
    cm_unrealized_pnl: Decimal | None
    negative_balance: Decimal | None
    update_time: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    undecoded: tuple[str, ...] = field(default=(), repr=False, compare=False)

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("asset", "asset", to_str, True),
        Field("total_wallet_balance", "totalWalletBalance", to_decimal, True),
        Field("cross_margin_asset", "crossMarginAsset", to_decimal_or_none),
        Field("cross_margin_borrowed", "crossMarginBorrowed", to_decimal, True),
        Field("cross_margin_free", "crossMarginFree", to_decimal, True),
        Field("cross_margin_interest", "crossMarginInterest", to_decimal, True),
        Field("cross_margin_locked", "crossMarginLocked", to_decimal, True),
        Field("um_wallet_balance", "umWalletBalance", to_decimal, True),
        Field("um_unrealized_pnl", "umUnrealizedPNL", to_decimal_or_none),
        Field("cm_wallet_balance", "cmWalletBalance", to_decimal, True),
        Field("cm_unrealized_pnl", "cmUnrealizedPNL", to_decimal_or_none),
        Field("negative_balance", "negativeBalance", to_decimal_or_none),
        Field("update_time", "updateTime", to_time_or_none),
    )

    @property
    def cross_margin_debt(self) -> Decimal:
        """Borrowed principal plus accrued interest."""
        return self.cross_margin_borrowed + self.cross_margin_interest

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AssetBalance:
        return cls(
            asset=to_str(d["asset"]),
            total_wallet_balance=to_decimal(d["totalWalletBalance"]),
            cross_margin_asset=to_decimal_or_none(d.get("crossMarginAsset")),
            cross_margin_borrowed=to_decimal(d["crossMarginBorrowed"]),
            cross_margin_free=to_decimal(d["crossMarginFree"]),
            cross_margin_interest=to_decimal(d["crossMarginInterest"]),
            cross_margin_locked=to_decimal(d["crossMarginLocked"]),
            um_wallet_balance=to_decimal(d["umWalletBalance"]),
            um_unrealized_pnl=to_decimal_or_none(d.get("umUnrealizedPNL")),
            cm_wallet_balance=to_decimal(d["cmWalletBalance"]),
            cm_unrealized_pnl=to_decimal_or_none(d.get("cmUnrealizedPNL")),
            negative_balance=to_decimal_or_none(d.get("negativeBalance")),
            update_time=to_time_or_none(d.get("updateTime")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountInformation:
    """``GET /papi/v1/account``: the Portfolio Margin account summary (USD values).

    ``total_available_balance`` and ``total_margin_open_loss`` are empty strings
    in the doc example, which gives ``None``; ``update_time`` is ``None`` for
    Binance's "never" (``0``).
    """

    uni_mmr: Decimal | None
    account_equity: Decimal
    actual_equity: Decimal
    account_initial_margin: Decimal
    account_maint_margin: Decimal
    account_status: str
    virtual_max_withdraw_amount: Decimal
    total_available_balance: Decimal | None
    total_margin_open_loss: Decimal | None
    update_time: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    undecoded: tuple[str, ...] = field(default=(), repr=False, compare=False)

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("uni_mmr", "uniMMR", to_decimal_or_none),
        Field("account_equity", "accountEquity", to_decimal, True),
        Field("actual_equity", "actualEquity", to_decimal, True),
        Field("account_initial_margin", "accountInitialMargin", to_decimal, True),
        Field("account_maint_margin", "accountMaintMargin", to_decimal, True),
        Field("account_status", "accountStatus", to_str, True),
        Field("virtual_max_withdraw_amount", "virtualMaxWithdrawAmount", to_decimal, True),
        Field("total_available_balance", "totalAvailableBalance", to_decimal_or_none),
        Field("total_margin_open_loss", "totalMarginOpenLoss", to_decimal_or_none),
        Field("update_time", "updateTime", to_time_or_none),
    )

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AccountInformation:
        return cls(
            uni_mmr=to_decimal_or_none(d.get("uniMMR")),
            account_equity=to_decimal(d["accountEquity"]),
            actual_equity=to_decimal(d["actualEquity"]),
            account_initial_margin=to_decimal(d["accountInitialMargin"]),
            account_maint_margin=to_decimal(d["accountMaintMargin"]),
            account_status=to_str(d["accountStatus"]),
            virtual_max_withdraw_amount=to_decimal(d["virtualMaxWithdrawAmount"]),
            total_available_balance=to_decimal_or_none(d.get("totalAvailableBalance")),
            total_margin_open_loss=to_decimal_or_none(d.get("totalMarginOpenLoss")),
            update_time=to_time_or_none(d.get("updateTime")),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRateLimit:
    """One entry of ``GET /papi/v1/rateLimit/order``."""

    rate_limit_type: str
    interval: str
    interval_num: int
    limit: int
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    undecoded: tuple[str, ...] = field(default=(), repr=False, compare=False)

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("rate_limit_type", "rateLimitType", to_str, True),
        Field("interval", "interval", to_str, True),
        Field("interval_num", "intervalNum", to_int, True),
        Field("limit", "limit", to_int, True),
    )

    @property
    def interval_seconds(self) -> float:
        unit = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}.get(self.interval, 60)
        return float(unit * self.interval_num)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OrderRateLimit:
        return cls(
            rate_limit_type=to_str(d["rateLimitType"]),
            interval=to_str(d["interval"]),
            interval_num=to_int(d["intervalNum"]),
            limit=to_int(d["limit"]),
            raw=d,
        )
