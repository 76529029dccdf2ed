"""binance_papi_async: an asyncio client for the Binance Portfolio Margin REST API (papi).

Every public name loads its module on first use (PEP 562), so ``import binance_papi_async``
costs little more than Python itself, and ``from binance_papi_async import
PortfolioMarginClient`` about what aiohttp costs (``benchmarks/bench_import.py``
measures both).  Type checkers see every name through the imports below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_attributes

if TYPE_CHECKING:
    from .client import PortfolioMarginClient
    from .clock import Clock, FakeClock, ServerClock, TimeSync
    from .endpoints import Budget, Charge, EndpointSpec, Security, WeightKind
    from .errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        BinancePapiError,
        ClientClosedError,
        ConfigurationError,
        ExecutionStatusUnknown,
        IPBanActiveError,
        IPBannedError,
        NotSimulatedError,
        RateLimitError,
        RateLimitWaitTimeout,
        ServerError,
        TimestampError,
        UndecodedFieldsWarning,
        UnexpectedResponseError,
        ValidationError,
        WeightExceedsLimitError,
    )
    from .events import (
        ClockResynced,
        Event,
        EventHook,
        LimiterWait,
        OutcomeUnknown,
        RequestEnd,
        RequestStart,
        RetryScheduled,
    )
    from .models import AccountInformation, AssetBalance, OrderRateLimit, RepayDebtResult
    from .outcome import RepayOutcome
    from .ratelimit import (
        DEFAULT_LIMITS,
        BudgetLimit,
        BudgetSnapshot,
        BudgetStore,
        InMemoryBudgetStore,
        RateLimiter,
        RateLimitSnapshot,
        Reservation,
    )
    from .retry import RetryPolicy
    from .signing import Ed25519Signer, HmacSigner, RsaSigner, Signer, load_private_key
    from .stream import UserStream
    from .stream_events import (
        AccountConfigUpdate,
        AccountUpdate,
        AlgoUpdate,
        BalanceUpdate,
        ConditionalOrderTradeUpdate,
        ExecutionReport,
        LiabilityChange,
        ListenKeyExpired,
        OpenOrderLoss,
        OrderTradeUpdate,
        OutboundAccountPosition,
        RiskLevelChange,
        StreamItem,
        StreamOverflow,
        StreamOverflowError,
        StreamReconnected,
        UniMMRDrop,
        UnknownEvent,
        UserStreamError,
        UserStreamEvent,
        parse_event,
    )
    from .timeouts import Timeouts

    __version__: str

__all__ = [
    "DEFAULT_LIMITS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AccountConfigUpdate",
    "AccountInformation",
    "AccountUpdate",
    "AlgoUpdate",
    "AssetBalance",
    "AuthenticationError",
    "BadRequestError",
    "BalanceUpdate",
    "BinancePapiError",
    "Budget",
    "BudgetLimit",
    "BudgetSnapshot",
    "BudgetStore",
    "Charge",
    "ClientClosedError",
    "Clock",
    "ClockResynced",
    "ConditionalOrderTradeUpdate",
    "ConfigurationError",
    "Ed25519Signer",
    "EndpointSpec",
    "Event",
    "EventHook",
    "ExecutionReport",
    "ExecutionStatusUnknown",
    "FakeClock",
    "HmacSigner",
    "IPBanActiveError",
    "IPBannedError",
    "InMemoryBudgetStore",
    "LiabilityChange",
    "LimiterWait",
    "ListenKeyExpired",
    "NotSimulatedError",
    "OpenOrderLoss",
    "OrderRateLimit",
    "OrderTradeUpdate",
    "OutboundAccountPosition",
    "OutcomeUnknown",
    "PortfolioMarginClient",
    "RateLimitError",
    "RateLimitSnapshot",
    "RateLimitWaitTimeout",
    "RateLimiter",
    "RepayDebtResult",
    "RepayOutcome",
    "RequestEnd",
    "RequestStart",
    "Reservation",
    "RetryPolicy",
    "RetryScheduled",
    "RiskLevelChange",
    "RsaSigner",
    "Security",
    "ServerClock",
    "ServerError",
    "Signer",
    "StreamItem",
    "StreamOverflow",
    "StreamOverflowError",
    "StreamReconnected",
    "TimeSync",
    "Timeouts",
    "TimestampError",
    "UndecodedFieldsWarning",
    "UnexpectedResponseError",
    "UniMMRDrop",
    "UnknownEvent",
    "UserStream",
    "UserStreamError",
    "UserStreamEvent",
    "ValidationError",
    "WeightExceedsLimitError",
    "WeightKind",
    "__version__",
    "load_private_key",
    "parse_event",
]

# Public name -> the module that defines it.
_HOMES: dict[str, str] = {
    "Timeouts": ".timeouts",
    "PortfolioMarginClient": ".client",
    "Clock": ".clock",
    "FakeClock": ".clock",
    "ServerClock": ".clock",
    "TimeSync": ".clock",
    "Budget": ".endpoints",
    "Charge": ".endpoints",
    "EndpointSpec": ".endpoints",
    "Security": ".endpoints",
    "WeightKind": ".endpoints",
    "APIConnectionError": ".errors",
    "APIStatusError": ".errors",
    "APITimeoutError": ".errors",
    "AuthenticationError": ".errors",
    "BadRequestError": ".errors",
    "BinancePapiError": ".errors",
    "ClientClosedError": ".errors",
    "ConfigurationError": ".errors",
    "ExecutionStatusUnknown": ".errors",
    "IPBanActiveError": ".errors",
    "IPBannedError": ".errors",
    "NotSimulatedError": ".errors",
    "RateLimitError": ".errors",
    "RateLimitWaitTimeout": ".errors",
    "ServerError": ".errors",
    "TimestampError": ".errors",
    "UndecodedFieldsWarning": ".errors",
    "UnexpectedResponseError": ".errors",
    "ValidationError": ".errors",
    "WeightExceedsLimitError": ".errors",
    "ClockResynced": ".events",
    "Event": ".events",
    "EventHook": ".events",
    "LimiterWait": ".events",
    "OutcomeUnknown": ".events",
    "RequestEnd": ".events",
    "RequestStart": ".events",
    "RetryScheduled": ".events",
    "AccountInformation": ".models",
    "AssetBalance": ".models",
    "OrderRateLimit": ".models",
    "RepayDebtResult": ".models",
    "RepayOutcome": ".outcome",
    "BudgetLimit": ".ratelimit",
    "BudgetSnapshot": ".ratelimit",
    "BudgetStore": ".ratelimit",
    "DEFAULT_LIMITS": ".ratelimit",
    "InMemoryBudgetStore": ".ratelimit",
    "RateLimitSnapshot": ".ratelimit",
    "RateLimiter": ".ratelimit",
    "Reservation": ".ratelimit",
    "RetryPolicy": ".retry",
    "Ed25519Signer": ".signing",
    "HmacSigner": ".signing",
    "RsaSigner": ".signing",
    "Signer": ".signing",
    "load_private_key": ".signing",
    "UserStream": ".stream",
    "AccountConfigUpdate": ".stream_events",
    "AccountUpdate": ".stream_events",
    "AlgoUpdate": ".stream_events",
    "BalanceUpdate": ".stream_events",
    "ConditionalOrderTradeUpdate": ".stream_events",
    "ExecutionReport": ".stream_events",
    "LiabilityChange": ".stream_events",
    "ListenKeyExpired": ".stream_events",
    "OpenOrderLoss": ".stream_events",
    "OrderTradeUpdate": ".stream_events",
    "OutboundAccountPosition": ".stream_events",
    "RiskLevelChange": ".stream_events",
    "StreamItem": ".stream_events",
    "StreamOverflow": ".stream_events",
    "StreamOverflowError": ".stream_events",
    "StreamReconnected": ".stream_events",
    "UniMMRDrop": ".stream_events",
    "UnknownEvent": ".stream_events",
    "UserStreamError": ".stream_events",
    "UserStreamEvent": ".stream_events",
    "parse_event": ".stream_events",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("binance-papi-async")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_attributes(__name__, _HOMES, {"__version__": _version})
