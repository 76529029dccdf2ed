"""Endpoint declarations: what a call costs and how it is secured, as data."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = [
    "Budget",
    "Charge",
    "ClientId",
    "EndpointSpec",
    "HttpMethod",
    "Param",
    "Security",
    "WeightKind",
    "WeightRule",
]

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
class Param:
    """One request parameter as the endpoint's page declares it.

    ``name`` is Binance's camelCase name, ``py_name`` the SDK's snake_case
    keyword, ``type`` the page's Java-style type (LONG, STRING, ENUM, DECIMAL,
    INT, BOOLEAN).
    """

    name: str
    py_name: str
    type: str
    required: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class WeightRule:
    """The IP weight of a call depends on its arguments, e.g. "1 for a single symbol; 40
    when the symbol parameter is omitted" is ``WeightRule("symbol", present=False, weight=40)``:
    when ``param`` is (``present=True``) or is not (``present=False``) sent, the call weighs
    ``weight`` instead of the spec's base weight."""

    param: str
    present: bool
    weight: int


@dataclass(frozen=True, slots=True)
class ClientId:
    """A client-chosen id the endpoint takes (e.g. ``newClientOrderId``): the SDK fills it
    when the caller gives none, at most ``max_length`` characters of ``[A-Za-z0-9_-]``
    (what every papi order endpoint accepts), so an order whose answer is lost can be
    found again by that id (``client.resolve``)."""

    name: str
    max_length: int


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
    params: tuple[Param, ...] = ()
    weight_rules: tuple[WeightRule, ...] = ()
    #: admitted by the rate limiter before normal waiters, from a small reserve of every
    #: window: order cancels, the clock sync's server-time read, the listen-key keep-alive.
    urgent: bool = False
    #: the client ids the SDK fills when absent (order-placing endpoints only).
    client_ids: tuple[ClientId, ...] = ()
    # Derived from the fields above once, in __post_init__ (read on every call).
    #: timestamp + signature are sent (USER_DATA, TRADE, MARGIN).
    signed: bool = field(init=False, repr=False, compare=False)
    #: the X-MBX-APIKEY header is sent (every security type but NONE).
    needs_key: bool = field(init=False, repr=False, compare=False)
    #: state-changing: never re-sent once its bytes may have left the machine.
    is_write: bool = field(init=False, repr=False, compare=False)
    _variants: tuple[EndpointSpec, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.charges:
            object.__setattr__(self, "charges", charges_for(self.weight, self.weight_kind))
        object.__setattr__(self, "security", Security(self.security))  # "TRADE" works too
        object.__setattr__(self, "signed", self.security.signed)
        object.__setattr__(self, "needs_key", self.security.needs_key)
        object.__setattr__(self, "is_write", self.method != "GET")
        # One spec per weight rule, built once: for_params returns the same objects on
        # every call (the limiter caches its plan per charges tuple).
        variants = []
        for rule in self.weight_rules:
            charges = tuple(
                Charge(c.budget, rule.weight) if c.budget is Budget.REQUEST_WEIGHT else c
                for c in self.charges
            )
            variants.append(replace(self, weight=rule.weight, charges=charges, weight_rules=()))
        object.__setattr__(self, "_variants", tuple(variants))

    def for_params(self, params: Mapping[str, str]) -> EndpointSpec:
        """This spec with the charges that apply to ``params`` (see :class:`WeightRule`)."""
        for rule, variant in zip(self.weight_rules, self._variants, strict=True):
            if (rule.param in params) is rule.present:
                return variant
        return self
