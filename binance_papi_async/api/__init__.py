"""Endpoint namespaces: thin, typed declarations over the client's request path.

One module per client attribute (``account``, ``margin``, ``um``, ``cm``,
``user_stream``, ``market``): each class extends the generated base of
:mod:`binance_papi_async.api._generated` with the hand-written methods.  The modules,
and the response models they return, load on first use (PEP 562); a client loads them
all when it opens (``async with``) or on the first use of one of its namespaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .account import AccountAPI
    from .margin import MarginAPI
    from .market import MarketAPI

__all__ = ["AccountAPI", "MarginAPI", "MarketAPI"]

_HOMES = {"AccountAPI": ".account", "MarginAPI": ".margin", "MarketAPI": ".market"}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_attributes(__name__, _HOMES)
