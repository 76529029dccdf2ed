"""``client.um``: USDⓈ-M futures endpoints."""

from __future__ import annotations

from ._generated.um import UmAPIBase

__all__ = ["UmAPI"]


class UmAPI(UmAPIBase):
    """USDⓈ-M futures endpoints; every method is generated from the endpoint table."""

    __slots__ = ()
