"""``papi balance``, ``account``, ``limits`` and ``stream``: reading the account."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .._decode import ms_to_datetime
from .._params import check_asset
from ..models import AssetBalance
from ..ratelimit import RateLimitSnapshot
from ..stream import UserStream
from ..stream_events import StreamItem, StreamOverflow, StreamReconnected
from ._config import read_credentials
from ._context import Context
from ._exit import ExitCode
from ._output import dumps, dumps_line, key_values, table, utc

__all__ = ["prepare_balance", "run_account", "run_balance", "run_limits", "run_stream"]

_BALANCE_COLUMNS = (
    "ASSET",
    "WALLET",
    "MARGIN FREE",
    "MARGIN LOCKED",
    "BORROWED",
    "INTEREST",
    "DEBT",
    "UM WALLET",
    "CM WALLET",
)


def _balance_row(b: AssetBalance) -> tuple[object, ...]:
    return (
        b.asset,
        b.total_wallet_balance,
        b.cross_margin_free,
        b.cross_margin_locked,
        b.cross_margin_borrowed,
        b.cross_margin_interest,
        b.cross_margin_debt,
        b.um_wallet_balance,
        b.cm_wallet_balance,
    )


def _all_zero(b: AssetBalance) -> bool:
    return not any(v for v in _balance_row(b)[1:])


def prepare_balance(args: argparse.Namespace) -> str | None:
    """The asset argument, checked before anything is sent."""
    asset = args.asset
    return None if asset is None else check_asset(asset, "ASSET")


async def run_balance(ctx: Context, asset: str | None) -> int:
    async with ctx.client(read_credentials(ctx.env, required=True)) as client:
        if asset is not None:
            one = await ctx.progress.run(client.account.balance(asset), f"balance of {asset}")
            rows: tuple[AssetBalance, ...] = (one,)
        else:
            rows = await ctx.progress.run(client.account.balance(), "balances")
    if ctx.json:
        ctx.out(dumps(dict(rows[0].raw) if asset is not None else [dict(b.raw) for b in rows]))
        return ExitCode.OK
    shown = [b for b in rows if asset is not None or ctx.args.zeros or not _all_zero(b)]
    if not shown:
        ctx.out("no asset with a balance or a debt (--zeros lists them all)")
        return ExitCode.OK
    ctx.out(table(_BALANCE_COLUMNS, (_balance_row(b) for b in shown)))
    return ExitCode.OK


def _with_times(raw: Mapping[str, Any]) -> list[tuple[str, object]]:
    """papi's fields in papi's order; ``updateTime`` (epoch ms) shown as a UTC time."""
    items: list[tuple[str, object]] = []
    for key, value in raw.items():
        if key.endswith("Time") and isinstance(value, int) and value > 0:
            items.append((key, utc(ms_to_datetime(value))))
        else:
            items.append((key, value))
    return items


async def run_account(ctx: Context, _: None) -> int:
    async with ctx.client(read_credentials(ctx.env, required=True)) as client:
        info = await ctx.progress.run(client.account.information(), "account")
    ctx.out(dumps(dict(info.raw)) if ctx.json else key_values(_with_times(info.raw)))
    return ExitCode.OK


def _window(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _limits_json(snap: RateLimitSnapshot, order_limits: list[Mapping[str, Any]]) -> Any:
    def when(t: float | None) -> str | None:
        return None if t is None else datetime.fromtimestamp(t, tz=timezone.utc).isoformat()

    return {
        "time": when(snap.time),
        "budgets": [
            {
                "budget": b.budget.value,
                "intervalSeconds": b.interval_s,
                "limit": b.limit,
                "used": b.used,
                "remaining": b.remaining,
                "windowStart": when(b.window_start),
                "windowReset": when(b.window_reset),
                "waiters": b.waiters,
            }
            for b in snap.own_budgets
        ],
        "pausedUntil": when(snap.paused_until),
        "bannedUntil": when(snap.banned_until),
        "orderRateLimits": order_limits,
    }


async def run_limits(ctx: Context, _: None) -> int:
    """The account's order limits from papi, applied to the limiter, and every budget
    as the limiter holds it after papi's usage headers of that call."""
    async with ctx.client(read_credentials(ctx.env, required=True)) as client:
        limits = await ctx.progress.run(client.refresh_order_limits(), "rate limits")
        snap = client.rate_limits
    if ctx.json:
        ctx.out(dumps(_limits_json(snap, [dict(x.raw) for x in limits])))
        return ExitCode.OK
    rows = [
        (
            b.budget.value,
            _window(b.interval_s),
            b.used,
            b.limit,
            b.remaining,
            f"{max(0.0, b.window_reset - snap.time):.0f}",
            utc(b.window_reset),
        )
        for b in snap.own_budgets
    ]
    headers = ("BUDGET", "WINDOW", "USED", "LIMIT", "REMAINING", "RESETS IN (S)", "RESETS AT")
    ctx.out(table(headers, rows))
    if snap.paused_until is not None:
        ctx.out(f"paused after a 429 until {utc(snap.paused_until)}")
    if snap.banned_until is not None:
        ctx.out(f"IP banned by papi (418) until {utc(snap.banned_until)}")
    ctx.out(
        "REQUEST_WEIGHT is used as papi reported it (X-MBX-USED-WEIGHT-1M); papi reports "
        "order counts only on order responses."
    )
    return ExitCode.OK


def _marker_note(item: StreamReconnected | StreamOverflow) -> str:
    if isinstance(item, StreamOverflow):
        return f"stream: {item.dropped} events dropped (output too slow): resync from REST"
    if item.lost_at is None:
        return f"stream: connected at {utc(item.connected_at)}"
    return (
        f"stream: reconnected ({item.reason}) at {utc(item.connected_at)}, lost at "
        f"{utc(item.lost_at)}: events may have been missed"
    )


async def _pump(ctx: Context, stream: UserStream) -> None:
    item: StreamItem
    async for item in stream:
        if isinstance(item, (StreamReconnected, StreamOverflow)):
            ctx.note(_marker_note(item))
        else:
            ctx.io.stdout.write(dumps_line(dict(item.raw)) + "\n")
            ctx.io.stdout.flush()


async def run_stream(ctx: Context, _: None) -> int:
    """Events until ``ctx.stop`` (SIGINT / SIGTERM); the stream's own failure ends it too."""
    async with (
        ctx.client(read_credentials(ctx.env, required=True)) as client,
        UserStream(client) as stream,
    ):
        pump = asyncio.ensure_future(_pump(ctx, stream))
        stopped = asyncio.ensure_future(ctx.stop.wait())
        try:
            await asyncio.wait({pump, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, stopped):
                task.cancel()
            await asyncio.wait({pump, stopped})
        if pump.done() and not pump.cancelled():
            pump.result()  # the stream's error, if it failed
    return ExitCode.OK
