"""``papi repay-debt``: repay cross-margin debt, with a plan shown first.

Nothing is sent before the plan is confirmed (against a base URL that is not on
this machine, unless ``--yes``).  Then the asset's debt is read, the repay sent
once, and if its outcome is unknown the command finds out from the debt
(:meth:`~binance_papi_async.api.MarginAPI.repay_debt_outcome`) instead of
sending it again.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .._params import check_asset
from ..errors import ExecutionStatusUnknown, ValidationError
from ..outcome import RepayOutcome
from ._config import is_loopback_url, mask, read_credentials
from ._context import IO, Context, confirm
from ._exit import CommandError, ExitCode
from ._output import dumps, key_values, plain, utc

__all__ = ["RepayPlan", "parse_amount", "parse_assets", "prepare_repay", "run_repay"]

# A plain decimal of ASCII digits: no sign, exponent, separator, or non-ASCII digit
# (Decimal() itself accepts "1_000", "1e3", " 1 " and "١٢").
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_amount(text: str) -> Decimal:
    """``AMOUNT`` as an exact Decimal > 0, or a usage error."""
    if not _AMOUNT.fullmatch(text):
        raise CommandError(
            f"AMOUNT must be a plain decimal of ASCII digits such as 0.1 or 25, got {text!r}",
            ExitCode.USAGE,
        )
    value = Decimal(text)
    if value <= 0:
        raise CommandError(f"AMOUNT must be greater than 0, got {text!r}", ExitCode.USAGE)
    return value


def parse_assets(text: str, option: str) -> tuple[str, ...]:
    """A comma-separated list of distinct asset codes (``USDT,BTC``)."""
    items = text.split(",")
    assets = tuple(check_asset(item, option) for item in items)
    if len(set(assets)) != len(assets):
        raise ValidationError(f"{option} lists an asset twice: {text!r}", param=option)
    return assets


@dataclass(frozen=True, slots=True)
class RepayPlan:
    """What ``papi repay-debt`` will send; ``amount`` ``None`` repays the whole debt."""

    asset: str
    amount: Decimal | None
    specify: tuple[str, ...]

    def describe(self) -> str:
        what = (
            f"ALL of the {self.asset} debt"
            if self.amount is None
            else f"{plain(self.amount, trim=False)} {self.asset} of debt"
        )
        using = f"paid with {self.asset} first"
        if self.specify:
            using += ", then " + ", ".join(self.specify)
        return f"repay {what} (cross margin), {using}"


def prepare_repay(args: argparse.Namespace, io: IO, env: Mapping[str, str]) -> RepayPlan:
    """Check the arguments and, for a remote base URL without ``--yes``, confirm."""
    asset = check_asset(args.asset, "ASSET")
    if (args.amount is None) == (not args.all):
        raise CommandError("give either AMOUNT or --all (not both)", ExitCode.USAGE)
    amount = parse_amount(args.amount) if args.amount is not None else None
    specify = parse_assets(args.specify, "--specify") if args.specify else ()
    plan = RepayPlan(asset, amount, specify)
    credentials = read_credentials(env, required=True)
    if not args.yes and not is_loopback_url(args.base_url):
        assert credentials.api_key is not None
        confirm(
            io,
            f"About to {plan.describe()}\n"
            f"  at {args.base_url} with API key {mask(credentials.api_key)}\n"
            "  (POST /papi/v1/margin/repay-debt: weight 3000, half of the IP's minute)",
        )
    return plan


async def run_repay(ctx: Context, plan: RepayPlan) -> int:
    progress = ctx.progress
    async with ctx.client(read_credentials(ctx.env, required=True)) as client:
        before = await progress.run(
            client.account.balance(plan.asset), f"reading the {plan.asset} debt"
        )
        debt_before = before.cross_margin_debt
        try:
            result = await progress.run(
                client.margin.repay_debt(
                    plan.asset,
                    plan.amount,
                    specify_repay_assets=list(plan.specify) or None,
                    repay_all=plan.amount is None,
                ),
                f"repay-debt {plan.asset}",
            )
        except ExecutionStatusUnknown as exc:
            ctx.note(f"papi repay-debt: {exc}")
            try:
                outcome = await progress.run(
                    client.margin.repay_debt_outcome(exc, debt_before=debt_before),
                    "finding out whether the repay was applied (waiting until it can no "
                    f"longer execute, then reading the {plan.asset} debt)",
                )
            except BaseException:
                ctx.note(
                    "papi repay-debt: the outcome is still unknown: the repay may have been "
                    f"applied; check the {plan.asset} debt (papi balance {plan.asset}) before "
                    "repaying again"
                )
                raise
            return _report_outcome(ctx, plan, debt_before, outcome)
    if ctx.json:
        ctx.out(dumps({**dict(result.raw), "debtBefore": plain(debt_before, trim=False)}))
    else:
        ctx.out(
            key_values(
                [
                    ("asset", result.asset),
                    ("amount", plain(result.amount, trim=False)),
                    ("specifyRepayAssets", ",".join(result.specify_repay_assets) or "-"),
                    ("success", result.success),
                    ("updateTime", utc(result.update_time)),
                    ("debtBefore", plain(debt_before, trim=False)),
                ]
            )
        )
    return ExitCode.OK if result.success else ExitCode.API_ERROR


def _report_outcome(
    ctx: Context, plan: RepayPlan, debt_before: Decimal, outcome: RepayOutcome
) -> int:
    messages = {
        RepayOutcome.APPLIED: "the repay WAS applied (the debt went down by the amount)",
        RepayOutcome.NOT_APPLIED: "the repay was NOT applied (the debt did not go down): "
        "it is safe to repay again",
        RepayOutcome.UNKNOWN: "the outcome is STILL UNKNOWN (the debt moved, but not as this "
        "repay would have moved it): check the account before repaying again",
    }
    ctx.note(f"papi repay-debt: {messages[outcome]}")
    if ctx.json:
        ctx.out(
            dumps(
                {
                    "asset": plan.asset,
                    "amount": None if plan.amount is None else plain(plan.amount, trim=False),
                    "outcome": outcome.value,
                    "debtBefore": plain(debt_before, trim=False),
                }
            )
        )
    return ExitCode.OK if outcome is RepayOutcome.APPLIED else ExitCode.NETWORK
