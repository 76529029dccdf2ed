"""binance_papi_async: an asyncio client for the Binance Portfolio Margin REST API (papi)."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from ._transport import Timeouts
from .client import PortfolioMarginClient
from .clock import Clock, FakeClock, ServerClock
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
    IPBannedError,
    RateLimitError,
    ServerError,
    TimestampError,
    UnexpectedResponseError,
    ValidationError,
)
from .models import AccountInformation, AssetBalance, OrderRateLimit, RepayDebtResult
from .signing import Ed25519Signer, HmacSigner, RsaSigner, Signer, load_private_key

try:
    __version__ = _version("binance-papi-async")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AccountInformation",
    "AssetBalance",
    "AuthenticationError",
    "BadRequestError",
    "BinancePapiError",
    "Budget",
    "Charge",
    "ClientClosedError",
    "Clock",
    "ConfigurationError",
    "Ed25519Signer",
    "EndpointSpec",
    "ExecutionStatusUnknown",
    "FakeClock",
    "HmacSigner",
    "IPBannedError",
    "OrderRateLimit",
    "PortfolioMarginClient",
    "RateLimitError",
    "RepayDebtResult",
    "RsaSigner",
    "Security",
    "ServerClock",
    "ServerError",
    "Signer",
    "Timeouts",
    "TimestampError",
    "UnexpectedResponseError",
    "ValidationError",
    "WeightKind",
    "__version__",
    "load_private_key",
]
