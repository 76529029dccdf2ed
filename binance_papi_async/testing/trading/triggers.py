"""When a stop, take-profit or trailing stop fires, given the mark (shared by the UM algo,
CM conditional and margin stop orders).

* Stop-like (``STOP``, ``STOP_MARKET``, ``STOP_LOSS``, ``STOP_LOSS_LIMIT``): a BUY fires
  at a mark at or above its trigger price, a SELL at or below.
* Take-profit-like (``TAKE_PROFIT``, ``TAKE_PROFIT_MARKET``, ``TAKE_PROFIT_LIMIT``): the
  opposite.
* ``TRAILING_STOP_MARKET`` (``callbackRate`` in percent): a SELL tracks the highest mark
  since it was placed; once that reached ``activatePrice`` (default: the mark at
  placement, so at once) it fires when the mark falls to ``highest x (1 - rate/100)``.
  A BUY tracks the lowest mark and fires at ``lowest x (1 + rate/100)``.

The simulator has one price per symbol, so ``workingType`` MARK_PRICE and
CONTRACT_PRICE both watch the mark.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["TRAILING", "reached", "trailing_step"]

TRAILING = "TRAILING_STOP_MARKET"


def reached(order_type: str, side: str, trigger: Decimal, mark: Decimal) -> bool:
    """Whether a stop-like or take-profit-like order fires at ``mark``."""
    stop_like = order_type.startswith("STOP")
    if stop_like == (side == "BUY"):
        return mark >= trigger
    return mark <= trigger


def trailing_step(
    side: str,
    activate_price: Decimal,
    rate: Decimal,
    extreme: Decimal,
    activated: bool,
    mark: Decimal,
) -> tuple[Decimal, bool, bool]:
    """One mark move of a trailing stop: the new (extreme, activated) and whether it fires."""
    if side == "BUY":
        extreme = min(extreme, mark) if extreme else mark
        activated = activated or not activate_price or extreme <= activate_price
        fires = activated and mark >= extreme * (1 + rate / 100)
    else:
        extreme = max(extreme, mark)
        activated = activated or not activate_price or extreme >= activate_price
        fires = activated and mark <= extreme * (1 - rate / 100)
    return extreme, activated, fires
