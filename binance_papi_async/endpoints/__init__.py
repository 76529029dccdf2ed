"""The endpoint registry: every operation the SDK knows, declared as data.

``TABLE`` is the one registry: one :class:`EndpointSpec` per papi REST operation (the
documented ones of spec/papi/endpoints.json and the undocumented ``GET /papi/v1/time``),
generated into :mod:`._table` by ``tools/generate_endpoints.py``.  ``BY_ROUTE`` and
``BY_NAME`` look a spec up by ``(method, path)`` or by its name; any spec can be passed
to ``PortfolioMarginClient.call``.

The names below are the specs the hand-written code uses, under short names (each is the
table's own object, e.g. ``REPAY_DEBT is BY_NAME["margin_account_repay_debt"]``):

* ``REPAY_DEBT``: "Margin Account Repay Debt (TRADE)", Request Weight(Order) 3000, charged
  3000 IP request weight + 1 order (see :mod:`binance_papi_async.ratelimit` for why);
* ``ACCOUNT_BALANCE``, ``ACCOUNT_INFORMATION``, ``QUERY_USER_RATE_LIMIT``: the account reads;
* ``PING`` and ``SERVER_TIME`` (undocumented but served by papi, spec/papi/GENERAL.md
  section 7: ``{"serverTime": <ms>}``, 1 IP weight; the client's clock sync uses it);
* the listen-key specs of :mod:`.user_stream`.
"""

from __future__ import annotations

from ._spec import (
    Budget,
    Charge,
    ClientId,
    EndpointSpec,
    HttpMethod,
    Security,
    WeightKind,
    charges_for,
)
from ._table import (
    ACCOUNT_BALANCE,
    ACCOUNT_INFORMATION,
    QUERY_USER_RATE_LIMIT,
    TABLE,
)
from ._table import CHECK_SERVER_TIME as SERVER_TIME
from ._table import MARGIN_ACCOUNT_REPAY_DEBT as REPAY_DEBT
from ._table import TEST_CONNECTIVITY as PING
from .user_stream import (
    CLOSE_USER_DATA_STREAM,
    KEEPALIVE_USER_DATA_STREAM,
    START_USER_DATA_STREAM,
)

#: ``(method, path)`` -> spec, for every operation of :data:`TABLE`.
BY_ROUTE: dict[tuple[str, str], EndpointSpec] = {(e.method, e.path): e for e in TABLE}
#: spec name (e.g. ``"new_um_order"``) -> spec, for every operation of :data:`TABLE`.
BY_NAME: dict[str, EndpointSpec] = {e.name: e for e in TABLE}

__all__ = [
    "ACCOUNT_BALANCE",
    "ACCOUNT_INFORMATION",
    "BY_NAME",
    "BY_ROUTE",
    "CLOSE_USER_DATA_STREAM",
    "KEEPALIVE_USER_DATA_STREAM",
    "PING",
    "QUERY_USER_RATE_LIMIT",
    "REPAY_DEBT",
    "SERVER_TIME",
    "START_USER_DATA_STREAM",
    "TABLE",
    "Budget",
    "Charge",
    "ClientId",
    "EndpointSpec",
    "HttpMethod",
    "Security",
    "WeightKind",
    "charges_for",
]
