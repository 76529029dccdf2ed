"""Typed results: frozen, slotted dataclasses with Decimal money and aware UTC datetimes.

Every model keeps the parsed body in ``raw``, so fields Binance adds later are
never lost, and tolerates fields Binance removes (they become ``None``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

__all__ = ["AccountInformation", "AssetBalance", "OrderRateLimit", "RepayDebtResult"]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)


def ms_to_datetime(value: Any) -> datetime:
    """Binance epoch milliseconds to an aware UTC datetime (exact: no float on the way)."""
    return _EPOCH + _ONE_MS * int(value)  # exact integer arithmetic on microseconds


def _dec(value: Any) -> Decimal:
    """A Decimal from Binance's string (or integer) representation; never via float.

    (``models_generated`` uses :func:`_dec_or_none` for every amount.)"""
    if isinstance(value, float):  # orjson gives floats only for JSON numbers like 1.5
        return Decimal(repr(value))
    return Decimal(value)


def _dec_or_none(value: Any) -> Decimal | None:
    """Like :func:`_dec`, but ``None`` for a missing field or Binance's empty string."""
    if value is None or value == "":
        return None
    return _dec(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class RepayDebtResult:
    """Result of ``POST /papi/v1/margin/repay-debt``.

    ``amount`` is the amount of ``asset`` debt repaid, exact as Binance sent it
    (``"0.10000000"`` keeps its eight digits); ``specify_repay_assets`` are the
    assets used to repay it.
    """

    asset: str
    amount: Decimal
    specify_repay_assets: tuple[str, ...]
    update_time: datetime
    success: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RepayDebtResult:
        amount = _dec(d["amount"])
        assets = tuple(d.get("specifyRepayAssets") or ())
        update_time = ms_to_datetime(d["updateTime"])
        success = bool(d.get("success", False))
        if cls is not RepayDebtResult:  # a subclass: its own __init__
            return cls(
                asset=d["asset"],
                amount=amount,
                specify_repay_assets=assets,
                update_time=update_time,
                success=success,
                raw=d,
            )
        # On every repay: the slots are filled directly, which is what the frozen
        # dataclass __init__ does through object.__setattr__, at half the cost.
        self = _new(cls)
        _set_asset(self, d["asset"])
        _set_amount(self, amount)
        _set_assets(self, assets)
        _set_time(self, update_time)
        _set_success(self, success)
        _set_raw(self, d)
        return self


def _slot_setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    """The ``__set__`` of each slot ``names`` of ``cls`` (a slotted dataclass)."""
    setters = tuple(getattr(cls, name).__set__ for name in names)
    assert {f.name for f in fields(cls)} == set(names)  # every field, or a test fails
    return setters


_new = object.__new__
_set_asset, _set_amount, _set_assets, _set_time, _set_success, _set_raw = _slot_setters(
    RepayDebtResult, "asset", "amount", "specify_repay_assets", "update_time", "success", "raw"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetBalance:
    """One asset of ``GET /papi/v1/balance``.

    ``cross_margin_asset`` is free + locked; it is absent (``None``) in the
    single-asset variant of the doc example.  ``cm_unrealized_pnl`` may be
    empty on Binance's side, which gives ``None``.
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
    update_time: datetime
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def cross_margin_debt(self) -> Decimal:
        """Borrowed principal plus accrued interest."""
        return self.cross_margin_borrowed + self.cross_margin_interest

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AssetBalance:
        return cls(
            asset=d["asset"],
            total_wallet_balance=_dec(d["totalWalletBalance"]),
            cross_margin_asset=_dec_or_none(d.get("crossMarginAsset")),
            cross_margin_borrowed=_dec(d["crossMarginBorrowed"]),
            cross_margin_free=_dec(d["crossMarginFree"]),
            cross_margin_interest=_dec(d["crossMarginInterest"]),
            cross_margin_locked=_dec(d["crossMarginLocked"]),
            um_wallet_balance=_dec(d["umWalletBalance"]),
            um_unrealized_pnl=_dec_or_none(d.get("umUnrealizedPNL")),
            cm_wallet_balance=_dec(d["cmWalletBalance"]),
            cm_unrealized_pnl=_dec_or_none(d.get("cmUnrealizedPNL")),
            negative_balance=_dec_or_none(d.get("negativeBalance")),
            update_time=ms_to_datetime(d["updateTime"]),
            raw=d,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountInformation:
    """``GET /papi/v1/account``: the Portfolio Margin account summary (USD values).

    ``total_available_balance`` and ``total_margin_open_loss`` are empty strings
    in the doc example, which gives ``None``.
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
    update_time: datetime
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AccountInformation:
        return cls(
            uni_mmr=_dec_or_none(d.get("uniMMR")),
            account_equity=_dec(d["accountEquity"]),
            actual_equity=_dec(d["actualEquity"]),
            account_initial_margin=_dec(d["accountInitialMargin"]),
            account_maint_margin=_dec(d["accountMaintMargin"]),
            account_status=d["accountStatus"],
            virtual_max_withdraw_amount=_dec(d["virtualMaxWithdrawAmount"]),
            total_available_balance=_dec_or_none(d.get("totalAvailableBalance")),
            total_margin_open_loss=_dec_or_none(d.get("totalMarginOpenLoss")),
            update_time=ms_to_datetime(d["updateTime"]),
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

    @property
    def interval_seconds(self) -> float:
        unit = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}.get(self.interval, 60)
        return float(unit * self.interval_num)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OrderRateLimit:
        return cls(
            rate_limit_type=d["rateLimitType"],
            interval=d["interval"],
            interval_num=int(d["intervalNum"]),
            limit=int(d["limit"]),
            raw=d,
        )
