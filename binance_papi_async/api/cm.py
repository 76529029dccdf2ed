"""``client.cm``: COIN-M futures endpoints."""

from __future__ import annotations

from ._generated.cm import CmAPIBase

__all__ = ["CmAPI"]


class CmAPI(CmAPIBase):
    """COIN-M futures endpoints; every method is generated from the endpoint table."""

    __slots__ = ()
