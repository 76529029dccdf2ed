"""Symbol filters and leverage brackets: the static reference data of the simulated market.

Filters come from the state (``SimState.symbols``, see :mod:`..state`): a price must be
a multiple of the symbol's ``tickSize``, a quantity of its ``stepSize`` (at least one
step), and price x quantity at least ``minNotional``.  The precision is the number of
decimals the tick (step) size is written with, as in Binance's exchangeInfo: ``0.10``
allows two decimals, in multiples of 0.1.  The errors are papi's:

* UM / CM: more decimals than that precision -> -1111 "Precision is over the
  maximum defined for this asset."; not a multiple -> -4014 "Price not increased by
  tick size." / -4023 "Qty not increased by step size."; below the minimum notional
  (UM, unless ``reduceOnly``) -> -4164 "Order's notional must be no smaller than N
  (unless you choose reduce only).";
* margin (spot filters): more than 8 decimals -> -1111 "Parameter 'price' has too much
  precision."; otherwise -1013 "Filter failure: PRICE_FILTER" / "LOT_SIZE" /
  "NOTIONAL".

Leverage brackets are one table per product for every symbol (Binance's differ per
symbol; the simulator's are BTC-like): UM notional brackets
(:data:`UM_BRACKETS`), CM quantity brackets in the base asset (:data:`CM_BRACKETS`).
They give the ``maxNotionalValue`` / ``maxQty`` of a leverage and the maintenance
margin of a position (notional x rate - cum).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .._errors import SimulatedError
from ..state import SymbolRules

__all__ = [
    "CM_BRACKETS",
    "MAX_LEVERAGE",
    "UM_BRACKETS",
    "Bracket",
    "bracket_for",
    "check_futures",
    "check_margin",
    "max_for_leverage",
    "round_step",
]

#: The highest initial leverage of the first bracket.
MAX_LEVERAGE = 125


@dataclass(frozen=True, slots=True)
class Bracket:
    """One leverage bracket: up to ``cap`` (notional, or CM base quantity) the initial
    leverage is at most ``leverage``; maintenance margin = size x ``mmr`` - ``cum``."""

    number: int
    leverage: int
    floor: Decimal
    cap: Decimal
    mmr: Decimal
    cum: Decimal


def _table(rows: tuple[tuple[int, int, str], ...]) -> tuple[Bracket, ...]:
    out: list[Bracket] = []
    floor = cum = Decimal(0)
    previous_mmr = Decimal(0)
    for number, (leverage, cap, mmr) in enumerate(rows, start=1):
        rate = Decimal(mmr)
        cum += floor * (rate - previous_mmr)
        out.append(Bracket(number, leverage, floor, Decimal(cap), rate, cum))
        floor, previous_mmr = Decimal(cap), rate
    return tuple(out)


#: UM brackets by notional (USDT).
UM_BRACKETS = _table(
    (
        (125, 50_000, "0.004"),
        (100, 600_000, "0.005"),
        (75, 3_000_000, "0.0065"),
        (50, 12_000_000, "0.01"),
        (25, 70_000_000, "0.02"),
        (20, 100_000_000, "0.025"),
        (10, 230_000_000, "0.05"),
        (5, 480_000_000, "0.1"),
        (4, 600_000_000, "0.125"),
        (3, 800_000_000, "0.15"),
        (2, 1_200_000_000, "0.25"),
        (1, 1_800_000_000, "0.5"),
    )
)
#: CM brackets by position size in the base asset.
CM_BRACKETS = _table(
    (
        (125, 5, "0.004"),
        (100, 10, "0.005"),
        (50, 20, "0.01"),
        (20, 50, "0.025"),
        (10, 100, "0.05"),
        (5, 200, "0.1"),
        (4, 400, "0.125"),
        (3, 1000, "0.15"),
        (2, 1500, "0.25"),
        (1, 2000, "0.5"),
    )
)


def brackets(product: str) -> tuple[Bracket, ...]:
    """The bracket table of ``UM`` or ``CM``."""
    return CM_BRACKETS if product == "CM" else UM_BRACKETS


def max_for_leverage(product: str, leverage: int) -> Decimal:
    """The largest notional (CM: base quantity) a position may reach at ``leverage``."""
    return max(b.cap for b in brackets(product) if b.leverage >= leverage)


def bracket_for(product: str, size: Decimal) -> Bracket:
    """The bracket of a position of ``size`` (notional, or CM base quantity)."""
    table = brackets(product)
    for bracket in table:
        if size <= bracket.cap:
            return bracket
    return table[-1]


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def round_step(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded down to a multiple of ``step``."""
    return (value // step) * step


def _precise(value: Decimal, unit: Decimal) -> None:
    exponent = unit.as_tuple().exponent  # as written: 0.10 has two decimals
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if _decimals(value) > places:
        raise SimulatedError(400, -1111, "Precision is over the maximum defined for this asset.")


def check_futures(
    product: str,
    rules: SymbolRules,
    *,
    qty: Decimal | None,
    prices: tuple[Decimal, ...] = (),
    notional_price: Decimal | None = None,
    reduce_only: bool = False,
) -> None:
    """Refuse an order ``rules`` do not allow (see the module documentation).

    ``prices``: the order's price and stop / trigger prices that were sent;
    ``notional_price``: the price its notional is taken at (its price, or the mark).
    """
    for price in prices:
        _precise(price, rules.tick_size)
        if price % rules.tick_size:
            raise SimulatedError(400, -4014, "Price not increased by tick size.")
    if qty is None:
        return
    _precise(qty, rules.step_size)
    if qty % rules.step_size:
        raise SimulatedError(400, -4023, "Qty not increased by step size.")
    minimum = rules.min_notional
    if product != "UM" or not minimum or reduce_only or notional_price is None:
        return
    if qty * notional_price < minimum:
        raise SimulatedError(
            400,
            -4164,
            f"Order's notional must be no smaller than {format(minimum.normalize(), 'f')} "
            "(unless you choose reduce only).",
        )


def check_margin(
    rules: SymbolRules,
    *,
    qty: Decimal,
    prices: dict[str, Decimal],
    notional_price: Decimal,
) -> None:
    """Refuse a margin order the spot filters do not allow (``prices`` by parameter)."""
    for name, price in prices.items():
        if _decimals(price) > 8:
            raise SimulatedError(400, -1111, f"Parameter '{name}' has too much precision.")
        if price % rules.tick_size:
            raise SimulatedError(400, -1013, "Filter failure: PRICE_FILTER")
    if _decimals(qty) > 8:
        raise SimulatedError(400, -1111, "Parameter 'quantity' has too much precision.")
    if qty % rules.step_size or qty < rules.step_size:
        raise SimulatedError(400, -1013, "Filter failure: LOT_SIZE")
    if qty * notional_price < rules.min_notional:
        raise SimulatedError(400, -1013, "Filter failure: NOTIONAL")
