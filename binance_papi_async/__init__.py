"""binance_papi_async: an asyncio client for the Binance Portfolio Margin REST API (papi)."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from ._transport import Timeouts
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
    RateLimitError,
    RateLimitWaitTimeout,
    ServerError,
    TimestampError,
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

try:
    __version__ = _version("binance-papi-async")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "DEFAULT_LIMITS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AccountInformation",
    "AssetBalance",
    "AuthenticationError",
    "BadRequestError",
    "BinancePapiError",
    "Budget",
    "BudgetLimit",
    "BudgetSnapshot",
    "BudgetStore",
    "Charge",
    "ClientClosedError",
    "Clock",
    "ClockResynced",
    "ConfigurationError",
    "Ed25519Signer",
    "EndpointSpec",
    "Event",
    "EventHook",
    "ExecutionStatusUnknown",
    "FakeClock",
    "HmacSigner",
    "IPBanActiveError",
    "IPBannedError",
    "InMemoryBudgetStore",
    "LimiterWait",
    "OrderRateLimit",
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
    "RsaSigner",
    "Security",
    "ServerClock",
    "ServerError",
    "Signer",
    "TimeSync",
    "Timeouts",
    "TimestampError",
    "UnexpectedResponseError",
    "ValidationError",
    "WeightExceedsLimitError",
    "WeightKind",
    "__version__",
    "load_private_key",
]
