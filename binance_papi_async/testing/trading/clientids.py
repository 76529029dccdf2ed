"""The client-id index: which order holds a client id, per account and kind of order.

papi keeps a client id unique among the OPEN orders of an account and product: a new
order with the id of an open one is refused, while a filled, cancelled or expired
order frees its id.  Queries by ``origClientOrderId`` find the newest order that
carried the id (open or not).  One :class:`ClientIds` per simulator
(``sim.exchange.market.client_ids``), cleared on reset.

Kinds: ``UM``, ``CM`` and ``MARGIN`` orders (the legs of an OCO list are margin
orders), ``CM_STRATEGY`` (CM conditional orders, ``newClientStrategyId``),
``UM_ALGO`` (``clientAlgoId``) and ``MARGIN_LIST`` (OCO ``listClientOrderId``).
Holders are the book's objects; "open" is their ``is_open`` at the time of the check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol, TypeVar

__all__ = ["CLIENT_ID_RULES", "ClientIds", "Held"]


class Held(Protocol):
    """Anything that carries a client id: an order, a conditional or algo order, a list."""

    @property
    def is_open(self) -> bool: ...


H = TypeVar("H", bound=Held)

#: Allowed client ids per kind (papi's pages: UM / CM orders 32 characters, the rest 36).
CLIENT_ID_RULES: dict[str, re.Pattern[str]] = {
    "UM": re.compile(r"^[.A-Za-z0-9:/_-]{1,32}$"),
    "CM": re.compile(r"^[.A-Za-z0-9:/_-]{1,32}$"),
    "CM_STRATEGY": re.compile(r"^[.A-Za-z0-9:/_-]{1,36}$"),
    "UM_ALGO": re.compile(r"^[.A-Za-z0-9:/_-]{1,36}$"),
    "MARGIN": re.compile(r"^[a-zA-Z0-9_-]{1,36}$"),
    "MARGIN_LIST": re.compile(r"^[a-zA-Z0-9_-]{1,36}$"),
}


class ClientIds:
    """Client id -> the objects that carried it, oldest first, per (account, kind)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str, str], list[Held]] = {}

    def clear(self) -> None:
        """Forget every id (the books were replaced)."""
        self._ids.clear()

    @staticmethod
    def valid(kind: str, client_id: str) -> bool:
        """Whether ``client_id`` is allowed for ``kind`` (:data:`CLIENT_ID_RULES`)."""
        return CLIENT_ID_RULES[kind].match(client_id) is not None

    def open_holder(self, account: str, kind: str, client_id: str) -> Held | None:
        """The open object holding ``client_id``, if any."""
        for held in reversed(self._ids.get((account, kind, client_id), ())):
            if held.is_open:
                return held
        return None

    def register(self, account: str, kind: str, client_id: str, held: Held) -> None:
        """``held`` now carries ``client_id``."""
        self._ids.setdefault((account, kind, client_id), []).append(held)

    def carriers(self, account: str, kind: str, client_id: str) -> list[Held]:
        """Every object that carried ``client_id``, oldest first (open or not)."""
        return list(self._ids.get((account, kind, client_id), ()))

    def holders(self, account: str, kind: str, client_id: str, of: type[H]) -> Iterator[H]:
        """The objects of type ``of`` that carried ``client_id``, newest first."""
        for held in reversed(self._ids.get((account, kind, client_id), ())):
            if isinstance(held, of):
                yield held
