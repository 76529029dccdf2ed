"""The papi operations the simulator does not model, and why.

Each answers HTTP 501 ``{"code": -501, "msg": "not simulated: <reason>"}`` after every
check of the request path (authentication, parameters, weight), so that a test can
never pass on an invented answer; the client raises
:class:`~binance_papi_async.NotSimulatedError` and never retries it.
``PapiSimulator(examples=True)`` answers their documentation examples instead (the
same body whatever the request).  Every other operation acts on and reads from the
simulated state (:mod:`.trading`, :mod:`.stream`).
"""

from __future__ import annotations

__all__ = ["NOT_SIMULATED"]

_DOWNLOADS = "the simulator builds no download files"

#: ``(method, path)`` -> what is not modelled.
NOT_SIMULATED: dict[tuple[str, str], str] = {
    ("GET", "/papi/v1/um/income/asyn"): f"UM transaction history downloads ({_DOWNLOADS})",
    ("GET", "/papi/v1/um/income/asyn/id"): f"UM transaction history downloads ({_DOWNLOADS})",
    ("GET", "/papi/v1/um/order/asyn"): f"UM order history downloads ({_DOWNLOADS})",
    ("GET", "/papi/v1/um/order/asyn/id"): f"UM order history downloads ({_DOWNLOADS})",
    ("GET", "/papi/v1/um/trade/asyn"): f"UM trade history downloads ({_DOWNLOADS})",
    ("GET", "/papi/v1/um/trade/asyn/id"): f"UM trade history downloads ({_DOWNLOADS})",
    ("GET", "/papi/v1/um/apiTradingStatus"): (
        "UM trading quantitative rules (the simulator never locks trading)"
    ),
    ("GET", "/papi/v1/portfolio/interest-history"): (
        "interest on futures negative balances (the simulator charges none)"
    ),
    ("GET", "/papi/v1/portfolio/negative-balance-exchange-record"): (
        "automatic exchange of negative balances (the simulator never converts assets)"
    ),
}
