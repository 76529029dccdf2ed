"""Query lag: what a write created stays invisible to reads for a while.

Behind papi's gateway an order is written first and indexed for queries a moment
later; a client that queries at once may be told that its fresh order "does not
exist".  The ``query_lag`` fault (:mod:`.faults`) reproduces it: the ids of what a
matching write returned (order, algo, strategy and list ids, numeric and client) are
hidden until ``seconds`` later on the simulator's clock.  Meanwhile a read naming a
hidden id is run with an id that exists nowhere, so it is answered the endpoint's
own "unknown order" error, and a read answered with a list leaves the hidden items out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Visibility"]

#: The keys of an answer that name what a write created.
_ANSWER_IDS = (
    "orderId",
    "clientOrderId",
    "algoId",
    "clientAlgoId",
    "strategyId",
    "newClientStrategyId",
    "orderListId",
    "listClientOrderId",
)
#: The parameters of a read that name an order (or a list) to find.
_QUERY_IDS = (
    "orderId",
    "origClientOrderId",
    "algoId",
    "clientAlgoId",
    "strategyId",
    "newClientStrategyId",
    "orderListId",
)
_NOWHERE_NUMBER = "987654321987654"  # no simulated order, list or strategy has this id
_NOWHERE_CLIENT_ID = "simQueryLagHidden"


def _ids_of(payload: Any) -> set[str]:
    """The ids named by an answer: its own keys and those of the lists it carries."""
    found: set[str] = set()
    items = [payload] if isinstance(payload, dict) else list(payload or ())
    for item in items:
        if not isinstance(item, dict):
            continue
        for key in _ANSWER_IDS:
            value = item.get(key)
            if value not in (None, "", -1):
                found.add(str(value))
        for value in item.values():
            if isinstance(value, list):
                found |= _ids_of(value)
    return found


class Visibility:
    """The ids hidden from reads, and until when (server ms), per account."""

    def __init__(self) -> None:
        self._hidden: list[tuple[int, str | None, frozenset[str]]] = []

    def clear(self) -> None:
        self._hidden.clear()

    def hide(self, payload: Any, until: int, account: str | None) -> None:
        """Hide what ``payload`` (a write's answer) names until ``until``."""
        ids = _ids_of(payload)
        if ids:
            self._hidden.append((until, account, frozenset(ids)))

    def hidden(self, now: int, account: str | None) -> frozenset[str]:
        """The ids ``account`` cannot see at ``now`` (expired entries are dropped)."""
        if not self._hidden:
            return frozenset()
        self._hidden[:] = [h for h in self._hidden if h[0] > now]
        out: set[str] = set()
        for _, owner, ids in self._hidden:
            if owner == account:
                out |= ids
        return frozenset(out)

    @staticmethod
    def read(
        hidden: frozenset[str], params: dict[str, str], handler: Callable[[dict[str, str]], Any]
    ) -> Any:
        """Run a read as if the ``hidden`` ids did not exist yet."""
        masked = dict(params)
        for key in _QUERY_IDS:
            value = masked.get(key)
            if value is not None and value in hidden:
                masked[key] = _NOWHERE_NUMBER if value.isdigit() else _NOWHERE_CLIENT_ID
        payload = handler(masked)
        if isinstance(payload, list):
            return [item for item in payload if not (_ids_of(item) & hidden)]
        return payload
