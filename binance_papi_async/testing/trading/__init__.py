"""The simulator's trading engine: every product's orders, positions, balances and histories.

Available as ``sim.exchange`` (an :class:`Exchange`); its handlers serve every stateful
papi route (the few it does not model are listed in :mod:`..unmodelled`).

Where things are (one module per concern, over a shared :class:`~.market.Market`):

* :mod:`.exchange`: :class:`Exchange`, the desks put together, mark moves, and the
  market events a test causes (fills, funding, liquidations, interest);
* :mod:`.market`: the live state, symbol prices, filters, commission rates, ids, the
  client-id index (:mod:`.clientids`), order lookup, event delivery;
* :mod:`.ledger`: fills (positions, balances, commission, trades, income) and funding;
* :mod:`.rules`: symbol filters and leverage brackets; :mod:`.triggers`: when stops,
  take-profits and trailing stops fire;
* :mod:`.futures`: UM / CM orders; :mod:`.algo`: UM algo orders; :mod:`.conditional`:
  CM conditional orders; :mod:`.margin`: margin orders (stop orders included);
  :mod:`.oco`: margin OCO lists;
* :mod:`.loans`: borrow, repay, repay-debt, loan records, borrowing limits;
* :mod:`.portfolio`: balances, account information, positions, leverage;
* :mod:`.history`: trades, income, amendments, force orders, ADL quantiles, interest;
* :mod:`.reference`: commission rates, brackets, symbol and account configuration;
* :mod:`.transfers`: BNB transfer, fund collection, negative balances, switches;
* :mod:`.unimmr`: the uniMMR drop notification switch (Portfolio Margin Pro);
* :mod:`.views` (REST answers) and :mod:`.events` (stream events): the JSON shapes;
* :mod:`.params`: reading handler parameters, and the shared errors.

A desk has a ``routes()`` method (its handlers by ``(method, path)``); a new concern
is a new desk listed in :meth:`Exchange.routes`.

The market model (deliberately simple, documented rather than realistic):

* **Prices.**  Every symbol has one price, its *mark*: ``state.marks[symbol]`` if
  seeded, else derived from the USD ``prices`` (``BTCUSDT`` = BTC / USDT; a CM symbol
  ``BTCUSD_PERP`` = the BTC USD price).  :meth:`~..simulator.PapiSimulator.set_mark`
  moves it; UM and margin symbols of the same name share it.  An unknown symbol is
  -1121 "Invalid symbol.".  ``workingType`` MARK_PRICE and CONTRACT_PRICE both watch
  the mark.
* **Filters** (:mod:`.rules`): tick size, step size and minimum notional per product
  and symbol from the state, with papi's errors (-1111, -4014, -4023, -4164; margin
  -1013 "Filter failure: ...").
* **Matching.**  There is no order book and no other trader.  A MARKET order fills
  completely at the mark.  A marketable LIMIT order (BUY at or above the mark, SELL at
  or below) fills completely at the mark, as a taker, except post-only: a marketable
  futures GTX order is rejected with -5022 and a margin LIMIT_MAKER with -2010, neither
  recorded.  A futures FOK order that cannot fill is rejected with -5021 (not
  recorded); a non-marketable IOC order (and a margin FOK) is booked and expires; other
  LIMIT orders rest as ``NEW`` and fill at their own price, as makers, when a mark move
  crosses them, or in parts with :meth:`~..simulator.PapiSimulator.fill`
  (PARTIALLY_FILLED).  ``priceMatch`` without a price prices a LIMIT order at the
  mark.  No self-trade prevention, no automatic liquidation.
* **Commission** (:mod:`.ledger`): the state's maker / taker rates per product; UM in
  the quote asset and CM in the base asset, from the product's wallet; margin from
  what the account receives.  Every fill is a trade (``userTrades`` / ``myTrades``)
  and, for UM / CM, income (``REALIZED_PNL``, ``COMMISSION``); funding
  (:meth:`~..simulator.PapiSimulator.funding`) is ``FUNDING_FEE`` income.
* **UM / CM fills** change the position of ``(symbol, positionSide)``: increases
  average the entry price (arithmetically, for CM too), decreases realize PnL into the
  product's wallet of the margin asset (UM: ``(price - entry) x qty``; CM: ``contracts
  x contractSize x (1/entry - 1/price)``, contract size 100 USD for BTC and 10 USD
  otherwise).  ``reduceOnly`` orders are refused (-2022) without a position to reduce.
  The position mode (one-way: BOTH; hedge: LONG / SHORT) is per account and product.
  The futures wallets start at the seeded ``wallets`` (else 0) and may go negative
  (fees, losses, funding): no margin checks on futures orders.
  :meth:`~..simulator.PapiSimulator.liquidate` closes a position with a force order.
* **Margin fills** move the cross-margin balances of the symbol's base and quote
  assets.  A resting margin order locks what it may spend (free -> locked).  Missing
  funds: -2010 "Account has insufficient balance for requested action.", unless
  ``sideEffectType`` is ``MARGIN_BUY`` or ``AUTO_BORROW_REPAY``, which borrow the
  shortfall (a loan record is written); ``AUTO_REPAY`` / ``AUTO_BORROW_REPAY`` repay
  debt in the received asset with the proceeds (interest first).
* **Borrowing** (``POST /papi/v1/marginLoan``, MARGIN_BUY) is allowed while the
  account's margin debt stays within ``MAX_DEBT_TO_EQUITY`` (3) times its equity (USD,
  from ``prices``): beyond -> 51006 "Exceeds the maximum borrowable limit.".
  ``POST /papi/v1/repayLoan`` repays interest first, then principal, from the free
  balance of the asset (-2018 "Balance is insufficient."; more than the debt, or no
  debt -> -3015 "Repay amount exceeds borrow amount.").  Interest accrues only when a
  test charges it (:meth:`~..simulator.PapiSimulator.charge_interest`).
* **Conditional orders** (UM algo, CM conditional, margin stop orders) wait until the
  mark fires them (:mod:`.triggers`; one that would fire at once is refused with
  -2021, margin -2010), then place their order; OCO legs end each other (:mod:`.oco`).
* **Ids and client ids.**  Order, strategy, algo and transaction ids are ints beyond
  2**53; they keep increasing across :meth:`~..simulator.PapiSimulator.reset` (which
  empties the books).  A client id defaults to a random 22-character id; it is unique
  among the OPEN orders of the account and kind (:mod:`.clientids`: -4116
  "ClientOrderId is duplicated.", margin -2010 "Duplicate order sent."), at most 32
  characters for UM / CM orders and 36 for the rest (-4015 "Client order id is not
  valid.", margin -1100).  An unknown order: -2013 "Order does not exist." on queries
  and modify, -2011 "Unknown order sent." on cancel.
* **Responses** follow the doc shapes; new / modify / cancel answers of UM and CM
  orders carry no ``cumQuote`` / ``cumBase`` / ``avgPrice`` (removed by Binance in
  2026-07); queries still do.  UM / CM ``newOrderRespType`` ACK (the default) answers
  the order as accepted (NEW, nothing filled), RESULT as placed; margin ACK, RESULT
  and FULL differ as on Binance (FULL by default for LIMIT and MARKET, ACK otherwise).
* **Stream** (``sim.stream``): every UM / CM order change pushes
  ``ORDER_TRADE_UPDATE`` (``x`` NEW, TRADE, CANCELED, EXPIRED, AMENDMENT) and a fill
  also ``ACCOUNT_UPDATE``; margin orders push ``executionReport`` and, when balances
  move, ``outboundAccountPosition``; CM conditional orders push
  ``CONDITIONAL_ORDER_TRADE_UPDATE``, UM algo orders ``ALGO_UPDATE``; borrows and
  repays push ``liabilityChange`` + ``outboundAccountPosition``; funding
  ``ACCOUNT_UPDATE`` (``m`` FUNDING_FEE).  Transfers push nothing.
"""

from __future__ import annotations

from ..routing import Handler
from .exchange import Exchange
from .loans import MAX_DEBT_TO_EQUITY, MAX_REPAY_USD
from .portfolio import DEFAULT_LEVERAGE

__all__ = ["DEFAULT_LEVERAGE", "MAX_DEBT_TO_EQUITY", "MAX_REPAY_USD", "Exchange", "Handler"]
