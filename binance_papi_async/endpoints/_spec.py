"""Endpoint declarations: what a call costs and how it is secured, as data."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

__all__ = ["Budget", "Charge", "EndpointSpec", "HttpMethod", "Security", "WeightKind"]

HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]


class Security(str, enum.Enum):
    """Binance's endpoint security types.  ``signed`` says whether timestamp+signature are sent."""

    NONE = "NONE"
    MARKET_DATA = "MARKET_DATA"
    USER_STREAM = "USER_STREAM"
    USER_DATA = "USER_DATA"
    TRADE = "TRADE"
    MARGIN = "MARGIN"  # printed on the marginLoan / repayLoan pages; signed like TRADE

    @property
    def signed(self) -> bool:
        return self in _SIGNED

    @property
    def needs_key(self) -> bool:
        return self is not Security.NONE


_SIGNED = frozenset({Security.USER_DATA, Security.TRADE, Security.MARGIN})


class WeightKind(str, enum.Enum):
    """How an endpoint page labels its weight: "Request Weight(IP)" or "Request Weight(Order)"."""

    IP = "IP"
    ORDER = "ORDER"


class Budget(str, enum.Enum):
    """A rate budget Binance counts: IP request weight, or the account's order count."""

    REQUEST_WEIGHT = "REQUEST_WEIGHT"
    ORDERS = "ORDERS"


@dataclass(frozen=True, slots=True)
class Charge:
    """``amount`` units of ``budget`` spent by one call."""

    budget: Budget
    amount: int


def charges_for(weight: int, kind: WeightKind) -> tuple[Charge, ...]:
    """The charges of a call labelled ``weight`` of ``kind``.

    Every call spends IP request weight.  An "(Order)" call also counts one order
    on the account's order budget (see ``ratelimit`` for the evidence).
    """
    if kind is WeightKind.ORDER:
        return (Charge(Budget.REQUEST_WEIGHT, weight), Charge(Budget.ORDERS, 1))
    return (Charge(Budget.REQUEST_WEIGHT, weight),)


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """One papi REST operation."""

    name: str
    method: HttpMethod
    path: str
    security: Security
    weight: int
    weight_kind: WeightKind = WeightKind.IP
    charges: tuple[Charge, ...] = ()
    summary: str = ""

    def __post_init__(self) -> None:
        if not self.charges:
            object.__setattr__(self, "charges", charges_for(self.weight, self.weight_kind))

    @property
    def signed(self) -> bool:
        return self.security.signed

    @property
    def is_write(self) -> bool:
        """State-changing: never re-sent once its bytes may have left the machine."""
        return self.method != "GET"
