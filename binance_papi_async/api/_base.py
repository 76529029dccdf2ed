from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..client import PortfolioMarginClient


class Namespace:
    """A group of endpoints bound to one client."""

    __slots__ = ("_client",)

    def __init__(self, client: PortfolioMarginClient) -> None:
        self._client = client
