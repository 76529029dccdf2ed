"""The simulator's error answers (shared by the request pipeline and the trading engine)."""

from __future__ import annotations

from ..errors import NOT_SIMULATED_CODE

__all__ = ["NOT_SIMULATED_CODE", "SimulatedError", "invalid", "mandatory", "not_simulated"]


class SimulatedError(Exception):
    """A Binance error answer the simulator gives: HTTP ``status``, ``{"code": ..., "msg": ...}``.

    Raised by :meth:`PapiSimulator.repay_debt` when called directly from Python.
    """

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg


def mandatory(name: str) -> SimulatedError:
    """-1102 for a missing, empty or malformed mandatory parameter ``name``."""
    return SimulatedError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def invalid(name: str) -> SimulatedError:
    """-1130 for invalid data in parameter ``name``."""
    return SimulatedError(400, -1130, f"Data sent for parameter '{name}' is not valid.")


def not_simulated(what: str) -> SimulatedError:
    """HTTP 501 ``{"code": -501, "msg": "not simulated: <what>"}``: a behaviour the
    simulator does not model (the client raises :class:`~binance_papi_async.NotSimulatedError`).

    papi never answers it: no Binance code has three digits.
    """
    return SimulatedError(501, NOT_SIMULATED_CODE, f"not simulated: {what}")
