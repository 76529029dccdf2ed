"""Endpoint namespaces: thin, typed declarations over the client's request path."""

from .account import AccountAPI
from .margin import MarginAPI
from .market import MarketAPI

__all__ = ["AccountAPI", "MarginAPI", "MarketAPI"]
