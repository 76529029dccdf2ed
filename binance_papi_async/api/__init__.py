"""Endpoint namespaces: thin, typed declarations over ``PortfolioMarginClient.call``."""

from .account import AccountAPI
from .margin import MarginAPI
from .market import MarketAPI

__all__ = ["AccountAPI", "MarginAPI", "MarketAPI"]
