"""Learning the outcome of a repay-debt whose execution status was unknown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from binance_papi_async import (
    ExecutionStatusUnknown,
    PortfolioMarginClient,
    RepayOutcome,
    ValidationError,
)
from binance_papi_async.outcome import judge_repay
from binance_papi_async.testing import PapiSimulator

from ..conftest import BIG_LIMITS

KEY = "outcome-key-0123456789abcdef"
SECRET = "outcome-secret-0123456789abcdef"
REPAY = "/papi/v1/margin/repay-debt"
D = Decimal


@pytest.mark.parametrize(
    ("amount", "before", "after", "expected"),
    [
        (D("1"), D("2.00125"), D("1.00125"), RepayOutcome.APPLIED),
        (D("1"), D("2.00125"), D("1.00135"), RepayOutcome.APPLIED),  # + a little interest
        (D("1"), D("2.00125"), D("2.00125"), RepayOutcome.NOT_APPLIED),
        (D("1"), D("2.00125"), D("2.00200"), RepayOutcome.NOT_APPLIED),  # interest accrued
        (D("1"), D("2.00125"), D("1.5"), RepayOutcome.UNKNOWN),  # moved, but not by 1
        (None, D("2.00125"), D("0"), RepayOutcome.APPLIED),
        (None, D("2.00125"), D("2.00125"), RepayOutcome.NOT_APPLIED),
        (None, D("2.00125"), D("1"), RepayOutcome.UNKNOWN),
    ],
)
def test_judge_repay(
    amount: Decimal | None, before: Decimal, after: Decimal, expected: RepayOutcome
) -> None:
    assert judge_repay(amount=amount, debt_before=before, debt_after=after) is expected


async def _unknown_then_outcome(
    sim: PapiSimulator, *, after_apply: bool, amount: str | None
) -> RepayOutcome:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS) as c:
        before = await c.account.balance("BNB")
        sim.faults.drop(path=REPAY, after_apply=after_apply)
        with pytest.raises(ExecutionStatusUnknown) as info:
            if amount is None:
                await c.margin.repay_debt(
                    "BNB", repay_all=True, specify_repay_assets=["USDT"], recv_window=50
                )
            else:
                await c.margin.repay_debt(
                    "BNB", amount, specify_repay_assets=["USDT"], recv_window=50
                )
        return await c.margin.repay_debt_outcome(
            info.value, debt_before=before.cross_margin_debt, settle_margin=0.05
        )


async def test_applied_then_dropped_is_applied(sim: PapiSimulator) -> None:
    assert await _unknown_then_outcome(sim, after_apply=True, amount="1") is RepayOutcome.APPLIED
    assert len(sim.account().applied_repays) == 1


async def test_dropped_before_apply_is_not_applied(sim: PapiSimulator) -> None:
    outcome = await _unknown_then_outcome(sim, after_apply=False, amount="1")
    assert outcome is RepayOutcome.NOT_APPLIED
    assert sim.account().applied_repays == []


async def test_repay_all_applied_then_dropped(sim: PapiSimulator) -> None:
    outcome = await _unknown_then_outcome(sim, after_apply=True, amount=None)
    assert outcome is RepayOutcome.APPLIED


async def test_outcome_waits_until_the_request_cannot_execute(sim: PapiSimulator) -> None:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url, rate_limits=BIG_LIMITS) as c:
        before = await c.account.balance("BNB")
        sim.faults.drop(path=REPAY, after_apply=False)
        with pytest.raises(ExecutionStatusUnknown) as info:
            await c.margin.repay_debt("BNB", "1", recv_window=300)
        sent_ms = int(info.value.params["timestamp"])
        await c.margin.repay_debt_outcome(
            info.value, debt_before=before.cross_margin_debt, settle_margin=0.05
        )
        read = [r for r in sim.requests if r.path == "/papi/v1/balance"][-1]
    assert read.time >= sent_ms + 300 + 50  # the debt was read only after the window closed


async def test_outcome_refuses_other_errors(sim: PapiSimulator) -> None:
    async with PortfolioMarginClient(KEY, SECRET, base_url=sim.url) as c:
        other = ExecutionStatusUnknown(
            "x", method="POST", path="/papi/v1/um/order", params={}, sent_at=0.0
        )
        with pytest.raises(ValidationError):
            await c.margin.repay_debt_outcome(other, debt_before=D("1"))
    assert sim.requests == []
