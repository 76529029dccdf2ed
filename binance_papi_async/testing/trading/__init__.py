"""The simulator's trading engine: UM / CM / margin orders, CM conditional orders, positions, loans.

Available as ``sim.exchange`` (an :class:`Exchange`); its handlers serve the
stateful papi routes (the others answer their doc example, see :mod:`..routing`).

Where things are (one module per product, over a shared :class:`~.market.Market`):

* :mod:`.exchange`: :class:`Exchange`, the desks put together, and mark moves;
* :mod:`.market`: the live state, symbol prices, ids, client ids, order lookup,
  event delivery (what every desk shares);
* :mod:`.futures`: UM / CM orders and the positions their fills move;
* :mod:`.conditional`: CM conditional orders and their triggers (the UM ones are
  retired by Binance: UM conditional orders are algo orders);
* :mod:`.margin`: cross-margin orders;
* :mod:`.loans`: borrow, repay, repay-debt, loan records, borrowing limits;
* :mod:`.portfolio`: balances, account information, positions, leverage;
* :mod:`.unimmr`: the uniMMR drop notification switch (Portfolio Margin Pro);
* :mod:`.views` (REST answers) and :mod:`.events` (stream events): the JSON shapes;
* :mod:`.params`: reading handler parameters, and the shared errors.

A desk has a ``routes()`` method (its handlers by ``(method, path)``); a new
product is a new desk listed in :meth:`Exchange.routes`.

Fill model (deliberately simple, documented rather than realistic):

* **Prices.**  Every symbol has one price, its *mark*: ``state.marks[symbol]`` if
  seeded, else derived from the USD ``prices`` (``BTCUSDT`` = BTC / USDT; a CM symbol
  ``BTCUSD_PERP`` = the BTC USD price).
  :meth:`~..simulator.PapiSimulator.set_mark` moves it.  An unknown symbol is
  refused with -1121 "Invalid symbol.".
* **Matching.**  There is no order book and no liquidity limit.  A MARKET order
  fills completely at the mark.  A LIMIT order that is marketable (BUY at or above
  the mark, SELL at or below) fills completely at the mark (a taker fill), except
  post-only: a marketable futures GTX order is rejected with -5022 and a margin
  LIMIT_MAKER with -2010, neither recorded.  A futures FOK order that cannot fill is
  rejected with -5021 (not recorded); a non-marketable IOC order (and a margin FOK)
  is booked and expires; other LIMIT orders rest as ``NEW`` and fill completely at
  their own price when ``set_mark`` moves the mark through it (a maker fill).  No
  partial fills, no commissions, no funding, no self-trade prevention, no
  liquidation; ``priceMatch`` is echoed but ignored.
* **UM / CM fills** change the position of ``(symbol, positionSide)`` (one-way mode
  uses ``BOTH``; LONG / SHORT are accepted without checking the position mode):
  increases average the entry price (arithmetically, for CM too), decreases realize
  PnL into the product's wallet (UM: USDT, ``(price - entry) x qty``; CM: the base
  asset, ``contracts x contractSize x (1/entry - 1/price)``, contract size 100 USD
  for BTC and 10 USD otherwise).  ``reduceOnly`` orders are refused (-2022) when no
  position of the opposite direction exists.  The futures wallets start at 0 and
  only hold realized PnL (no transfers, no margin checks on futures orders).
* **Margin fills** move the cross-margin balances of the symbol's base and quote
  assets (``BTCUSDT``: BTC and USDT).  A resting margin order locks what it may
  spend (free -> locked).  Missing funds: -2010 "Account has insufficient balance
  for requested action.", unless ``sideEffectType`` is ``MARGIN_BUY`` or
  ``AUTO_BORROW_REPAY``, which borrow the shortfall (a loan record is written);
  ``AUTO_REPAY`` / ``AUTO_BORROW_REPAY`` repay debt in the received asset with the
  proceeds (interest first).
* **Borrowing** (``POST /papi/v1/marginLoan``, MARGIN_BUY) is allowed while the
  account's margin debt stays within ``MAX_DEBT_TO_EQUITY`` (3) times its equity
  (USD, from ``prices``): beyond -> 51006 "Exceeds the maximum borrowable limit.".
  ``POST /papi/v1/repayLoan`` repays interest first, then principal, from the free
  balance of the asset (-2018 "Balance is insufficient."; more than the debt, or no
  debt -> -3015 "Repay amount exceeds borrow amount.").
* **Conditional orders** (CM) rest as ``NEW``; one that would trigger at once
  is refused (-2021).  When the mark crosses ``stopPrice`` (STOP / STOP_MARKET: BUY
  at or above, SELL at or below; TAKE_PROFIT / TAKE_PROFIT_MARKET the opposite) it
  becomes ``TRIGGERED`` and places its order (LIMIT at ``price``, or MARKET), which
  carries ``st`` / ``si`` on the stream.  TRAILING_STOP_MARKET orders never trigger.
* **Ids and client ids.**  Order and strategy ids are ints beyond 2**53; they keep
  increasing across :meth:`~..simulator.PapiSimulator.reset` (which empties the books).
  ``newClientOrderId`` / ``newClientStrategyId`` defaults to a random 22-character
  id; longer than 36 characters (or with characters outside ``[.A-Za-z0-9:/_-]``)
  -> -4015 "Client order id is not valid." (margin: -1100); the id of another open
  order -> -4116 "ClientOrderId is duplicated." (margin: -2010 "Duplicate order
  sent.").  An unknown order: -2013 "Order does not exist." on queries and modify,
  -2011 "Unknown order sent." on cancel.
* **Responses** follow the doc shapes; new / modify / cancel answers of UM and CM
  orders carry no ``cumQuote`` / ``cumBase`` / ``avgPrice`` (removed by Binance in
  2026-07); queries still do.  ``newOrderRespType`` ACK / RESULT give the same UM /
  CM answer; margin ACK, RESULT and FULL (the default) differ as on Binance.
* **Stream** (``sim.stream``): every UM / CM order change pushes
  ``ORDER_TRADE_UPDATE`` (``x`` NEW, TRADE, CANCELED, EXPIRED, AMENDMENT) and a fill
  also ``ACCOUNT_UPDATE``; margin orders push ``executionReport`` and, when balances
  move, ``outboundAccountPosition``; conditional orders push
  ``CONDITIONAL_ORDER_TRADE_UPDATE``; borrows and repays push ``liabilityChange`` +
  ``outboundAccountPosition``.
"""

from __future__ import annotations

from ..routing import Handler
from .exchange import Exchange
from .loans import MAX_DEBT_TO_EQUITY, MAX_REPAY_USD
from .portfolio import DEFAULT_LEVERAGE

__all__ = ["DEFAULT_LEVERAGE", "MAX_DEBT_TO_EQUITY", "MAX_REPAY_USD", "Exchange", "Handler"]
