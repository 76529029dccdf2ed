"""A local Binance Portfolio Margin (papi) simulator for tests, demos and benchmarks.

Portfolio Margin has no public testnet; this package serves all 109 papi
operations over a real socket on loopback, with per-account state (balances,
margin debts, USD prices; UM / CM / margin orders, conditional orders, positions
and loans: see :mod:`.trading`), Binance's authentication rules (HMAC / RSA /
Ed25519, ``timestamp`` / ``recvWindow``), its rate limits (IP weight, account
order count, 429 / 418) and faults on demand::

    from binance_papi_async.testing import PapiSimulator

    async with PapiSimulator(api_key="k", api_secret="s") as sim:
        ...  # point the client at sim.url

From a shell: ``python -m binance_papi_async.testing --port 8765``.
See :mod:`.simulator` for the exact rules, :mod:`.trading` for the fill model and
:mod:`.faults` for faults.
"""

from __future__ import annotations

from .faults import Fault, FaultKind, FaultPlan
from .simulator import MAX_REPAY_USD, PapiSimulator, RequestRecord, SimulatedError, is_loopback
from .state import (
    DEFAULT_ACCOUNT,
    DEMO_API_KEY,
    DEMO_API_SECRET,
    Account,
    AssetState,
    KeySpec,
    RepayRecord,
    SimState,
    demo_state,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEMO_API_KEY",
    "DEMO_API_SECRET",
    "MAX_REPAY_USD",
    "Account",
    "AssetState",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "KeySpec",
    "PapiSimulator",
    "RepayRecord",
    "RequestRecord",
    "SimState",
    "SimulatedError",
    "demo_state",
    "is_loopback",
]
