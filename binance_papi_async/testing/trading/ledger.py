"""Fills and what they leave behind: positions, balances, commission, trades and income.

Every fill of a UM, CM or margin order goes through :class:`Ledger`, whoever caused
it (a new marketable order, a mark move, :meth:`~..simulator.PapiSimulator.fill`, a
trigger, a liquidation), so that the order, the trade list, the income history, the
wallets and the stream always agree:

* **UM / CM**: the position of ``(symbol, positionSide)`` moves (see :mod:`.trading`);
  realized PnL and commission go to the product's wallet of the margin asset (UM: the
  quote asset, ``qty x price x rate``; CM: the base asset, ``contracts x contract size
  / price x rate``), each recorded as income (``REALIZED_PNL``, ``COMMISSION``) with
  the trade id; ``ORDER_TRADE_UPDATE`` (``n`` / ``N`` / ``m``) and ``ACCOUNT_UPDATE``
  are pushed.
* **Margin**: the base and quote balances move; commission is taken from what the
  account receives (BUY: the base asset, SELL: the quote asset), 8 decimals;
  ``executionReport`` and ``outboundAccountPosition`` are pushed.
* The taker rate applies to a fill at placement or at a trigger, the maker rate to a
  resting order filled later (a mark move, ``sim.fill``).
* **Funding** (:meth:`Ledger.funding`): every position of the symbol pays (positive
  rate: longs pay shorts) ``amount x mark x rate`` (CM: ``contracts x contract size /
  mark x rate`` in the base asset) from its wallet, recorded as ``FUNDING_FEE``.
"""

from __future__ import annotations

from decimal import Decimal

from ..book import Income, Order, Position, Trade
from ..state import Account, q8
from .events import StreamEvents
from .market import Market
from .params import ZERO

__all__ = ["Ledger"]


class Ledger:
    """Applies fills, commission and funding (see the module documentation)."""

    def __init__(self, market: Market, events: StreamEvents) -> None:
        self._market = market
        self._events = events

    # -- income ------------------------------------------------------------------------------

    def income(
        self,
        account: Account,
        product: str,
        symbol: str,
        kind: str,
        amount: Decimal,
        asset: str,
        now: int,
        trade_id: int | None = None,
    ) -> Income:
        """Credit ``amount`` (negative: debit) to the ``product`` wallet of ``asset`` and
        record it as income of type ``kind``."""
        book = account.book
        key = (product, asset)
        book.wallets[key] = book.wallets.get(key, ZERO) + amount
        record = Income(
            product=product,
            symbol=symbol,
            income_type=kind,
            income=amount,
            asset=asset,
            time=now,
            tran_id=self._market.tx_id(),
            trade_id=str(trade_id) if trade_id is not None else "",
            info=kind if trade_id is None else "",
        )
        book.income.append(record)
        account.update_time = now
        return record

    # -- UM / CM -----------------------------------------------------------------------------

    def _move_position(
        self, account: Account, order: Order, qty: Decimal, price: Decimal
    ) -> Decimal:
        """Move the position ``order`` trades; return the PnL it realizes."""
        market = self._market
        key = (order.product, order.symbol, order.position_side)
        pos = account.book.positions.setdefault(key, Position())
        signed = qty if order.side == "BUY" else -qty
        realized = ZERO
        if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
            total = abs(pos.amount) + qty
            pos.entry_price = (abs(pos.amount) * pos.entry_price + qty * price) / total
            pos.amount += signed
        else:
            closing = min(abs(pos.amount), qty)
            direction = 1 if pos.amount > 0 else -1
            if order.product == "CM":
                size = market.contract_size(order.symbol)
                realized = closing * size * (1 / pos.entry_price - 1 / price) * direction
            else:
                realized = (price - pos.entry_price) * closing * direction
            pos.amount += signed
            if pos.amount == 0:
                pos.entry_price = ZERO
            elif (pos.amount > 0) != (direction > 0):
                pos.entry_price = price  # flipped: the rest opened at this price
        pos.realized += realized
        return realized

    def futures_fill(
        self,
        name: str,
        account: Account,
        order: Order,
        qty: Decimal,
        price: Decimal,
        now: int,
        *,
        maker: bool,
    ) -> Trade:
        """Fill ``qty`` of a UM / CM ``order`` at ``price`` (see the module documentation)."""
        market = self._market
        product, symbol = order.product, order.symbol
        asset = market.margin_asset(product, symbol)
        realized = self._move_position(account, order, qty, price)
        account.book.positions[(product, symbol, order.position_side)].update_time = now
        rates = market.rates(product)
        rate = rates.maker if maker else rates.taker
        if product == "CM":
            value = qty * market.contract_size(symbol) / price  # in the base asset
            order.cum_base += value
        else:
            value = qty * price
        commission = q8(value * rate)
        order.executed_qty += qty
        order.cum_quote += qty * price
        order.status = "FILLED" if order.remaining <= 0 else "PARTIALLY_FILLED"
        order.update_time = now
        trade = Trade(
            product=product,
            symbol=symbol,
            trade_id=market.tx_id(),
            order_id=order.order_id,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=value,
            commission=commission,
            commission_asset=asset,
            realized=realized,
            maker=maker,
            position_side=order.position_side,
            time=now,
        )
        account.book.trades.append(trade)
        for kind, amount in (("REALIZED_PNL", realized), ("COMMISSION", -commission)):
            if amount:
                self.income(account, product, symbol, kind, amount, asset, now, trade.trade_id)
        account.update_time = now
        events = self._events
        market.push(
            name,
            (
                events.order_update(order, "TRADE", now, trade),
                events.account_update(
                    account, product, "ORDER", now, [asset], [(symbol, order.position_side)]
                ),
            ),
        )
        if not order.is_open:
            market.order_done(name, account, order, now)
        return trade

    def funding(
        self,
        name: str,
        account: Account,
        product: str,
        symbol: str,
        rate: Decimal,
        mark: Decimal,
        now: int,
    ) -> Decimal:
        """Charge (or pay) the funding of ``symbol`` at ``rate`` to every position the
        account holds in it; returns the total credited (negative: paid)."""
        market = self._market
        asset = market.margin_asset(product, symbol)
        total = ZERO
        for (p, s, _side), pos in account.book.positions.items():
            if p != product or s != symbol or not pos.amount:
                continue
            if product == "CM":
                value = pos.amount * market.contract_size(symbol) / mark
            else:
                value = pos.amount * mark
            fee = q8(-value * rate)
            if fee:
                self.income(account, product, symbol, "FUNDING_FEE", fee, asset, now)
                total += fee
        if total:
            market.push(
                name, (self._events.account_update(account, product, "FUNDING_FEE", now, [asset]),)
            )
        return total

    # -- margin ------------------------------------------------------------------------------

    def margin_fill(
        self,
        name: str,
        account: Account,
        order: Order,
        qty: Decimal,
        price: Decimal,
        now: int,
        *,
        maker: bool,
    ) -> tuple[Trade, str, Decimal]:
        """Fill ``qty`` of a margin ``order`` at ``price``: release what it locked for
        that part, move the balances, take the commission from what is received.

        Returns the trade, and the asset and amount received (net of commission).
        """
        market = self._market
        base, quote = market.split(order.symbol)
        cost = q8(qty * price)
        self._release(
            account, order, cost if order.side == "BUY" else qty, done=qty >= order.remaining
        )
        rate = market.rates("MARGIN").maker if maker else market.rates("MARGIN").taker
        if order.side == "BUY":
            received, gross = base, qty
            account.asset(quote).free -= cost
        else:
            received, gross = quote, cost
            account.asset(base).free -= qty
        commission = q8(gross * rate)
        net = gross - commission
        account.asset(received).free += net
        order.executed_qty += qty
        order.cum_quote += cost
        order.status = "FILLED" if order.remaining <= 0 else "PARTIALLY_FILLED"
        order.update_time = now
        account.update_time = now
        trade = Trade(
            product="MARGIN",
            symbol=order.symbol,
            trade_id=market.tx_id(),
            order_id=order.order_id,
            side=order.side,
            price=price,
            qty=qty,
            quote_qty=cost,
            commission=commission,
            commission_asset=received,
            realized=ZERO,
            maker=maker,
            position_side="BOTH",
            time=now,
        )
        account.book.trades.append(trade)
        return trade, received, net

    @staticmethod
    def _release(account: Account, order: Order, part: Decimal, *, done: bool) -> None:
        """Unlock what a resting margin order held for ``part`` of it (all when ``done``)."""
        if order.locked_asset is None or not order.locked:
            return
        release = order.locked if done else min(order.locked, part)
        held = account.asset(order.locked_asset)
        held.locked -= release
        held.free += release
        order.locked -= release
