"""A local Binance Portfolio Margin (papi) simulator for tests, demos and benchmarks.

Portfolio Margin has no public testnet; this package serves every papi operation
of the endpoint table over a real socket on loopback, with per-account state
(balances, margin debts, USD prices; UM / CM / margin orders, UM algo and CM
conditional orders, OCO lists, positions, trades, income, loans, transfers and
switches: see :mod:`.trading`), Binance's authentication rules (HMAC / RSA / Ed25519,
``timestamp`` / ``recvWindow``), its rate limits (IP weight, account order count,
429 / 418) and faults on demand::

    from binance_papi_async.testing import PapiSimulator

    async with PapiSimulator(api_key="k", api_secret="s") as sim:
        ...  # point the client at sim.url

An operation the simulator does not model (:mod:`.unmodelled`) answers HTTP 501
``{"code": -501, "msg": "not simulated: ..."}`` (the client raises
:class:`~binance_papi_async.NotSimulatedError`), never an invented answer;
``PapiSimulator(examples=True)`` answers their documentation examples instead.

From a shell: ``python -m binance_papi_async.testing --port 8765`` (the same as
``papi sim``).

Where things are:

* :mod:`.simulator`: :class:`PapiSimulator`, the object users hold: configuration,
  the aiohttp server's lifecycle, keys, state, reset, and the market events a test
  causes (marks, fills, funding, liquidations, interest);
* the request path, in the order a request meets it: :mod:`.pipeline` (the steps),
  :mod:`.faults` (the fault registry), :mod:`.limits` (IP weight, order counts,
  bans), :mod:`.auth` (API keys, signatures, parameters, timestamps),
  :mod:`.routing` (the route table: spec and handler per operation),
  :mod:`.answers` (how answers and headers are written) and :mod:`.records` (the
  request log);
* the handlers: :mod:`.trading` (the exchange: one desk per concern over a shared
  market), :mod:`.stream` (listen keys and the user data stream); the operations
  without a handler are listed, with the reason, in :mod:`.unmodelled`;
* :mod:`.control`: the ``/_sim/`` HTTP control API;
* the data: :mod:`.state` (accounts, balances, prices, filters, commission, seed
  files) and :mod:`.book` (orders, positions, histories); :mod:`._errors` (the error
  answers handlers raise).

The modules import each other in that direction only: the simulator builds the
others and nothing imports it back (collaborators reach it through small
protocols: ``trading.market.Host``, ``stream.Host``, ``control.Controlled``).
"""

from __future__ import annotations

from ._errors import SimulatedError
from .faults import Fault, FaultKind, FaultPlan
from .records import RequestRecord
from .simulator import PapiSimulator, is_loopback
from .state import (
    DEFAULT_ACCOUNT,
    DEMO_API_KEY,
    DEMO_API_SECRET,
    Account,
    AssetState,
    Commission,
    KeySpec,
    RepayRecord,
    SimState,
    SymbolRules,
    demo_state,
)
from .trading import MAX_REPAY_USD
from .trading.unimmr import UNIMMR_SWITCH_PARAM

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEMO_API_KEY",
    "DEMO_API_SECRET",
    "MAX_REPAY_USD",
    "UNIMMR_SWITCH_PARAM",
    "Account",
    "AssetState",
    "Commission",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "KeySpec",
    "PapiSimulator",
    "RepayRecord",
    "RequestRecord",
    "SimState",
    "SimulatedError",
    "SymbolRules",
    "demo_state",
    "is_loopback",
]
